//! The CD step on the fused CPU kernel ([`crate::kernel`]): the model's tensors read on the
//! host, the kernel's results turned back into tensors.

use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::train::TrainOutput;

use super::model::{CdGradient, CdModel};
use super::output::CdOutput;
use crate::error::Result;
use crate::kernel::{self, GradientForm, HostF32, HostStep, Level, OwnedParams, StepRequest};
use crate::noise::StepNoise;
use crate::tensor::to_vec;

/// The kernel's step for `model` on the batch `v0` (and its persistent `chains` for PCD), and
/// the device its results belong on.
///
/// # Errors
/// If the device cannot hand the model's tensors back.
fn step(
    level: Level,
    model: &CdModel,
    v0: Tensor<2>,
    chains: Option<Tensor<2>>,
    noise: StepNoise,
    gradient: Option<GradientForm>,
) -> Result<(HostStep, Device)> {
    let params = OwnedParams::read(&model.rbm)?;
    let v0 = HostF32::read(v0.without_autodiff())?;
    let chains = match chains {
        Some(chains) => {
            let rows = chains.dims()[0];
            Some((to_vec::<f32, 2>(chains)?, rows))
        }
        None => None,
    };
    let request = StepRequest {
        k: model.cd.k,
        chains: chains.as_ref().map(|(c, rows)| (c.as_slice(), *rows)),
        gradient,
    };
    let host = kernel::cd_step(level, &params.view(), v0.as_slice(), &request, noise);
    Ok((host, params.device))
}

/// The ascent-direction gradient and the statistics ([`CdModel::cd_gradient`]).
pub(super) fn cd_gradient(
    level: Level,
    model: &CdModel,
    v0: Tensor<2>,
    chains: Option<Tensor<2>>,
    noise: StepNoise,
) -> Result<(CdGradient, CdOutput)> {
    let form = GradientForm {
        descent: false,
        l1: 0.0,
        l2: 0.0,
    };
    let (mut host, device) = step(level, model, v0, chains, noise, Some(form))?;
    let [nv, nh] = model.rbm.weights.dims();
    let item = output(&host, &device);
    let negative = negative(&host, nv, &device);
    let weights = host.weights.take().expect("requested");
    let gradient = CdGradient {
        weights: Tensor::from_data(TensorData::new(weights, [nv, nh]), &device),
        visible_bias: vector(host.visible_bias, &device),
        hidden_bias: vector(host.hidden_bias, &device),
        negative,
    };
    Ok((gradient, item))
}

/// The statistics of a batch without a gradient ([`CdModel::evaluate`]).
pub(super) fn statistics(
    level: Level,
    model: &CdModel,
    v0: Tensor<2>,
    chains: Option<Tensor<2>>,
    noise: StepNoise,
) -> Result<CdOutput> {
    let (host, device) = step(level, model, v0, chains, noise, None)?;
    Ok(output(&host, &device))
}

/// The mean free energy of the rows `v` on the kernel (the held-out batches' reference rows),
/// `[1]`.
///
/// # Errors
/// If the device cannot hand the tensors back.
pub(super) fn mean_free_energy(level: Level, model: &CdModel, v: Tensor<2>) -> Result<Tensor<1>> {
    let params = OwnedParams::read(&model.rbm)?;
    let v = HostF32::read(v.without_autodiff())?;
    let f = kernel::mean_free_energy(level, &params.view(), v.as_slice());
    Ok(scalar(f, &params.device))
}

/// The training step: the descent direction with the gradient's penalties (none under
/// [`super::PenaltyConvention::Decoupled`], where the optimiser applies them) comes out of the
/// kernel, so no further pass over the weights is needed; and, for PCD, the negative samples
/// (the persistent chains' next states).
pub(super) fn train_step(
    level: Level,
    model: &CdModel,
    v0: Tensor<2>,
    chains: Option<Tensor<2>>,
    noise: StepNoise,
) -> Result<(TrainOutput<CdOutput>, Option<Tensor<2>>)> {
    let (l1, l2) = model.cd.gradient_penalties();
    let form = GradientForm {
        descent: true,
        l1: l1 as f32,
        l2: l2 as f32,
    };
    let (mut host, device) = step(level, model, v0, chains, noise, Some(form))?;
    let [nv, nh] = model.rbm.weights.dims();
    let negative = model.cd.persistent.then(|| negative(&host, nv, &device));
    let item = output(&host, &device);
    let weights = host.weights.take().expect("requested");
    let mut grads = GradientsParams::new();
    grads.register(
        model.rbm.weights.id,
        Tensor::<2>::from_data(TensorData::new(weights, [nv, nh]), &device),
    );
    grads.register(
        model.rbm.visible_bias.id,
        vector(host.visible_bias, &device),
    );
    grads.register(model.rbm.hidden_bias.id, vector(host.hidden_bias, &device));
    Ok((TrainOutput { grads, item }, negative))
}

fn vector(x: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = x.len();
    Tensor::from_data(TensorData::new(x, [n]), device)
}

fn scalar(x: f64, device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(vec![x as f32], [1]), device)
}

fn negative(host: &HostStep, nv: usize, device: &Device) -> Tensor<2> {
    let (v, rows) = &host.negative;
    Tensor::from_data(TensorData::new(v.clone(), [*rows, nv]), device)
}

fn output(host: &HostStep, device: &Device) -> CdOutput {
    CdOutput {
        reconstruction_error: scalar(host.reconstruction_error, device),
        free_energy_data: scalar(host.free_energy_data, device),
        free_energy_negative: scalar(host.free_energy_negative, device),
        pseudo_log_likelihood: scalar(host.pseudo_log_likelihood, device),
        free_energy_gap: scalar(f64::NAN, device),
        hidden_mean: vector(host.hidden_mean.clone(), device),
        swap_acceptance: Vec::new(),
        batch_size: host.batch,
    }
}
