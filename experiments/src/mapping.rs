//! The variational RG ↔ RBM mapping (Mehta & Schwab, Eqs. 6–9, 14–22), checked by exact
//! enumeration of every visible and hidden configuration of a small system.
//!
//! The data distribution is P(v) = e^{−H\[v\]}/Z_v. Given an RBM with energy E(v,h), the
//! mapping sets the RG operator to T(v,h) = −E(v,h) + H\[v\] (Eq. 18). Then
//! - the coarse-grained Hamiltonian of Eq. 6, e^{−H^RG\[h\]} = Tr_v e^{T(v,h) − H\[v\]}, equals the
//!   RBM's hidden Hamiltonian H^RBM\[h\] = −ln Tr_v e^{−E(v,h)} (Eq. 15): Eq. 21;
//! - e^{T(v,h)} = p(h|v) e^{H\[v\] − H^RBM\[v\]} (Eq. 22), with H^RBM\[v\] = F(v);
//! - the transformation is exact (Eq. 9) when Tr_h e^{T(v,h)} = 1 for every v; in general
//!   Tr_h e^{T(v,h)} = e^{H\[v\] − F(v)};
//! - ΔF = F^h − F^v with F^v = −ln Tr_v e^{−H\[v\]} and F^h = −ln Tr_h e^{−H^RG\[h\]} (Eq. 8).
//!   Since e^{−F^h} = Tr_v e^{−H\[v\]} Tr_h e^{T(v,h)}, e^{−ΔF} = ⟨Tr_h e^T⟩_P: ΔF = 0 says the
//!   P-average of Tr_h e^T is 1, not that every Tr_h e^T is 1, so the "only if" of Eq. 8 fails.

use anyhow::Result;
use burn::prelude::*;
use ising_data::RowsDataset;
use ising_data::config::{Checked, ConfigError, Contains, Valid};
use rbm::eval::exact::{HostRbm, state};
use rbm::{CdModel, RbmConfig, TrainingConfig, Units};
use serde::{Deserialize, Serialize};

use crate::plain::train_plain;
use crate::streams::Stream;

/// A run of the `mapping` binary: the random RBM on a random Hamiltonian, and the training of
/// an RBM on samples of a periodic ring, checked after every epoch.
#[derive(Config, Debug)]
pub struct MappingConfig {
    /// Spins of the periodic ring (visible units).
    pub ring: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Coupling K of the ring.
    pub coupling: f64,
    /// Training samples of the ring.
    pub samples: usize,
    /// Seed of the samples, of the random RBM and Hamiltonian, and of every stream of the
    /// training ([`Stream`]'s `Mapping…` streams).
    pub seed: u64,
    /// Standard deviation of the random RBM's weights.
    #[config(default = 0.7)]
    pub random_init_std: f64,
    /// Standard deviation of the trained RBM's initial weights.
    #[config(default = 0.1)]
    pub init_std: f64,
    /// The training of the RBM on the ring (its `seed` is the run's).
    pub training: TrainingConfig,
}

/// The largest coupling of the ring whose enumeration stays finite (beyond, e^H overflows).
pub const MAX_COUPLING: f64 = 10.0;

impl Checked for MappingConfig {
    /// A ring of 4 to 12 spins and 1 to 12 hidden units (exact enumeration), a coupling in
    /// [0, [`MAX_COUPLING`]], 100 samples at least and the training's own checks (under
    /// `training`).
    fn check(&self) -> std::result::Result<(), ConfigError> {
        if !(4..=12).contains(&self.ring) {
            return Err(ConfigError::invalid(
                "ring",
                "in 4..=12 (exact enumeration)",
                self.ring,
            ));
        }
        if !(1..=12).contains(&self.hidden) {
            return Err(ConfigError::invalid(
                "hidden",
                "in 1..=12 (exact enumeration)",
                self.hidden,
            ));
        }
        if !(self.coupling.is_finite() && (0.0..=MAX_COUPLING).contains(&self.coupling)) {
            return Err(ConfigError::invalid(
                "coupling",
                format!("between 0 and {MAX_COUPLING}"),
                self.coupling,
            )
            .because("beyond, e^H overflows in the enumeration"));
        }
        if self.samples < 100 {
            return Err(ConfigError::invalid(
                "samples",
                "at least 100",
                self.samples,
            ));
        }
        self.training.check().map_err(|e| e.within("training"))
    }
}

impl Contains<TrainingConfig> for MappingConfig {
    /// The ring's training, checked under `training`.
    fn part(&self) -> &TrainingConfig {
        &self.training
    }
}

