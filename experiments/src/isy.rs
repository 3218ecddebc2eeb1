//! The "RBM flow" of Iso, Shiba & Yokoo (Phys. Rev. E 97, 053304, 2018; arXiv:1801.07172),
//! reproduced quantitatively (the `isy_flow` binary).
//!
//! Their setup: configurations of the periodic 10×10 Ising model at T = 0.25, 0.5, …, 6
//! (J = 1, K = 1/T) and at T ≈ 0 train one RBM with 100 visible and 100 hidden Bernoulli
//! units by CD-1. The trained RBM then defines a map on configurations,
//! v → h ~ p(h|v) → v' ~ p(v|h), and iterating it from a cold (all up) and a hot (uniformly
//! random) start gives a flow of configurations whose "temperature" they report to approach
//! T_c = 2/ln(1+√2) ≈ 2.269 from both sides; an RBM trained on low temperatures only does not.
//!
//! Here the temperature of a set of flowed configurations is read from their mean energy per
//! spin alone ([`temperature_fit`]): T_fit is the temperature at which the exact mean energy of
//! the periodic 10×10 lattice (Kaufman 1949, [`coupling_at_energy_2d`]) equals theirs. Iso et
//! al. measured it instead with a separately trained neural-network classifier of
//! temperatures; the two readouts agree on equilibrium samples (the data's own readout is in
//! the report, [`DataReadout`]) but need not agree on configurations that are not
//! equilibrium samples of any temperature.
//!
//! Conventions, stated once:
//! - Visible units are {0, 1} with spin up = 1 ([`SpinEncoding::ZeroOne`]).
//! - T ≈ 0 is the pair of ground states: half the rows all up, half all down, as the Wolff
//!   data at low temperature holds both signs equally ([`ground_state_rows`]).
//! - Every flow has `starts` independent chains; the statistics at one iteration are over
//!   those chains, which are independent, so their standard errors are plain ones (σ/√n).
//! - T_fit's error is the energy's propagated linearly: dT/du = c(T), the exact specific heat
//!   per spin at T_fit, so σ_T = σ_u / c and σ_K = K² σ_T.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::streams::Stream;
use anyhow::{Context, Result, bail};
use burn::data::dataloader::DataLoader;
use burn::data::dataset::Dataset;
use burn::prelude::*;
use burn::train::TrainStep;
use ising_data::exact::{coupling_at_energy_2d, kaufman_energy_per_spin, kaufman_thermo};
use ising_data::generate::{GenerateConfig, generate};
use ising_data::lattice::magnetization_sum;
use ising_data::{Estimate, Lattice, RowsDataset, SpinEncoding};
use rbm::tensor::to_vec;
use rbm::{CdConfig, Noise, Propagation, Rbm, RbmConfig, TrainingConfig, Units};
use serde::{Deserialize, Serialize};

use crate::training::EpochLoader;

/// The exact critical temperature of the square-lattice Ising model, T_c = 2/ln(1 + √2)
/// (Onsager), in units of J.
pub fn critical_temperature() -> f64 {
    2.0 / (1.0 + 2f64.sqrt()).ln()
}

/// The largest coupling the temperature readout resolves: configurations colder than the
/// exact energy at K = 10 read as T_fit = 0 (see [`temperature_fit`]).
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

    /// Checks the settings; each message names the flag of `isy_flow` at fault.
    ///
    /// # Errors
    /// Naming the offending setting.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("--samples", self.samples_per_temperature),
            ("--hidden", self.hidden),
            ("--epochs", self.epochs),
            ("--batch-size", self.batch_size),
            ("--iterations", self.iterations),
            ("--starts", self.starts),
        ];
        for (flag, value) in positive {
            if value == 0 {
                bail!("{flag} must be at least 1, got 0");
            }
        }
        if self.starts < 2 {
            bail!("--starts must be at least 2 for an error bar, got 1");
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
            bail!(
                "--samples must be at least {} (one sample per independent Monte Carlo chain at each temperature), got {}",
                self.chains,
                self.samples_per_temperature
            );
        }
        if self.size < 2 {
            bail!("the lattice size must be at least 2, got {}", self.size);
        }
        if self.temperatures.is_empty() {
            bail!("--temperatures must name at least one temperature");
        }
        if let Some(t) = self
            .temperatures
            .iter()
            .find(|t| !(t.is_finite() && **t > 0.0))
        {
            bail!("--temperatures must be finite and > 0, got {t}");
        }
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate <= 1.0)
        {
            bail!(
                "--learning-rate must be above 0 and at most 1, got {}",
                self.learning_rate
            );
        }
        if !(0.0..1.0).contains(&self.momentum) {
            bail!("--momentum must be in [0, 1), got {}", self.momentum);
        }
        if !(self.init_std.is_finite() && self.init_std >= 0.0) {
            bail!(
                "the initial weights' std must be ≥ 0, got {}",
                self.init_std
            );
        }
        let control = self.control_temperatures().len();
        if !self.control_max_t.is_finite() || control == 0 || control == self.temperatures.len() {
            bail!(
                "--control-max-t {} must keep some of the temperatures {:?} and drop others",
                self.control_max_t,
                self.temperatures
            );
        }
        for (i, &t) in self.temperatures.iter().enumerate() {
            self.generate_config(i, t)
                .validate()
                .with_context(|| format!("the Monte Carlo data at T = {t}"))?;
        }
        Ok(())
    }
}

