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
//! increment ln p*_{β_{k+1}}(v) − ln p*_{β_k}(v), and ln Ẑ_B = ln Z_A + ln mean(w).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::Result;
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
}

impl Default for AisConfig {
    /// Salakhutdinov & Murray's ladder: 500 steps to β = 0.5, 4 000 to 0.9, 10 000 to 1
    /// (14 500 inverse temperatures), 100 runs.
    fn default() -> Self {
        Self {
            runs: 100,
            segments: vec![(0.5, 500), (0.9, 4_000), (1.0, 10_000)],
        }
    }
}

impl AisConfig {
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
    /// ln Ẑ = ln Z_A + ln mean(w).
    pub log_partition: f64,
    /// The standard error of ln Ẑ by the delta method: std(w) / (mean(w) √M); NaN for a
    /// single run (M = 1), which has no spread to estimate it from.
    pub std_error: f64,
    /// ln Z_A of the base-rate model.
    pub log_partition_base: f64,
    /// Effective sample size (Σw)²/Σw² of the importance weights.
    pub effective_sample_size: f64,
}

/// Estimates ln Z of `rbm` by AIS, on the RBM's device with its random stream.
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
    let device = rbm.weights.val().device();
    let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
    let (vu, hu) = (rbm.visible_units, rbm.hidden_units);
    assert!(config.runs > 0, "AIS needs at least one run");
    let a_base = base_visible_bias.unwrap_or_else(|| Tensor::zeros([nv], &device));
    assert_eq!(a_base.dims(), [nv], "base visible bias of wrong length");
    let host_a: Vec<f64> = to_vec(a_base.clone())?;
    let log_z_base = host_a.iter().map(|&a| vu.log_partition(a)).sum::<f64>()
        + nh as f64 * hu.log_partition(0.0);

    let w = rbm.weights.val();
    let a = rbm.visible_bias.val().unsqueeze_dim::<2>(0);
    let b = rbm.hidden_bias.val().unsqueeze_dim::<2>(0);
    let a_base = a_base.unsqueeze_dim::<2>(0);
    let a_diff = a.clone() - a_base.clone();

    // The importance-weight increment ln p*_{β_k}(v) − ln p*_{β_{k−1}}(v) of each chain, from
    // per-unit differences that do not cancel (Units::log_partition_step): Δβ a_diff·v plus
    // Σ_j [ln Z_h(β_k x_j) − ln Z_h(β_{k−1} x_j)].
    let increment = |from: f64, to: f64, v: &Tensor<2>, x: &Tensor<2>| -> Tensor<1> {
        let linear = (v.clone() * a_diff.clone()).sum_dim(1) * (to - from);
        let hidden = hu.log_partition_step(x.clone(), from, to).sum_dim(1);
        (linear + hidden).squeeze_dim(1)
    };

    let betas = config.betas();
    let m = config.runs;
    let mut v = vu.sample(a_base.clone().repeat_dim(0, m));
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
            let h = hu.sample(x * beta);
            let input = a_base.clone() * (1.0 - beta)
                + (h.matmul(w.clone().transpose()) + a.clone()) * beta;
            v = vu.sample(input);
        }
    }
    let max = log_w.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let r: Vec<f64> = log_w.iter().map(|lw| (lw - max).exp()).collect();
    let mean = r.iter().sum::<f64>() / m as f64;
    // One run has no spread to estimate an error from: its standard error is NaN, not 0.
    let var = match m {
        1 => f64::NAN,
        _ => r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (m - 1) as f64,
    };
    let sum_sq: f64 = r.iter().map(|x| x * x).sum();
    Ok(AisEstimate {
        log_partition: log_z_base + max + mean.ln(),
        std_error: var.sqrt() / (mean * (m as f64).sqrt()),
        log_partition_base: log_z_base,
        effective_sample_size: (mean * m as f64).powi(2) / sum_sq,
    })
}
