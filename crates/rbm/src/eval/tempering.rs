//! Parallel tempering (replica exchange) for an RBM: Swendsen & Wang 1986 ("Replica Monte
//! Carlo simulation of spin glasses"), Geyer 1991 ("Markov chain Monte Carlo maximum
//! likelihood"), applied to RBMs by Desjardins, Courville, Bengio, Vincent & Delalleau 2010
//! ("Tempered Markov chain Monte Carlo for training of restricted Boltzmann machines").
//!
//! Replica k samples the tempered joint distribution
//!
//! p_β(v, h) ∝ e^{−β E(v, h)},  β = β_k,
//!
//! with the whole energy E of [`crate::rbm`] multiplied by β, biases (and the Gaussian base
//! measure ½hᵀh) included; β = 1 is the model. At small β the distribution is nearly
//! uniform and a Gibbs chain crosses between the modes that trap it at β = 1; swaps pass
//! those crossings up the ladder.
//!
//! Each sweep is, for every replica at once (R inverse temperatures × C chains are one batch
//! of R·C rows, row k·C + c being chain c at β_k):
//! 1. one block-Gibbs step at its β: h ~ p_β(h | v) with input β(vW + b), then
//!    v' ~ p_β(v | h) with input β(hWᵀ + a); a Gaussian hidden unit is N(x, 1/β), its
//!    variance 1/β (the base measure ½h² is tempered too);
//! 2. swap attempts between neighbouring inverse temperatures, chain by chain: pairs
//!    (β_k, β_{k+1}) with k even on even sweeps, k odd on odd sweeps (the deterministic
//!    even/odd scheme). The states x_k = (v', h) and x_{k+1} trade places with probability
//!    min(1, e^{(β_k − β_{k+1})(E(x_k) − E(x_{k+1}))}), the Metropolis rule for the product
//!    distribution Π_k p_{β_k}.
//!
//! The swap uses the **joint energy E(v, h)** of the pair the sweep just drew, not the free
//! energy F(v): the visible marginal of p_β is Σ_h e^{−βE(v,h)}, which is not e^{−βF(v)} for
//! β ≠ 1, so a rule in F(v) would not leave the tempered distributions that the Gibbs steps
//! sample invariant. After a swap only v matters: the next sweep draws h afresh.
//!
//! **The base-rate path.** With [`TemperingConfig::base_visible_bias`] a₀ set, replica k
//! samples instead the path of Salakhutdinov & Murray's AIS (2008) between an independent
//! base model and the RBM,
//!
//! p_k(v, h) ∝ e^{−β_k E(v, h) + (1 − β_k) a₀·v},
//!
//! whose β = 0 end is the base model (independent visible units with biases a₀, typically
//! fitted to the data's marginals; hidden units uniform) rather than the uniform
//! distribution. The Gibbs step draws h with input β(vW + b) and v with input
//! β(hWᵀ + a) + (1 − β)a₀, and a swap uses D = E(v, h) + a₀·v in place of E (the replicas'
//! energies are E_0 + β_k D with E_0 = −a₀·v). Along this path the model's modes grow out of
//! the data's marginals, which for an RBM trained on one phase can avoid the jump in
//! magnetisation that a ladder in β alone crosses. Discrete hidden units only (the β = 0
//! end must be a distribution).
//!
//! Every random number comes from the [`Noise`] stream keyed by [`TemperingConfig::seed`],
//! in a fixed order (per sweep: the hidden layer's numbers, the visible layer's, then one
//! uniform per attempted swap), so a run is a function of the model, the configuration and
//! the start.

use burn::prelude::*;
use ising_data::config::{Checked, ConfigError};
use serde::{Deserialize, Serialize};

use crate::error::{RbmError, Result};
use crate::kernel::{self, CpuPath};
use crate::noise::Noise;
use crate::rbm::Rbm;
use crate::tensor::to_vec;
use crate::units::Units;

