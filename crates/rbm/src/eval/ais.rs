//! Annealed importance sampling (AIS) of an RBM's partition function (Neal 2001;
//! Salakhutdinov & Murray 2008, "On the quantitative analysis of deep belief networks").
//!
//! The path runs from a base-rate model A (no weights, visible biases a_A, zero hidden
//! biases), whose ln Z_A is known in closed form, to the target RBM B through
//!
//! ln p*_β(v) = (1−β) a_Aᵀv + β a_Bᵀv + Σ_j ln Z_h(β x_j),  x = vW + b,
//!
//! the visible marginal of the joint e^{(1−β) a_Aᵀv + β(a_Bᵀv + vᵀWh + bᵀh)}. Each run starts
//! with v ~ p_A, alternates one block-Gibbs transition at β_k with the importance-weight
//! increment ln p*_{β_{k+1}}(v) − ln p*_{β_k}(v), and ln Ẑ_B = ln Z_A + ln mean(w): a
//! stochastic lower bound on ln Z_B. Reverse AIS runs the same path from B back to A, starting
//! from samples of B (exact ones, or held-out data of a model that fits them), and
//! ln Ẑ_B = ln Z_A − ln mean(w) bounds ln Z_B from above in expectation; the two together
//! bracket it.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{RbmError, Result};
use crate::kernel::{self, CpuPath};
use crate::noise::Noise;
use crate::rbm::Rbm;
use crate::tensor::to_vec;

/// Configuration of an AIS estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AisConfig {
    /// Number of independent runs M.
    pub runs: usize,
    /// The β ladder as consecutive segments `(end, steps)` starting from β = 0: each segment
    /// spaces `steps` inverse temperatures evenly up to `end`. The last end must be 1.
    pub segments: Vec<(f64, usize)>,
    /// Key of the [`Noise`] stream every random number of the runs is drawn from, so that an
    /// estimate is a function of the model, the configuration and this key.
    #[serde(default)]
    pub seed: u64,
    /// Where the transitions and weights run on the flex CPU device: `None` is the process's
    /// choice ([`CpuPath::from_env`]); the fused kernel applies to Bernoulli–Bernoulli RBMs,
    /// draws the same random numbers in the same order as tensor operations and agrees with
    /// them up to f32 rounding (tested). Not serialised.
    #[serde(skip)]
    pub cpu_path: Option<CpuPath>,
}

impl Default for AisConfig {
    /// Salakhutdinov & Murray's ladder: 500 steps to β = 0.5, 4 000 to 0.9, 10 000 to 1
    /// (14 500 inverse temperatures), 100 runs.
    fn default() -> Self {
        Self {
            runs: 100,
            segments: vec![(0.5, 500), (0.9, 4_000), (1.0, 10_000)],
            seed: 0,
            cpu_path: None,
        }
    }
}

impl AisConfig {
    /// With the transitions on `path` (see [`AisConfig::cpu_path`]).
    pub fn with_cpu_path(self, path: CpuPath) -> Self {
        Self {
            cpu_path: Some(path),
            ..self
        }
    }

    /// The inverse temperatures β_0 = 0 < β_1 < … < β_K = 1.
    ///
    /// # Panics
    /// If the segments are not increasing up to 1 or a segment has no steps.
    pub fn betas(&self) -> Vec<f64> {
        let mut betas = vec![0.0];
        let mut start = 0.0;
        for &(end, steps) in &self.segments {
            assert!(end > start && end <= 1.0 && steps > 0, "bad AIS ladder");
            betas.extend((1..=steps).map(|s| start + (end - start) * s as f64 / steps as f64));
            start = end;
        }
        assert!(
            (start - 1.0).abs() < 1e-12,
            "the AIS ladder must end at β = 1"
        );
        *betas.last_mut().expect("non-empty") = 1.0;
        betas
    }
}

