//! One pass up a layer: E[h | v] and a draw of h, on the fused CPU kernel where it applies.

use burn::prelude::*;

use crate::error::Result;
use crate::kernel::{self, CpuPath, OwnedParams};
use crate::noise::Noise;
use crate::rbm::Rbm;
use crate::tensor::to_vec;

/// E[h | v] and a draw of h ~ p(h | v) of `rbm` from `noise` (one number per hidden unit,
/// row-major, as [`crate::Units::sample_with`] draws them), on `path` where the fused kernel
/// applies (Bernoulli–Bernoulli layers on flex): the same draws as tensor operations up to
/// f32 rounding of the means (tested). `[batch, n_h]` each.
///
/// # Errors
/// If the device cannot hand the parameters or `v` back.
pub fn hidden_mean_and_sample_on(
    rbm: &Rbm,
    v: Tensor<2>,
    noise: &mut Noise,
    path: CpuPath,
) -> Result<(Tensor<2>, Tensor<2>)> {
    let Some(level) = kernel::applies(rbm, path) else {
        let input = rbm.hidden_input(v);
        let sample = rbm.hidden_units.sample_with(input.clone(), noise);
        return Ok((rbm.hidden_units.mean(input), sample));
    };
    let device = v.device();
    let rows = v.dims()[0];
    let params = OwnedParams::read(rbm)?;
    let v: Vec<f32> = to_vec(v.without_autodiff())?;
    let means = kernel::hidden_means(level, &params.view(), &v);
    let numbers = noise.draw(rbm.hidden_units.draw(), means.len());
    let sample: Vec<f32> = numbers
        .iter()
        .zip(&means)
        .map(|(u, p)| f32::from(u8::from(u < p)))
        .collect();
    let shape = [rows, rbm.n_hidden()];
    Ok((
        Tensor::from_data(TensorData::new(means, shape), &device),
        Tensor::from_data(TensorData::new(sample, shape), &device),
    ))
}

/// [`hidden_mean_and_sample_on`] on the path of the process ([`CpuPath::from_env`]).
///
/// # Errors
/// As [`hidden_mean_and_sample_on`], or an invalid `RBM_KERNEL`.
pub fn hidden_mean_and_sample(
    rbm: &Rbm,
    v: Tensor<2>,
    noise: &mut Noise,
) -> Result<(Tensor<2>, Tensor<2>)> {
    hidden_mean_and_sample_on(rbm, v, noise, CpuPath::from_env()?)
}
