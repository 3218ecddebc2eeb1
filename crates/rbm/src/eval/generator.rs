//! A trained RBM or DBN as a generator of configurations: block-Gibbs chains from random
//! starts, recorded at a fixed spacing after a burn-in, so that the physics of the samples
//! (energy, magnetisation, correlations) can be measured against the data's exact values.
//!
//! - [`gibbs_chains`]: one RBM, chains v → h → v on its joint distribution; the recorded
//!   visible states are samples of its visible marginal p(v) once the chains have forgotten
//!   their starts.
//! - [`dbn_chains`]: a DBN as Hinton, Osindero & Teh's generative model (2006): a long
//!   block-Gibbs chain of the top RBM, then one pass down through the lower layers'
//!   p(v | h), with conditional means or samples in the intermediate layers
//!   ([`Propagation`]) and always a sample at the bottom, so that every record is a
//!   configuration.
//!
//! - [`tempered_chains`]: one RBM by parallel tempering ([`crate::eval::tempering`]), for
//!   models whose block-Gibbs chains mix too slowly (two modes, or near a critical point);
//!   the records are the β = 1 replica's.
//!
//! Every random number comes from the [`Noise`] stream keyed by [`GibbsConfig::seed`], so a
//! set of chains is a function of the model and the configuration. Whether the chains are
//! long enough is for the caller to judge from their autocorrelation times (the records are
//! in chain order for that).

use burn::prelude::*;
use ising_data::config::{Checked, ConfigError};
use serde::{Deserialize, Serialize};

use crate::dbn::{Dbn, Propagation};
use crate::error::{RbmError, Result};
use crate::eval::tempering::{TemperingConfig, parallel_tempering_reporting};
use crate::noise::{Noise, key};
use crate::rbm::Rbm;
use crate::tensor::to_vec;
use crate::units::Units;

/// Settings of a set of block-Gibbs chains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GibbsConfig {
    /// Independent chains, run side by side as one batch.
    pub chains: usize,
    /// Sweeps (one v → h → v update each) discarded before the first record.
    pub burn_in: usize,
    /// Sweeps after the burn-in; a record is taken every `thin` of them.
    pub sweeps: usize,
    /// Sweeps between records.
    pub thin: usize,
    /// Key of the [`Noise`] stream of every random number.
    pub seed: u64,
}

impl Checked for GibbsConfig {
    /// At least one chain, `thin` ≥ 1 and one record per chain at least.
    fn check(&self) -> std::result::Result<(), ConfigError> {
        if self.chains == 0 {
            return Err(ConfigError::invalid("chains", "at least 1", 0));
        }
        if self.thin == 0 {
            return Err(ConfigError::invalid("thin", "at least 1 sweep", 0));
        }
        if self.sweeps < self.thin {
            return Err(ConfigError::invalid(
                "sweeps",
                format!("at least thin ({}) for one record per chain", self.thin),
                self.sweeps,
            ));
        }
        Ok(())
    }
}

impl GibbsConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`RbmError::Config`] naming the field: no chains, `thin` = 0, or fewer sweeps than
    /// one record needs.
    pub fn validate(&self) -> Result<()> {
        Ok(self.check()?)
    }

    /// Records per chain: ⌊sweeps / thin⌋ (0 for `thin` = 0, which `validate` refuses).
    pub fn records(&self) -> usize {
        self.sweeps.checked_div(self.thin).unwrap_or(0)
    }
}

/// Recorded configurations of a set of chains, as spins: a discrete unit at its upper value
/// (1 for Bernoulli and spin units) is +1, at its lower value −1, which is the Ising
/// encoding of both (see [`crate::eval::likelihood::encode_spin`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Chains {
    /// Number of chains.
    pub chains: usize,
    /// Records per chain.
    pub records: usize,
    /// Units per configuration.
    pub units: usize,
    /// Spins, chain-major: record r of chain c is
    /// `spins[(c · records + r) · units ..][.. units]`.
    pub spins: Vec<i8>,
}

impl Chains {
    /// The configurations of chain `c`, in the order the chain produced them.
    ///
    /// # Panics
    /// If `c` is not a chain.
    pub fn chain(&self, c: usize) -> &[i8] {
        assert!(c < self.chains, "chain {c} of {}", self.chains);
        let len = self.records * self.units;
        &self.spins[c * len..(c + 1) * len]
    }

    /// Every chain's configurations, in chain order.
    pub fn all(&self) -> Vec<&[i8]> {
        (0..self.chains).map(|c| self.chain(c)).collect()
    }

    fn new(chains: usize, records: usize, units: usize) -> Self {
        Self {
            chains,
            records,
            units,
            spins: vec![0; chains * records * units],
        }
    }

    /// Stores record `r` of every chain from the rows of `v` (one row per chain).
    fn store(&mut self, r: usize, v: &[f32], units: Units) -> Result<()> {
        let [lower, upper] = units.values().ok_or_else(|| {
            RbmError::Mismatch("a generator of configurations needs discrete units".into())
        })?;
        let middle = (0.5 * (lower + upper)) as f32;
        for (c, row) in v.chunks_exact(self.units).enumerate() {
            let start = (c * self.records + r) * self.units;
            for (s, &x) in self.spins[start..start + self.units].iter_mut().zip(row) {
                *s = if x > middle { 1 } else { -1 };
            }
        }
        Ok(())
    }
}

