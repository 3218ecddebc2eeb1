//! The settings of CD training: [`CdConfig`] (the step) and [`TrainingConfig`] (the run).

use burn::lr_scheduler::exponential::ExponentialLrSchedulerConfig;
use burn::lr_scheduler::linear::LinearLrSchedulerConfig;
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::module::RunningState;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::model::{CdModel, plain};
use crate::noise::Noise;
use crate::rbm::Rbm;

/// Contrastive-divergence settings.
#[derive(Config, Debug)]
pub struct CdConfig {
    /// Gibbs steps per update (the k of CD-k).
    #[config(default = 1)]
    pub k: usize,
    /// Persistent chains (PCD) instead of chains restarted at the data (CD).
    #[config(default = false)]
    pub persistent: bool,
    /// Number of persistent chains (fantasy particles) for PCD.
    #[config(default = 100)]
    pub chains: usize,
    /// L1 strength λ₁ on the weights (see [`crate::train`] for the convention).
    #[config(default = 0.0)]
    pub l1: f64,
    /// L2 strength λ₂ on the weights.
    #[config(default = 0.0)]
    pub l2: f64,
}

impl CdConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// For k = 0, no persistent chains, or negative or non-finite penalties.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |m: String| Err(crate::RbmError::Config(m));
        if self.k == 0 {
            return bad("CD needs k ≥ 1 Gibbs steps".into());
        }
        if self.persistent && self.chains == 0 {
            return bad("PCD needs at least one persistent chain".into());
        }
        for (name, x) in [("l1", self.l1), ("l2", self.l2)] {
            if !(x.is_finite() && x >= 0.0) {
                return bad(format!("{name} must be finite and ≥ 0, got {x}"));
            }
        }
        Ok(())
    }

    /// A trainable model: `rbm` moved to the autodiff version of its device (the optimiser
    /// needs it), with persistent chains (when `persistent` is set) initialised by sampling
    /// the RBM's visible layer from zero hidden input with the keyed stream 0; see
    /// [`CdConfig::init_seeded`].
    ///
    /// # Panics
    /// If the settings are invalid.
    pub fn init(&self, rbm: Rbm) -> CdModel {
        self.init_seeded(rbm, 0)
    }

    /// [`CdConfig::init`] with the persistent chains' initial states drawn from the
    /// [`Noise`] stream `seed` (never from the device's generator, so that a training run is
    /// a function of its seeds).
    ///
    /// # Panics
    /// If the settings are invalid.
    pub fn init_seeded(&self, rbm: Rbm, seed: u64) -> CdModel {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
        let device = rbm.weights.val().device();
        let rbm = rbm.train();
        let chains = if self.persistent { self.chains } else { 1 };
        let zeros = Tensor::<2>::zeros([chains, rbm.n_hidden()], &device.without_autodiff());
        let base = plain(&rbm);
        let start = base
            .visible_units
            .sample_with(base.visible_input(zeros), &mut Noise::new(seed));
        CdModel {
            rbm,
            chains: RunningState::new(start),
            cd: self.clone(),
            cpu_path: None,
        }
    }
}

/// SGD with momentum μ and dampening 0 (Burn's default dampening is 0.1; Hinton's update
/// has none): [`super::CdSgd`], Burn's SGD with one fused pass over the weights on the CPU.
pub fn sgd_with_momentum(momentum: f64) -> ModuleOptimizer {
    super::CdSgd::new(momentum).init()
}

/// How the learning rate changes over the optimiser steps of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LrSchedule {
    /// The same learning rate throughout.
    #[default]
    Constant,
    /// Linear decay from the initial rate to `final_lr` over the run's steps.
    Linear {
        /// The rate at the last step.
        final_lr: f64,
    },
    /// ε_t = ε₀ γ^t per optimiser step.
    Exponential {
        /// The factor per step, in (0, 1].
        gamma: f64,
    },
}

/// Everything that defines the training of one RBM: CD settings, optimiser, schedule, batch
/// size, epochs and seed.
#[derive(Config, Debug)]
pub struct TrainingConfig {
    /// Contrastive-divergence settings (k, PCD, penalties).
    pub cd: CdConfig,
    /// Initial learning rate ε (the rate that multiplies the gradient and the penalties).
    #[config(default = 0.1)]
    pub learning_rate: f64,
    /// Learning-rate schedule.
    #[config(default = "LrSchedule::Constant")]
    pub schedule: LrSchedule,
    /// Momentum μ (dampening 0).
    #[config(default = 0.5)]
    pub momentum: f64,
    /// Mini-batch size.
    #[config(default = 100)]
    pub batch_size: usize,
    /// Passes over the training data.
    #[config(default = 1)]
    pub epochs: usize,
    /// Seed of the run's random streams (initial weights, data order, Gibbs sampling), all
    /// drawn on the host; the device's own generator is not seeded by it.
    #[config(default = 0)]
    pub seed: u64,
}

impl TrainingConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`crate::RbmError::Config`] naming the offending field.
    pub fn validate(&self) -> crate::Result<()> {
        self.cd.validate()?;
        let bad = |m: String| Err(crate::RbmError::Config(m));
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return bad(format!(
                "learning_rate must be in (0, 1], got {}",
                self.learning_rate
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return bad(format!("momentum must be in [0, 1), got {}", self.momentum));
        }
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1, got 0".into());
        }
        if self.epochs == 0 {
            return bad("epochs must be at least 1, got 0".into());
        }
        match self.schedule {
            LrSchedule::Linear { final_lr } if !(final_lr > 0.0 && final_lr <= 1.0) => {
                bad(format!("final_lr must be in (0, 1], got {final_lr}"))
            }
            LrSchedule::Exponential { gamma } if !(gamma > 0.0 && gamma <= 1.0) => {
                bad(format!("gamma must be in (0, 1], got {gamma}"))
            }
            _ => Ok(()),
        }
    }

    /// The optimiser: SGD with momentum and no dampening ([`sgd_with_momentum`]).
    pub fn optimizer(&self) -> ModuleOptimizer {
        sgd_with_momentum(self.momentum)
    }

    /// The learning-rate scheduler for a run of `steps` optimiser steps.
    ///
    /// # Errors
    /// If the schedule's parameters are invalid.
    pub fn lr_scheduler(&self, steps: usize) -> crate::Result<ModuleLrScheduler> {
        self.validate()?;
        let scheduler = match self.schedule {
            LrSchedule::Constant => Ok(ModuleLrScheduler::from(self.learning_rate)),
            LrSchedule::Linear { final_lr } => {
                LinearLrSchedulerConfig::new(self.learning_rate, final_lr, steps.max(1)).init()
            }
            LrSchedule::Exponential { gamma } => {
                ExponentialLrSchedulerConfig::new(self.learning_rate, gamma).init()
            }
        };
        scheduler.map_err(crate::RbmError::Config)
    }
}
