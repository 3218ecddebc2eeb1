//! Does the trained stack do RG? Per hidden layer of a finished `fig3` run: where its units
//! look (field centres assigned one-to-one to the Kadanoff coarse lattice), how each unit
//! follows the majority-rule block spin at its site, and the effective coupling of the layer's
//! sampled units read as coarse spins, beside that of majority-rule blocking of the same data
//! (see [`coarse`] for what K_eff is and is not).
//!
//! Layer l has n_l units and block side b_l = L/√n_l (2, 4, 8 for the paper stack on 40×40).
//! Everything is measured on the run's held-out rows, with one seeded stream per layer.

pub mod assign;
pub mod coarse;
pub mod figures;
pub mod flow;
pub mod hamiltonian;
pub mod mcrg;
pub mod method_check;
pub mod operators;
pub mod report;

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use ising_data::config::Valid;
use rbm::noise::Noise;
use rbm::tensor::to_vec;
use rbm::{Propagation, Rbm};

use crate::pretrain::run_rows;
use crate::run::{load_run, load_run_dataset};
use crate::streams::Stream;
use crate::torus::field_centre;
use assign::assign;
use coarse::{coarse_correlations, coupling_fit, ising_correlations, majority_blocks, pearson};
pub use figures::{figures, mcrg_figures};
use hamiltonian::effective_hamiltonian;
use mcrg::map_table;
pub use report::{
    CoarseSpins, LayerMcrg, LayerRg, Outcome, Quartiles, RgOptions, RgReport, UnitBlockCorrelation,
    quartiles,
};

/// ±1 spins from values of a two-valued unit type (above the midpoint of its two values: +1).
fn to_spins(values: &[f32], midpoint: f32) -> Vec<i8> {
    values
        .iter()
        .map(|&x| if x > midpoint { 1 } else { -1 })
        .collect()
}

/// The midpoint between a unit type's two values.
fn midpoint(units: rbm::Units, what: &str) -> Result<f32> {
    match units.values() {
        Some([lo, hi]) => Ok(((lo + hi) / 2.0) as f32),
        None => {
            bail!("rg_analysis needs two-valued {what} units (bernoulli or spin), got {units:?}")
        }
    }
}

/// Coarse spins' correlations, K_eff and the lattice at K_eff (its sampler keyed by
/// [`Stream::RgLattice`] `stream`).
fn coarse_spins(
    configs: &[Vec<i8>],
    m: usize,
    options: &RgOptions,
    stream: u64,
) -> Result<CoarseSpins> {
    let correlations = coarse_correlations(configs, m);
    let coupling = coupling_fit(m, correlations.g1);
    let coupling_connected = coupling_fit(m, correlations.g1_connected);
    // The Ising lattice at the connected K_eff: its G₂ beside the coarse spins' connected G₂
    // (both as for spins of mean 0 and variance 1).
    let ising_at_k_eff = match coupling_connected.k_eff {
        // The sampler needs distinct periodic neighbours (m ≥ 3).
        Some(k) if m >= 3 => Some(ising_correlations(
            m,
            k,
            options.lattice_samples,
            Stream::RgLattice { n: stream }.key(options.seed),
        )?),
        _ => None,
    };
    Ok(CoarseSpins {
        correlations,
        coupling,
        coupling_connected,
        ising_at_k_eff,
        hamiltonian: effective_hamiltonian(configs, m, options.error_blocks).into(),
    })
}

/// Whether `rg` can analyse a stack of `layers` (visible first) on the L×L lattice: every
/// hidden layer an m×m coarse lattice with m dividing L.
///
/// # Errors
/// Naming the first layer that does not tile the lattice.
pub fn check_architecture(l: usize, layers: &[usize]) -> Result<()> {
    for (i, &units) in layers.iter().enumerate().skip(1) {
        block_side(l, units, i)?;
    }
    Ok(())
}

/// The block side of a layer of `units` units on the L×L lattice: b with (L/b)² = units.
fn block_side(l: usize, units: usize, layer: usize) -> Result<usize> {
    let m = (units as f64).sqrt().round() as usize;
    if m * m != units || m == 0 || !l.is_multiple_of(m) {
        bail!(
            "layer {layer} has {units} units, which do not tile the {l}×{l} lattice as an m×m coarse lattice with m dividing {l}; rg_analysis needs square coarse lattices (e.g. 400, 100, 25 units on 40×40)"
        );
    }
    Ok(l / m)
}

