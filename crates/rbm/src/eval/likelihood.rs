//! Judging a model: pseudo-log-likelihood, the free-energy gap, and the KL divergence from
//! the exact Ising distribution.

use crate::noise::Noise;
use burn::prelude::*;
use burn::tensor::activation::softplus;
use ising_data::Lattice;

use crate::error::{RbmError, Result};
use crate::eval::exact::HostRbm;
use crate::kernel::{self, CpuPath};
use crate::math::log_sum_exp;
use crate::rbm::Rbm;
use crate::tensor::to_vec;
use crate::units::Units;

/// ln p(v_i | v_{−i}) at `c` sites of each row of `v` (`sites`, `[batch, c]` row-major), from
/// the rows' hidden inputs `x` and their Σ_j ln Z_j(x_j) (`log_partition`, `[batch, 1]`):
/// the one formula of the pseudo-likelihood, for its exact value and for its stochastic
/// estimate. `[batch, c]`.
///
/// Changing v_i to its other value v_i' (Δ = v_i' − v_i) changes x by Δ W_i and
/// F(v) − F(v') = a_i Δ + Σ_j ln Z_j(x + Δ W_i) − Σ_j ln Z_j(x), and
/// ln p(v_i | v_{−i}) = −softplus(F(v) − F(v')).
///
/// # Panics
/// If the visible units are not discrete (the callers check).
fn site_log_conditionals(
    rbm: &Rbm,
    v: Tensor<2>,
    x: Tensor<2>,
    log_partition: Tensor<2>,
    sites: &[usize],
    c: usize,
) -> Tensor<2> {
    let device = v.device();
    let (batch, nh) = (v.dims()[0], rbm.n_hidden());
    let [u0, u1] = rbm.visible_units.values().expect("discrete visible units");
    let idx: Vec<i64> = sites.iter().map(|&i| i as i64).collect();
    let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [batch * c]), &device);
    let v_i = v.gather(1, idx.clone().reshape([batch, c]));
    let delta = v_i.neg() * 2.0 + (u0 + u1);
    let a_i = rbm
        .visible_bias
        .val()
        .select(0, idx.clone())
        .reshape([batch, c]);
    let w_i = rbm.weights.val().select(0, idx).reshape([batch, c, nh]);
    let x_flipped = x.unsqueeze_dim::<3>(1) + w_i * delta.clone().unsqueeze_dim::<3>(2);
    let log_partition_flipped = rbm
        .hidden_units
        .log_partition_tensor(x_flipped)
        .sum_dim(2)
        .reshape([batch, c]);
    let d = a_i * delta + log_partition_flipped - log_partition;
    softplus(d, 1.0).neg()
}

/// The exact pseudo-log-likelihood per visible unit, (1/n_v) Σ_i ln p(v_i | v_{−i}), averaged
/// over the rows of `v` (not multiplied by the number of units).
///
/// # Errors
/// If the visible units are not discrete.
pub fn pseudo_log_likelihood(rbm: &Rbm, v: Tensor<2>) -> Result<f64> {
    pseudo_log_likelihood_with(rbm, v, CpuPath::from_env()?)
}

/// [`pseudo_log_likelihood`] on the CPU path `path`: the fused CPU kernel where it applies
/// (flex device, Bernoulli units, an instruction set this CPU has), otherwise tensor
/// operations. Both give the same value up to f32 rounding (tested).
///
/// # Errors
/// If the visible units are not discrete.
pub fn pseudo_log_likelihood_with(rbm: &Rbm, v: Tensor<2>, path: CpuPath) -> Result<f64> {
    discrete_visible(rbm)?;
    if let Some(level) = kernel::applies(rbm, path) {
        let params = kernel::OwnedParams::read(rbm)?;
        let v = to_vec::<f32, 2>(v.without_autodiff())?;
        return Ok(kernel::pseudo_log_likelihood(level, &params.view(), &v));
    }
    let [batch, nv] = v.dims();
    let nh = rbm.n_hidden();
    let x = rbm.hidden_input(v.clone());
    let log_partition = rbm.hidden_units.log_partition_tensor(x.clone()).sum_dim(1);
    // Sites in chunks so that the [batch, chunk, n_h] intermediate stays below ~16M floats.
    let chunk = (16_000_000 / (batch * nh).max(1)).clamp(1, nv);
    let mut total = 0.0;
    let all: Vec<usize> = (0..nv).collect();
    for part in all.chunks(chunk) {
        let sites: Vec<usize> = (0..batch).flat_map(|_| part.iter().copied()).collect();
        let lp = site_log_conditionals(
            rbm,
            v.clone(),
            x.clone(),
            log_partition.clone(),
            &sites,
            part.len(),
        );
        total += lp.sum().into_scalar::<f64>();
    }
    Ok(total / (batch * nv) as f64)
}

