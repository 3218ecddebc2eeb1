//! The CD step as Burn tensor operations: the reference implementation, which runs on every
//! device and for every unit type.

use burn::prelude::*;

use super::model::CdGradient;
use super::output::CdOutput;
use crate::eval::likelihood::stochastic_pll_tensor;
use crate::noise::StepNoise;
use crate::rbm::Rbm;

/// The CD-k (or PCD, from the `chains`) gradient estimate for the batch `v0` and its
/// statistics (see [`crate::train`]), with the step's random numbers `noise`. `rbm` has
/// plain (non-autodiff) parameters.
///
/// It uses the fewest matrix products: x⁰ = v⁰W + b serves E[h|v⁰], the first hidden sample,
/// F(v⁰) and the pseudo-likelihood; x^k serves E[h|v^k] and F(v^k). The reconstruction error
/// is that of Hinton's code: the mean squared difference per unit between v⁰ and
/// E[v | h⁰], h⁰ ~ p(h|v⁰), the first half-step of the chain.
pub(super) fn cd_step(
    rbm: &Rbm,
    v0: Tensor<2>,
    chains: Option<Tensor<2>>,
    k: usize,
    mut noise: StepNoise,
) -> (CdGradient, CdOutput) {
    let (vu, hu) = (rbm.visible_units, rbm.hidden_units);
    let batch_size = v0.dims()[0];
    let x0 = rbm.hidden_input(v0.clone());
    let ph0 = hu.mean(x0.clone());
    let h0 = hu.sample_from(x0.clone(), noise.next_hidden());
    let visible_input0 = rbm.visible_input(h0);
    let reconstruction_error = (vu.mean(visible_input0.clone()) - v0.clone())
        .square()
        .mean();
    let (mut v, mut x, first) = match chains {
        Some(chains) => {
            let x = rbm.hidden_input(chains.clone());
            (chains, x, 0)
        }
        None => {
            // CD: the chain's first visible input is the reconstruction's.
            let v = vu.sample_from(visible_input0, noise.next_visible());
            let x = rbm.hidden_input(v.clone());
            (v, x, 1)
        }
    };
    for _ in first..k {
        let h = hu.sample_from(x, noise.next_hidden());
        v = vu.sample_from(rbm.visible_input(h), noise.next_visible());
        x = rbm.hidden_input(v.clone());
    }
    let phk = hu.mean(x.clone());
    let (b0, bk) = (batch_size as f64, v.dims()[0] as f64);
    let weights = v0.clone().transpose().matmul(ph0.clone()) / b0
        - v.clone().transpose().matmul(phk.clone()) / bk;
    let visible_bias = (v0.clone().mean_dim(0) - v.clone().mean_dim(0)).squeeze_dim(0);
    let ph0_mean = ph0.mean_dim(0);
    let hidden_bias = (ph0_mean.clone() - phk.mean_dim(0)).squeeze_dim(0);
    let log_partition0 = hu.log_partition_tensor(x0.clone()).sum_dim(1);
    let free_energy = |v: Tensor<2>, log_partition: Tensor<2>| {
        rbm.free_energy_from_hidden(v, log_partition).mean()
    };
    let pseudo_log_likelihood =
        stochastic_pll_tensor(rbm, v0.clone(), x0, log_partition0.clone(), &noise.sites);
    let free_energy_data = free_energy(v0, log_partition0);
    let free_energy_gap = Tensor::<1>::full([1], f64::NAN, &free_energy_data.device());
    let stats = CdOutput {
        reconstruction_error,
        free_energy_negative: free_energy(v.clone(), hu.log_partition_tensor(x).sum_dim(1)),
        free_energy_data,
        pseudo_log_likelihood,
        free_energy_gap,
        hidden_mean: ph0_mean.squeeze_dim(0),
        swap_acceptance: Vec::new(),
        batch_size,
    };
    let gradient = CdGradient {
        weights,
        visible_bias,
        hidden_bias,
        negative: v,
    };
    (gradient, stats)
}