/// Configuration of a parallel-tempering run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemperingConfig {
    /// The inverse temperatures β_0 < β_1 < … < β_{R−1} = 1, all > 0, at least two (for
    /// example [`geometric_ladder`]).
    pub betas: Vec<f64>,
    /// Independent chains C per inverse temperature.
    pub chains: usize,
    /// Sweeps after the burn-in, during which samples are recorded and swaps counted.
    pub sweeps: usize,
    /// Sweeps before recording, with swaps (not counted in the acceptance rates).
    #[serde(default)]
    pub burn_in: usize,
    /// Record the β = 1 replica after every `thin`-th sweep of the recorded phase (1 records
    /// every sweep); at most `sweeps`, so that something is recorded.
    #[serde(default = "one")]
    pub thin: usize,
    /// Key of the [`Noise`] stream every random number of the run is drawn from.
    #[serde(default)]
    pub seed: u64,
    /// The base model's visible biases a₀ (`[n_v]`) of the base-rate path (see the module
    /// docs); `None`: the ladder tempers the whole energy.
    #[serde(default)]
    pub base_visible_bias: Option<Vec<f32>>,
    /// Where the sweeps run on the flex CPU device: `None` is the process's choice
    /// ([`CpuPath::from_env`]); the fused kernel applies to Bernoulli–Bernoulli RBMs, and
    /// agrees with tensor operations up to f32 rounding (tested). Not serialised.
    #[serde(skip)]
    pub cpu_path: Option<CpuPath>,
}

fn one() -> usize {
    1
}

/// R inverse temperatures spaced geometrically from `beta_min` to 1:
/// β_k = beta_min^{(R−1−k)/(R−1)}, the last exactly 1. Geometric spacing keeps the swap
/// acceptance roughly even along the ladder when the heat capacity varies slowly.
///
/// # Errors
/// [`RbmError::Config`] if `beta_min` is not in (0, 1) or `n < 2` ([`check_ladder`]).
pub fn geometric_ladder(beta_min: f64, n: usize) -> Result<Vec<f64>> {
    check_ladder(beta_min, n)?;
    let mut betas: Vec<f64> = (0..n)
        .map(|k| beta_min.powf((n - 1 - k) as f64 / (n - 1) as f64))
        .collect();
    betas[n - 1] = 1.0;
    Ok(betas)
}

/// Checks the settings of a [`geometric_ladder`]: `beta_min` in (0, 1) and `n` (the
/// `replicas`) at least 2.
///
/// # Errors
/// Naming `beta_min` or `replicas`.
pub fn check_ladder(beta_min: f64, n: usize) -> std::result::Result<(), ConfigError> {
    if !(beta_min > 0.0 && beta_min < 1.0) {
        return Err(ConfigError::invalid("beta_min", "in (0, 1)", beta_min));
    }
    if n < 2 {
        return Err(ConfigError::invalid(
            "replicas",
            "at least 2 inverse temperatures for a ladder",
            n,
        ));
    }
    Ok(())
}

impl TemperingConfig {
    /// A configuration with the given ladder and `chains` chains, `sweeps` sweeps, no
    /// burn-in, every sweep recorded, seed 0.
    pub fn new(betas: Vec<f64>, chains: usize, sweeps: usize) -> Self {
        Self {
            betas,
            chains,
            sweeps,
            burn_in: 0,
            thin: 1,
            seed: 0,
            base_visible_bias: None,
            cpu_path: None,
        }
    }

    /// With `burn_in` sweeps before recording.
    pub fn with_burn_in(self, burn_in: usize) -> Self {
        Self { burn_in, ..self }
    }

    /// Recording every `thin`-th sweep.
    pub fn with_thin(self, thin: usize) -> Self {
        Self { thin, ..self }
    }

    /// With the stream key `seed`.
    pub fn with_seed(self, seed: u64) -> Self {
        Self { seed, ..self }
    }

    /// Along the base-rate path from the independent model with visible biases `bias`.
    pub fn with_base(self, bias: Vec<f32>) -> Self {
        Self {
            base_visible_bias: Some(bias),
            ..self
        }
    }

    /// With the sweeps on `path` (see [`TemperingConfig::cpu_path`]).
    pub fn with_cpu_path(self, path: CpuPath) -> Self {
        Self {
            cpu_path: Some(path),
            ..self
        }
    }

    /// Checks the configuration ([`Checked::check`]).
    ///
    /// # Errors
    /// [`RbmError::Config`], naming the field, if `betas` has fewer than two entries, an
    /// entry that is not finite and > 0, is not strictly increasing or does not end at 1;
    /// if `chains`, `sweeps` or `thin` is 0; or if `thin > sweeps` (nothing recorded).
    pub fn validate(&self) -> Result<()> {
        Ok(self.check()?)
    }

