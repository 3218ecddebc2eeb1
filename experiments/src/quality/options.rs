//! The settings of a `quality` analysis ([`QualityOptions`]) and their checks.

use anyhow::Result;
use ising_data::config::{Checked, ConfigError};
use rbm::Propagation;
use rbm::eval::generator::GibbsConfig;
use rbm::eval::tempering::check_ladder;
use serde::{Deserialize, Serialize};

use crate::streams::Stream;

/// Settings of the analysis (the defaults fit the paper preset into a few minutes on two
/// cores: parallel tempering of 40 replicas along the base-rate path from β = 0.2, which
/// equilibrates the paper preset's bimodal first RBM, where a ladder tempering the whole
/// energy did not).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QualityOptions {
    /// The AIS ladder, `(end, steps)` segments from β = 0 (see
    /// [`AisConfig`](rbm::eval::ais::AisConfig)).
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
    /// The Gibbs settings of the set of chains `chains` ([`Stream::QualityGibbs`]: 1 the first
    /// RBM's, 2 the DBN's, 100 + i layer index i's own), seeded from the analysis' seed.
    pub fn gibbs_of(&self, chains: u64) -> GibbsConfig {
        GibbsConfig {
            seed: Stream::QualityGibbs {
                gibbs_seed: self.gibbs.seed,
                chains,
            }
            .key(self.seed),
            ..self.gibbs.clone()
        }
    }
}

impl Checked for QualityOptions {
    /// AIS with an error bar from records the generators hold, a ladder rising to 1 in
    /// segments with steps, the generators' own checks (under `gibbs`) and a tempering ladder.
    fn check(&self) -> std::result::Result<(), ConfigError> {
        if self.ais_repetitions < 2 {
            return Err(ConfigError::invalid(
                "ais_repetitions",
                "at least 2 for an error bar",
                self.ais_repetitions,
            ));
        }
        if self.ais_runs == 0 {
            return Err(ConfigError::invalid("ais_runs", "at least 1", 0));
        }
        self.gibbs.check().map_err(|e| e.within("gibbs"))?;
        let records = self.gibbs.chains * self.gibbs.records();
        if self.ais_runs * self.ais_repetitions > records {
            return Err(ConfigError::inconsistent(
                &["ais_runs", "ais_repetitions", "gibbs.chains"],
                format!(
                    "reverse AIS starts from the generators' records: {records} records ({} chains × {}) are fewer than {} runs × {} repetitions",
                    self.gibbs.chains,
                    self.gibbs.records(),
                    self.ais_runs,
                    self.ais_repetitions
                ),
            ));
        }
        let ok = self.ladder.last().is_some_and(|s| s.0 == 1.0)
            && self.ladder.windows(2).all(|w| w[0].0 < w[1].0)
            && self.ladder.iter().all(|s| s.0 > 0.0 && s.1 > 0);
        if !ok {
            return Err(ConfigError::invalid(
                "ladder",
                "rising to 1 in segments with steps",
                format!("{:?}", self.ladder),
            ));
        }
        if self.replicas == 0 {
            return Err(ConfigError::invalid(
                "replicas",
                "at least 1 (1 is plain block Gibbs)",
                0,
            ));
        }
        if self.replicas > 1 {
            check_ladder(self.beta_min, self.replicas)?;
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