/// A set of configurations measured: energy, magnetisation and the temperature read from
/// the energy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Readout {
    /// Configurations measured.
    pub configurations: usize,
    /// Mean energy per spin E/N = −Σ_⟨ij⟩ s_i s_j / N, with its standard error.
    pub energy_per_spin: Estimate,
    /// Standard deviation of E/N over the configurations.
    pub energy_std: f64,
    /// The same standard deviation in the canonical ensemble of the L×L torus at T_fit,
    /// T √(c/N) (exact): the spread a set of equilibrium samples at one temperature has.
    /// Much larger measured spreads mean a mixture of temperatures. `null` without a finite,
    /// nonzero T_fit.
    pub canonical_energy_std: Option<f64>,
    /// Mean |m|, m = Σ s_i / N.
    pub abs_magnetization: Estimate,
    /// Mean m.
    pub magnetization: Estimate,
    /// The fitted coupling and temperature ([`temperature_fit`]).
    #[serde(flatten)]
    pub fit: TemperatureFit,
}

/// The temperature of a set of configurations read from their mean energy per spin u
/// ([`temperature_fit`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TemperatureFit {
    /// K_fit, the coupling at which the exact mean energy per spin of the L×L torus is u;
    /// `null` when there is none in (0, [`MAX_FIT_COUPLING`]]: u ≥ 0 (as hot as T = ∞ or
    /// hotter) or u below the energy at K = 10 (colder than that: K_fit = ∞).
    pub coupling_fit: Option<Estimate>,
    /// T_fit = 1/K_fit; exactly 0 (error 0) when u is below the energy at K = 10, which for
    /// L = 10 means every configuration is fully aligned; `null` when u ≥ 0 (T_fit = ∞).
    pub temperature_fit: Option<Estimate>,
}

/// The temperature whose exact mean energy per spin on the periodic L×L lattice equals
/// `energy` (Kaufman's finite-lattice energy, [`coupling_at_energy_2d`]), with the error
/// propagated linearly from the energy's: σ_T = σ_u / c(T_fit), c the exact specific heat per
/// spin, and σ_K = K_fit² σ_T. See [`TemperatureFit`] for the cases without a finite fit.
///
/// # Panics
/// If `l < 2`.
pub fn temperature_fit(l: usize, energy: Estimate) -> TemperatureFit {
    let none = TemperatureFit {
        coupling_fit: None,
        temperature_fit: None,
    };
    let u = energy.mean;
    if !u.is_finite() || u >= 0.0 {
        return none;
    }
    match coupling_at_energy_2d(l, l, u) {
        Some(k) => {
            let c = kaufman_thermo(l, l, k).specific_heat_per_spin;
            let error_t = energy.error / c;
            TemperatureFit {
                coupling_fit: Some(Estimate {
                    mean: k,
                    error: k * k * error_t,
                }),
                temperature_fit: Some(Estimate {
                    mean: 1.0 / k,
                    error: error_t,
                }),
            }
        }
        None if u < kaufman_energy_per_spin(l, l, MAX_FIT_COUPLING) => TemperatureFit {
            coupling_fit: None,
            temperature_fit: Some(Estimate {
                mean: 0.0,
                error: 0.0,
            }),
        },
        // Between the energy at K = 10⁻⁹ and 0: hot beyond resolution.
        None => none,
    }
}