    /// The number of recorded sweeps, ⌊sweeps / thin⌋.
    pub fn recorded(&self) -> usize {
        self.sweeps / self.thin
    }
}

impl Checked for TemperingConfig {
    /// See [`TemperingConfig::validate`].
    fn check(&self) -> std::result::Result<(), ConfigError> {
        let b = &self.betas;
        if b.len() < 2 {
            return Err(ConfigError::invalid(
                "betas",
                "at least 2 inverse temperatures",
                format!("{}", b.len()),
            ));
        }
        if let Some(bad) = b.iter().find(|&&x| !(x.is_finite() && x > 0.0)) {
            return Err(ConfigError::invalid("betas", "finite and > 0 each", bad));
        }
        if let Some(k) = (1..b.len()).find(|&k| b[k] <= b[k - 1]) {
            return Err(ConfigError::invalid(
                "betas",
                "strictly increasing",
                format!("betas[{}] = {} ≥ betas[{k}] = {}", k - 1, b[k - 1], b[k]),
            ));
        }
        if b[b.len() - 1] != 1.0 {
            return Err(ConfigError::invalid(
                "betas",
                "ending at 1 (the model)",
                b[b.len() - 1],
            ));
        }
        for (name, value) in [
            ("chains", self.chains),
            ("sweeps", self.sweeps),
            ("thin", self.thin),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(name, "≥ 1", 0));
            }
        }
        if self.thin > self.sweeps {
            return Err(ConfigError::invalid(
                "thin",
                format!("at most sweeps ({})", self.sweeps),
                self.thin,
            )
            .because("nothing would be recorded"));
        }
        Ok(())
    }
}

/// The outcome of [`parallel_tempering`].
#[derive(Debug, Clone)]
pub struct TemperingSamples {
    /// The β = 1 replica's visible states, `[recorded · chains, n_v]`: row s·C + c is chain c
    /// after the s-th recorded sweep.
    pub samples: Tensor<2>,
    /// The fraction of accepted swaps of each neighbouring pair (β_k, β_{k+1}), k = 0..R−1,
    /// over the recorded phase (burn-in excluded); NaN for a pair never attempted there.
    pub acceptance: Vec<f64>,
    /// Swap attempts of each pair over the recorded phase (chains × sweeps on which the pair
    /// was up).
    pub attempts: Vec<u64>,
    /// The last state of every replica, `[R · chains, n_v]`, row k·C + c chain c at β_k:
    /// where a continuation would start.
    pub last: Tensor<2>,
}

/// Draws units of type `units` from the tempered conditional with (untempered) inputs `x`
/// at the inverse temperature of each row (`beta`, `[rows, 1]`): a discrete unit from its
/// conditional with input βx; a Gaussian unit from N(x, 1/β).
fn sample_tempered(units: Units, x: Tensor<2>, beta: &Tensor<2>, noise: &mut Noise) -> Tensor<2> {
    let n = x.dims().iter().product();
    let numbers = noise.draw(units.draw(), n);
    sample_tempered_from(units, x, beta, numbers)
}

/// [`sample_tempered`] with its random numbers given (`units.draw()` numbers, one per unit).
pub(crate) fn sample_tempered_from(
    units: Units,
    x: Tensor<2>,
    beta: &Tensor<2>,
    numbers: Vec<f32>,
) -> Tensor<2> {
    match units {
        Units::Bernoulli | Units::Spin => units.sample_from(x * beta.clone(), numbers),
        Units::Gaussian => {
            let z = Tensor::<2>::from_data(TensorData::new(numbers, x.dims()), &x.device());
            x + z / beta.clone().sqrt()
        }
    }
}

/// The inverse temperature of each row of a ladder's states, R · chains values: row k·C + c
/// holds β_k.
pub(crate) fn beta_rows(betas: &[f64], chains: usize) -> Vec<f32> {
    betas
        .iter()
        .flat_map(|&b| std::iter::repeat_n(b as f32, chains))
        .collect()
}

/// [`beta_rows`] as a column, `[R · chains, 1]`.
pub(crate) fn beta_column(betas: &[f64], chains: usize, device: &Device) -> Tensor<2> {
    let rows = beta_rows(betas, chains);
    Tensor::<2>::from_data(TensorData::new(rows, [betas.len() * chains, 1]), device)
}

