//! The optimiser of CD training: SGD with momentum (dampening 0) as a Burn [`Optimizer`],
//! whose update of a parameter on the flex device is one multithreaded pass over the tensors'
//! host buffers (Burn's SGD makes five single-threaded passes, while the other cores idle).
//!
//! The mathematics is Burn's `Sgd` with `MomentumConfig { dampening: 0, nesterov: false }`,
//! operation by operation in f32, so the weights are bit-identical to it on every device
//! (tested); its state is recorded under the same names (`momentum.velocity`), so a checkpoint
//! written with Burn's SGD resumes with this optimiser and the other way round (tested).
//!
//! The L1 and L2 penalties are not the optimiser's: they are part of the gradient that the
//! model's train step hands it (see [`crate::train`]), so their meaning is fixed by the
//! configuration ([`super::CdConfig::l1`]) whatever optimiser receives the gradient.

use burn::optim::{
    LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource, join_path,
};
use burn::prelude::*;

use crate::kernel::{HostF32, momentum_update};

/// SGD with momentum μ and no dampening: v ← g + μ v (v = g at the first step), θ ← θ − ε v;
/// with μ = 0, θ ← θ − ε g and no state.
#[derive(Clone, Debug)]
pub struct CdSgd {
    /// μ, rounded to f32 as Burn's momentum stores it.
    momentum: f32,
}

impl CdSgd {
    /// The optimiser with momentum `momentum` (0 for plain SGD).
    pub fn new(momentum: f64) -> Self {
        Self {
            momentum: momentum as f32,
        }
    }

    /// As a Burn module optimiser.
    pub fn init(self) -> ModuleOptimizer {
        ModuleOptimizer::from(self)
    }
}

/// The state of one parameter: its velocity (absent without momentum), recorded as Burn's
/// `SgdState` is (`momentum.velocity`).
#[derive(Clone)]
pub struct CdSgdState<const D: usize> {
    /// The velocity, when the optimiser has momentum.
    pub momentum: Option<Velocity<D>>,
}

/// A parameter's velocity, recorded as Burn's `MomentumState` is (`velocity`).
#[derive(Clone)]
pub struct Velocity<const D: usize> {
    /// v.
    pub velocity: Tensor<D>,
}

// What `#[derive(RecordState)]` writes inside burn-optim (its expansion names that crate's
// root, so it cannot be used here).
impl<const D: usize> RecordState for CdSgdState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        if let Some(m) = &self.momentum {
            m.state_flatten(&join_path(prefix, "momentum"), out);
        }
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let path = join_path(prefix, "momentum");
        let momentum = if src.has_under(&path) {
            Velocity::state_unflatten(&path, src, device)
        } else {
            None
        };
        Some(Self { momentum })
    }
}

impl<const D: usize> RecordState for Velocity<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        out.push_tensor(prefix, "velocity", self.velocity.clone().into_data());
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let velocity = Tensor::from_data(src.take_tensor(prefix, "velocity")?, device);
        Some(Self { velocity })
    }
}

/// Parameters of at least this many elements take the host pass on flex; smaller ones (the
/// biases) the tensor operations, which give the same bits.
const HOST_FROM: usize = 1 << 14;

impl Optimizer for CdSgd {
    type State<const D: usize> = CdSgdState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let velocity = state.and_then(|s| s.momentum).map(|m| m.velocity);
        if self.momentum == 0.0 {
            let state = CdSgdState { momentum: None };
            return (tensor - grad.mul_scalar(lr), Some(state));
        }
        let on_host =
            tensor.device() == Device::flex() && tensor.shape().num_elements() >= HOST_FROM;
        let (tensor, velocity) = match on_host
            .then(|| host_step(&tensor, &grad, velocity.as_ref(), self.momentum, lr as f32))
            .flatten()
        {
            Some(updated) => updated,
            None => {
                // Burn's momentum and SGD, operation by operation (its g·(1 − dampening) is
                // g exactly with dampening 0, so it is left out).
                let velocity = match velocity {
                    Some(v) => grad.add(v.mul_scalar(self.momentum)),
                    None => grad,
                };
                (tensor - velocity.clone().mul_scalar(lr), velocity)
            }
        };
        let state = CdSgdState {
            momentum: Some(Velocity { velocity }),
        };
        (tensor, Some(state))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.momentum = state.momentum.map(|m| Velocity {
            velocity: m.velocity.to_device(device),
        });
        state
    }
}

/// The update on the host for f32 tensors on flex; `None` when a tensor cannot be read (the
/// tensor operations then run).
fn host_step<const D: usize>(
    tensor: &Tensor<D>,
    grad: &Tensor<D>,
    velocity: Option<&Tensor<D>>,
    mu: f32,
    lr: f32,
) -> Option<(Tensor<D>, Tensor<D>)> {
    let f32_ = |t: &Tensor<D>| t.dtype() == burn::tensor::DType::F32;
    if !f32_(tensor) || !f32_(grad) || velocity.is_some_and(|v| !f32_(v)) {
        return None;
    }
    let theta = HostF32::read(tensor.clone()).ok()?;
    let g = HostF32::read(grad.clone()).ok()?;
    let v = match velocity {
        Some(v) => Some(HostF32::read(v.clone()).ok()?),
        None => None,
    };
    let (theta_new, v_new) = momentum_update(
        theta.as_slice(),
        g.as_slice(),
        v.as_ref().map(HostF32::as_slice),
        mu,
        lr,
    );
    let shape = tensor.shape();
    let device = tensor.device();
    let make = |x: Vec<f32>| Tensor::<D>::from_data(TensorData::new(x, shape.clone()), &device);
    Some((make(theta_new), make(v_new)))
}