/// Mean and standard error (σ/√n, the values independent) of `values`.
fn mean_and_error(values: &[f64]) -> (Estimate, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 {
        values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (
        Estimate {
            mean,
            error: (var / n).sqrt(),
        },
        var.sqrt(),
    )
}

/// Measures the ±1 configurations `spins` (rows of L² spins, row-major) of the periodic L×L
/// lattice, taken as independent.
///
/// # Panics
/// If `spins` is empty or not a whole number of L² rows, or `l < 2`.
pub fn measure(l: usize, spins: &[i8]) -> Readout {
    let lattice = Lattice::Square { l };
    let n = lattice.n_sites();
    assert!(
        !spins.is_empty() && spins.len().is_multiple_of(n),
        "configurations of the wrong size"
    );
    let rows = spins.chunks_exact(n);
    let energies: Vec<f64> = rows
        .clone()
        .map(|s| -(lattice.bond_sum(s) as f64) / n as f64)
        .collect();
    let m: Vec<f64> = rows
        .map(|s| magnetization_sum(s) as f64 / n as f64)
        .collect();
    let abs_m: Vec<f64> = m.iter().map(|x| x.abs()).collect();
    let (energy_per_spin, energy_std) = mean_and_error(&energies);
    let fit = temperature_fit(l, energy_per_spin);
    let canonical_energy_std = fit.coupling_fit.map(|k| {
        let c = kaufman_thermo(l, l, k.mean).specific_heat_per_spin;
        (c / n as f64).sqrt() / k.mean
    });
    Readout {
        configurations: energies.len(),
        energy_per_spin,
        energy_std,
        canonical_energy_std,
        abs_magnetization: mean_and_error(&abs_m).0,
        magnetization: mean_and_error(&m).0,
        fit,
    }
}

/// ±1 spins from {0, 1} visible values (up where v > ½).
pub fn spins_from_bernoulli(v: &[f32]) -> Vec<i8> {
    v.iter().map(|&x| if x > 0.5 { 1 } else { -1 }).collect()
}

/// `rows` rows of the two ground states in the {0, 1} encoding: the first ⌈rows/2⌉ all up
/// (1), the rest all down (0).
pub fn ground_state_rows(rows: usize, n: usize) -> Vec<f32> {
    let up = rows.div_ceil(2);
    (0..rows)
        .flat_map(|r| std::iter::repeat_n(if r < up { 1.0 } else { 0.0 }, n))
        .collect()
}

/// One step of the RBM flow: h from p(h | v) (a sample, or its mean E[h|v] with
/// [`Propagation::Mean`]), then v' ~ p(v | h), drawing from `noise`. `[starts, n_v]` in and
/// out; the output is always a sample of the visible units.
pub fn flow_step(rbm: &Rbm, v: Tensor<2>, hidden: Propagation, noise: &mut Noise) -> Tensor<2> {
    let x = rbm.hidden_input(v);
    let h = match hidden {
        Propagation::Sample => rbm.hidden_units.sample_with(x, noise),
        Propagation::Mean => rbm.hidden_units.mean(x),
    };
    rbm.visible_units.sample_with(rbm.visible_input(h), noise)
}

/// One point of a flow: the configurations after `iteration` steps, measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlowPoint {
    /// Steps of the flow taken (0: the start).
    pub iteration: usize,
    /// The measurement.
    #[serde(flatten)]
    pub readout: Readout,
}

/// The RBM flow of the {0, 1} configurations `start` (`[starts, L²]`) of the L×L lattice:
/// `iterations` steps of [`flow_step`], the configurations measured at the start and after
/// every step.
///
/// # Errors
/// If the device cannot hand the configurations back.
///
/// # Panics
/// If `start` is not `[starts, L²]` with L² the RBM's visible width.
pub fn rbm_flow(
    rbm: &Rbm,
    start: Tensor<2>,
    l: usize,
    iterations: usize,
    hidden: Propagation,
    noise: &mut Noise,
) -> Result<Vec<FlowPoint>> {
    assert_eq!(start.dims()[1], l * l, "start of the wrong width");
    assert_eq!(rbm.n_visible(), l * l, "RBM of the wrong width");
    let read = |v: &Tensor<2>, iteration: usize| -> Result<FlowPoint> {
        let values = to_vec::<f32, 2>(v.clone())?;
        Ok(FlowPoint {
            iteration,
            readout: measure(l, &spins_from_bernoulli(&values)),
        })
    };
    let mut points = vec![read(&start, 0)?];
    let mut v = start;
    for iteration in 1..=iterations {
        v = flow_step(rbm, v, hidden, noise);
        points.push(read(&v, iteration)?);
    }
    Ok(points)
}

