//! The optimiser of CD training: SGD with momentum (dampening 0) as a Burn [`Optimizer`],
//! whose update of a parameter on the flex device is one multithreaded pass over the tensors'
//! host buffers (Burn's SGD makes five single-threaded passes, while the other cores idle).
//!
//! The mathematics is Burn's `Sgd` with `MomentumConfig { dampening: 0, nesterov: false }`,
//! operation by operation in f32, so the weights are bit-identical to it on every device
//! (tested); its state is recorded under the same names (`momentum.velocity`), so a checkpoint
//! written with Burn's SGD resumes with this optimiser and the other way round (tested).
//!
//! # Penalties
//! Under [`super::PenaltyConvention::Gradient`] (the default) the L1 and L2 penalties are not
//! the optimiser's: they are part of the gradient that the model's train step hands it (see
//! [`crate::train`]). Under [`super::PenaltyConvention::Decoupled`] the optimiser applies them
//! itself ([`CdSgd::with_decoupled_penalty`], set by [`super::TrainingConfig::optimizer`]):
//! after the momentum update, W ← W − ε v − ε (λ₁ sign W₀ + λ₂ W₀), W₀ the weights before the
//! step, the penalty never entering the velocity. The penalty is stateless, so the recorded
//! state is the same in both conventions. The weights are told from the biases by rank (see
//! [`CdSgd`]).

use burn::optim::{
    LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource, join_path,
};
use burn::prelude::*;

use crate::kernel::{HostF32, WeightPenalty, momentum_update};

/// SGD with momentum μ and no dampening: v ← g + μ v (v = g at the first step), θ ← θ − ε v;
/// with μ = 0, θ ← θ − ε g and no state. With a decoupled penalty, parameters of rank ≥ 2
/// (the weights) then take θ ← θ − ε (λ₁ sign θ₀ + λ₂ θ₀), θ₀ the parameter before the step.
///
/// # Weights and biases
/// The weights are told from the biases by rank: a parameter of rank ≥ 2 is a weight matrix
/// and is penalised, a rank-1 parameter (a bias) never is. Burn's [`Optimizer::step`] sees a
/// parameter's tensor and rank but not its id or path; the rank needs neither the model at
/// construction (ids) nor its field names (paths), and it survives a checkpoint's resume
/// unchanged. In an [`crate::Rbm`] the weights are the only rank-2 parameter (the persistent
/// chains of a [`super::CdModel`] are running state, not parameters, and the optimiser never
/// sees them).
#[derive(Clone, Debug)]
pub struct CdSgd {
    /// μ, rounded to f32 as Burn's momentum stores it.
    momentum: f32,
    /// The decoupled penalty on the weights (λ₁, λ₂ rounded to f32), `None` when both are 0.
    penalty: Option<WeightPenalty>,
}

impl CdSgd {
    /// The optimiser with momentum `momentum` (0 for plain SGD) and no penalty of its own.
    pub fn new(momentum: f64) -> Self {
        Self {
            momentum: momentum as f32,
            penalty: None,
        }
    }