/// Uniformly random visible states of `rbm` (each unit at either value with probability ½;
/// σ(0) = ½), `[chains, n_visible]`.
fn random_start(rbm: &Rbm, chains: usize, noise: &mut Noise) -> Tensor<2> {
    let device = rbm.weights.val().device();
    let zeros = Tensor::<2>::zeros([chains, rbm.n_visible()], &device);
    rbm.visible_units.sample_with(zeros, noise)
}

/// Runs block-Gibbs chains of `rbm` from `start` (`[chains, n_visible]`), calling
/// `record(r, v)` with the visible states after every `thin`-th sweep past the burn-in and
/// `progress(sweeps)` as sweeps are done.
fn run_chains(
    rbm: &Rbm,
    start: Tensor<2>,
    config: &GibbsConfig,
    noise: &mut Noise,
    progress: &dyn Fn(usize),
    mut record: impl FnMut(usize, Tensor<2>) -> Result<()>,
) -> Result<()> {
    let mut v = start;
    let total = config.burn_in + config.records() * config.thin;
    for sweep in 1..=total {
        let h = rbm
            .hidden_units
            .sample_with(rbm.hidden_input(v), &mut *noise);
        v = rbm
            .visible_units
            .sample_with(rbm.visible_input(h), &mut *noise);
        if sweep > config.burn_in && (sweep - config.burn_in).is_multiple_of(config.thin) {
            record((sweep - config.burn_in) / config.thin - 1, v.clone())?;
        }
        progress(1);
    }
    Ok(())
}

/// Block-Gibbs chains of one RBM from uniformly random starts (see the module docs):
/// `config.records()` visible configurations per chain.
///
/// `progress` is called with the number of sweeps just done (for a progress bar).
///
/// # Errors
/// An invalid `config`, continuous visible units, or a device that cannot hand results back.
pub fn gibbs_chains(rbm: &Rbm, config: &GibbsConfig, progress: &dyn Fn(usize)) -> Result<Chains> {
    config.validate()?;
    let mut noise = Noise::new(config.seed);
    let start = random_start(rbm, config.chains, &mut noise);
    let mut out = Chains::new(config.chains, config.records(), rbm.n_visible());
    let units = rbm.visible_units;
    run_chains(rbm, start, config, &mut noise, progress, |r, v| {
        out.store(r, &to_vec::<f32, 2>(v)?, units)
    })?;
    Ok(out)
}

/// The DBN as a generator (see the module docs): chains of the top RBM from uniformly random
/// starts, and each record's visible state of the top RBM passed down through the lower
/// layers — conditional means in the intermediate layers for [`Propagation::Mean`], samples
/// for [`Propagation::Sample`] — to a sample of the bottom layer's visible units.
///
/// # Errors
/// As [`gibbs_chains`].
pub fn dbn_chains(
    dbn: &Dbn,
    config: &GibbsConfig,
    downward: Propagation,
    progress: &dyn Fn(usize),
) -> Result<Chains> {
    config.validate()?;
    let (top, below) = dbn.layers.split_last().expect("a DBN has a layer");
    let bottom = &dbn.layers[0];
    let mut noise = Noise::new(config.seed);
    let mut down_noise = Noise::new(key(&[config.seed, 1]));
    let start = random_start(top, config.chains, &mut noise);
    let mut out = Chains::new(config.chains, config.records(), bottom.n_visible());
    let units = bottom.visible_units;
    run_chains(top, start, config, &mut noise, progress, |r, v| {
        let mut x = v;
        for (depth, rbm) in below.iter().enumerate().rev() {
            let input = rbm.visible_input(x);
            x = match (depth, downward) {
                (0, _) | (_, Propagation::Sample) => {
                    rbm.visible_units.sample_with(input, &mut down_noise)
                }
                (_, Propagation::Mean) => rbm.visible_units.mean(input),
            };
        }
        out.store(r, &to_vec::<f32, 2>(x)?, units)
    })?;
    Ok(out)
}

/// One RBM sampled by parallel tempering over the inverse temperatures `betas` (the last 1),
/// with `config`'s chains per temperature, burn-in, sweeps, spacing and seed: the β = 1
/// replica's records, in the layout of [`gibbs_chains`] (chain c is the β = 1 slot c, whose
/// state changes walker at every accepted swap), and the swap acceptance per neighbouring
/// pair. With `base` (visible biases a₀) the replicas follow the base-rate path from the
/// independent model with biases a₀ ([`crate::eval::tempering`]); without, the ladder tempers
/// the whole energy. Calls `progress(1)` after every sweep.
///
/// # Errors
/// An invalid `config` or ladder ([`TemperingConfig::validate`]), continuous visible units,
/// a `base` of the wrong length, or a device that cannot hand results back.
pub fn tempered_chains(
    rbm: &Rbm,
    config: &GibbsConfig,
    betas: Vec<f64>,
    base: Option<Vec<f32>>,
    progress: &dyn Fn(usize),
) -> Result<(Chains, Vec<f64>)> {
    config.validate()?;
    let mut tempering = TemperingConfig::new(betas, config.chains, config.records() * config.thin)
        .with_burn_in(config.burn_in)
        .with_thin(config.thin)
        .with_seed(config.seed);
    if let Some(bias) = base {
        tempering = tempering.with_base(bias);
    }
    let run = parallel_tempering_reporting(rbm, &tempering, progress)?;
    let values = to_vec::<f32, 2>(run.samples)?;
    let mut out = Chains::new(config.chains, config.records(), rbm.n_visible());
    let block = config.chains * rbm.n_visible();
    for (r, rows) in values.chunks_exact(block).enumerate() {
        out.store(r, rows, rbm.visible_units)?;
    }
    Ok((out, run.acceptance))
}