/// An unbiased stochastic estimate of [`pseudo_log_likelihood`]: one site per row, drawn
/// uniformly from the [`Noise`] stream `seed`. Costs one extra hidden pass instead of n_v.
///
/// # Errors
/// If the visible units are not discrete.
pub fn pseudo_log_likelihood_stochastic(rbm: &Rbm, v: Tensor<2>, seed: u64) -> Result<f64> {
    discrete_visible(rbm)?;
    let x = rbm.hidden_input(v.clone());
    let log_partition = rbm.hidden_units.log_partition_tensor(x.clone()).sum_dim(1);
    let sites = Noise::new(seed).below_many(v.dims()[0], rbm.n_visible());
    let lp = stochastic_pll_tensor(rbm, v, x, log_partition, &sites);
    Ok(lp.into_scalar::<f64>())
}

/// ln p(v_i | v_{−i}) at the site `sites[r]` of each row r, averaged over the rows, from the
/// rows' hidden inputs `x` and their Σ_j ln Z_j(x_j) (`log_partition`, `[batch, 1]`); NaN for
/// continuous visible units. `[1]`.
pub(crate) fn stochastic_pll_tensor(
    rbm: &Rbm,
    v: Tensor<2>,
    x: Tensor<2>,
    log_partition: Tensor<2>,
    sites: &[usize],
) -> Tensor<1> {
    if !rbm.visible_units.is_discrete() {
        return Tensor::full([1], f64::NAN, &v.device());
    }
    site_log_conditionals(rbm, v, x, log_partition, sites, 1).mean()
}

fn discrete_visible(rbm: &Rbm) -> Result<()> {
    if rbm.visible_units.is_discrete() {
        Ok(())
    } else {
        Err(RbmError::Unsupported(
            "pseudo-likelihood needs discrete visible units".into(),
        ))
    }
}

/// Hinton's overfitting monitor: mean F(held-out) − mean F(training). Near zero while the
/// model generalises; it grows when the model overfits the training set.
pub fn free_energy_gap(rbm: &Rbm, train: Tensor<2>, valid: Tensor<2>) -> f64 {
    let f_valid = rbm.free_energy(valid).mean().into_scalar::<f64>();
    let f_train = rbm.free_energy(train).mean().into_scalar::<f64>();
    f_valid - f_train
}

/// The visible encoding of an Ising spin for `units`: (1+s)/2 for Bernoulli, s for spins.
///
/// # Panics
/// For Gaussian units.
pub fn encode_spin(units: Units, s: i8) -> f64 {
    match units {
        Units::Bernoulli => f64::from(u8::from(s > 0)),
        Units::Spin => f64::from(s),
        Units::Gaussian => panic!("Gaussian visible units cannot encode spins"),
    }
}