/// The result of AIS.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AisEstimate {
    /// ln Ẑ: ln Z_A + ln mean(w) (forward), ln Z_A − ln mean(w) (reverse).
    pub log_partition: f64,
    /// The standard error of ln Ẑ by the delta method: std(w) / (mean(w) √M); NaN for a
    /// single run (M = 1), which has no spread to estimate it from.
    pub std_error: f64,
    /// ln Z_A of the base-rate model.
    pub log_partition_base: f64,
    /// Effective sample size (Σw)²/Σw² of the importance weights.
    pub effective_sample_size: f64,
}

/// ln Z from independent repetitions of an AIS estimate, with the spread of the repetitions
/// as its error (which, unlike the delta-method error of one estimate, does not rely on the
/// importance weights' variance being well estimated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AisRepeated {
    /// The mean of the repetitions' ln Ẑ.
    pub log_partition: f64,
    /// Their standard deviation over √R.
    pub std_error: f64,
    /// Each repetition's estimate (repetition r uses the stream key(seed, r)).
    pub repetitions: Vec<AisEstimate>,
    /// The configuration, the ladder included.
    pub config: AisConfig,
}

/// `repetitions` independent forward AIS estimates of ln Z (see [`ais_log_partition`]),
/// repetition r with the stream `noise::key(&[config.seed, r])`.
///
/// # Errors
/// As [`ais_log_partition`], or for fewer than two repetitions.
pub fn ais_log_partition_repeated(
    rbm: &Rbm,
    base_visible_bias: Option<Tensor<1>>,
    config: &AisConfig,
    repetitions: usize,
) -> Result<AisRepeated> {
    if repetitions < 2 {
        return Err(ising_data::config::ConfigError::invalid(
            "repetitions",
            "at least 2 (for an error bar)",
            repetitions,
        )
        .into());
    }
    let configs: Vec<AisConfig> = (0..repetitions as u64)
        .map(|r| AisConfig {
            seed: crate::noise::key(&[config.seed, r]),
            ..config.clone()
        })
        .collect();
    let estimates = ais_log_partition_batch(rbm, base_visible_bias, &configs)?;
    Ok(AisRepeated::of(estimates, config.clone()))
}

