//! The settings of the flow ([`IsyOptions`]) and the temperatures of the paper.

use ising_data::Lattice;
use ising_data::config::{Checked, ConfigError};
use ising_data::generate::GenerateConfig;
use rbm::Propagation;
use serde::{Deserialize, Serialize};

use crate::streams::Stream;

/// The exact critical temperature of the square-lattice Ising model, T_c = 2/ln(1 + √2)
/// (Onsager), in units of J.
pub fn critical_temperature() -> f64 {
    2.0 / (1.0 + 2f64.sqrt()).ln()
}

/// The largest coupling the temperature readout resolves: configurations colder than the
/// exact energy at K = 10 read as T_fit = 0 (see [`temperature_fit`](super::temperature_fit)).
pub const MAX_FIT_COUPLING: f64 = 10.0;

/// The temperatures of Iso et al., T = 0.25, 0.5, …, 6.
pub fn paper_temperatures() -> Vec<f64> {
    (1..=24).map(|i| 0.25 * f64::from(i)).collect()
}

/// Settings of the reproduction; the defaults are Iso et al.'s setup with the epochs cut to
/// fit a few minutes on two CPU cores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IsyOptions {
    /// The linear size L of the periodic L×L lattice (10).
    pub size: usize,
    /// The Monte Carlo temperatures T = 1/K (J = 1).
    pub temperatures: Vec<f64>,
    /// Configurations per temperature, and ground-state rows (T ≈ 0) per model.
    pub samples_per_temperature: usize,
    /// Wolff burn-in of each chain, in sweep-equivalents.
    pub burn_in_sweeps: usize,
    /// Sweep-equivalents between stored configurations.
    pub spacing_sweeps: usize,
    /// Independent Wolff chains per temperature.
    pub chains: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Standard deviation of the initial weights.
    pub init_std: f64,
    /// Passes over the training rows.
    pub epochs: usize,
    /// SGD learning rate.
    pub learning_rate: f64,
    /// SGD momentum (0: plain SGD).
    pub momentum: f64,
    /// Mini-batch size.
    pub batch_size: usize,
    /// The control model is trained on the temperatures T ≤ this (and T ≈ 0) only.
    pub control_max_t: f64,
    /// Iterations of the flow.
    pub iterations: usize,
    /// Independent chains per start of the flow.
    pub starts: usize,
    /// What the flow passes from the visible to the hidden layer: a sample h ~ p(h|v)
    /// (`sample`) or the probabilities E[h|v] (`mean`); the visible layer is always sampled,
    /// so every flowed configuration is a spin configuration.
    pub flow_hidden: Propagation,
    /// Seed of every random number (data, initial weights, data order, Gibbs sampling, flow).
    pub seed: u64,
}

impl Default for IsyOptions {
    fn default() -> Self {
        Self {
            size: 10,
            temperatures: paper_temperatures(),
            samples_per_temperature: 1_000,
            burn_in_sweeps: 1_000,
            spacing_sweeps: 10,
            chains: 8,
            hidden: 100,
            init_std: 0.01,
            epochs: 1_000,
            learning_rate: 0.01,
            momentum: 0.0,
            batch_size: 100,
            control_max_t: 1.5,
            iterations: 40,
            starts: 1_000,
            flow_hidden: Propagation::Sample,
            seed: 1,
        }
    }
}

impl IsyOptions {
    /// The Monte Carlo configuration of temperature `t` (index `i` in the list).
    pub fn generate_config(&self, i: usize, t: f64) -> GenerateConfig {
        let mut config = GenerateConfig::new(
            Lattice::Square { l: self.size },
            1.0 / t,
            self.samples_per_temperature,
            Stream::IsyData { temperature: i }.key(self.seed),
        );
        config.burn_in_sweeps = self.burn_in_sweeps;
        config.spacing_sweeps = self.spacing_sweeps;
        config.chains = self.chains;
        config
    }

