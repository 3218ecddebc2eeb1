//! How good a trained stack is in absolute terms (the `quality` binary): each layer's ln Z
//! bracketed by forward and reverse AIS, the first layer's negative log-likelihood and KL
//! divergence per spin from the exact Ising distribution, and the stack as a generator of
//! 40×40 configurations whose physics is measured against Kaufman's exact values and the
//! Monte Carlo data.
//!
//! Conventions and biases, stated once:
//! - Forward AIS gives ln Ẑ whose expectation is below ln Z (Jensen), so the NLL and KL
//!   computed with it are biased **low**. Reverse AIS here starts from the final states of
//!   long block-Gibbs chains of the same layer (samples of the model as far as the chains
//!   have equilibrated, which their τ_int shows), so its ln Ẑ is above ln Z in expectation and
//!   the NLL and KL computed with it are biased **high**: the two bracket the truth.
//! - Errors of ln Z come from the spread of independent repetitions (forward) or of disjoint
//!   groups of starts (reverse), not from one run's importance weights.
//! - The generator's errors are binned jackknife errors over chains
//!   ([`ising_data::observables`]); z-scores are (generated − reference)/error, the errors of
//!   both added in quadrature when the reference is itself measured (the data).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::{Result, bail};
use burn::prelude::*;
use ising_data::exact::{coupling_at_energy_2d, kaufman_thermo};
use ising_data::lattice::magnetization_sum;
use ising_data::observables::{MeasureOptions, Observables, measure};
use ising_data::stats::{gelman_rubin, integrated_autocorrelation_time};
use ising_data::{Estimate as Measured, Lattice};
use rbm::eval::ais::{
    AisConfig, AisRepeated, ais_log_partition_repeated, ais_reverse_log_partition,
};
use rbm::eval::generator::{Chains, GibbsConfig, dbn_chains, gibbs_chains, tempered_chains};
use rbm::eval::likelihood::{Estimate, mean_free_energy, nll_per_unit};
use rbm::eval::tempering::geometric_ladder;
use rbm::{Dbn, Propagation, Rbm};
use serde::{Deserialize, Serialize};

use crate::pretrain::quality::exact_entropy_per_spin;
use crate::pretrain::{encoding_for, split_rows};
use crate::run::{load_run, load_run_dataset};
use crate::streams::Stream;

/// Settings of the analysis (the defaults fit the paper preset into a few minutes on two
/// cores: parallel tempering of 40 replicas along the base-rate path from β = 0.2, which
/// equilibrates the paper preset's bimodal first RBM, where a ladder tempering the whole
/// energy did not).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QualityOptions {
    /// The AIS ladder, `(end, steps)` segments from β = 0 (see [`AisConfig`]).
    pub ladder: Vec<(f64, usize)>,
    /// AIS runs per repetition (forward) or per group of starts (reverse).
    pub ais_runs: usize,
    /// Independent repetitions (forward) and disjoint groups of starts (reverse).
    pub ais_repetitions: usize,
    /// The generators' chains.
    pub gibbs: GibbsConfig,
    /// What the DBN passes down through its intermediate layers.
    pub downward: Propagation,
    /// Replicas of parallel tempering for each layer's own chains (the first RBM as a
    /// generator, and every layer's reverse-AIS starts); 1 is plain block Gibbs.
    pub replicas: usize,
    /// The smallest inverse temperature of the geometric ladder, when `replicas` > 1.
    pub beta_min: f64,
    /// Temper along the base-rate path from the independent model fitted to the layer's data
    /// (the AIS base) instead of tempering the whole energy (see `rbm::eval::tempering`).
    #[serde(default)]
    pub base_path: bool,
    /// Seed of every random number of the analysis.
    pub seed: u64,
}

impl Default for QualityOptions {
    fn default() -> Self {
        Self {
            ladder: vec![(0.5, 300), (0.9, 1_200), (1.0, 2_500)],
            ais_runs: 20,
            ais_repetitions: 5,
            gibbs: GibbsConfig {
                chains: 8,
                burn_in: 2_000,
                sweeps: 6_000,
                thin: 10,
                seed: 0,
            },
            downward: Propagation::Mean,
            replicas: 40,
            beta_min: 0.2,
            base_path: true,
            seed: 1,
        }
    }
}