/// Trains an RBM of ±1 units on `rows` (the ring's samples, ±1) as `config` says — its
/// optimiser, learning-rate schedule, batch size and epochs — from initial weights of standard
/// deviation `init_std`, every random number drawn from the streams of `config.seed`
/// ([`Stream`]'s `Mapping…` streams): the batches in a keyed random order per epoch
/// ([`train_plain`]). Calls `after_epoch` with 0 and the initial model, then after every epoch
/// with its number (an error it returns ends the training) and the model.
///
/// # Errors
/// If a batch cannot be served, or `after_epoch`'s.
pub fn train_on_ring(
    config: &Valid<TrainingConfig>,
    rows: &RowsDataset,
    hidden: usize,
    init_std: f64,
    device: &Device,
    mut after_epoch: impl FnMut(usize, &CdModel) -> Result<()>,
) -> Result<CdModel> {
    let rbm = RbmConfig::new(rows.width(), hidden)
        .with_visible_units(Units::Spin)
        .with_hidden_units(Units::Spin)
        .with_init_std(init_std)
        .init_seeded(device, Stream::MappingInitialWeights.key(config.seed))?;
    let model = config
        .cd
        .init_seeded(rbm, Stream::MappingChains.key(config.seed))?;
    after_epoch(0, &model)?;
    train_plain(
        model,
        rows.clone(),
        config,
        Stream::MappingBatches.key(config.seed),
        1,
        device,
        |epoch, _, model| after_epoch(epoch, model),
    )
}

/// Largest number of visible plus hidden units enumerated jointly.
pub const MAX_JOINT_UNITS: usize = 26;

/// Every quantity of the mapping for one RBM and one data Hamiltonian.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MappingReport {
    /// max_h |H^RG\[h\] − H^RBM\[h\]| (Eq. 21), H^RG from Eq. 6 with T from Eq. 18.
    pub max_eq21_deviation: f64,
    /// max_{v,h} |T(v,h) − [ln p(h|v) + H\[v\] − H^RBM\[v\]]| (Eq. 22).
    pub max_eq22_deviation: f64,
    /// max_v |Tr_h e^{T(v,h)} − 1| (Eq. 9: zero iff the RG transformation is exact).
    pub max_trace_deviation: f64,
    /// max_v |Tr_h e^T − 1| after fixing the additive constant of H\[v\] so that ΔF = 0
    /// (H → H + ΔF): the exactness condition with the normalisation the RBM cannot learn.
    pub max_trace_deviation_at_zero_delta_f: f64,
    /// The same deviation averaged over the data distribution, E_P |Tr_h e^T − 1| (H shifted to
    /// ΔF = 0); the maximum is dominated by configurations of negligible probability.
    pub mean_trace_deviation_at_zero_delta_f: f64,
    /// The standard deviation of ln Tr_h e^T under P. Since ln Tr_h e^T = ln p(v) − ln P(v) +
    /// const, it vanishes exactly when the RBM's marginal is P (KL = 0).
    pub log_trace_std: f64,
    /// max_v ln Tr_h e^T − min_v ln Tr_h e^T: zero iff Tr_h e^T is the same for every v, i.e.
    /// iff the RBM's visible marginal equals P.
    pub log_trace_spread: f64,
    /// ΔF = F^h − F^v (Eq. 8).
    pub delta_f: f64,
    /// ln ⟨Tr_h e^T⟩_P, which equals −ΔF (checked).
    pub log_mean_trace: f64,
    /// KL(P ‖ p_λ) in nats (Eq. 16), not per unit.
    pub kl: f64,
}

