//! The configuration of a pretraining run: the data, the stack and its training, read from
//! JSON that refuses unknown keys ([`ising_data::config`]: checked into a
//! [`Valid`](ising_data::config::Valid) configuration), and the comparison of two configurations.

use std::path::Path;

use anyhow::{Context, Result};
use burn::prelude::*;
use ising_data::Lattice;
use ising_data::config::{self, Checked, ConfigError, Contains};
use rbm::{Propagation, TrainingConfig, Units};

/// The data of a pretraining run.
#[derive(Config, Debug)]
pub struct DataConfig {
    /// Linear size L of the periodic lattice.
    #[config(default = 40)]
    pub size: usize,
    /// Coupling K.
    #[config(default = 0.408)]
    pub coupling: f64,
    /// Number of Monte Carlo samples.
    #[config(default = 40_000)]
    pub samples: usize,
    /// Monte Carlo seed.
    #[config(default = 7)]
    pub seed: u64,
    /// Fraction held out for validation.
    #[config(default = 0.1)]
    pub valid_fraction: f64,
}

/// A greedy layer-wise pretraining run (the Fig. 3 pipeline).
#[derive(Config, Debug)]
pub struct PretrainConfig {
    /// The data.
    pub data: DataConfig,
    /// Layer widths, visible first (L² first).
    pub layers: Vec<usize>,
    /// Unit type of every layer (Bernoulli, as in the code the paper descends from).
    #[config(default = "Units::Bernoulli")]
    pub units: Units,
    /// Standard deviation of the initial weights.
    #[config(default = 0.01)]
    pub init_std: f64,
    /// Start each layer's visible biases at the data's log-odds.
    #[config(default = true)]
    pub visible_bias_from_data: bool,
    /// How a trained layer's activities become the next layer's data.
    #[config(default = "Propagation::Mean")]
    pub propagation: Propagation,
    /// Training of every layer.
    pub training: TrainingConfig,
    /// Held-out rows whose statistics are computed and logged after each epoch: a window
    /// that moves on through the held-out set by this many rows per epoch (cyclically), so
    /// every row is seen every ⌈held-out rows / this⌉ epochs; `None` (the default): all of
    /// them every epoch. Training, and the end-of-layer and end-of-run measures on the whole
    /// held-out set, do not depend on it.
    #[config(default = "None")]
    pub held_out_rows_per_epoch: Option<usize>,
}

impl PretrainConfig {
    /// The data's own fields: the lattice, coupling, held-out fraction and samples (and
    /// their rows in memory).
    fn check_data(&self) -> std::result::Result<(), ConfigError> {
        let d = &self.data;
        Lattice::Square { l: d.size }
            .check()
            .map_err(|e| e.renamed(|_| "size".into()))?;
        if !(d.coupling.is_finite() && d.coupling >= 0.0) {
            return Err(ConfigError::invalid("coupling", "≥ 0", d.coupling));
        }
        if !(0.0..0.9).contains(&d.valid_fraction) {
            return Err(ConfigError::invalid(
                "valid_fraction",
                "in [0, 0.9)",
                d.valid_fraction,
            ));
        }
        if d.samples < 10 {
            return Err(ConfigError::invalid("samples", "at least 10", d.samples));
        }
        // The samples (one byte a spin) and their rows for training (four bytes a spin).
        let sites = (d.size as u128) * (d.size as u128);
        ising_data::memory::check_fits(
            &format!(
                "data.samples = {} of the {}×{} lattice (5 bytes a spin: the samples and their training rows)",
                d.samples, d.size, d.size
            ),
            (d.samples as u128).checked_mul(sites * 5),
        )?;
        Ok(())
    }

    /// The stack's fields: the initial weights, the layers and their units.
    fn check_stack(&self) -> std::result::Result<(), ConfigError> {
        let d = &self.data;
        if !(self.init_std.is_finite() && (0.0..=MAX_INIT_STD).contains(&self.init_std)) {
            return Err(ConfigError::invalid(
                "init_std",
                format!("between 0 and {MAX_INIT_STD}"),
                self.init_std,
            )
            .because("larger initial weights saturate every unit, and the likelihood estimates lose their meaning"));
        }
        if self.layers.len() < 2 || self.layers.contains(&0) {
            return Err(ConfigError::invalid(
                "layers",
                "at least two non-zero widths",
                format!("{:?}", self.layers),
            ));
        }
        if self.layers[0] != d.size * d.size {
            return Err(ConfigError::inconsistent(
                &["layers", "data.size"],
                format!(
                    "the first layer must have L² = {} units for L = {}, got {}",
                    d.size * d.size,
                    d.size,
                    self.layers[0]
                ),
            ));
        }
        if self.units == Units::Gaussian {
            return Err(
                ConfigError::invalid("units", "bernoulli or spin", "gaussian")
                    .because("layers are stacked, so each is visible once"),
            );
        }
        if self.held_out_rows_per_epoch == Some(0) {
            return Err(ConfigError::invalid(
                "held_out_rows_per_epoch",
                "at least 1 (or null for all held-out rows)",
                0,
            ));
        }
        Ok(())
    }

