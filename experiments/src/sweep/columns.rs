//! What each column of a sweep's `summary.csv` measures, with its unit, for the axes of the
//! figures `sweep collect --metric` draws.

/// The description of `column` (a key of [`super::collect`]'s summary) with its unit,
/// followed by the column's name in brackets; the name alone where it is not one of ours.
pub fn describe(column: &str) -> String {
    match meaning(column) {
        Some(text) => format!("{text} [{column}]"),
        None => column.to_string(),
    }
}

/// The meaning of `column`, if it is one of the summary's: a measure, or the standard error
/// of one (`…_error`).
fn meaning(column: &str) -> Option<String> {
    measure(column).or_else(|| {
        let base = column.strip_suffix("_error")?;
        measure(base).map(|m| format!("standard error of {m}"))
    })
}

/// The meaning of the measure `column`.
fn measure(column: &str) -> Option<String> {
    if let Some(rest) = column.strip_prefix("rg.") {
        return rg_meaning(rest);
    }
    let estimate = |what: &str, side: &str| format!("layer 1: {what} per spin, nats ({side} AIS)");
    let fixed = match column {
        "kl_per_spin_forward" => Some(estimate("KL divergence", "forward")),
        "kl_per_spin_reverse" => Some(estimate("KL divergence", "reverse")),
        "nll_per_spin_forward" => Some(estimate("negative log-likelihood", "forward")),
        "nll_per_spin_reverse" => Some(estimate("negative log-likelihood", "reverse")),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    let (layer, measure) = layer_and_rest(column)?;
    let what = match measure {
        "half_max_area" => "receptive fields' half-maximum area, lattice sites (median)",
        "half_max_radius" => "receptive fields' half-maximum radius √(A½/π), lattice spacings",
        "block_fraction" => "fraction of |field| inside the unit's block",
        "valid_reconstruction_error" => "held-out reconstruction error, mean square per unit",
        _ => return None,
    };
    Some(format!("layer {layer}: {what}"))
}

/// The meaning of an `rg.` column (without the prefix).
fn rg_meaning(column: &str) -> Option<String> {
    if column == "data_k_eff" {
        return Some("K_eff of the data (matched nearest-neighbour correlation)".into());
    }
    let (layer, rest) = layer_and_rest(column)?;
    let who = |name: &str| match name {
        "stack" => Some("the stack's units"),
        "majority" => Some("majority-rule blocks"),
        _ => None,
    };
    let measures = [
        ("_k1", "nearest-neighbour K₁ of the effective Hamiltonian"),
        ("_k2", "diagonal K₂ of the effective Hamiltonian"),
        ("_k3", "distance-2 K₃ of the effective Hamiltonian"),
        ("_k4", "plaquette K₄ of the effective Hamiltonian"),
        (
            "_y_t",
            "MCRG y_t of the layer's map (2 even operators; exact 1 at K_c)",
        ),
        (
            "_y_h",
            "MCRG y_h of the layer's map (1 odd operator; exact 15/8 at K_c)",
        ),
        ("_h", "field h of the effective Hamiltonian"),
        ("_k_eff_connected", "K_eff from the connected G₁"),
        ("_k_eff", "K_eff (matched nearest-neighbour correlation)"),
        ("_ising_g2", "G₂ of the Ising lattice at K_eff"),
        ("_g2", "next-nearest-neighbour correlation G₂"),
        ("_abs_m", "|m|"),
    ];
    for (suffix, what) in measures {
        if let Some(name) = rest.strip_suffix(suffix) {
            return Some(format!("layer {layer}, {}: {what}", who(name)?));
        }
    }
    match rest {
        "unit_block_median" => Some(format!(
            "layer {layer}: unit–block correlation r (median over units)"
        )),
        "mean_displacement" => Some(format!(
            "layer {layer}: units' displacement from their sites, lattice spacings"
        )),
        _ => None,
    }
}

/// `("3", "half_max_area")` of `layer3_half_max_area`.
fn layer_and_rest(column: &str) -> Option<(&str, &str)> {
    let rest = column.strip_prefix("layer")?;
    let digits = rest.find(|c: char| !c.is_ascii_digit())?;
    let (layer, tail) = rest.split_at(digits);
    Some((layer, tail.strip_prefix('_')?)).filter(|(l, _)| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_a_run_and_its_analyses_write_is_described() {
        for column in [
            "kl_per_spin_reverse",
            "kl_per_spin_reverse_error",
            "nll_per_spin_forward",
            "layer2_half_max_area",
            "layer1_half_max_radius",
            "layer3_block_fraction",
            "layer1_valid_reconstruction_error",
            "rg.data_k_eff",
            "rg.layer2_stack_k_eff",
            "rg.layer2_stack_k_eff_error",
            "rg.layer1_majority_k_eff_connected",
            "rg.layer1_stack_g2",
            "rg.layer1_stack_ising_g2",
            "rg.layer3_majority_abs_m",
            "rg.layer1_unit_block_median",
            "rg.layer1_mean_displacement",
            "rg.layer1_stack_h",
            "rg.layer2_majority_k1",
            "rg.layer2_majority_k1_error",
            "rg.layer1_stack_k2",
            "rg.layer3_stack_k3",
            "rg.layer1_majority_k4",
            "rg.layer2_stack_y_t",
            "rg.layer2_stack_y_t_error",
            "rg.layer3_majority_y_h",
        ] {
            let d = describe(column);
            assert!(d.ends_with(&format!(" [{column}]")), "{column}: {d}");
        }
        assert_eq!(
            describe("kl_per_spin_reverse"),
            "layer 1: KL divergence per spin, nats (reverse AIS) [kl_per_spin_reverse]"
        );
        assert_eq!(
            describe("rg.layer2_stack_k_eff_error"),
            "standard error of layer 2, the stack's units: K_eff (matched nearest-neighbour correlation) [rg.layer2_stack_k_eff_error]"
        );
    }

    #[test]
    fn a_column_not_ours_is_named_as_it_is() {
        for column in [
            "quality.first_layer.x",
            "layer_x",
            "layerA_half_max_area",
            "rg.layer1_x_k_eff",
        ] {
            assert_eq!(describe(column), column);
        }
    }
}