impl QualityOptions {
    /// Checks the settings.
    ///
    /// # Errors
    /// Naming the offending setting.
    pub fn validate(&self) -> Result<()> {
        if self.ais_repetitions < 2 {
            bail!(
                "AIS needs at least 2 repetitions for an error bar, got {}",
                self.ais_repetitions
            );
        }
        if self.ais_runs == 0 {
            bail!("AIS needs at least one run per repetition");
        }
        self.gibbs.validate()?;
        let records = self.gibbs.chains * self.gibbs.records();
        if self.ais_runs * self.ais_repetitions > records {
            bail!(
                "reverse AIS starts from the generators' records: {records} records ({} chains × {}) are fewer than {} runs × {} repetitions",
                self.gibbs.chains,
                self.gibbs.records(),
                self.ais_runs,
                self.ais_repetitions
            );
        }
        let ok = self.ladder.last().is_some_and(|s| s.0 == 1.0)
            && self.ladder.windows(2).all(|w| w[0].0 < w[1].0)
            && self.ladder.iter().all(|s| s.0 > 0.0 && s.1 > 0);
        if !ok {
            bail!(
                "the AIS ladder must rise to 1 in segments with steps: {:?}",
                self.ladder
            );
        }
        if self.replicas == 0 {
            bail!("replicas must be at least 1 (1 is plain block Gibbs)");
        }
        if self.replicas > 1 {
            geometric_ladder(self.beta_min, self.replicas)?;
        }
        Ok(())
    }
}

impl QualityOptions {
    /// Refuses sampling that could not fit in memory for layers at most `units` wide, before
    /// any allocation: the tempered replicas of every chain (states and probabilities), the
    /// recorded configurations, and the AIS runs (four bytes a value).
    ///
    /// # Errors
    /// Naming the settings and the bytes.
    pub fn check_memory(&self, units: usize) -> Result<()> {
        let g = &self.gibbs;
        let units = units as u128;
        let live = (self.replicas as u128)
            .saturating_mul(g.chains as u128)
            .saturating_mul(units)
            .saturating_mul(16);
        let records = (g.chains as u128)
            .saturating_mul(g.records() as u128)
            .saturating_mul(units)
            .saturating_mul(4);
        let ais = (self.ais_runs as u128)
            .saturating_mul(self.ais_repetitions as u128)
            .saturating_mul(units)
            .saturating_mul(16);
        let bytes = live.saturating_add(records).saturating_add(ais);
        let what = format!(
            "sampling {} chains × {} replicas, {} records each, and {} × {} AIS runs, for layers of up to {units} units",
            g.chains,
            self.replicas,
            g.records(),
            self.ais_runs,
            self.ais_repetitions
        );
        ising_data::memory::check_fits(&what, (bytes < u128::MAX).then_some(bytes))?;
        Ok(())
    }
}

/// ln Ẑ as an [`Estimate`] for the likelihood formulas.
fn estimate(z: &AisRepeated) -> Estimate {
    Estimate {
        value: z.log_partition,
        std_error: z.std_error,
    }
}

/// One layer's ln Z from both sides.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerPartition {
    /// 1-based layer.
    pub layer: usize,
    /// Visible and hidden widths.
    pub shape: [usize; 2],
    /// Forward AIS (ln Z from below in expectation).
    pub log_partition_forward: AisRepeated,
    /// Reverse AIS from the layer's own Gibbs chains (ln Z from above in expectation).
    pub log_partition_reverse: AisRepeated,
    /// Reverse minus forward: the width of the bracket (negative when the two overlap by
    /// more than their noise).
    pub bracket_width: f64,
    /// τ_int of the chains that gave the reverse starts, in sweeps, measured on the mean
    /// visible activity.
    pub tau_int_sweeps: f64,
    /// Their swap acceptance per pair, when tempered.
    pub swap_acceptance: Option<Vec<f64>>,
    /// The exact ln Z by enumeration, for a layer with at most [`EXACT_UNITS`] units on its
    /// smaller discrete side (a check of the bracket; `null` otherwise).
    pub log_partition_exact: Option<f64>,
}

/// The widest layer side whose states [`assess`] enumerates for the exact ln Z (2²⁰ states).
pub const EXACT_UNITS: usize = 20;

