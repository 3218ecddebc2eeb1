//! The generators judged: observables of their samples against the exact values and the Monte
//! Carlo data, as z-scores, with their chains' equilibration.

use std::collections::BTreeMap;

use ising_data::exact::{coupling_at_energy_2d, kaufman_thermo};
use ising_data::lattice::magnetization_sum;
use ising_data::observables::{MeasureOptions, Observables, measure};
use ising_data::stats::{gelman_rubin, integrated_autocorrelation_time};
use ising_data::{Estimate, Lattice};
use rbm::eval::generator::{Chains, GibbsConfig};

use super::options::QualityOptions;
use super::report::GeneratorReport;

/// Observables of `chains` of the L×L lattice at coupling `k`, with G(r).
pub(super) fn observe(lattice: &Lattice, k: f64, chains: &[&[i8]]) -> Observables {
    measure(
        lattice,
        chains,
        MeasureOptions {
            coupling: k,
            field: 0.0,
            correlation: true,
            bins_per_chain: 10,
        },
    )
}

/// The magnetisation per spin m of a configuration.
pub(super) fn magnetization(s: &[i8]) -> f64 {
    magnetization_sum(s) as f64 / s.len() as f64
}

/// A per-configuration quantity along every chain, one series per chain.
pub(super) fn series(chains: &Chains, f: impl Fn(&[i8]) -> f64) -> Vec<Vec<f64>> {
    chains
        .all()
        .iter()
        .map(|c| c.chunks_exact(chains.units).map(&f).collect())
        .collect()
}

/// The series as slices, for the statistics of `ising_data::stats`.
pub(super) fn slices(series: &[Vec<f64>]) -> Vec<&[f64]> {
    series.iter().map(Vec::as_slice).collect()
}

/// What generated samples are judged against: the lattice and coupling of the data, Kaufman's
/// exact values and the data's own observables.
pub(super) struct Reference<'a> {
    pub lattice: Lattice,
    pub coupling: f64,
    pub exact: &'a BTreeMap<String, f64>,
    pub data: &'a Observables,
}

/// The generator report of `chains` (made with `gibbs`) against `reference`.
pub(super) fn judge(
    name: &str,
    swap_acceptance: Option<Vec<f64>>,
    chains: &Chains,
    gibbs: &GibbsConfig,
    reference: &Reference,
) -> GeneratorReport {
    let (lattice, k) = (&reference.lattice, reference.coupling);
    let (exact, data) = (reference.exact, reference.data);
    let l = lattice.size();
    let o = observe(lattice, k, &chains.all());
    let thin = gibbs.thin as f64;
    let energy = series(chains, |s| lattice.energy(s, 0.0) / s.len() as f64);
    let m = series(chains, magnetization);
    let abs_m: Vec<Vec<f64>> = m
        .iter()
        .map(|c| c.iter().map(|x| x.abs()).collect())
        .collect();
    let tau_e = thin * integrated_autocorrelation_time(&slices(&energy));
    let tau_m = thin * integrated_autocorrelation_time(&slices(&abs_m));
    let tau = tau_e.max(tau_m);
    let r_hat_energy = gelman_rubin(&slices(&energy));
    let r_hat_magnetization = gelman_rubin(&slices(&m));
    let equilibrated = gibbs.burn_in as f64 >= 20.0 * tau
        && gibbs.sweeps as f64 >= 50.0 * tau
        && r_hat_energy < 1.1
        && r_hat_magnetization < 1.1;
    let e = o.energy_per_spin;
    let fit = |u: f64| coupling_at_energy_2d(l, l, u);
    let coupling_fit = fit(e.value).map(|mean| {
        // The energy falls with K: the fit's error from the energy's, both ways, averaged.
        let (lo, hi) = (fit(e.value + e.std_error), fit(e.value - e.std_error));
        let error = match (lo, hi) {
            (Some(lo), Some(hi)) => 0.5 * (hi - lo).abs(),
            _ => f64::NAN,
        };
        Estimate {
            value: mean,
            std_error: error,
        }
    });
    let z = z_scores(&o, exact, data);
    GeneratorReport {
        generator: name.into(),
        swap_acceptance,
        observables: o,
        tau_int_energy_sweeps: tau_e,
        tau_int_abs_magnetization_sweeps: tau_m,
        r_hat_energy,
        r_hat_magnetization,
        equilibrated,
        coupling_fit,
        z_scores: z,
    }
}

