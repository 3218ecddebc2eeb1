//! The trainable model ([`CdModel`]): an RBM with its CD settings and persistent chains, its
//! batches and gradients, and where its steps run; the steps themselves are in
//! [`super::step`].

use burn::module::{Module, RunningState};
use burn::optim::GradientsParams;
use burn::prelude::*;

use super::config::CdConfig;
use super::ladder::Ladder;
use crate::kernel::{self, CpuPath};
use crate::noise::Noise;
use crate::rbm::Rbm;

/// An RBM with its CD settings and persistent chains: the model Burn's `Learner` trains.
#[derive(Module, Debug)]
pub struct CdModel {
    /// The RBM.
    pub rbm: Rbm,
    /// The persistent chains' visible states (saved with checkpoints; unused for plain CD):
    /// `[chains, n_v]` for PCD; for PT-PCD every replica, `[replicas · chains, n_v]`, row
    /// k·C + c chain c at the ladder's β_k, the last C rows at β = 1.
    pub chains: RunningState<Tensor<2>>,
    /// The CD settings.
    #[module(skip)]
    pub cd: CdConfig,
    /// Where the step runs on the flex CPU device: `None` (from [`CdConfig::init`]) for the
    /// process's choice ([`CpuPath::from_env`]: `RBM_KERNEL`, by default the widest
    /// instruction set of the fused kernel this CPU has), or a path forced for this model.
    /// The fused kernel (the crate-private `kernel` module) applies to Bernoulli visible and
    /// hidden units on flex; it consumes the same [`StepNoise`](crate::noise::StepNoise) as the
    /// tensor reference and
    /// computes its update up to float rounding. Elsewhere the step is the tensor reference.
    #[module(skip)]
    pub cpu_path: Option<CpuPath>,
}

/// The RBM with plain (non-autodiff) parameter tensors, for computing without a graph.
pub(crate) fn plain(rbm: &Rbm) -> Rbm {
    Rbm::from_parameters(
        rbm.weights.val().without_autodiff(),
        rbm.visible_bias.val().without_autodiff(),
        rbm.hidden_bias.val().without_autodiff(),
        rbm.visible_units,
        rbm.hidden_units,
    )
}

/// The CD estimate of the gradient of the mean log-likelihood (ascent direction), before
/// penalties.
#[derive(Debug, Clone)]
pub struct CdGradient {
    /// ∂ℓ/∂W, `[n_v, n_h]`.
    pub weights: Tensor<2>,
    /// ∂ℓ/∂a, `[n_v]`.
    pub visible_bias: Tensor<1>,
    /// ∂ℓ/∂b, `[n_h]`.
    pub hidden_bias: Tensor<1>,
    /// The negative samples v^k, `[chains or batch, n_v]`.
    pub negative: Tensor<2>,
}

/// A mini-batch for a CD step: the data, the key of the step's random numbers, and (for
/// held-out batches) training rows to compare free energies with.
#[derive(Debug, Clone)]
pub struct CdBatch {
    /// The visible vectors v⁰, `[batch, n_v]`.
    pub visible: Tensor<2>,
    /// Key of the step's [`Noise`] stream: the step is a deterministic function of the model,
    /// the data and this key.
    pub seed: u64,
    /// Training rows (any number) whose mean free energy is subtracted from the batch's to
    /// give the free-energy gap; `None` for training batches.
    pub reference: Option<Tensor<2>>,
}

impl CdBatch {
    /// A batch without reference rows.
    pub fn new(visible: Tensor<2>, seed: u64) -> Self {
        Self {
            visible,
            seed,
            reference: None,
        }
    }

    /// Adds reference (training) rows for the free-energy gap.
    pub fn with_reference(mut self, reference: Tensor<2>) -> Self {
        self.reference = Some(reference);
        self
    }
}

impl CdConfig {
    /// A trainable model: `rbm` moved to the autodiff version of its device (the optimiser
    /// needs it), with persistent chains (when `persistent` is set; with `tempering`, every
    /// replica) initialised by sampling the RBM's visible layer from zero hidden input with
    /// the keyed stream 0; see
    /// [`CdConfig::init_seeded`].
    ///
    /// # Errors
    /// If the settings are invalid ([`CdConfig::validate`]).
    pub fn init(&self, rbm: Rbm) -> crate::Result<CdModel> {
        self.init_seeded(rbm, 0)
    }