fn log_sum_exp(xs: &[f64]) -> f64 {
    let m = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// ln p(h|v) from the factorised conditional (units independent given v).
fn log_conditional(host: &HostRbm, v: &[f64], h: &[f64]) -> f64 {
    let x = host.hidden_input(v);
    x.iter()
        .zip(h)
        .map(|(&x, &h)| h * x - host.hidden_units.log_partition(x))
        .sum()
}

/// Computes the [`MappingReport`] by enumerating all 2^{n_v} × 2^{n_h} configurations.
/// `hamiltonian[index]` is H\[v\] of visible configuration `index` (bit i = unit i up, as
/// [`rbm::eval::exact::state`]).
///
/// # Panics
/// If the RBM has continuous units, more than [`MAX_JOINT_UNITS`] units in all, or the
/// Hamiltonian has the wrong length.
pub fn check_mapping(host: &HostRbm, hamiltonian: &[f64]) -> MappingReport {
    let (nv, nh) = (host.n_visible, host.n_hidden);
    assert!(nv + nh <= MAX_JOINT_UNITS, "too many units to enumerate");
    assert!(
        host.visible_units.is_discrete() && host.hidden_units.is_discrete(),
        "enumeration needs discrete units"
    );
    assert_eq!(
        hamiltonian.len(),
        1 << nv,
        "one H[v] per visible configuration"
    );
    let vs: Vec<Vec<f64>> = (0..1u64 << nv)
        .map(|i| state(host.visible_units, nv, i))
        .collect();
    let hs: Vec<Vec<f64>> = (0..1u64 << nh)
        .map(|i| state(host.hidden_units, nh, i))
        .collect();
    let free: Vec<f64> = vs.iter().map(|v| host.free_energy(v)).collect();
    // T(v,h) = −E(v,h) + H[v] (Eq. 18), tabulated.
    let t: Vec<Vec<f64>> = vs
        .iter()
        .zip(hamiltonian)
        .map(|(v, &hv)| hs.iter().map(|h| -host.energy(v, h) + hv).collect())
        .collect();

    let (max21, h_rg) = eq21(host, &hs, &t, hamiltonian);
    // Eq. 22, Eq. 9.
    let mut max22 = 0.0f64;
    let mut log_traces = Vec::with_capacity(vs.len());
    for (a, v) in vs.iter().enumerate() {
        for (b, h) in hs.iter().enumerate() {
            let rhs = log_conditional(host, v, h) + hamiltonian[a] - free[a];
            max22 = max22.max((t[a][b] - rhs).abs());
        }
        log_traces.push(log_sum_exp(&t[a]));
    }
    let max_trace = log_traces
        .iter()
        .map(|lt| (lt.exp() - 1.0).abs())
        .fold(0.0, f64::max);
    let spread = log_traces.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        - log_traces.iter().cloned().fold(f64::INFINITY, f64::min);
    // Free energies and KL.
    let neg_h: Vec<f64> = hamiltonian.iter().map(|x| -x).collect();
    let log_z_data = log_sum_exp(&neg_h);
    let neg_rg: Vec<f64> = h_rg.iter().map(|x| -x).collect();
    let f_h = -log_sum_exp(&neg_rg);
    let f_v = -log_z_data;
    let neg_f: Vec<f64> = free.iter().map(|x| -x).collect();
    let log_z_model = log_sum_exp(&neg_f);
    let mut kl = 0.0;
    let mut mean_trace_terms = Vec::with_capacity(vs.len());
    for a in 0..vs.len() {
        let log_p = -hamiltonian[a] - log_z_data;
        let log_q = -free[a] - log_z_model;
        kl += log_p.exp() * (log_p - log_q);
        mean_trace_terms.push(log_p + log_traces[a]);
    }
    let delta_f = f_h - f_v;
    let max_trace_normalised = log_traces
        .iter()
        .map(|lt| ((lt + delta_f).exp() - 1.0).abs())
        .fold(0.0, f64::max);
    let p: Vec<f64> = hamiltonian
        .iter()
        .map(|h| (-h - log_z_data).exp())
        .collect();
    let mean_trace_normalised: f64 = log_traces
        .iter()
        .zip(&p)
        .map(|(lt, p)| p * ((lt + delta_f).exp() - 1.0).abs())
        .sum();
    let mean_log_trace: f64 = log_traces.iter().zip(&p).map(|(lt, p)| p * lt).sum();
    let log_trace_std = log_traces
        .iter()
        .zip(&p)
        .map(|(lt, p)| p * (lt - mean_log_trace).powi(2))
        .sum::<f64>()
        .sqrt();
    MappingReport {
        max_eq21_deviation: max21,
        max_trace_deviation_at_zero_delta_f: max_trace_normalised,
        mean_trace_deviation_at_zero_delta_f: mean_trace_normalised,
        log_trace_std,
        max_eq22_deviation: max22,
        max_trace_deviation: max_trace,
        log_trace_spread: spread,
        delta_f,
        log_mean_trace: log_sum_exp(&mean_trace_terms),
        kl,
    }
}

/// Eq. 6 and Eq. 21: H^RG\[h\] = −ln Σ_v e^{T(v,h) − H\[v\]} for every hidden configuration
/// `hs` (from the tabulated `t`), and its largest deviation from the RBM's hidden free energy.
fn eq21(host: &HostRbm, hs: &[Vec<f64>], t: &[Vec<f64>], hamiltonian: &[f64]) -> (f64, Vec<f64>) {
    let mut max21 = 0.0f64;
    let mut h_rg = Vec::with_capacity(hs.len());
    for (b, h) in hs.iter().enumerate() {
        let terms: Vec<f64> = (0..t.len()).map(|a| t[a][b] - hamiltonian[a]).collect();
        let rg = -log_sum_exp(&terms);
        max21 = max21.max((rg - host.hidden_free_energy(h)).abs());
        h_rg.push(rg);
    }
    (max21, h_rg)
}

/// H\[v\] = −K Σ_i v_i v_{i+1} of a periodic ring, for every configuration of `n` spins (±1),
/// indexed as [`rbm::eval::exact::state`].
pub fn ring_hamiltonian(n: usize, k: f64) -> Vec<f64> {
    (0..1u64 << n)
        .map(|index| {
            let s = state(rbm::Units::Spin, n, index);
            -k * (0..n).map(|i| s[i] * s[(i + 1) % n]).sum::<f64>()
        })
        .collect()
}