/// The generator's observables `o` against the exact values (energy, specific heat) and
/// the data's (the rest), as signed z-scores keyed by observable.
pub(super) fn z_scores(
    o: &Observables,
    exact: &BTreeMap<String, f64>,
    data: &Observables,
) -> BTreeMap<String, f64> {
    let e = o.energy_per_spin;
    let mut z = BTreeMap::new();
    z.insert(
        "energy_per_spin".into(),
        signed_z(e, exact["energy_per_spin"], 0.0),
    );
    z.insert(
        "specific_heat".into(),
        signed_z(o.specific_heat, exact["specific_heat"], 0.0),
    );
    let pairs = [
        (
            "abs_magnetization",
            o.abs_magnetization,
            data.abs_magnetization,
        ),
        (
            "magnetization_sq",
            o.magnetization_sq,
            data.magnetization_sq,
        ),
        ("susceptibility", o.susceptibility, data.susceptibility),
    ];
    for (key, g, d) in pairs {
        z.insert(key.into(), signed_z(g, d.value, d.std_error));
    }
    let optional = [
        (
            "susceptibility_zero_field",
            o.susceptibility_zero_field,
            data.susceptibility_zero_field,
        ),
        (
            "second_moment_length",
            o.second_moment_length,
            data.second_moment_length,
        ),
    ];
    for (key, g, d) in optional {
        if let (Some(g), Some(d)) = (g, d) {
            z.insert(key.into(), signed_z(g, d.value, d.std_error));
        }
    }
    for (r, (g, d)) in o
        .correlation
        .iter()
        .zip(&data.correlation)
        .enumerate()
        .skip(1)
    {
        z.insert(
            format!("correlation_{r}"),
            signed_z(*g, d.value, d.std_error),
        );
    }
    z
}

/// (generated − reference) / √(σ_gen² + σ_ref²).
pub(super) fn signed_z(g: Estimate, reference: f64, reference_error: f64) -> f64 {
    (g.value - reference) / g.std_error.hypot(reference_error)
}

/// The run's data as Monte Carlo chains, their observables, and Kaufman's exact energy and
/// specific heat of the `lattice` at coupling `k`.
pub(super) fn data_and_exact(
    stored: &ising_data::StoredDataset,
    lattice: &Lattice,
    k: f64,
) -> (Vec<Vec<i8>>, Observables, BTreeMap<String, f64>) {
    let l = lattice.size();
    let n_chains = stored.manifest.config.chains;
    let per_chain = stored.spins.len() / n_chains;
    let data_chains: Vec<Vec<i8>> = stored.spins.chunks(per_chain).map(<[i8]>::to_vec).collect();
    let data_refs: Vec<&[i8]> = data_chains.iter().map(Vec::as_slice).collect();
    let data = observe(lattice, k, &data_refs);
    let thermo = kaufman_thermo(l, l, k);
    let exact: BTreeMap<String, f64> = [
        ("energy_per_spin".to_string(), thermo.energy_per_spin),
        ("specific_heat".to_string(), thermo.specific_heat_per_spin),
    ]
    .into();
    (data_chains, data, exact)
}

/// The reports of the two generators, the first RBM (`generated[0]`: chains and swap
/// acceptances) and the DBN of `depth` layers (`generated[1]`), against `reference`.
pub(super) fn judge_generators(
    generated: [(&Chains, Option<Vec<f64>>); 2],
    depth: usize,
    options: &QualityOptions,
    reference: &Reference,
) -> Vec<GeneratorReport> {
    let [(rbm_chains, rbm_acceptance), (dbn_chains, _)] = generated;
    let rbm_name = match options.replicas {
        1 => "rbm (block Gibbs)".to_string(),
        r if options.base_path => format!("rbm (tempered, {r} replicas, base-rate path)"),
        r => format!("rbm (tempered, {r} replicas)"),
    };
    vec![
        judge(
            &rbm_name,
            rbm_acceptance,
            rbm_chains,
            &options.gibbs,
            reference,
        ),
        judge(
            &format!("dbn ({} layers, {:?} downward)", depth, options.downward).to_lowercase(),
            None,
            dbn_chains,
            &options.gibbs,
            reference,
        ),
    ]
}
