//! What `rg` measures on a run, as written to `rg.json` ([`RgReport`]), and its settings.

use ising_data::config::{Checked, ConfigError};
use rbm::Propagation;
use serde::{Deserialize, Serialize};

use super::assign::Assignment;
use super::coarse::{CoarseCorrelations, CouplingFit};
use super::hamiltonian::HamiltonianFit;
use super::mcrg::McrgTable;

/// Settings of an analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RgOptions {
    /// Held-out rows used (the first this many; `None`: all).
    pub rows: Option<usize>,
    /// Configurations of the Ising lattice sampled at each K_eff for its G₂.
    pub lattice_samples: usize,
    /// Key of every random stream (sampled hidden units, majority-rule ties, the lattice).
    pub seed: u64,
    /// Blocks of consecutive rows behind the errors of the effective Hamiltonian (sandwich)
    /// and of Monte Carlo RG (jackknife).
    #[serde(default = "default_error_blocks")]
    pub error_blocks: usize,
}

fn default_error_blocks() -> usize {
    20
}

impl Default for RgOptions {
    fn default() -> Self {
        Self {
            rows: None,
            lattice_samples: 8_000,
            seed: 0,
            error_blocks: default_error_blocks(),
        }
    }
}

impl Checked for RgOptions {
    /// `rows` at least 40 (errors come from 20 blocks of rows), `lattice_samples` at least 800
    /// (100 per chain of the sampler's 8).
    fn check(&self) -> std::result::Result<(), ConfigError> {
        if let Some(rows) = self.rows
            && rows < 40
        {
            return Err(ConfigError::invalid("rows", "at least 40", rows)
                .because("errors come from 20 blocks of rows"));
        }
        if !(2..=1_000).contains(&self.error_blocks) {
            return Err(ConfigError::invalid(
                "error_blocks",
                "from 2 to 1000",
                self.error_blocks,
            ));
        }
        if let Some(rows) = self.rows
            && rows < 2 * self.error_blocks
        {
            return Err(ConfigError::inconsistent(
                &["rows", "error_blocks"],
                format!(
                    "{rows} rows are too few for {} error blocks (two rows a block at least)",
                    self.error_blocks
                ),
            ));
        }
        if self.lattice_samples < 800 {
            return Err(ConfigError::invalid(
                "lattice_samples",
                "at least 800",
                self.lattice_samples,
            ));
        }
        Ok(())
    }
}

/// Median and quartiles of a set of values (NaNs left out and counted).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quartiles {
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
    /// Values summarised (finite ones).
    pub count: usize,
    /// Values left out because they were NaN (a constant unit or block).
    pub undefined: usize,
}

/// The quartiles of `values` by linear interpolation between order statistics.
pub fn quartiles(values: &[f64]) -> Quartiles {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        if v.is_empty() {
            return f64::NAN;
        }
        let pos = q * (v.len() - 1) as f64;
        let (i, f) = (pos.floor() as usize, pos.fract());
        if i + 1 < v.len() {
            v[i] * (1.0 - f) + v[i + 1] * f
        } else {
            v[i]
        }
    };
    Quartiles {
        q1: at(0.25),
        median: at(0.5),
        q3: at(0.75),
        count: v.len(),
        undefined: values.len() - v.len(),
    }
}

/// Each unit against the majority-rule block spin at its assigned site, over the held-out
/// rows: the Pearson correlation, times the unit's sign (−1 for a unit whose receptive field
/// sums to a negative number, which fires when its block points down).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitBlockCorrelation {
    /// Of the unit's conditional mean p(h = 1 | input).
    pub mean_activation: Quartiles,
    /// Of the unit's sampled value.
    pub sampled: Quartiles,
    /// Baseline: the conditional mean against the block one block-length to the right of its
    /// site.
    pub baseline_mean_activation: Quartiles,
    /// Baseline of the sampled value.
    pub baseline_sampled: Quartiles,
    /// Units counted with their sign flipped.
    pub flipped_units: usize,
}