/// The starts of the flow: `Cold` all up (T = 0), `Hot` uniformly random (T = ∞).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// Every spin up.
    Cold,
    /// Every spin up or down with probability ½, independently.
    Hot,
}

impl Start {
    /// Both starts.
    pub const ALL: [Start; 2] = [Start::Cold, Start::Hot];

    /// `rows` {0, 1} configurations of `n` spins on `device`, the hot ones from `noise`.
    pub fn configurations(
        self,
        rows: usize,
        n: usize,
        noise: &mut Noise,
        device: &Device,
    ) -> Tensor<2> {
        match self {
            Start::Cold => Tensor::ones([rows, n], device),
            Start::Hot => noise
                .uniform_tensor([rows, n], device)
                .lower_elem(0.5)
                .float(),
        }
    }

    /// "T = 0 (all up)" or "T = ∞ (random)".
    pub fn label(self) -> &'static str {
        match self {
            Start::Cold => "T = 0 (all up)",
            Start::Hot => "T = ∞ (random)",
        }
    }
}

/// One start's flow.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flow {
    /// Where it starts.
    pub start: Start,
    /// The start (iteration 0) and every iteration.
    pub points: Vec<FlowPoint>,
}

/// One trained RBM and its flows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelFlows {
    /// `all` (every temperature) or `control` (T ≤ `control_max_t`).
    pub name: String,
    /// The Monte Carlo temperatures of its training rows (besides T ≈ 0).
    pub temperatures: Vec<f64>,
    /// Training rows, the ground-state pair's included.
    pub training_rows: usize,
    /// Mean reconstruction error per unit (Hinton's) of each epoch.
    pub reconstruction_error: Vec<f64>,
    /// Seconds of training.
    pub training_seconds: f64,
    /// Cold and hot flows.
    pub flows: Vec<Flow>,
}

/// The Monte Carlo data of one temperature, read the way the flow is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataReadout {
    /// The temperature T = 1/K of the samples.
    pub temperature: f64,
    /// Kaufman's exact energy per spin of the L×L torus there.
    pub exact_energy_per_spin: f64,
    /// τ_int of the energy and of |m| in sweep-equivalents, measured on the chains.
    pub tau_int_sweeps: [f64; 2],
    /// The samples measured.
    #[serde(flatten)]
    pub readout: Readout,
}

/// Everything `isy_flow` reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IsyReport {
    /// The settings.
    pub options: IsyOptions,
    /// T_c = 2/ln(1+√2).
    pub critical_temperature: f64,
    /// How T ≈ 0 enters the training rows.
    pub ground_state: String,
    /// The data per temperature.
    pub data: Vec<DataReadout>,
    /// The model trained on every temperature, then the control.
    pub models: Vec<ModelFlows>,
    /// Seconds per stage.
    pub seconds: BTreeMap<String, f64>,
    /// The Burn version.
    pub burn_version: String,
}

/// Trains an RBM with `n` visible and `options.hidden` hidden Bernoulli units on `rows` by
/// CD-1 and SGD (the options' learning rate, momentum and batch size), every random number
/// from the stream `stream`; `progress` is told each finished epoch and its mean
/// reconstruction error. Returns the RBM and the error of every epoch.
///
/// # Errors
/// If the training settings are invalid.
pub fn train_rbm(
    rows: RowsDataset,
    options: &IsyOptions,
    stream: u64,
    device: &Device,
    progress: &dyn Fn(usize, f64),
) -> Result<(Rbm, Vec<f64>)> {
    let training = TrainingConfig::new(CdConfig::new().with_k(1))
        .with_learning_rate(options.learning_rate)
        .with_momentum(options.momentum)
        .with_batch_size(options.batch_size)
        .with_epochs(options.epochs)
        .with_seed(stream);
    training.validate()?;
    let rbm = RbmConfig::new(rows.width(), options.hidden)
        .with_visible_units(Units::Bernoulli)
        .with_hidden_units(Units::Bernoulli)
        .with_init_std(options.init_std)
        .init_seeded(device, Stream::IsyInit.key(stream));
    let mut model = training.cd.init_seeded(rbm, Stream::IsyChains.key(stream));
    let mut optimizer = training.optimizer();
    let loader = EpochLoader::new(
        rows,
        options.batch_size,
        true,
        Stream::IsyBatches.key(stream),
        0,
        device,
    );
    let mut errors = Vec::with_capacity(options.epochs);
    for epoch in 1..=options.epochs {
        let (mut sum, mut count) = (None::<Tensor<1>>, 0usize);
        for batch in loader.iter() {
            let batch = batch.map_err(|e| anyhow::anyhow!("serving a batch: {e:?}"))?;
            let out = TrainStep::step(&model, batch);
            let weighted = out.item.reconstruction_error * out.item.batch_size as f64;
            count += out.item.batch_size;
            sum = Some(match sum {
                Some(s) => s + weighted,
                None => weighted,
            });
            model = optimizer.step(options.learning_rate, model, out.grads);
        }
        let total = sum.map_or(f64::NAN, |s| s.into_scalar::<f64>());
        let error = total / count as f64;
        errors.push(error);
        progress(epoch, error);
    }
    Ok((model.valid().rbm, errors))
}

