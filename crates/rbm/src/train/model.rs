//! The trainable model ([`CdModel`]), its batches, and Burn's step traits, which choose between
//! the two implementations of the step: the fused CPU kernel ([`super::fused`]) where it
//! applies, the tensor reference ([`super::reference`]) everywhere else. Both consume one
//! [`StepNoise`] drawn here.

use burn::module::{Module, RunningState};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::train::{InferenceStep, TrainOutput, TrainStep};

use super::config::CdConfig;
use super::output::CdOutput;
use super::{fused, reference};
use crate::kernel::{self, CpuPath};
use crate::noise::{Noise, StepNoise, StepShape};
use crate::rbm::Rbm;

/// An RBM with its CD settings and persistent chains: the model Burn's `Learner` trains.
#[derive(Module, Debug)]
pub struct CdModel {
    /// The RBM.
    pub rbm: Rbm,
    /// The persistent chains' visible states `[chains, n_v]` (saved with checkpoints; unused
    /// for plain CD).
    pub chains: RunningState<Tensor<2>>,
    /// The CD settings.
    #[module(skip)]
    pub cd: CdConfig,
    /// Where the step runs on the flex CPU device: `None` (from [`CdConfig::init`]) for the
    /// process's choice ([`CpuPath::from_env`]: `RBM_KERNEL`, by default the widest
    /// instruction set of the fused kernel this CPU has), or a path forced for this model.
    /// The fused kernel (the crate-private `kernel` module) applies to Bernoulli visible and
    /// hidden units on flex; it consumes the same [`StepNoise`] as the tensor reference and
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

    /// The fused kernel's level for this model's steps, if it applies.
    fn kernel_level(&self) -> Option<kernel::Level> {
        kernel::applies(&self.rbm, self.requested_cpu_path())
    }

    /// Where this model's steps run: the fused kernel's instruction set, or the tensor
    /// reference (forced, or because the kernel does not apply to the model or device).
    pub fn effective_cpu_path(&self) -> CpuPath {
        self.kernel_level()
            .map_or(CpuPath::Tensor, |level| CpuPath::Kernel(level.isa()))
    }

    /// The persistent chains (PCD; read once) and every random number of a step on `v0`,
    /// drawn from `noise` in the numbers the step's shape asks for.
    fn step_inputs(&self, v0: &Tensor<2>, noise: &mut Noise) -> (Option<Tensor<2>>, StepNoise) {
        let chains = self
            .cd
            .persistent
            .then(|| self.chains.value_sync().without_autodiff());
        let shape = StepShape {
            n_visible: self.rbm.n_visible(),
            n_hidden: self.rbm.n_hidden(),
            batch: v0.dims()[0],
            chains: chains.as_ref().map(|c| c.dims()[0]),
            k: self.cd.k,
            visible: self.rbm.visible_units.draw(),
            hidden: self.rbm.hidden_units.draw(),
        };
        (chains, StepNoise::draw(noise, &shape))
    }

    /// The CD-k (or PCD) gradient estimate for the batch `v0` (see [`crate::train`]), with
    /// the batch statistics, drawing every random number from `noise`.
    ///
    /// # Panics
    /// If the device cannot hand the model's tensors to the fused kernel.
    pub fn cd_gradient(&self, v0: Tensor<2>, noise: &mut Noise) -> (CdGradient, CdOutput) {
        let (chains, step_noise) = self.step_inputs(&v0, noise);
        if let Some(level) = self.kernel_level() {
            return fused::cd_gradient(level, self, v0, chains, step_noise)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let v0 = v0.without_autodiff();
        reference::cd_step(&plain(&self.rbm), v0, chains, self.cd.k, step_noise)
    }

    /// The statistics of a batch without a training step (held-out data): those of
    /// [`CdModel::cd_gradient`], plus the free-energy gap against the batch's reference rows.
    /// The persistent chains are read, not advanced.
    ///
    /// # Panics
    /// As [`CdModel::cd_gradient`].
    pub fn evaluate(&self, batch: CdBatch) -> CdOutput {
        let mut noise = Noise::new(batch.seed);
        let level = self.kernel_level();
        let mut out = if let Some(level) = level {
            let (chains, step_noise) = self.step_inputs(&batch.visible, &mut noise);
            fused::statistics(level, self, batch.visible, chains, step_noise)
                .unwrap_or_else(|e| panic!("{e}"))
        } else {
            self.cd_gradient(batch.visible, &mut noise).1
        };
        if let Some(reference) = batch.reference {
            let f_ref = match level {
                Some(level) => fused::mean_free_energy(level, self, reference)
                    .unwrap_or_else(|e| panic!("{e}")),
                None => plain(&self.rbm)
                    .free_energy(reference.without_autodiff())
                    .mean(),
            };
            out.free_energy_gap = out.free_energy_data.clone() - f_ref;
        }
        out
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

impl TrainStep for CdModel {
    type Input = CdBatch;
    type Output = CdOutput;

    fn step(&self, batch: CdBatch) -> TrainOutput<CdOutput> {
        let mut noise = Noise::new(batch.seed);
        if let Some(level) = self.kernel_level() {
            let (chains, step_noise) = self.step_inputs(&batch.visible, &mut noise);
            return fused::train_step(level, self, batch.visible, chains, step_noise)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let (g, item) = self.cd_gradient(batch.visible, &mut noise);
        if self.cd.persistent {
            self.chains.update(g.negative.clone());
            // Fold the update in now, so that a checkpoint written after this step records
            // the chains it leaves (the running state otherwise lags one update).
            let _ = self.chains.value_sync();
        }
        TrainOutput {
            grads: self.optimiser_gradients(&g),
            item,
        }
    }
}

impl InferenceStep for CdModel {
    type Input = CdBatch;
    type Output = CdOutput;

    fn step(&self, batch: CdBatch) -> CdOutput {
        self.evaluate(batch)
    }
}