/// Coarse spins on an m×m lattice: their correlations, K_eff, and the Ising lattice's own
/// correlations at K_eff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoarseSpins {
    /// G₁, G₂ and ⟨|m|⟩ of the coarse configurations.
    pub correlations: CoarseCorrelations,
    /// K_eff matched to G₁ (with its one-σ interval).
    pub coupling: CouplingFit,
    /// K_eff matched to the connected G₁ instead: the coupling without the contribution of
    /// the spins' mean values (which biased hidden units give their coarse spins).
    pub coupling_connected: CouplingFit,
    /// The periodic m×m Ising lattice at the connected K_eff (sampled): its G₂ is what
    /// nearest-neighbour Ising would have beside the coarse spins' connected G₂. `None` without
    /// a connected K_eff, and on a coarse lattice smaller than 3×3 (whose periodic neighbours
    /// coincide).
    pub ising_at_k_eff: Option<CoarseCorrelations>,
    /// The effective Hamiltonian (h, K₁ … K₄) of the coarse spins by maximum
    /// pseudo-likelihood ([`super::hamiltonian`]).
    #[serde(default)]
    pub hamiltonian: Outcome<HamiltonianFit>,
}

/// A measurement that may not apply or may fail on given data, with the reason.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome<T> {
    /// The measurement.
    Measured(T),
    /// Why there is none (e.g. a coarse lattice too small, configurations too ordered).
    Failed(String),
    /// Not measured: a report written before the measurement existed.
    #[default]
    NotMeasured,
}

impl<T> From<anyhow::Result<T>> for Outcome<T> {
    fn from(r: anyhow::Result<T>) -> Self {
        match r {
            Ok(v) => Self::Measured(v),
            Err(e) => Self::Failed(format!("{e:#}")),
        }
    }
}

impl<T> Outcome<T> {
    /// The measurement, if there is one.
    pub fn measured(&self) -> Option<&T> {
        match self {
            Self::Measured(v) => Some(v),
            _ => None,
        }
    }
}

/// Monte Carlo RG of one layer's map: T from the coarse spins of the level below (the data for
/// layer 1) to this layer's, for the stack and for majority rule on the same data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerMcrg {
    /// The stack: the layer below's sampled units (or the data) to this layer's sampled units,
    /// each through its assignment and signs.
    pub stack: Outcome<McrgTable>,
    /// Majority rule applied level by level (block side m_{l−1}/m_l on the level below's
    /// majority-rule spins, the data for layer 1), as MCRG blocks.
    pub majority_rule: Outcome<McrgTable>,
}

/// The analysis of one hidden layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerRg {
    /// 1-based layer.
    pub layer: usize,
    /// Hidden units n_l.
    pub units: usize,
    /// The assignment of units to the coarse lattice (block side, centres, displacements).
    pub assignment: Assignment,
    /// Each unit against its block spin.
    pub unit_block: UnitBlockCorrelation,
    /// The layer's sampled units as coarse spins (through the assignment and signs).
    pub rbm: CoarseSpins,
    /// Majority-rule block spins of the same data at the same block side.
    pub majority_rule: CoarseSpins,
    /// Monte Carlo RG of this layer's map beside majority rule's.
    #[serde(default)]
    pub mcrg: Option<LayerMcrg>,
}

/// Everything `rg` measures on a run (`rg.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RgReport {
    /// Side L of the data's lattice.
    pub lattice_size: usize,
    /// The data's coupling K.
    pub coupling: f64,
    /// How the stack passed data up between layers during training (and here).
    pub propagation: Propagation,
    /// Held-out rows measured.
    pub rows: usize,
    /// The data themselves on the L×L lattice (K_eff here should be K: a check).
    pub data: CoarseSpins,
    /// One entry per hidden layer.
    pub layers: Vec<LayerRg>,
    /// The settings.
    pub options: RgOptions,
    /// Wall time of the analysis, seconds.
    pub seconds: f64,
}