/// The Monte Carlo data at every temperature: the {0, 1} rows per temperature and their
/// readouts against the exact energy.
fn monte_carlo_data(
    options: &IsyOptions,
    log: &dyn Fn(&str),
) -> Result<(Vec<Vec<f32>>, Vec<DataReadout>)> {
    let l = options.size;
    let mut blocks = Vec::with_capacity(options.temperatures.len());
    let mut data = Vec::with_capacity(options.temperatures.len());
    for (i, &t) in options.temperatures.iter().enumerate() {
        let config = options.generate_config(i, t);
        let generated = generate(&config, &|_| {})
            .with_context(|| format!("generating the data at T = {t}"))?;
        for w in &generated.warnings {
            log(&format!("warning (T = {t}): {w}"));
        }
        let readout = measure(l, &generated.spins);
        log(&format!(
            "data T = {t:.2}: E/N {:.4} (exact {:.4}), |m| {:.3}, τ_int {:.2}/{:.2} sweeps",
            readout.energy_per_spin.mean,
            kaufman_energy_per_spin(l, l, 1.0 / t),
            readout.abs_magnetization.mean,
            generated.tau.sweeps.energy,
            generated.tau.sweeps.abs_magnetization
        ));
        blocks.push(
            generated
                .spins
                .iter()
                .map(|&s| SpinEncoding::ZeroOne.encode(s))
                .collect::<Vec<f32>>(),
        );
        data.push(DataReadout {
            temperature: t,
            exact_energy_per_spin: kaufman_energy_per_spin(l, l, 1.0 / t),
            tau_int_sweeps: [
                generated.tau.sweeps.energy,
                generated.tau.sweeps.abs_magnetization,
            ],
            readout,
        });
    }
    Ok((blocks, data))
}

/// The flows of the model `name` (index `m`) from each start, `options.iterations` steps.
fn model_flows(
    rbm: &Rbm,
    options: &IsyOptions,
    name: &str,
    m: usize,
    device: &Device,
    log: &dyn Fn(&str),
) -> Result<Vec<Flow>> {
    let (l, n) = (options.size, options.size * options.size);
    let mut flows = Vec::new();
    for (s, start) in Start::ALL.into_iter().enumerate() {
        let mut noise = Noise::new(
            Stream::IsyReadout {
                block: m,
                temperature: s,
            }
            .key(options.seed),
        );
        let v0 = start.configurations(options.starts, n, &mut noise, device);
        let points = rbm_flow(
            rbm,
            v0,
            l,
            options.iterations,
            options.flow_hidden,
            &mut noise,
        )?;
        let last = &points[points.len() - 1].readout;
        log(&format!(
            "  '{name}' flow from {}: after {} iterations E/N {:.4}, T_fit {}, |m| {:.3}",
            start.label(),
            options.iterations,
            last.energy_per_spin.mean,
            format_temperature(&last.fit),
            last.abs_magnetization.mean
        ));
        flows.push(Flow { start, points });
    }
    Ok(flows)
}