/// The exact KL divergence per spin, KL(P_Ising ‖ p_model)/N, between the Boltzmann
/// distribution of the periodic Ising `lattice` at coupling `k` (zero field) and the model's
/// visible marginal, by enumerating all 2^N configurations:
/// KL/N = (E_P[−ln p_model(v)] − S_P)/N, the model's exact cross-entropy per spin minus the
/// exact entropy per spin.
///
/// # Errors
/// If N > 24, the RBM has a different number of visible units, or its ln Z cannot be
/// enumerated.
pub fn ising_kl_per_spin_exact(rbm: &HostRbm, lattice: &Lattice, k: f64) -> Result<f64> {
    let n = lattice.n_sites();
    if n > 24 {
        return Err(RbmError::Unsupported(format!(
            "exact KL needs N ≤ 24 spins, the lattice has {n}"
        )));
    }
    if rbm.n_visible != n {
        return Err(RbmError::Mismatch(format!(
            "the RBM has {} visible units, the lattice {n} spins",
            rbm.n_visible
        )));
    }
    let log_z_model = rbm.log_partition_exact()?;
    // Two passes: ln Z of the Ising model, then the expectations.
    let weights: Vec<(f64, f64)> = (0..1u64 << n)
        .map(|c| {
            let s: Vec<i8> = (0..n)
                .map(|i| if c >> i & 1 == 1 { 1 } else { -1 })
                .collect();
            let log_w = k * lattice.bond_sum(&s) as f64;
            let v: Vec<f64> = s
                .iter()
                .map(|&x| encode_spin(rbm.visible_units, x))
                .collect();
            let log_p_model = -rbm.free_energy(&v) - log_z_model;
            (log_w, log_p_model)
        })
        .collect();
    let log_z_ising = log_sum_exp(weights.iter().map(|&(lw, _)| lw));
    let mut kl = 0.0;
    for &(lw, lpm) in &weights {
        let log_p = lw - log_z_ising;
        kl += log_p.exp() * (log_p - lpm);
    }
    Ok(kl / n as f64)
}

pub use ising_data::stats::Estimate;

/// The mean free energy of the rows of `samples` with its standard error over the rows
/// (independent rows assumed).
///
/// # Errors
/// If the device cannot hand the free energies back, or there are fewer than two rows.
pub fn mean_free_energy(rbm: &Rbm, samples: Tensor<2>) -> Result<Estimate> {
    let f: Vec<f64> = to_vec(rbm.free_energy(samples))?;
    if f.len() < 2 {
        return Err(RbmError::Mismatch(format!(
            "a mean with an error bar needs at least two rows, got {}",
            f.len()
        )));
    }
    let n = f.len() as f64;
    let mean = f.iter().sum::<f64>() / n;
    let var = f.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Ok(Estimate {
        value: mean,
        std_error: (var / n).sqrt(),
    })
}

/// The mean negative log-likelihood per unit, (mean F + ln Z)/`units`, from the mean free
/// energy of some rows ([`mean_free_energy`]) and ln Z (exact with error 0, or an AIS
/// estimate), their standard errors added in quadrature.
///
/// The bias follows ln Z's: a forward AIS ln Z is a lower bound in expectation, so the NLL is
/// then biased low; a reverse AIS ln Z biases it high.
pub fn nll_per_unit(mean_free_energy: Estimate, log_partition: Estimate, units: usize) -> Estimate {
    let units = units as f64;
    Estimate {
        value: (mean_free_energy.value + log_partition.value) / units,
        std_error: mean_free_energy.std_error.hypot(log_partition.std_error) / units,
    }
}

/// The KL divergence per spin from the Ising distribution estimated from samples of it:
/// [`nll_per_unit`] of the samples minus the exact entropy per spin s of the data (e.g.
/// `ising_data::exact::entropy_per_spin_2d`), with the same standard error and the same sign
/// of bias (low with a forward AIS ln Z, high with a reverse one). Pass the exact ln Z for
/// small models or an AIS estimate ([`crate::eval::ais`]) for large ones. The samples must be
/// encoded for the model's visible units.
///
/// # Errors
/// As [`mean_free_energy`].
pub fn ising_kl_per_spin_estimate(
    rbm: &Rbm,
    samples: Tensor<2>,
    log_partition: Estimate,
    entropy_per_spin: f64,
) -> Result<Estimate> {
    let f = mean_free_energy(rbm, samples)?;
    let nll = nll_per_unit(f, log_partition, rbm.n_visible());
    Ok(Estimate {
        value: nll.value - entropy_per_spin,
        std_error: nll.std_error,
    })
}