/// The first layer as a model of the Ising distribution.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FirstLayerLikelihood {
    /// The exact entropy per spin of the data's distribution (Kaufman).
    pub entropy_per_spin: f64,
    /// Held-out NLL per spin with the forward ln Z (biased low) and the reverse one (high).
    pub nll_per_spin: Bracket,
    /// Training NLL per spin, the same two ways.
    pub train_nll_per_spin: Bracket,
    /// KL(P_Ising ‖ p_model) per spin = held-out NLL per spin − exact entropy per spin.
    pub kl_per_spin: Bracket,
    /// What the two sides mean.
    pub bias: String,
}

/// A value estimated from below and from above.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Bracket {
    /// With forward AIS's ln Z (biased low for NLL and KL).
    pub forward: Estimate,
    /// With reverse AIS's ln Z (biased high).
    pub reverse: Estimate,
}

/// A generator's samples measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GeneratorReport {
    /// What generated them.
    pub generator: String,
    /// Parallel tempering's swap acceptance per neighbouring pair of inverse temperatures
    /// (the last pair ends at β = 1), when the chains were tempered.
    pub swap_acceptance: Option<Vec<f64>>,
    /// The observables (binned jackknife errors).
    pub observables: Observables,
    /// τ_int of the energy per spin, in sweeps (the records' spacing times τ_int of the
    /// records; ½·thin when the records are uncorrelated).
    pub tau_int_energy_sweeps: f64,
    /// τ_int of |m|, in sweeps.
    pub tau_int_abs_magnetization_sweeps: f64,
    /// The Gelman–Rubin R̂ across chains of the energy per spin and of the signed
    /// magnetisation: well above 1 when chains sit in different modes (for example of
    /// opposite or unequal magnetisation) or have not forgotten their starts.
    pub r_hat_energy: f64,
    /// R̂ of the signed magnetisation m.
    pub r_hat_magnetization: f64,
    /// Whether the burn-in is at least 20 τ_int, each chain at least 50 τ_int long, and both
    /// R̂ below 1.1. Chains that never leave one mode can pass this while missing another:
    /// no diagnostic sees a mode that no chain visits.
    pub equilibrated: bool,
    /// The coupling of the 40×40 torus whose exact energy equals the samples' (Kaufman),
    /// with the error propagated from the energy's.
    pub coupling_fit: Option<Measured>,
    /// z-scores against the exact values (`energy_per_spin`, `specific_heat`) and the Monte
    /// Carlo data (the rest; G(r) as `correlation_r`).
    pub z_scores: BTreeMap<String, f64>,
}

/// Everything `quality` reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QualityReport {
    /// The run folder analysed.
    pub run: String,
    /// The settings.
    pub options: QualityOptions,
    /// The lattice size L and coupling K of the data.
    pub size: usize,
    /// Coupling K of the data.
    pub coupling: f64,
    /// Per layer.
    pub log_partition: Vec<LayerPartition>,
    /// The first layer against the exact distribution.
    pub first_layer: FirstLayerLikelihood,
    /// Exact values of the 40×40 torus (Kaufman): `energy_per_spin`, `specific_heat`.
    pub exact: BTreeMap<String, f64>,
    /// The Monte Carlo data, measured the same way.
    pub data: Observables,
    /// The first RBM alone, and the whole DBN.
    pub generators: Vec<GeneratorReport>,
    /// Histograms and G(r) for the figures are not stored; seconds per stage are.
    pub seconds: BTreeMap<String, f64>,
}

/// Observables of `chains` of the L×L lattice at coupling `k`, with G(r).
fn observe(lattice: &Lattice, k: f64, chains: &[&[i8]]) -> Observables {
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
fn magnetization(s: &[i8]) -> f64 {
    magnetization_sum(s) as f64 / s.len() as f64
}

/// A per-configuration quantity along every chain, one series per chain.
fn series(chains: &Chains, f: impl Fn(&[i8]) -> f64) -> Vec<Vec<f64>> {
    chains
        .all()
        .iter()
        .map(|c| c.chunks_exact(chains.units).map(&f).collect())
        .collect()
}

/// The series as slices, for the statistics of `ising_data::stats`.
fn slices(series: &[Vec<f64>]) -> Vec<&[f64]> {
    series.iter().map(Vec::as_slice).collect()
}

/// What generated samples are judged against: the lattice and coupling of the data, Kaufman's
/// exact values and the data's own observables.
struct Reference<'a> {
    lattice: Lattice,
    coupling: f64,
    exact: &'a BTreeMap<String, f64>,
    data: &'a Observables,
}