/// Runs the whole reproduction: the data, both models and their flows. `log` is told what
/// happens, one line at a time (progress for standard error).
///
/// # Errors
/// Invalid options, or a device that cannot hand results back.
pub fn run(options: &IsyOptions, device: &Device, log: &dyn Fn(&str)) -> Result<IsyReport> {
    options.validate()?;
    let clock = Instant::now();
    let mut seconds = BTreeMap::new();
    let l = options.size;
    let n = l * l;

    // The Monte Carlo data, one block of {0, 1} rows per temperature.
    let (blocks, data) = monte_carlo_data(options, log)?;
    seconds.insert("data".to_string(), clock.elapsed().as_secs_f64());

    let mut models = Vec::new();
    let sets = [
        ("all", options.temperatures.clone()),
        ("control", options.control_temperatures()),
    ];
    for (m, (name, temperatures)) in sets.into_iter().enumerate() {
        let mut values = ground_state_rows(options.samples_per_temperature, n);
        for (t, block) in options.temperatures.iter().zip(&blocks) {
            if temperatures.contains(t) {
                values.extend_from_slice(block);
            }
        }
        let rows = RowsDataset::new(values, n);
        let training_rows = rows.len();
        let started = Instant::now();
        log(&format!(
            "training '{name}' on {training_rows} rows (T ≈ 0 and {} temperatures), {} epochs",
            temperatures.len(),
            options.epochs
        ));
        let every = (options.epochs / 10).max(1);
        let progress = |epoch: usize, error: f64| {
            if epoch.is_multiple_of(every) || epoch == options.epochs {
                log(&format!(
                    "  '{name}' epoch {epoch}/{}: reconstruction error {error:.5} ({:.1} s)",
                    options.epochs,
                    started.elapsed().as_secs_f64()
                ));
            }
        };
        let stream = Stream::IsyTraining { block: m }.key(options.seed);
        let (rbm, reconstruction_error) = train_rbm(rows, options, stream, device, &progress)?;
        let training_seconds = started.elapsed().as_secs_f64();
        let flows = model_flows(&rbm, options, name, m, device, log)?;
        seconds.insert(format!("{name}_training"), training_seconds);
        seconds.insert(
            format!("{name}_flow"),
            started.elapsed().as_secs_f64() - training_seconds,
        );
        models.push(ModelFlows {
            name: name.to_string(),
            temperatures,
            training_rows,
            reconstruction_error,
            training_seconds,
            flows,
        });
    }
    seconds.insert("total".to_string(), clock.elapsed().as_secs_f64());
    Ok(IsyReport {
        options: options.clone(),
        critical_temperature: critical_temperature(),
        ground_state: format!(
            "T ≈ 0 is {} rows of the two ground states in each model's training rows: {} all up, {} all down",
            options.samples_per_temperature,
            options.samples_per_temperature.div_ceil(2),
            options.samples_per_temperature / 2
        ),
        data,
        models,
        seconds,
        burn_version: crate::BURN_VERSION.to_string(),
    })
}

/// T_fit as text: "2.271 ± 0.012", "0", "∞", or, when K_fit is within two standard errors of
/// 0, "≈ ∞ (K_fit 0.0016 ± 0.0022)".
pub fn format_temperature(fit: &TemperatureFit) -> String {
    match (fit.temperature_fit, fit.coupling_fit) {
        (Some(t), _) if t.mean == 0.0 => "0".into(),
        (_, Some(k)) if k.mean <= 2.0 * k.error => {
            format!("≈ ∞ (K_fit {:.4} ± {:.4})", k.mean, k.error)
        }
        (Some(t), _) => format!("{:.3} ± {:.3}", t.mean, t.error),
        (None, _) => "∞".into(),
    }
}

/// One line of the figure: a label, (iteration, value, error) points, a colour index and
/// whether it is dashed (the control).
struct Line {
    name: String,
    points: Vec<(f64, f64, f64)>,
    colour: usize,
    dashed: bool,
}