/// The neighbouring pairs (β_k, β_{k+1}) of a ladder of `r` whose swaps are attempted in a
/// pass of `parity`: k ≡ parity (mod 2).
pub(crate) fn swap_pairs(r: usize, parity: usize) -> Vec<usize> {
    (parity % 2..r.saturating_sub(1)).step_by(2).collect()
}

/// Swap counts per neighbouring pair of a ladder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SwapCounts {
    /// Accepted swaps of pair k.
    pub accepted: Vec<u64>,
    /// Attempted swaps of pair k.
    pub attempts: Vec<u64>,
}

impl SwapCounts {
    /// No swaps yet, for a ladder of `r` inverse temperatures.
    pub fn new(r: usize) -> Self {
        Self {
            accepted: vec![0; r.saturating_sub(1)],
            attempts: vec![0; r.saturating_sub(1)],
        }
    }

    /// One pass of swap attempts between the pairs of `parity` ([`swap_pairs`]), chain by
    /// chain, row k·C + c being chain c at β_k: the states of a pair trade places with
    /// probability min(1, e^{(β_k − β_{k+1})(E_k − E_{k+1})}), `energy` holding the energy
    /// that β multiplies per row. `uniforms` holds one number per attempt, pair-major. An
    /// accepted swap exchanges the two rows' entries of `order` (the rows' states) and of
    /// `energy`; the counts are added to when `counting`. Returns whether any swap was
    /// accepted.
    pub fn pass(
        &mut self,
        betas: &[f64],
        (chains, parity): (usize, usize),
        energy: &mut [f64],
        order: &mut [i64],
        uniforms: &[f32],
        counting: bool,
    ) -> bool {
        let mut any = false;
        for (p, k) in swap_pairs(betas.len(), parity).into_iter().enumerate() {
            let d_beta = betas[k] - betas[k + 1];
            for chain in 0..chains {
                let (lo, hi) = (k * chains + chain, (k + 1) * chains + chain);
                let log_ratio = d_beta * (energy[lo] - energy[hi]);
                let accept = (uniforms[p * chains + chain] as f64) < log_ratio.exp();
                if accept {
                    order.swap(lo, hi);
                    energy.swap(lo, hi);
                    any = true;
                }
                if counting {
                    self.attempts[k] += 1;
                    self.accepted[k] += u64::from(accept);
                }
            }
        }
        any
    }

    /// The fraction of accepted swaps of each pair; NaN for a pair never attempted.
    pub fn acceptance(&self) -> Vec<f64> {
        self.accepted
            .iter()
            .zip(&self.attempts)
            .map(|(&a, &n)| match n {
                0 => f64::NAN,
                n => a as f64 / n as f64,
            })
            .collect()
    }
}

/// Parallel tempering of `rbm` with `config`, every chain at every inverse temperature
/// starting from a visible state drawn uniformly (each unit its two values with probability
/// ½, from the run's stream). See the module docs for the algorithm.
///
/// # Errors
/// [`RbmError::Config`] if the configuration is invalid (see [`TemperingConfig::validate`]);
/// [`RbmError::Device`] if the device cannot hand the energies back.
pub fn parallel_tempering(rbm: &Rbm, config: &TemperingConfig) -> Result<TemperingSamples> {
    parallel_tempering_reporting(rbm, config, &|_| {})
}

/// As [`parallel_tempering`], calling `progress(1)` after every sweep (burn-in included).
///
/// # Errors
/// As [`parallel_tempering`].
pub fn parallel_tempering_reporting(
    rbm: &Rbm,
    config: &TemperingConfig,
    progress: &dyn Fn(usize),
) -> Result<TemperingSamples> {
    config.validate()?;
    let device = rbm.weights.val().device();
    let mut noise = Noise::new(config.seed);
    let rows = config.betas.len() * config.chains;
    let zeros = Tensor::<2>::zeros([rows, rbm.n_visible()], &device);
    let start = rbm.visible_units.sample_with(zeros, &mut noise);
    run(rbm, config, start, noise, progress)
}