    /// The split: enough held-out rows, and a full batch of training rows.
    fn check_split(&self) -> std::result::Result<(), ConfigError> {
        let d = &self.data;
        let (n_train, n_valid) = self.split_sizes();
        if n_valid < MIN_VALID_ROWS {
            return Err(ConfigError::inconsistent(
                &["data.valid_fraction", "data.samples"],
                format!(
                    "data.valid_fraction = {} of data.samples = {} holds out {n_valid} rows; a run needs at least {MIN_VALID_ROWS} held-out rows (for the held-out metrics and the reconstructions of Fig. 3e): raise data.samples or data.valid_fraction",
                    d.valid_fraction, d.samples
                ),
            ));
        }
        if n_train < self.training.batch_size {
            return Err(ConfigError::inconsistent(
                &["data.samples", "training.batch_size"],
                format!(
                    "data.samples = {} leaves {n_train} training rows, fewer than training.batch_size = {}: there would be no full batch per epoch, and the layers would barely move from their initial weights; raise data.samples (--samples) or lower training.batch_size",
                    d.samples, self.training.batch_size
                ),
            ));
        }
        Ok(())
    }

    /// Refuses a stack whose training could not fit in memory, before any allocation: per
    /// layer its parameters with their gradients, optimiser state and copies (eight times four
    /// bytes a weight), the rows it hands to the next layer, the persistent chains and the
    /// random numbers of one step (k Gibbs steps of a batch).
    fn check_model_memory(&self) -> std::result::Result<(), ConfigError> {
        let tc = &self.training;
        let mut bytes: u128 = 0;
        for pair in self.layers.windows(2) {
            let (nv, nh) = (pair[0] as u128, pair[1] as u128);
            let units = nv + nh;
            let replicas = tc.cd.tempering.as_ref().map_or(1, |pt| pt.replicas as u128);
            let chains = if tc.cd.persistent || tc.cd.restart.is_some() {
                (tc.cd.chains as u128).saturating_mul(replicas)
            } else {
                0
            };
            let noise = (tc.cd.k as u128)
                .saturating_mul(tc.batch_size as u128)
                .saturating_mul(units);
            bytes = bytes
                .saturating_add(nv.saturating_mul(nh).saturating_mul(32))
                .saturating_add(
                    (self.data.samples as u128)
                        .saturating_mul(nh)
                        .saturating_mul(4),
                )
                .saturating_add(chains.saturating_mul(units).saturating_mul(4))
                .saturating_add(noise.saturating_mul(8));
        }
        let what = format!(
            "the stack {:?} (cd.k = {}, training.batch_size = {}, cd.chains = {}, data.samples = {})",
            self.layers, tc.cd.k, tc.batch_size, tc.cd.chains, self.data.samples
        );
        ising_data::memory::check_fits(&what, (bytes < u128::MAX).then_some(bytes))?;
        Ok(())
    }

    /// The numbers of training and held-out rows ([`ising_data::IsingDataset::split`]).
    pub fn split_sizes(&self) -> (usize, usize) {
        let d = &self.data;
        let n_valid = ((d.valid_fraction * d.samples as f64).round() as usize).min(d.samples);
        (d.samples - n_valid, n_valid)
    }

    /// Parses a configuration from JSON text, refusing keys it does not know (naming the
    /// nearest valid one). It is not [checked](Checked::check) here, since
    /// callers apply overrides first.
    ///
    /// # Errors
    /// Naming the key or field at fault.
    pub fn from_json(text: &str) -> Result<Self> {
        // Every key a configuration can have: the paper's, written back (optional settings
        // as null), with the optional sections it leaves unset filled in.
        let paper: Self = config::from_json(include_str!("../../configs/paper.json"), None)?;
        let mut reference = serde_json::to_value(paper)?;
        let ladder = rbm::PtConfig {
            replicas: 2,
            beta_min: 0.5,
        };
        reference["training"]["cd"]["tempering"] = serde_json::to_value(ladder)?;
        Ok(config::from_json(text, Some(&reference))?)
    }

    /// Reads a configuration file ([`PretrainConfig::from_json`]).
    ///
    /// # Errors
    /// Naming the file and the fault.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_json(&text).with_context(|| format!("{}", path.display()))
    }
}

impl Checked for PretrainConfig {
    /// The data (under `data`), the stack, the training of every layer (under `training`),
    /// the split and the memory the run needs.
    fn check(&self) -> std::result::Result<(), ConfigError> {
        self.training.check().map_err(|e| e.within("training"))?;
        self.check_data().map_err(|e| e.within("data"))?;
        self.check_model_memory()?;
        self.check_stack()?;
        self.check_split()
    }
}

impl Contains<TrainingConfig> for PretrainConfig {
    /// Every layer's training, checked under `training`.
    fn part(&self) -> &TrainingConfig {
        &self.training
    }
}

/// The fewest held-out rows a run accepts: the reconstructions of Fig. 3e show three.
pub const MIN_VALID_ROWS: usize = 3;

/// The largest `init_std` accepted: the standard deviation of the initial weights, beyond
/// which every unit starts saturated.
pub const MAX_INIT_STD: f64 = 1.0;

/// The paths at which two JSON values differ (e.g. `training.epochs (10 vs 20)`).
pub fn json_differences(path: &str, a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    let sub = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match (x.get(k), y.get(k)) {
                        (Some(u), Some(v)) => json_differences(&sub, u, v),
                        _ => vec![sub],
                    }
                })
                .collect()
        }
        _ if a == b => Vec::new(),
        _ => vec![format!(
            "{} ({} vs {})",
            if path.is_empty() { "the config" } else { path },
            a,
            b
        )],
    }
}