    /// The temperatures of the control model.
    pub fn control_temperatures(&self) -> Vec<f64> {
        self.temperatures
            .iter()
            .copied()
            .filter(|&t| t <= self.control_max_t)
            .collect()
    }

    /// The counts: at least one of each, two flow chains, one sample per Monte Carlo chain,
    /// and a model that fits in memory.
    fn check_counts(&self) -> std::result::Result<(), ConfigError> {
        let positive = [
            ("samples_per_temperature", self.samples_per_temperature),
            ("hidden", self.hidden),
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
            ("iterations", self.iterations),
            ("starts", self.starts),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(ConfigError::invalid(field, "at least 1", 0));
            }
        }
        if self.starts < 2 {
            return Err(ConfigError::invalid(
                "starts",
                "at least 2 for an error bar",
                1,
            ));
        }
        let units = (self.size as u128).pow(2);
        let model = units
            .saturating_mul(self.hidden as u128)
            .saturating_mul(32)
            .saturating_add(
                (self.batch_size as u128)
                    .saturating_add(self.starts as u128)
                    .saturating_mul(units.saturating_add(self.hidden as u128))
                    .saturating_mul(16),
            );
        ising_data::memory::check_fits(
            &format!(
                "an RBM of {units} visible and {} hidden units (--hidden) with batches of {} and {} flow chains",
                self.hidden, self.batch_size, self.starts
            ),
            (model < u128::MAX).then_some(model),
        )?;
        if self.samples_per_temperature < self.chains {
            return Err(ConfigError::invalid(
                "samples_per_temperature",
                format!(
                    "at least {} (one sample per independent Monte Carlo chain at each temperature)",
                    self.chains
                ),
                self.samples_per_temperature,
            ));
        }
        Ok(())
    }

    /// The lattice, the temperatures and the control model's share of them.
    fn check_temperatures(&self) -> std::result::Result<(), ConfigError> {
        if self.size < 2 {
            return Err(ConfigError::invalid("size", "at least 2", self.size));
        }
        if self.temperatures.is_empty() {
            return Err(ConfigError::invalid(
                "temperatures",
                "at least one temperature",
                "none",
            ));
        }
        if let Some(t) = self
            .temperatures
            .iter()
            .find(|t| !(t.is_finite() && **t > 0.0))
        {
            return Err(ConfigError::invalid("temperatures", "finite and > 0", t));
        }
        let control = self.control_temperatures().len();
        if !self.control_max_t.is_finite() || control == 0 || control == self.temperatures.len() {
            return Err(ConfigError::invalid(
                "control_max_t",
                format!(
                    "a temperature that keeps some of the temperatures {:?} and drops others",
                    self.temperatures
                ),
                self.control_max_t,
            ));
        }
        Ok(())
    }
}

impl Checked for IsyOptions {
    /// The counts, the temperatures, the training's rates and the Monte Carlo data of every
    /// temperature.
    fn check(&self) -> std::result::Result<(), ConfigError> {
        self.check_counts()?;
        self.check_temperatures()?;
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate <= 1.0)
        {
            return Err(ConfigError::invalid(
                "learning_rate",
                "above 0 and at most 1",
                self.learning_rate,
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(ConfigError::invalid("momentum", "in [0, 1)", self.momentum));
        }
        if !(self.init_std.is_finite() && self.init_std >= 0.0) {
            return Err(ConfigError::invalid("init_std", "≥ 0", self.init_std));
        }
        for (i, &t) in self.temperatures.iter().enumerate() {
            self.generate_config(i, t).check().map_err(|e| match e {
                ConfigError::Invalid { .. } | ConfigError::Inconsistent { .. } => {
                    ConfigError::inconsistent(
                        &["temperatures"],
                        format!("the Monte Carlo data at T = {t}: {e}"),
                    )
                }
                other => other,
            })?;
        }
        Ok(())
    }
}