/// The analysis of one layer from its receptive fields `fields` (`[L², n]`, row-major),
/// conditional means and samples (`[rows, n]`) and the data's spins (`rows` configurations).
#[allow(clippy::too_many_arguments)]
fn analyse_layer(
    layer: usize,
    l: usize,
    fields: &[f32],
    means: &[f32],
    samples: &[f32],
    hidden_midpoint: f32,
    data: &[Vec<i8>],
    options: &RgOptions,
) -> Result<(LayerRg, Vec<Vec<i8>>)> {
    let units = fields.len() / (l * l);
    let b = block_side(l, units, layer)?;
    let m = l / b;
    let rows = data.len();
    let mut centres = Vec::with_capacity(units);
    let mut signs = Vec::with_capacity(units);
    for j in 0..units {
        let column: Vec<f64> = (0..l * l).map(|i| fields[i * units + j] as f64).collect();
        let magnitude: Vec<f64> = column.iter().map(|x| x.abs()).collect();
        centres.push(field_centre(&magnitude, l).unwrap_or((0.0, 0.0)));
        signs.push(if column.iter().sum::<f64>() < 0.0 {
            -1.0
        } else {
            1.0
        });
    }
    if let Some(j) = centres
        .iter()
        .position(|c| !(c.0.is_finite() && c.1.is_finite()))
    {
        bail!(
            "layer {layer}'s unit {j} has a receptive field that is not finite, so it has no centre to assign; the run is not analysed"
        );
    }
    let assignment = assign(&centres, l, b);

    // Majority-rule block spins of every row at block side b.
    let mut rng = Stream::RgMajorityTies { layer }.rng(options.seed);
    let blocks: Vec<Vec<i8>> = data
        .iter()
        .map(|s| majority_blocks(s, l, b, &mut rng))
        .collect();
    let block_series =
        |site: usize| -> Vec<f64> { blocks.iter().map(|c| c[site] as f64).collect() };
    let unit_series = |values: &[f32], j: usize| -> Vec<f64> {
        (0..rows).map(|r| values[r * units + j] as f64).collect()
    };
    let right = |s: usize| (s / m) * m + (s % m + 1) % m;
    let (mut mean_c, mut sampled_c, mut base_mean, mut base_sampled) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for j in 0..units {
        let site = assignment.site_of_unit[j];
        let (own, other) = (block_series(site), block_series(right(site)));
        let (a, h) = (unit_series(means, j), unit_series(samples, j));
        mean_c.push(signs[j] * pearson(&a, &own));
        sampled_c.push(signs[j] * pearson(&h, &own));
        base_mean.push(signs[j] * pearson(&a, &other));
        base_sampled.push(signs[j] * pearson(&h, &other));
    }
    let unit_block = UnitBlockCorrelation {
        mean_activation: quartiles(&mean_c),
        sampled: quartiles(&sampled_c),
        baseline_mean_activation: quartiles(&base_mean),
        baseline_sampled: quartiles(&base_sampled),
        flipped_units: signs.iter().filter(|&&s| s < 0.0).count(),
    };

    // The sampled units as coarse spins, each at its site with its sign.
    let coarse: Vec<Vec<i8>> = (0..rows)
        .map(|r| {
            let spins = to_spins(&samples[r * units..(r + 1) * units], hidden_midpoint);
            let mut c = vec![0i8; units];
            for j in 0..units {
                c[assignment.site_of_unit[j]] = spins[j] * signs[j] as i8;
            }
            c
        })
        .collect();
    let report = LayerRg {
        layer,
        units,
        unit_block,
        rbm: coarse_spins(&coarse, m, options, 2 * layer as u64)?,
        majority_rule: coarse_spins(&blocks, m, options, 2 * layer as u64 + 1)?,
        assignment,
        mcrg: None,
    };
    Ok((report, coarse))
}