    /// The optimiser that also applies the penalties λ₁ = `l1`, λ₂ = `l2` to the weights
    /// (parameters of rank ≥ 2) itself, decoupled from the gradient
    /// ([`super::PenaltyConvention::Decoupled`]; see [`CdSgd`]). Zero strengths
    /// leave the optimiser as it was.
    pub fn with_decoupled_penalty(mut self, l1: f64, l2: f64) -> Self {
        let (l1, l2) = (l1 as f32, l2 as f32);
        self.penalty = (l1 != 0.0 || l2 != 0.0).then_some(WeightPenalty { l1, l2 });
        self
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
        // Only the weights (rank ≥ 2) are penalised; see the type's docs.
        let penalty = if D >= 2 { self.penalty } else { None };
        if self.momentum == 0.0 {
            let state = CdSgdState { momentum: None };
            let before = penalty.map(|p| (p, tensor.clone()));
            return (decay(tensor - grad.mul_scalar(lr), before, lr), Some(state));
        }
        let on_host =
            tensor.device() == Device::flex() && tensor.shape().num_elements() >= HOST_FROM;
        let (tensor, velocity) = match on_host
            .then(|| {
                host_step(
                    &tensor,
                    &grad,
                    velocity.as_ref(),
                    self.momentum,
                    lr as f32,
                    penalty,
                )
            })
            .flatten()
        {
            Some(updated) => updated,
            None => tensor_step(tensor, grad, velocity, self.momentum, lr, penalty),
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

/// The momentum update by tensor operations (every device; the biases on flex): Burn's
/// momentum and SGD operation by operation (its g·(1 − dampening) is g exactly with dampening
/// 0, so it is left out), then the decoupled penalty ([`decay`]). The same f32 operations, in
/// the same order, as the host pass [`momentum_update`] (tested).
fn tensor_step<const D: usize>(
    tensor: Tensor<D>,
    grad: Tensor<D>,
    velocity: Option<Tensor<D>>,
    mu: f32,
    lr: LearningRate,
    penalty: Option<WeightPenalty>,
) -> (Tensor<D>, Tensor<D>) {
    let velocity = match velocity {
        Some(v) => grad.add(v.mul_scalar(mu)),
        None => grad,
    };
    let before = penalty.map(|p| (p, tensor.clone()));
    let stepped = tensor - velocity.clone().mul_scalar(lr);
    (decay(stepped, before, lr), velocity)
}

/// `stepped` − ε (λ₁ sign θ₀ + λ₂ θ₀) for the penalty and the parameter before the step θ₀
/// in `before`, the terms of zero strength left out (as [`WeightPenalty::of`] leaves them
/// out); `stepped` itself without a penalty. (The parameter before the step is cloned only
/// when there is a penalty, so that the unpenalised update keeps its tensors unshared.)
fn decay<const D: usize>(
    stepped: Tensor<D>,
    before: Option<(WeightPenalty, Tensor<D>)>,
    lr: LearningRate,
) -> Tensor<D> {
    let Some((WeightPenalty { l1, l2 }, before)) = before else {
        return stepped;
    };
    let p = match (l1 != 0.0, l2 != 0.0) {
        (true, true) => before.clone().sign().mul_scalar(l1) + before.mul_scalar(l2),
        (true, false) => before.sign().mul_scalar(l1),
        (false, true) => before.mul_scalar(l2),
        (false, false) => return stepped,
    };
    stepped - p.mul_scalar(lr)
}

/// The update on the host for f32 tensors on flex; `None` when a tensor cannot be read (the
/// tensor operations then run).
fn host_step<const D: usize>(
    tensor: &Tensor<D>,
    grad: &Tensor<D>,
    velocity: Option<&Tensor<D>>,
    mu: f32,
    lr: f32,
    penalty: Option<WeightPenalty>,
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
        penalty,
    );
    let shape = tensor.shape();
    let device = tensor.device();
    let make = |x: Vec<f32>| Tensor::<D>::from_data(TensorData::new(x, shape.clone()), &device);
    Some((make(theta_new), make(v_new)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise::Noise;

    /// The host pass and the tensor operations give the same bits, with and without a
    /// velocity, for each form of decoupled penalty and without one: the fused CPU update
    /// and the update on every other device are one mathematics.
    #[test]
    fn the_host_pass_gives_the_tensor_operations_bits() {
        let mut noise = Noise::new(17);
        let (rows, cols) = (200, 90); // past HOST_FROM, not a multiple of the split
        assert!(rows * cols >= HOST_FROM);
        let d = Device::flex();
        let mut tensor = |scale: f32| {
            let x: Vec<f32> = noise
                .uniforms(rows * cols)
                .iter()
                .map(|u| scale * (u - 0.5))
                .collect();
            Tensor::<2>::from_data(TensorData::new(x, [rows, cols]), &d)
        };
        let (theta, grad, v) = (tensor(1.0), tensor(0.2), tensor(0.1));
        let bits = |t: Tensor<2>| -> Vec<u32> {
            let x = t.into_data().try_to_vec::<f32>().expect("f32");
            x.iter().map(|x| x.to_bits()).collect()
        };
        let penalties = [
            None,
            Some(WeightPenalty { l1: 2e-3, l2: 0.0 }),
            Some(WeightPenalty { l1: 0.0, l2: 3e-2 }),
            Some(WeightPenalty { l1: 2e-3, l2: 3e-2 }),
        ];
        for penalty in penalties {
            for velocity in [None, Some(&v)] {
                let (mu, lr) = (0.5f32, 0.1);
                let (h_theta, h_v) =
                    host_step(&theta, &grad, velocity, mu, lr as f32, penalty).expect("f32");
                let (t_theta, t_v) = tensor_step(
                    theta.clone(),
                    grad.clone(),
                    velocity.cloned(),
                    mu,
                    lr,
                    penalty,
                );
                let what = format!("{penalty:?}, velocity {}", velocity.is_some());
                assert!(bits(h_v) == bits(t_v), "{what}: the velocities differ");
                let h = bits(h_theta);
                assert!(h == bits(t_theta), "{what}: the parameters differ");
                // The penalty changes the result: the comparison can fail.
                if penalty.is_some() {
                    let (plain, _) =
                        tensor_step(theta.clone(), grad.clone(), velocity.cloned(), mu, lr, None);
                    assert!(h != bits(plain), "{what}: the penalty changed nothing");
                }
            }
        }
    }
}
