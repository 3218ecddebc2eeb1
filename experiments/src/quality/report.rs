//! What `quality` reports (`quality.json`, [`QualityReport`]) and the samples its figures draw
//! ([`Samples`]).

use std::collections::BTreeMap;

use ising_data::observables::Observables;
use rbm::eval::ais::AisRepeated;
use rbm::eval::generator::Chains;
use rbm::eval::likelihood::Estimate;
use serde::{Deserialize, Serialize};

use super::options::QualityOptions;

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

/// The widest layer side whose states [`assess`](super::assess) enumerates for the exact ln Z (2²⁰
/// states).
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
    pub coupling_fit: Option<Estimate>,
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

/// Everything the figures need besides the report.
pub struct Samples {
    /// The data's configurations, per chain.
    pub data: Vec<Vec<i8>>,
    /// The generators' chains, in the report's order.
    pub generated: Vec<Chains>,
}