/// The configurations of one level of coarse-graining: the stack's coarse spins and majority
/// rule's, on the m×m lattice (level 0: the data, twice).
struct Level {
    m: usize,
    stack: Vec<Vec<i8>>,
    majority: Vec<Vec<i8>>,
}

impl Level {
    /// The next level: the stack's coarse spins `stack` on the m'×m' lattice, and majority
    /// rule of this level's majority spins at block side m/m' (ties by `stream`'s coins).
    /// With the MCRG of both maps from this level to it.
    fn next(
        &self,
        stack: Vec<Vec<i8>>,
        m: usize,
        layer: usize,
        options: &RgOptions,
    ) -> (Self, LayerMcrg) {
        let majority = if self.m.is_multiple_of(m) {
            let mut rng = Stream::RgMcrgTies { layer }.rng(options.seed);
            let b = self.m / m;
            self.majority
                .iter()
                .map(|c| majority_blocks(c, self.m, b, &mut rng))
                .collect()
        } else {
            Vec::new()
        };
        let mcrg = LayerMcrg {
            stack: map_table(
                (&self.stack, self.m),
                (&stack, m),
                layer,
                options.error_blocks,
            )
            .into(),
            majority_rule: if majority.is_empty() {
                Outcome::Failed(format!(
                    "majority rule cannot block {0}×{0} to {m}×{m} ({m} does not divide {0})",
                    self.m
                ))
            } else {
                map_table(
                    (&self.majority, self.m),
                    (&majority, m),
                    layer,
                    options.error_blocks,
                )
                .into()
            },
        };
        (Self { m, stack, majority }, mcrg)
    }
}