/// The lines of [`flow_figure`]'s two panels, T_fit (points above `t_max` or without a
/// finite T_fit left out and counted in the name) and mean |m|, one per model and start.
fn flow_lines(report: &IsyReport, t_max: f64) -> (Vec<Line>, Vec<Line>) {
    let mut t_lines = Vec::new();
    let mut m_lines = Vec::new();
    for (m, model) in report.models.iter().enumerate() {
        for (s, flow) in model.flows.iter().enumerate() {
            let label = match model.name.as_str() {
                "all" => "all T".to_string(),
                _ => format!("T ≤ {} only", report.options.control_max_t),
            };
            let name = format!("{label}, from {}", flow.start.label());
            let mut hidden = 0;
            let mut points = Vec::new();
            for p in &flow.points {
                match p.readout.fit.temperature_fit {
                    Some(t) if t.mean <= t_max => {
                        points.push((p.iteration as f64, t.mean, t.error))
                    }
                    _ => hidden += 1,
                }
            }
            let colour = 2 * m + s;
            let dashed = m > 0;
            t_lines.push(Line {
                name: if hidden > 0 {
                    format!("{name} ({hidden} off scale)")
                } else {
                    name.clone()
                },
                points,
                colour,
                dashed,
            });
            m_lines.push(Line {
                name,
                points: flow
                    .points
                    .iter()
                    .map(|p| {
                        let a = p.readout.abs_magnetization;
                        (p.iteration as f64, a.mean, a.error)
                    })
                    .collect(),
                colour,
                dashed,
            });
        }
    }
    (t_lines, m_lines)
}

/// The figure: T_fit (left) and ⟨|m|⟩ (right) of the flowed configurations against the
/// iteration, both starts of both models (the control dashed), with T_c as a horizontal
/// line. The T axis ends at the hottest training temperature plus ½: points above it
/// (the random start's first steps) and points without a finite T_fit (T = ∞) are left out,
/// and the legend says how many. Returns PNG bytes.
///
/// # Errors
/// If drawing fails.
pub fn flow_figure(report: &IsyReport) -> Result<Vec<u8>> {
    use plotters::prelude::*;

    let t_max = report
        .options
        .temperatures
        .iter()
        .copied()
        .fold(critical_temperature(), f64::max)
        + 0.5;
    let x_max = report.options.iterations as f64;
    let (t_lines, m_lines) = flow_lines(report, t_max);
    let t_c = report.critical_temperature;
    let l = report.options.size;
    let e = |e: &dyn std::fmt::Display| anyhow::anyhow!("{e}");
    crate::plot::render((1500, 650), |root| {
        let root = root
            .titled(
                &format!(
                    "RBM flow (Iso, Shiba & Yokoo) of {l}×{l} Ising configurations, {} epochs",
                    report.options.epochs
                ),
                ("sans-serif", 24),
            )
            .map_err(|x| e(&x))?;
        let panels = root.split_evenly((1, 2));
        let axes = [
            (
                &t_lines,
                "T_fit (from the exact energy)",
                0.0..t_max,
                Some(t_c),
            ),
            (&m_lines, "mean |m|", 0.0..1.02, None),
        ];
        for (panel, (lines, y_label, y_range, t_c)) in panels.iter().zip(axes) {
            // The T panel's lines end low, the |m| panel's high.
            let legend = match t_c {
                Some(_) => SeriesLabelPosition::UpperRight,
                None => SeriesLabelPosition::LowerRight,
            };
            let mut chart = ChartBuilder::on(panel)
                .margin(15)
                .x_label_area_size(45)
                .y_label_area_size(60)
                .build_cartesian_2d(-0.5..x_max + 0.5, y_range)
                .map_err(|x| e(&x))?;
            chart
                .configure_mesh()
                .x_desc("iteration")
                .y_desc(y_label)
                .label_style(("sans-serif", 16))
                .draw()
                .map_err(|x| e(&x))?;
            if let Some(t_c) = t_c {
                chart
                    .draw_series(LineSeries::new(
                        vec![(-0.5, t_c), (x_max + 0.5, t_c)],
                        BLACK.stroke_width(1),
                    ))
                    .map_err(|x| e(&x))?
                    .label(format!("T_c = {t_c:.3}"))
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
            }
            for line in lines.iter() {
                let c = crate::plot::colour(line.colour);
                let xy: Vec<(f64, f64)> = line.points.iter().map(|p| (p.0, p.1)).collect();
                let style = c.stroke_width(2);
                let series = if line.dashed {
                    chart.draw_series(DashedLineSeries::new(xy.clone(), 6, 4, style))
                } else {
                    chart.draw_series(LineSeries::new(xy.clone(), style))
                };
                series
                    .map_err(|x| e(&x))?
                    .label(line.name.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                    });
                chart
                    .draw_series(line.points.iter().map(|&(x, y, err)| {
                        ErrorBar::new_vertical(x, y - err, y, y + err, c.filled(), 6)
                    }))
                    .map_err(|x| e(&x))?;
            }
            chart
                .configure_series_labels()
                .position(legend)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 14))
                .draw()
                .map_err(|x| e(&x))?;
        }
        Ok(())
    })
}