/// The generator report of `chains` (made with `gibbs`) against `reference`.
fn judge(
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
    let coupling_fit = fit(e.mean).map(|mean| {
        // The energy falls with K: the fit's error from the energy's, both ways, averaged.
        let (lo, hi) = (fit(e.mean + e.error), fit(e.mean - e.error));
        let error = match (lo, hi) {
            (Some(lo), Some(hi)) => 0.5 * (hi - lo).abs(),
            _ => f64::NAN,
        };
        Measured { mean, error }
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
fn z_scores(
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
        z.insert(key.into(), signed_z(g, d.mean, d.error));
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
            z.insert(key.into(), signed_z(g, d.mean, d.error));
        }
    }
    for (r, (g, d)) in o
        .correlation
        .iter()
        .zip(&data.correlation)
        .enumerate()
        .skip(1)
    {
        z.insert(format!("correlation_{r}"), signed_z(*g, d.mean, d.error));
    }
    z
}

/// (generated − reference) / √(σ_gen² + σ_ref²).
fn signed_z(g: Measured, reference: f64, reference_error: f64) -> f64 {
    (g.mean - reference) / g.error.hypot(reference_error)
}

/// Everything the figures need besides the report.
pub struct Samples {
    /// The data's configurations, per chain.
    pub data: Vec<Vec<i8>>,
    /// The generators' chains, in the report's order.
    pub generated: Vec<Chains>,
}

/// The analysis of the finished run in `dir` whose dataset is found in `datasets`
/// (see the module docs). `stage` is told the name of each stage as it starts; `progress`
/// the sweeps of the generators as they are done.
///
/// # Errors
/// A folder that is not a finished run, a missing or different dataset, invalid options, or
/// a device that cannot hand results back.
pub fn assess(
    dir: &Path,
    datasets: Option<&Path>,
    options: &QualityOptions,
    device: &Device,
    stage: &dyn Fn(&str),
    progress: &dyn Fn(usize),
) -> Result<(QualityReport, Samples)> {
    options.validate()?;
    let mut seconds = BTreeMap::new();
    let mut clock = Instant::now();
    let mut lap = |name: &str, seconds: &mut BTreeMap<String, f64>| {
        seconds.insert(name.to_string(), clock.elapsed().as_secs_f64());
        clock = Instant::now();
    };

    stage("reading the run and its data");
    let (config, dbn) = load_run(dir, device)?;
    options.check_memory(config.layers.iter().copied().max().unwrap_or(0))?;
    let stored = load_run_dataset(dir, &config, datasets)?;
    let (l, k) = (config.data.size, config.data.coupling);
    let lattice = Lattice::Square { l };
    let (data_chains, data, exact) = data_and_exact(&stored, &lattice, k);
    let (train, valid) = split_rows(
        stored,
        encoding_for(config.units),
        config.data.valid_fraction,
        config.data.seed,
    )?;
    lap("data", &mut seconds);

    // Generators: the first RBM alone, then the DBN; every layer's own chains give its
    // reverse-AIS starts.
    let gibbs = |chains: u64| GibbsConfig {
        seed: Stream::QualityGibbs {
            gibbs_seed: options.gibbs.seed,
            chains,
        }
        .key(options.seed),
        ..options.gibbs.clone()
    };
    let held_out = valid.to_tensor(device);
    let bases = layer_bases(&dbn, held_out.clone(), config.propagation);
    let first = &dbn.layers[0];
    stage(&match options.replicas {
        1 => "sampling the first RBM (block Gibbs)".to_string(),
        r => format!("sampling the first RBM (parallel tempering, {r} replicas)"),
    });
    let (rbm_chains, rbm_acceptance) =
        sample_layer(first, &bases[0], &gibbs(1), options, progress)?;
    lap("generator_rbm", &mut seconds);
    stage("sampling the DBN");
    let dbn_chains = dbn_chains(&dbn, &gibbs(2), options.downward, progress)?;
    lap("generator_dbn", &mut seconds);
    let reference = Reference {
        lattice,
        coupling: k,
        exact: &exact,
        data: &data,
    };
    let generated = [(&rbm_chains, rbm_acceptance.clone()), (&dbn_chains, None)];
    let generators = judge_generators(generated, dbn.layers.len(), options, &reference);

    // ln Z of every layer, bracketed.
    let mut log_partition = Vec::new();
    for (i, layer) in dbn.layers.iter().enumerate() {
        stage(&format!("AIS, layer {}", i + 1));
        let first = (&rbm_chains, &rbm_acceptance);
        log_partition.push(layer_partition(
            i, layer, &bases[i], first, options, device,
        )?);
        lap(&format!("ais_layer{}", i + 1), &mut seconds);
    }

    stage("likelihood of the first layer");
    let first_layer =
        first_layer_likelihood(first, held_out, train, &log_partition[0], (l, k), device)?;
    lap("likelihood", &mut seconds);

    let report = QualityReport {
        run: dir.display().to_string(),
        options: options.clone(),
        size: l,
        coupling: k,
        log_partition,
        first_layer,
        exact,
        data,
        generators,
        seconds,
    };
    let samples = Samples {
        data: data_chains,
        generated: vec![rbm_chains, dbn_chains],
    };
    Ok((report, samples))
}

/// The run's data as Monte Carlo chains, their observables, and Kaufman's exact energy and
/// specific heat of the `lattice` at coupling `k`.
fn data_and_exact(
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
fn judge_generators(
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

/// Each layer's base model for AIS (and the base-rate tempering path): independent visible
/// units fitted to the held-out data (`held_out`, the first layer's rows) as that layer sees
/// it, passed up by `propagation`.
fn layer_bases(dbn: &Dbn, held_out: Tensor<2>, propagation: Propagation) -> Vec<Tensor<1>> {
    let mut bases = Vec::new();
    let mut layer_data = held_out;
    for (i, layer) in dbn.layers.iter().enumerate() {
        bases.push(
            layer
                .clone()
                .with_visible_bias_from_data(layer_data.clone())
                .visible_bias
                .val(),
        );
        if i + 1 < dbn.layers.len() {
            layer_data = match propagation {
                Propagation::Mean => layer.hidden_mean(layer_data),
                Propagation::Sample => layer.sample_hidden(layer_data),
            };
        }
    }
    bases
}

/// ln Z of layer `i` (0-based), bracketed: forward AIS from `base`, reverse AIS from records
/// of the layer's own chains (for the first layer the generator's, `first`: its chains and
/// swap acceptances), and the exact value where the layer is small enough to enumerate.
fn layer_partition(
    i: usize,
    layer: &Rbm,
    base: &Tensor<1>,
    first: (&Chains, &Option<Vec<f64>>),
    options: &QualityOptions,
    device: &Device,
) -> Result<LayerPartition> {
    let gibbs = |chains: u64| GibbsConfig {
        seed: Stream::QualityGibbs {
            gibbs_seed: options.gibbs.seed,
            chains,
        }
        .key(options.seed),
        ..options.gibbs.clone()
    };
    let base = base.clone();
    let ais = AisConfig {
        runs: options.ais_runs,
        segments: options.ladder.clone(),
        seed: Stream::QualityAis { layer: i }.key(options.seed),
    };
    let forward =
        ais_log_partition_repeated(layer, Some(base.clone()), &ais, options.ais_repetitions)?;
    // The reverse starts: records of the layer's own chains (for the first layer, the
    // generator's; above it, chains of that layer alone), spread evenly over the chains
    // and their recorded stretch.
    let starts_needed = options.ais_runs * options.ais_repetitions;
    let (starts, tau, swap_acceptance) = match i {
        0 => (
            spread_records(first.0, starts_needed, layer, device),
            tau_of_mean(first.0, options.gibbs.thin),
            first.1.clone(),
        ),
        _ => {
            let (chains, acceptance) =
                sample_layer(layer, &base, &gibbs(100 + i as u64), options, &|_| {})?;
            (
                spread_records(&chains, starts_needed, layer, device),
                tau_of_mean(&chains, options.gibbs.thin),
                acceptance,
            )
        }
    };
    let reverse = (0..options.ais_repetitions)
        .map(|r| {
            let rows = r * options.ais_runs..(r + 1) * options.ais_runs;
            let config = AisConfig {
                seed: Stream::ReverseAis { repetition: r }.key(ais.seed),
                ..ais.clone()
            };
            let start = starts.clone().slice([rows, 0..layer.n_visible()]);
            ais_reverse_log_partition(layer, Some(base.clone()), &config, start)
        })
        .collect::<rbm::Result<Vec<_>>>()?;
    let reverse = AisRepeated::of(reverse, ais.clone());
    let log_partition_exact = match layer.n_hidden().min(layer.n_visible()) <= EXACT_UNITS {
        true => Some(rbm::eval::exact::HostRbm::from_rbm(layer)?.log_partition_exact()?),
        false => None,
    };
    Ok(LayerPartition {
        layer: i + 1,
        shape: [layer.n_visible(), layer.n_hidden()],
        bracket_width: reverse.log_partition - forward.log_partition,
        log_partition_forward: forward,
        log_partition_reverse: reverse,
        tau_int_sweeps: tau,
        swap_acceptance,
        log_partition_exact,
    })
}

/// The first layer's held-out and training NLL and KL per spin, bracketed by the forward and
/// reverse ln Z of `partition`, on the L×L lattice at coupling K (`lattice`).
fn first_layer_likelihood(
    first: &Rbm,
    held_out: Tensor<2>,
    train: ising_data::RowsDataset,
    partition: &LayerPartition,
    lattice: (usize, f64),
    device: &Device,
) -> Result<FirstLayerLikelihood> {
    let (l, k) = lattice;
    let entropy = exact_entropy_per_spin(l, k);
    let f_valid = mean_free_energy(first, held_out)?;
    let f_train = mean_free_energy(first, train.to_tensor(device))?;
    let (z_fwd, z_rev) = (
        estimate(&partition.log_partition_forward),
        estimate(&partition.log_partition_reverse),
    );
    let n = first.n_visible();
    let bracket = |f: Estimate| Bracket {
        forward: nll_per_unit(f, z_fwd, n),
        reverse: nll_per_unit(f, z_rev, n),
    };
    let nll = bracket(f_valid);
    let minus_entropy = |e: Estimate| Estimate {
        value: e.value - entropy,
        std_error: e.std_error,
    };
    Ok(FirstLayerLikelihood {
        entropy_per_spin: entropy,
        train_nll_per_spin: bracket(f_train),
        kl_per_spin: Bracket {
            forward: minus_entropy(nll.forward),
            reverse: minus_entropy(nll.reverse),
        },
        nll_per_spin: nll,
        bias: "forward: ln Z from below in expectation, so NLL and KL biased low; reverse: from the model's own equilibrated Gibbs chains, ln Z from above in expectation, so NLL and KL biased high".into(),
    })
}

/// Chains of one layer by parallel tempering (`options.replicas` > 1) or block Gibbs, with
/// the swap acceptances of the former.
fn sample_layer(
    layer: &Rbm,
    base: &Tensor<1>,
    gibbs: &GibbsConfig,
    options: &QualityOptions,
    progress: &dyn Fn(usize),
) -> Result<(Chains, Option<Vec<f64>>)> {
    Ok(match options.replicas {
        1 => (gibbs_chains(layer, gibbs, progress)?, None),
        r => {
            let base = match options.base_path {
                true => Some(rbm::tensor::to_vec::<f32, 1>(base.clone())?),
                false => None,
            };
            let (chains, acceptance) =
                tempered_chains(layer, gibbs, geometric_ladder(options.beta_min, r)?, base)?;
            (chains, Some(acceptance))
        }
    })
}

/// `count` records spread evenly over the chains (round robin) and over each chain's
/// recorded stretch (the last record included), encoded for `layer`'s visible units
/// (`[count, n]`).
///
/// # Panics
/// If there are fewer records than `count` (excluded by [`QualityOptions::validate`]).
fn spread_records(chains: &Chains, count: usize, layer: &Rbm, device: &Device) -> Tensor<2> {
    assert!(count <= chains.chains * chains.records, "too few records");
    let encode = |s: i8| rbm::eval::likelihood::encode_spin(layer.visible_units, s) as f32;
    let per_chain = count.div_ceil(chains.chains);
    let rows: Vec<f32> = (0..count)
        .flat_map(|i| {
            let (c, k) = (i % chains.chains, i / chains.chains);
            // The k-th of per_chain records counted back from the last, evenly spaced.
            let r = chains.records - 1 - k * chains.records / per_chain;
            let record = &chains.chain(c)[r * chains.units..][..chains.units];
            record.iter().map(|&s| encode(s)).collect::<Vec<_>>()
        })
        .collect();
    Tensor::from_data(TensorData::new(rows, [count, chains.units]), device)
}

/// τ_int in sweeps of the mean visible activity of `chains` recorded every `thin` sweeps.
fn tau_of_mean(chains: &Chains, thin: usize) -> f64 {
    thin as f64 * integrated_autocorrelation_time(&slices(&series(chains, magnetization)))
}

/// Density histogram of `values` over `range` in `bins` bins, as (bin centre, density)
/// points.
fn density(values: &[f64], (lo, hi): (f64, f64), bins: usize) -> Vec<(f64, f64)> {
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &x in values {
        let b = (((x - lo) / width) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let total = values.len() as f64 * width;
    counts
        .iter()
        .enumerate()
        .map(|(b, &c)| (lo + (b as f64 + 0.5) * width, c as f64 / total))
        .collect()
}

/// The figures of a report, as (file name, PNG bytes): G(r) of the data and each generator
/// (log scale), histograms of E/N and m, and each layer's ln Z from both sides.
///
/// # Errors
/// If drawing fails.
pub fn figures(report: &QualityReport, samples: &Samples) -> Result<Vec<(String, Vec<u8>)>> {
    use crate::plot::{Series, line_chart};
    let lattice = Lattice::Square { l: report.size };
    let n = lattice.n_sites();
    let mut names = vec!["Monte Carlo data".to_string()];
    names.extend(report.generators.iter().map(|g| g.generator.clone()));
    let mut observed = vec![&report.data];
    observed.extend(report.generators.iter().map(|g| &g.observables));
    let correlation: Vec<Series> = names
        .iter()
        .zip(&observed)
        .map(|(name, o)| Series {
            name: name.clone(),
            points: o
                .correlation
                .iter()
                .enumerate()
                .map(|(r, g)| (r as f64, g.mean))
                .collect(),
            errors: Some(o.correlation.iter().map(|g| g.error).collect()),
        })
        .collect();
    let mut out = vec![(
        "correlation.png".to_string(),
        line_chart(
            &format!(
                "G(r) on the {0}×{0} torus at K = {1}",
                report.size, report.coupling
            ),
            "r (lattice spacings)",
            "G(r) = <s(i) s(i+r)>",
            &correlation,
            true,
        )?,
    )];
    let sources: Vec<Vec<&[i8]>> =
        std::iter::once(samples.data.iter().map(Vec::as_slice).collect())
            .chain(samples.generated.iter().map(|c| c.all()))
            .collect();
    let per_config = |f: &dyn Fn(&[i8]) -> f64| -> Vec<Vec<f64>> {
        sources
            .iter()
            .map(|chains| {
                chains
                    .iter()
                    .flat_map(|c| c.chunks_exact(n).map(f))
                    .collect()
            })
            .collect()
    };
    let energies = per_config(&|s| lattice.energy(s, 0.0) / n as f64);
    let magnetisations = per_config(&magnetization);
    let (e_lo, e_hi) = energies
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    for (file, title, label, values, range) in [
        (
            "energy_histogram.png",
            "Energy per spin",
            "E/N (units of J)",
            &energies,
            (e_lo, e_hi + 1e-9),
        ),
        (
            "magnetization_histogram.png",
            "Magnetisation per spin",
            "m",
            &magnetisations,
            (-1.0, 1.0),
        ),
    ] {
        let series: Vec<Series> = names
            .iter()
            .zip(values)
            .map(|(name, v)| Series::new(name.clone(), density(v, range, 60)))
            .collect();
        out.push((
            file.into(),
            line_chart(title, label, "density", &series, false)?,
        ));
    }
    out.push(("log_partition.png".into(), log_partition_figure(report)?));
    Ok(out)
}

/// ln Z per layer, reverse and forward AIS relative to forward.
fn log_partition_figure(report: &QualityReport) -> Result<Vec<u8>> {
    use crate::plot::{Series, line_chart};
    let side = |name: &str, pick: &dyn Fn(&LayerPartition) -> &AisRepeated| Series {
        name: name.into(),
        points: report
            .log_partition
            .iter()
            .map(|p| {
                (
                    p.layer as f64,
                    pick(p).log_partition - p.log_partition_forward.log_partition,
                )
            })
            .collect(),
        errors: Some(
            report
                .log_partition
                .iter()
                .map(|p| pick(p).std_error)
                .collect(),
        ),
    };
    line_chart(
        "ln Z per layer: reverse and forward AIS, relative to forward",
        "layer",
        "ln Ẑ − ln Ẑ_forward (nats)",
        &[
            side("forward AIS (from below)", &|p| &p.log_partition_forward),
            side("reverse AIS (from above)", &|p| &p.log_partition_reverse),
        ],
        false,
    )
}