/// As [`parallel_tempering`], with every replica's chain c starting from row c of `start`
/// (`[chains, n_v]`, the same rows at every inverse temperature).
///
/// # Errors
/// As [`parallel_tempering`].
///
/// # Panics
/// If `start` is not `[config.chains, n_v]`.
pub fn parallel_tempering_from(
    rbm: &Rbm,
    config: &TemperingConfig,
    start: Tensor<2>,
) -> Result<TemperingSamples> {
    config.validate()?;
    assert_eq!(
        start.dims(),
        [config.chains, rbm.n_visible()],
        "start must be [chains, n_visible]"
    );
    let start = start.repeat_dim(0, config.betas.len());
    run(rbm, config, start, Noise::new(config.seed), &|_| {})
}

/// Checks the base-rate path of `config`, if it has one: a₀ of the RBM's visible width and
/// discrete units.
///
/// # Errors
/// A base of the wrong length, or units that are not discrete.
fn check_base(rbm: &Rbm, config: &TemperingConfig) -> Result<()> {
    let Some(bias) = &config.base_visible_bias else {
        return Ok(());
    };
    if bias.len() != rbm.n_visible() {
        return Err(RbmError::Mismatch(format!(
            "base_visible_bias has {} entries but the RBM has {} visible units",
            bias.len(),
            rbm.n_visible()
        )));
    }
    if !rbm.hidden_units.is_discrete() || !rbm.visible_units.is_discrete() {
        return Err(RbmError::Mismatch(format!(
            "the base-rate path needs discrete units, got {:?} visible and {:?} hidden",
            rbm.visible_units, rbm.hidden_units
        )));
    }
    Ok(())
}

/// The base-rate path of `config`, if it has one (checked by [`check_base`]): a₀ as a row,
/// and (1 − β) a₀ per row (β of each replica's rows in `beta`) added to the visible input.
fn base_path(
    rbm: &Rbm,
    config: &TemperingConfig,
    beta: &Tensor<2>,
) -> Option<(Tensor<2>, Tensor<2>)> {
    let device = rbm.weights.val().device();
    config.base_visible_bias.as_ref().map(|bias| {
        let row = Tensor::<1>::from_data(TensorData::new(bias.clone(), [bias.len()]), &device)
            .unsqueeze_dim::<2>(0);
        let shift = (beta.clone().neg() + 1.0) * row.clone();
        (row, shift)
    })
}

/// The sweeps of a validated configuration from the replicas' visible states `v`
/// (`[R · C, n_v]`).
fn run(
    rbm: &Rbm,
    config: &TemperingConfig,
    mut v: Tensor<2>,
    mut noise: Noise,
    progress: &dyn Fn(usize),
) -> Result<TemperingSamples> {
    check_base(rbm, config)?;
    let path = match config.cpu_path {
        Some(path) => path,
        None => CpuPath::from_env()?,
    };
    if let Some(level) = kernel::applies(rbm, path) {
        return run_on_kernel(level, rbm, config, v, noise, progress);
    }
    let device = rbm.weights.val().device();
    let (r, c) = (config.betas.len(), config.chains);
    let beta = beta_column(&config.betas, c, &device);
    let (w, a, b) = (
        rbm.weights.val(),
        rbm.visible_bias.val().unsqueeze_dim::<2>(0),
        rbm.hidden_bias.val().unsqueeze_dim::<2>(0),
    );
    let base = base_path(rbm, config, &beta);

    let mut counts = SwapCounts::new(r);
    let mut recorded = Vec::with_capacity(config.recorded());
    // vW of the current states: the energy of one sweep's swaps and the next sweep's hidden
    // input share it (rows permuted with the states).
    let mut vw = v.clone().matmul(w.clone());
    for t in 0..config.burn_in + config.sweeps {
        // One block-Gibbs step at each row's β.
        let h = sample_tempered(rbm.hidden_units, vw + b.clone(), &beta, &mut noise);
        let x_v = h.clone().matmul(w.clone().transpose()) + a.clone();
        v = match &base {
            None => sample_tempered(rbm.visible_units, x_v, &beta, &mut noise),
            Some((_, shift)) => {
                let numbers = noise.draw(rbm.visible_units.draw(), v.dims().iter().product());
                rbm.visible_units
                    .sample_from(x_v * beta.clone() + shift.clone(), numbers)
            }
        };

        // Swap attempts between the pairs (k, k+1) with k ≡ t (mod 2), by the energy that β
        // multiplies: E, or D = E + a₀·v on the base-rate path.
        vw = v.clone().matmul(w.clone());
        let energy = rbm.energy_with_product(v.clone(), h, vw.clone());
        let tempered = match &base {
            None => energy,
            Some((row, _)) => energy + (v.clone() * row.clone()).sum_dim(1).squeeze_dim(1),
        };
        let mut energy: Vec<f64> = to_vec(tempered)?;
        let u = noise.uniforms(swap_pairs(r, t).len() * c);
        let counting = t >= config.burn_in;
        let mut order: Vec<i64> = (0..(r * c) as i64).collect();
        if counts.pass(&config.betas, (c, t), &mut energy, &mut order, &u, counting) {
            let idx = Tensor::<1, Int>::from_data(TensorData::new(order, [r * c]), &device);
            v = v.select(0, idx.clone());
            vw = vw.select(0, idx);
        }

        if counting && (t + 1 - config.burn_in).is_multiple_of(config.thin) {
            recorded.push(v.clone().narrow(0, (r - 1) * c, c));
        }
        progress(1);
    }
    Ok(TemperingSamples {
        samples: Tensor::cat(recorded, 0),
        acceptance: counts.acceptance(),
        attempts: counts.attempts,
        last: v,
    })
}