    /// [`CdConfig::init`] with the persistent chains' initial states drawn from the
    /// [`Noise`] stream `seed` (never from the device's generator, so that a training run is
    /// a function of its seeds).
    ///
    /// # Errors
    /// If the settings are invalid ([`CdConfig::validate`]).
    pub fn init_seeded(&self, rbm: Rbm, seed: u64) -> crate::Result<CdModel> {
        self.validate()?;
        let device = rbm.weights.val().device();
        let rbm = rbm.train();
        let chains = match (&self.tempering, self.persistent) {
            (Some(pt), true) => pt.replicas * self.chains,
            (None, true) => self.chains,
            (_, false) => 1,
        };
        let zeros = Tensor::<2>::zeros([chains, rbm.n_hidden()], &device.without_autodiff());
        let base = plain(&rbm);
        let start = base
            .visible_units
            .sample_with(base.visible_input(zeros), &mut Noise::new(seed));
        Ok(CdModel {
            rbm,
            chains: RunningState::new(start),
            cd: self.clone(),
            cpu_path: None,
        })
    }
}

impl CdModel {
    /// The model with the fused CPU kernel allowed (the process's choice, see
    /// [`CdModel::cpu_path`]) or not (the tensor reference).
    pub fn with_cpu_kernel(self, allowed: bool) -> Self {
        self.with_cpu_path((!allowed).then_some(CpuPath::Tensor))
    }

    /// The model with its CPU path forced (`Some`) or left to the process (`None`; see
    /// [`CdModel::cpu_path`]).
    pub fn with_cpu_path(mut self, path: Option<CpuPath>) -> Self {
        self.cpu_path = path;
        self
    }

    /// The CPU path this model asks for: its own, or the process's.
    ///
    /// # Panics
    /// If `RBM_KERNEL` is invalid (binaries check it first with [`CpuPath::from_env`]).
    pub fn requested_cpu_path(&self) -> CpuPath {
        self.cpu_path
            .unwrap_or_else(|| CpuPath::from_env().unwrap_or_else(|e| panic!("{e}")))
    }

    /// The PT-PCD ladder of this model's chains, if it tempers them.
    pub(super) fn ladder(&self) -> Option<Ladder> {
        let pt = self.cd.tempering.as_ref().filter(|_| self.cd.persistent)?;
        Some(Ladder::new(pt, self.cd.chains))
    }

    /// The fused kernel's level for this model's steps, if it applies.
    pub(super) fn kernel_level(&self) -> Option<kernel::Level> {
        kernel::applies(&self.rbm, self.requested_cpu_path())
    }

    /// Where this model's steps run: the fused kernel's instruction set, or the tensor
    /// reference (forced, or because the kernel does not apply to the model or device).
    pub fn effective_cpu_path(&self) -> CpuPath {
        self.kernel_level()
            .map_or(CpuPath::Tensor, |level| CpuPath::Kernel(level.isa()))
    }

    /// The gradients handed to the optimiser (descent direction; the weight penalties
    /// included under [`PenaltyConvention::Gradient`](super::PenaltyConvention::Gradient),
    /// left to the optimiser under `Decoupled`; see [`crate::train`]).
    pub fn optimiser_gradients(&self, g: &CdGradient) -> GradientsParams {
        let w = self.rbm.weights.val().without_autodiff();
        let mut gw = g.weights.clone().neg();
        let (l1, l2) = self.cd.gradient_penalties();
        if l1 > 0.0 {
            gw = gw + w.clone().sign() * l1;
        }
        if l2 > 0.0 {
            gw = gw + w * l2;
        }
        let mut grads = GradientsParams::new();
        grads.register(self.rbm.weights.id, gw);
        grads.register(self.rbm.visible_bias.id, g.visible_bias.clone().neg());
        grads.register(self.rbm.hidden_bias.id, g.hidden_bias.clone().neg());
        grads
    }
}