/// Analyses the finished `fig3` run in `dir` (its dataset in `datasets`); `stage` is told
/// what starts. Returns the report and each layer's receptive fields (`[L², n_l]`, for
/// [`figures()`]).
///
/// # Errors
/// If the run or its dataset cannot be read, a layer's units do not form a square coarse
/// lattice dividing L, or the units are not two-valued.
pub fn analyse(
    dir: &Path,
    datasets: Option<&Path>,
    options: &Valid<RgOptions>,
    device: &Device,
    stage: &dyn Fn(&str),
) -> Result<(RgReport, Vec<Vec<f32>>)> {
    let start = Instant::now();
    stage("reading the run and its data");
    let (config, dbn) = load_run(dir, device)?;
    let l = config.data.size;
    let stored = load_run_dataset(dir, &config, datasets)?;
    if stored.manifest.config.lattice.dim() != 2 {
        bail!("rg_analysis needs a run trained on the 2D square lattice");
    }
    let (_, valid) = run_rows(&config, stored)?;
    let mut v = valid.to_tensor(device);
    let total_rows = v.dims()[0];
    let rows = options.rows.map_or(total_rows, |r| r.min(total_rows));
    if rows < 40 {
        bail!(
            "{} has {total_rows} held-out rows; rg_analysis needs at least 40",
            dir.display()
        );
    }
    v = v.narrow(0, 0, rows);
    let visible_mid = midpoint(config.units, "visible")?;
    let pixels: Vec<f32> = to_vec(v.clone()).context("reading the held-out rows")?;
    let data: Vec<Vec<i8>> = pixels
        .chunks(l * l)
        .map(|row| to_spins(row, visible_mid))
        .collect();
    let data_spins = coarse_spins(&data, l, options, 0)?;

    let mut level = Level {
        m: l,
        stack: data.clone(),
        majority: data.clone(),
    };
    let fields = dbn.receptive_fields();
    let mut layers = Vec::new();
    let mut noise = Noise::new(Stream::RgSampling.key(options.seed));
    let mut x = v;
    let mut host_fields = Vec::new();
    for (i, rbm) in dbn.layers.iter().enumerate() {
        let layer = i + 1;
        stage(&format!(
            "layer {layer}: {} units, assignment, block spins, K_eff, effective Hamiltonian, MCRG",
            rbm.n_hidden()
        ));
        let (means, samples) = up(rbm, x, &mut noise)?;
        let hidden_mid = midpoint(rbm.hidden_units, "hidden")?;
        let r: Vec<f32> = to_vec(fields[i].clone()).context("reading receptive fields")?;
        let m_host: Vec<f32> = to_vec(means.clone()).context("reading hidden means")?;
        let s_host: Vec<f32> = to_vec(samples.clone()).context("reading hidden samples")?;
        let (mut report, coarse) =
            analyse_layer(layer, l, &r, &m_host, &s_host, hidden_mid, &data, options)?;
        let side = report.assignment.coarse_side;
        let (next, mcrg) = level.next(coarse, side, layer, options);
        report.mcrg = Some(mcrg);
        level = next;
        layers.push(report);
        host_fields.push(r);
        x = match config.propagation {
            Propagation::Mean => means,
            Propagation::Sample => samples,
        };
    }
    let report = RgReport {
        lattice_size: l,
        coupling: config.data.coupling,
        propagation: config.propagation,
        rows,
        data: data_spins,
        layers,
        options: RgOptions::clone(options),
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok((report, host_fields))
}

/// A layer's conditional means of its hidden units given input `x`, and a sample of them
/// from `noise` (on the fused kernel where it applies).
fn up(rbm: &Rbm, x: Tensor<2>, noise: &mut Noise) -> Result<(Tensor<2>, Tensor<2>)> {
    rbm::eval::hidden::hidden_mean_and_sample(rbm, x, noise)
        .context("the hidden units' means and samples")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ising_data::Lattice;
    use ising_data::config::Checked;
    use ising_data::generate::{GenerateConfig, generate};

    /// A layer built to be 2×2 majority-rule blocking — each hidden unit sees its own block
    /// with weight ±30 and a bias that puts ties at p = ½, every other unit with the signs
    /// reversed (it fires when its block points down) — analysed on Wolff samples of the 16×16
    /// lattice at K = 0.42: every unit goes to its own block, the units follow their blocks,
    /// and the stack's coarse spins have majority rule's G₁ and G₂ (within 4σ of the two
    /// independent estimates; they differ only by the coins of tied blocks).
    #[test]
    fn a_layer_that_is_majority_rule_has_majority_rules_coupling() {
        let (l, b, k) = (16, 2, 0.42);
        let config = GenerateConfig::new(Lattice::Square { l }, k, 4_000, 17);
        let generated = generate(&config.validated().unwrap(), &|_| {});
        let data: Vec<Vec<i8>> = generated.spins.chunks(l * l).map(<[i8]>::to_vec).collect();
        let m = l / b;
        let units = m * m;
        let w = 30.0f32;
        let mut weights = vec![0.0f32; l * l * units];
        let mut bias = vec![0.0f32; units];
        for j in 0..units {
            let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
            let (r0, c0) = (j / m * b, j % m * b);
            for (dr, dc) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                weights[((r0 + dr) * l + c0 + dc) * units + j] = sign * w;
            }
            // Input sign·w·(#up − 2): zero at a tie.
            bias[j] = -sign * 2.0 * w;
        }
        let device = Device::flex();
        let rbm = Rbm::from_parameters(
            Tensor::from_data(TensorData::new(weights.clone(), [l * l, units]), &device),
            Tensor::zeros([l * l], &device),
            Tensor::from_data(TensorData::new(bias, [units]), &device),
            rbm::Units::Bernoulli,
            rbm::Units::Bernoulli,
        );
        let v: Vec<f32> = data.iter().flatten().map(|&s| f32::from(s == 1)).collect();
        let v = Tensor::<2>::from_data(TensorData::new(v, [data.len(), l * l]), &device);
        let (means, samples) = up(&rbm, v, &mut Noise::new(5)).unwrap();
        let options = RgOptions {
            lattice_samples: 1_600,
            ..RgOptions::default()
        };
        let (report, coarse) = analyse_layer(
            1,
            l,
            &weights,
            &to_vec::<f32, 2>(means).unwrap(),
            &to_vec::<f32, 2>(samples).unwrap(),
            0.5,
            &data,
            &options,
        )
        .unwrap();
        assert_eq!(
            report.assignment.site_of_unit,
            (0..units).collect::<Vec<_>>()
        );
        assert!(report.assignment.mean_displacement < 1e-9);
        assert_eq!(report.unit_block.flipped_units, units / 2);
        let u = &report.unit_block;
        assert!(u.sampled.q1 > 0.8, "{u:?}");
        assert!(u.baseline_sampled.median < u.sampled.q1 - 0.2, "{u:?}");
        let (s, r) = (&report.rbm.correlations, &report.majority_rule.correlations);
        for (name, a, b) in [("G1", s.g1, r.g1), ("G2", s.g2, r.g2)] {
            let sigma = (a.std_error.powi(2) + b.std_error.powi(2)).sqrt();
            assert!(
                (a.value - b.value).abs() < 4.0 * sigma,
                "{name}: {a} vs {b}"
            );
        }
        let (ks, kr) = (
            report.rbm.coupling.k_eff.unwrap(),
            report.majority_rule.coupling.k_eff.unwrap(),
        );
        assert!((ks - kr).abs() < 0.02, "K_eff {ks} vs {kr}");
        // The Ising lattice at K_eff was sampled on the coarse lattice.
        assert!(report.rbm.ising_at_k_eff.is_some());
        // The effective Hamiltonians agree coupling by coupling, and so do the MCRG exponents
        // of the layer's map and of majority rule from the same data.
        let (hs, hm) = (
            report.rbm.hamiltonian.measured().unwrap(),
            report.majority_rule.hamiltonian.measured().unwrap(),
        );
        for (a, b) in hs.couplings.iter().zip(&hm.couplings) {
            assert_within(a.value, b.value, &format!("{:?}", a.operator));
        }
        let level = Level {
            m: l,
            stack: data.clone(),
            majority: data.clone(),
        };
        let (_, mcrg) = level.next(coarse, m, 1, &options);
        let (ts, tm) = (
            mcrg.stack.measured().unwrap(),
            mcrg.majority_rule.measured().unwrap(),
        );
        for (a, b) in ts
            .thermal
            .iter()
            .chain(&ts.magnetic)
            .zip(tm.thermal.iter().chain(&tm.magnetic))
        {
            assert_within(a.exponent, b.exponent, &format!("{a:?}"));
        }
    }

    /// Two estimates of one quantity agree within 4σ of their difference.
    fn assert_within(a: ising_data::Estimate, b: ising_data::Estimate, what: &str) {
        let sigma = (a.std_error.powi(2) + b.std_error.powi(2)).sqrt();
        assert!(
            (a.value - b.value).abs() < 4.0 * sigma,
            "{what}: {a} vs {b}"
        );
    }

    /// The configurations shipped for MCRG of a stack at K_c are valid, at K_c, with every
    /// hidden layer a coarse lattice of 3×3 or more that rg_analysis can block into.
    #[test]
    fn the_critical_configurations_are_valid_at_k_c_and_analysable() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
        for (name, side) in [
            ("critical.json", 40),
            ("critical32.json", 32),
            ("critical64.json", 64),
        ] {
            let config = crate::pretrain::PretrainConfig::read(&dir.join(name)).unwrap();
            assert_eq!(config.data.size, side, "{name}");
            assert!(
                (config.data.coupling - ising_data::exact::K_C).abs() < 1e-9,
                "{name}"
            );
            check_architecture(side, &config.layers).unwrap();
            assert!(config.layers[1..].iter().all(|&n| n >= 9), "{name}");
            config.validated().unwrap();
        }
    }

    #[test]
    fn quartiles_interpolate_and_leave_out_nan() {
        let q = quartiles(&[4.0, 1.0, f64::NAN, 3.0, 2.0, 5.0]);
        assert_eq!((q.q1, q.median, q.q3), (2.0, 3.0, 4.0));
        assert_eq!((q.count, q.undefined), (5, 1));
        let q = quartiles(&[1.0, 2.0]);
        assert_eq!((q.q1, q.median, q.q3), (1.25, 1.5, 1.75));
    }

    #[test]
    fn block_sides_of_the_paper_stack_and_a_refusal() {
        assert_eq!(block_side(40, 400, 1).unwrap(), 2);
        assert_eq!(block_side(40, 100, 2).unwrap(), 4);
        assert_eq!(block_side(40, 25, 3).unwrap(), 8);
        let e = block_side(40, 300, 1).unwrap_err().to_string();
        assert!(e.contains("layer 1 has 300 units"), "{e}");
        assert!(block_side(40, 9, 1).is_err());
    }
}