/// [`run`] on the fused CPU kernel ([`kernel::tempered_sweep`]): the same sweeps from the
/// same random numbers, on host buffers.
fn run_on_kernel(
    level: kernel::Level,
    rbm: &Rbm,
    config: &TemperingConfig,
    v: Tensor<2>,
    mut noise: Noise,
    progress: &dyn Fn(usize),
) -> Result<TemperingSamples> {
    let device = rbm.weights.val().device();
    let (r, c, nv, nh) = (
        config.betas.len(),
        config.chains,
        rbm.n_visible(),
        rbm.n_hidden(),
    );
    let params = kernel::OwnedParams::read(rbm)?;
    let params = params.view();
    let beta = beta_rows(&config.betas, c);
    let base = config.base_visible_bias.as_deref();
    let mut replicas = kernel::replicas(level, &params, to_vec(v.without_autodiff())?);
    let mut counts = SwapCounts::new(r);
    let mut recorded: Vec<f32> = Vec::with_capacity(config.recorded() * c * nv);
    for t in 0..config.burn_in + config.sweeps {
        let hidden_u = noise.draw(rbm.hidden_units.draw(), r * c * nh);
        let visible_u = noise.draw(rbm.visible_units.draw(), r * c * nv);
        let (next, mut energy) = kernel::tempered_sweep(
            level,
            &params,
            replicas,
            (&beta, base),
            (&hidden_u, &visible_u),
        );
        replicas = next;
        let u = noise.uniforms(swap_pairs(r, t).len() * c);
        let counting = t >= config.burn_in;
        let mut order: Vec<i64> = (0..(r * c) as i64).collect();
        if counts.pass(&config.betas, (c, t), &mut energy, &mut order, &u, counting) {
            replicas.permute(&order, &params);
        }
        if counting && (t + 1 - config.burn_in).is_multiple_of(config.thin) {
            recorded.extend_from_slice(&replicas.v[(r - 1) * c * nv..]);
        }
        progress(1);
    }
    let rows = recorded.len() / nv;
    Ok(TemperingSamples {
        samples: Tensor::from_data(TensorData::new(recorded, [rows, nv]), &device),
        acceptance: counts.acceptance(),
        attempts: counts.attempts,
        last: Tensor::from_data(TensorData::new(replicas.v, [r * c, nv]), &device),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_geometric_ladder_is_geometric_and_ends_at_one() {
        let b = geometric_ladder(0.01, 5).unwrap();
        assert_eq!(b.len(), 5);
        assert!((b[0] - 0.01).abs() < 1e-15);
        assert_eq!(b[4], 1.0);
        for k in 1..4 {
            // Equal ratios: β_{k+1}/β_k = 0.01^{−1/4}.
            assert!((b[k + 1] / b[k] - 0.01f64.powf(-0.25)).abs() < 1e-12);
        }
        assert!(TemperingConfig::new(b, 1, 1).validate().is_ok());
        assert!(geometric_ladder(0.0, 5).is_err());
        assert!(geometric_ladder(1.0, 5).is_err());
        assert!(geometric_ladder(0.5, 1).is_err());
    }
}