impl AisRepeated {
    /// The mean of independent estimates `repetitions` (forward or reverse, made with
    /// `config`) and its standard error from their spread (NaN for fewer than two).
    pub fn of(repetitions: Vec<AisEstimate>, config: AisConfig) -> Self {
        let n = repetitions.len() as f64;
        let mean = repetitions.iter().map(|e| e.log_partition).sum::<f64>() / n;
        let var = repetitions
            .iter()
            .map(|e| (e.log_partition - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        Self {
            log_partition: mean,
            std_error: (var / n).sqrt(),
            repetitions,
            config,
        }
    }
}

/// The model A at the start of the path: no weights, visible biases a_A, zero hidden biases.
fn base_bias(rbm: &Rbm, base_visible_bias: Option<Tensor<1>>) -> Tensor<1> {
    let nv = rbm.n_visible();
    let a_base =
        base_visible_bias.unwrap_or_else(|| Tensor::zeros([nv], &rbm.weights.val().device()));
    assert_eq!(a_base.dims(), [nv], "base visible bias of wrong length");
    a_base
}

/// Estimates ln Z of `rbm` by forward AIS, on the RBM's device, with the random numbers of the
/// stream `config.seed`: runs
/// start from the base-rate model A and anneal to the RBM. ln of the mean weight is a
/// stochastic lower bound on ln Z (E[ln Ẑ] ≤ ln Z by Jensen's inequality).
///
/// `base_visible_bias` gives a_A (e.g. the data's base rates as set by
/// [`Rbm::with_visible_bias_from_data`]); `None` uses zero biases (uniform visible units).
///
/// # Errors
/// If the device cannot hand the importance weights back.
///
/// # Panics
/// If the RBM has Gaussian visible units, `base_visible_bias` has the wrong length, or the
/// configuration is invalid.
pub fn ais_log_partition(
    rbm: &Rbm,
    base_visible_bias: Option<Tensor<1>>,
    config: &AisConfig,
) -> Result<AisEstimate> {
    let batch = ais_log_partition_batch(rbm, base_visible_bias, std::slice::from_ref(config))?;
    Ok(batch[0])
}

/// One forward AIS estimate per configuration of `configs` (see [`ais_log_partition`]),
/// each from its own stream, computed together: on the fused kernel their chains move as one
/// batch of rows (the estimates are those the configurations give one at a time).
///
/// # Errors
/// Configurations that differ in their ladder or path ([`RbmError::Mismatch`]), or as
/// [`ais_log_partition`].
///
/// # Panics
/// As [`ais_log_partition`].
pub fn ais_log_partition_batch(
    rbm: &Rbm,
    base_visible_bias: Option<Tensor<1>>,
    configs: &[AisConfig],
) -> Result<Vec<AisEstimate>> {
    let a_base = base_bias(rbm, base_visible_bias);
    let runs = configs
        .iter()
        .map(|config| {
            assert!(config.runs > 0, "AIS needs at least one run");
            let mut noise = Noise::new(config.seed);
            let start = rbm.visible_units.sample_with(
                a_base
                    .clone()
                    .unsqueeze_dim::<2>(0)
                    .repeat_dim(0, config.runs),
                &mut noise,
            );
            (start, noise)
        })
        .collect();
    anneal(rbm, a_base, configs, false, runs)
}

/// Estimates ln Z of `rbm` by reverse AIS: the runs start at the rows of `start`, which must
/// be samples of the RBM's visible marginal (exact samples, or held-out data of a model that
/// fits them, which makes the estimate approximate), and anneal from the RBM back to the
/// base-rate model A along the ladder of `config` (whose `runs` is not used: one run per row
/// of `start`). mean(w) estimates Z_A/Z, so ln Ẑ = ln Z_A − ln mean(w) is a stochastic upper
/// bound on ln Z when the start is exact: with forward AIS it brackets ln Z.
///
/// # Errors
/// If the device cannot hand the importance weights back.
///
/// # Panics
/// As [`ais_log_partition`], or if `start` does not have the RBM's visible width.
pub fn ais_reverse_log_partition(
    rbm: &Rbm,
    base_visible_bias: Option<Tensor<1>>,
    config: &AisConfig,
    start: Tensor<2>,
) -> Result<AisEstimate> {
    let batch =
        ais_reverse_log_partition_batch(rbm, base_visible_bias, vec![(config.clone(), start)])?;
    Ok(batch[0])
}

/// One reverse AIS estimate per configuration and start of `runs` (see
/// [`ais_reverse_log_partition`]), computed together as [`ais_log_partition_batch`] computes
/// forward ones.
///
/// # Errors
/// Configurations that differ in their ladder or path ([`RbmError::Mismatch`]), or as
/// [`ais_reverse_log_partition`].
///
/// # Panics
/// As [`ais_reverse_log_partition`].
pub fn ais_reverse_log_partition_batch(
    rbm: &Rbm,
    base_visible_bias: Option<Tensor<1>>,
    runs: Vec<(AisConfig, Tensor<2>)>,
) -> Result<Vec<AisEstimate>> {
    let a_base = base_bias(rbm, base_visible_bias);
    let configs: Vec<AisConfig> = runs.iter().map(|(config, _)| config.clone()).collect();
    let starts = runs
        .into_iter()
        .map(|(config, start)| {
            assert_eq!(
                start.dims()[1],
                rbm.n_visible(),
                "start rows of the wrong width"
            );
            (start, Noise::new(config.seed))
        })
        .collect();
    anneal(rbm, a_base, &configs, true, starts)
}

/// The AIS path of `configs`' shared ladder (from 0 to 1 forward, from 1 to 0 in `reverse`)
/// for the chains of each run, which start at the rows of its tensor and draw from its
/// stream, on the path the configurations choose: each step adds ln p*_{b_i}(v) −
/// ln p*_{b_{i−1}}(v) to a chain's log-weight, then moves v by one block-Gibbs transition
/// that leaves p_{b_i} invariant.
fn anneal(
    rbm: &Rbm,
    a_base: Tensor<1>,
    configs: &[AisConfig],
    reverse: bool,
    runs: Vec<(Tensor<2>, Noise)>,
) -> Result<Vec<AisEstimate>> {
    let Some(first) = configs.first() else {
        return Ok(Vec::new());
    };
    if configs
        .iter()
        .any(|c| c.segments != first.segments || c.cpu_path != first.cpu_path)
    {
        return Err(RbmError::Mismatch(
            "the configurations of one AIS batch differ in their ladder (segments) or cpu_path"
                .into(),
        ));
    }
    let mut betas = first.betas();
    if reverse {
        betas.reverse();
    }
    let nh = rbm.n_hidden();
    let (vu, hu) = (rbm.visible_units, rbm.hidden_units);
    let host_a: Vec<f64> = to_vec(a_base.clone())?;
    let log_z_base = host_a.iter().map(|&a| vu.log_partition(a)).sum::<f64>()
        + nh as f64 * hu.log_partition(0.0);
    let path = match first.cpu_path {
        Some(path) => path,
        None => CpuPath::from_env()?,
    };
    let log_w = match kernel::applies(rbm, path) {
        Some(level) => log_weights_on_kernel(level, rbm, a_base, &betas, runs)?,
        None => runs
            .into_iter()
            .map(|(start, noise)| log_weights(rbm, a_base.clone(), &betas, start, noise))
            .collect::<Result<Vec<_>>>()?,
    };
    Ok(log_w
        .iter()
        .map(|w| estimate(w, log_z_base, reverse))
        .collect())
}

/// The chains' log importance weights along `betas` on tensor operations.
fn log_weights(
    rbm: &Rbm,
    a_base: Tensor<1>,
    betas: &[f64],
    start: Tensor<2>,
    mut noise: Noise,
) -> Result<Vec<f64>> {
    let device = rbm.weights.val().device();
    let (vu, hu) = (rbm.visible_units, rbm.hidden_units);
    let w = rbm.weights.val();
    let a = rbm.visible_bias.val().unsqueeze_dim::<2>(0);
    let b = rbm.hidden_bias.val().unsqueeze_dim::<2>(0);
    let a_base = a_base.unsqueeze_dim::<2>(0);
    let a_diff = a.clone() - a_base.clone();

    // The importance-weight increment ln p*_{to}(v) − ln p*_{from}(v) of each chain, from
    // per-unit differences that do not cancel (Units::log_partition_step): Δβ a_diff·v plus
    // Σ_j [ln Z_h(to x_j) − ln Z_h(from x_j)].
    let increment = |from: f64, to: f64, v: &Tensor<2>, x: &Tensor<2>| -> Tensor<1> {
        let linear = (v.clone() * a_diff.clone()).sum_dim(1) * (to - from);
        let hidden = hu.log_partition_step(x.clone(), from, to).sum_dim(1);
        (linear + hidden).squeeze_dim(1)
    };

    let m = start.dims()[0];
    let mut v = start;
    let mut log_w = vec![0.0f64; m];
    let mut chunk = Tensor::<1>::zeros([m], &device);
    // Increments are summed on the device over FLUSH steps, then in f64 on the host.
    const FLUSH: usize = 64;
    for k in 1..betas.len() {
        let x = v.clone().matmul(w.clone()) + b.clone();
        chunk = chunk + increment(betas[k - 1], betas[k], &v, &x);
        if k % FLUSH == 0 || k + 1 == betas.len() {
            let part: Vec<f64> = to_vec(chunk)?;
            for (lw, p) in log_w.iter_mut().zip(part) {
                *lw += p;
            }
            chunk = Tensor::zeros([m], &device);
        }
        if k + 1 < betas.len() {
            // One block-Gibbs transition that leaves p_{β_k} invariant.
            let beta = betas[k];
            let h = hu.sample_with(x * beta, &mut noise);
            let input = a_base.clone() * (1.0 - beta)
                + (h.matmul(w.clone().transpose()) + a.clone()) * beta;
            v = vu.sample_with(input, &mut noise);
        }
    }
    Ok(log_w)
}

/// [`log_weights`] of every run on the fused CPU kernel, their chains one batch of rows: the
/// transitions are parallel tempering's sweep ([`kernel::annealed_sweep`]) with every row at
/// the step's β on the base-rate path from a₀, each run's random numbers from its own stream
/// in the order of the tensor path; the increments are summed in f64.
fn log_weights_on_kernel(
    level: kernel::Level,
    rbm: &Rbm,
    a_base: Tensor<1>,
    betas: &[f64],
    runs: Vec<(Tensor<2>, Noise)>,
) -> Result<Vec<Vec<f64>>> {
    let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
    let params = kernel::OwnedParams::read(rbm)?;
    let params = params.view();
    let a_base: Vec<f32> = to_vec(a_base)?;
    let a: Vec<f32> = to_vec(rbm.visible_bias.val())?;
    let a_diff: Vec<f32> = a.iter().zip(&a_base).map(|(a, a0)| a - a0).collect();
    let rows: Vec<usize> = runs.iter().map(|(start, _)| start.dims()[0]).collect();
    let m: usize = rows.iter().sum();
    let mut v = Vec::with_capacity(m * nv);
    let mut noises = Vec::with_capacity(runs.len());
    for (start, noise) in runs {
        v.extend(to_vec::<f32, 2>(start.without_autodiff())?);
        noises.push(noise);
    }
    let mut replicas = kernel::replicas(level, &params, v);
    let mut log_w = vec![0.0f64; m];
    for k in 1..betas.len() {
        let step = (betas[k - 1], betas[k]);
        let increment = kernel::ais_increment(level, &params, &replicas, &a_diff, step);
        for (lw, i) in log_w.iter_mut().zip(increment) {
            *lw += i;
        }
        if k + 1 < betas.len() {
            let (mut hidden_u, mut visible_u) = (Vec::with_capacity(m * nh), Vec::new());
            for (noise, &r) in noises.iter_mut().zip(&rows) {
                hidden_u.extend(noise.draw(rbm.hidden_units.draw(), r * nh));
                visible_u.extend(noise.draw(rbm.visible_units.draw(), r * nv));
            }
            let beta = vec![betas[k] as f32; m];
            let uniforms = (hidden_u.as_slice(), visible_u.as_slice());
            let base = (beta.as_slice(), Some(a_base.as_slice()));
            replicas = kernel::annealed_sweep(level, &params, replicas, base, uniforms);
        }
    }
    let mut split = Vec::with_capacity(rows.len());
    let mut rest = log_w.as_slice();
    for r in rows {
        let (run, tail) = rest.split_at(r);
        split.push(run.to_vec());
        rest = tail;
    }
    Ok(split)
}

/// The estimate from the chains' log importance weights `log_w` (forward: ln Z_A + ln mean
/// w; reverse: ln Z_A − ln mean w).
fn estimate(log_w: &[f64], log_z_base: f64, reverse: bool) -> AisEstimate {
    let m = log_w.len();
    let max = log_w.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let r: Vec<f64> = log_w.iter().map(|lw| (lw - max).exp()).collect();
    let mean = r.iter().sum::<f64>() / m as f64;
    // One run has no spread to estimate an error from: its standard error is NaN, not 0.
    let var = match m {
        1 => f64::NAN,
        _ => r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (m - 1) as f64,
    };
    let sum_sq: f64 = r.iter().map(|x| x * x).sum();
    let log_mean_w = max + mean.ln();
    AisEstimate {
        log_partition: match reverse {
            false => log_z_base + log_mean_w,
            true => log_z_base - log_mean_w,
        },
        std_error: var.sqrt() / (mean * (m as f64).sqrt()),
        log_partition_base: log_z_base,
        effective_sample_size: (mean * m as f64).powi(2) / sum_sq,
    }
}
