//! The settings of CD training: [`CdConfig`] (the step) and [`TrainingConfig`] (the run).

use burn::lr_scheduler::exponential::ExponentialLrSchedulerConfig;
use burn::lr_scheduler::linear::LinearLrSchedulerConfig;
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use ising_data::config::{Checked, ConfigError, Valid};
use serde::{Deserialize, Deserializer, Serialize};

/// The largest L1 or L2 penalty strength accepted (per unit of learning rate).
pub const MAX_PENALTY: f64 = 1.0;

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
    /// L1 strength λ₁ on the weights, applied as [`CdConfig::penalty`] says (see
    /// [`crate::train`]).
    #[config(default = 0.0)]
    pub l1: f64,
    /// L2 strength λ₂ on the weights, applied as [`CdConfig::penalty`] says.
    #[config(default = 0.0)]
    pub l2: f64,
    /// Where the L1/L2 penalties enter the update: in the gradient (`"gradient"`, the
    /// default, so through momentum) or as a decoupled decay of the weights by the optimiser
    /// (`"decoupled"`, never through momentum); see [`PenaltyConvention`]. Absent from a JSON
    /// configuration (those written before the setting existed), it is `"gradient"`.
    #[config(default = "PenaltyConvention::Gradient")]
    pub penalty: PenaltyConvention,
    /// Parallel tempering of the persistent chains (PT-PCD): each chain has a replica at
    /// every inverse temperature of a ladder, the β = 1 replicas giving the negative phase;
    /// `None` (absent from a JSON configuration) for plain PCD or CD. Needs `persistent`.
    #[config(default = "None")]
    pub tempering: Option<PtConfig>,
    /// Where the negative chains start when they are not persistent: `None` (absent from a
    /// JSON configuration) at the batch (CD), `Some(Restart::Random)` at uniformly random
    /// states, `chains` of them, every update (Decelle, Furtlehner & Seoane's "Rdm"). Not with
    /// `persistent`.
    #[config(default = "None")]
    pub restart: Option<Restart>,
}

/// Where [`CdConfig::restart`] starts the negative chains of each update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Restart {
    /// At independent uniformly random visible states (each discrete unit at either value
    /// with probability ½; a Gaussian unit from N(0, 1)), from the step's stream.
    Random,
}

/// The ladder of PT-PCD ([`CdConfig::tempering`]; the algorithm in [`crate::train`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PtConfig {
    /// Inverse temperatures on the ladder, β = 1 (the model) included: at least 2.
    pub replicas: usize,
    /// The lowest β, in (0, 1); the ladder is geometric from it to 1
    /// ([`crate::eval::tempering::geometric_ladder`]).
    pub beta_min: f64,
}

impl PtConfig {
    /// The ladder's inverse temperatures, increasing, the last 1.
    ///
    /// # Panics
    /// If the settings were not checked ([`Checked::check`] of [`CdConfig`]).
    pub fn betas(&self) -> Vec<f64> {
        crate::eval::tempering::geometric_ladder(self.beta_min, self.replicas)
            .expect("a checked ladder")
    }
}

/// Where the L1/L2 weight penalties λ₁, λ₂ of [`CdConfig`] enter the update, fixed by the
/// configuration whatever optimiser is chosen (see [`crate::train`]). With learning rate ε,
/// P = λ₁ sign W + λ₂ W evaluated at the weights before the step, the CD descent direction
/// G = −∂ℓ/∂W and SGD momentum μ:
///
/// | convention | what the optimiser receives | one SGD step |
/// |---|---|---|
/// | `Gradient` | G + P | v ← μ v + G + P, W ← W − ε v |
/// | `Decoupled` | G | v ← μ v + G, W ← W − ε v − ε P |
///
/// Both scale the strengths by ε, and without momentum (μ = 0) they are the same update; with
/// momentum, `Gradient` lets past penalties accumulate in the velocity (an effective strength
/// up to λ/(1 − μ) in a steady state) and `Decoupled` does not (the weight decay of AdamW,
/// Loshchilov & Hutter 2019). Only the weights are penalised, never the biases. Serialised as
/// `"gradient"` / `"decoupled"`; any other value is refused naming the field `penalty`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PenaltyConvention {
    /// The penalty terms are added to the gradient handed to the optimiser (by the CD step,
    /// [`super::CdModel::optimiser_gradients`] and the fused kernel), so they pass through
    /// momentum: the convention of Hinton & Salakhutdinov's `rbm.m`, and the default.
    #[default]
    Gradient,
    /// The gradient handed to the optimiser has no penalty; the optimiser ([`super::CdSgd`],
    /// built by [`TrainingConfig::optimizer`]) shrinks the weights by ε P after its own update
    /// of them, P taken at the weights before the step.
    Decoupled,
}

impl<'de> Deserialize<'de> for PenaltyConvention {
    /// `"gradient"` or `"decoupled"`; an absent field (serde hands a missing field to
    /// `deserialize_option`) or `null` is `Gradient`, so configurations written before the
    /// setting existed keep their meaning; anything else is an error naming the field.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Option::<String>::deserialize(deserializer)?.as_deref() {
            None | Some("gradient") => Ok(Self::Gradient),
            Some("decoupled") => Ok(Self::Decoupled),
            Some(other) => Err(serde::de::Error::custom(format!(
                "penalty must be \"gradient\" or \"decoupled\", got \"{other}\""
            ))),
        }
    }
}

impl CdConfig {
    /// Checks the settings ([`Checked::check`]).
    ///
    /// # Errors
    /// For k = 0, no chains for PCD or restarts, negative or non-finite penalties, tempering
    /// without PCD or on an invalid ladder, or restarts with PCD.
    pub fn validate(&self) -> crate::Result<()> {
        Ok(self.check()?)
    }

    /// The (λ₁, λ₂) that the CD step adds to the weight gradient: the configured strengths
    /// under [`PenaltyConvention::Gradient`], none under [`PenaltyConvention::Decoupled`].
    pub fn gradient_penalties(&self) -> (f64, f64) {
        match self.penalty {
            PenaltyConvention::Gradient => (self.l1, self.l2),
            PenaltyConvention::Decoupled => (0.0, 0.0),
        }
    }

    /// The (λ₁, λ₂) that the optimiser applies to the weights itself: the configured
    /// strengths under [`PenaltyConvention::Decoupled`], none under
    /// [`PenaltyConvention::Gradient`].
    pub fn decoupled_penalties(&self) -> (f64, f64) {
        match self.penalty {
            PenaltyConvention::Gradient => (0.0, 0.0),
            PenaltyConvention::Decoupled => (self.l1, self.l2),
        }
    }
}

impl Checked for CdConfig {
    /// k ≥ 1, at least one chain for PCD or restarted chains, penalties in
    /// [0, `MAX_PENALTY`] (1), tempering only with PCD and on a valid ladder, restarts only
    /// without PCD.
    fn check(&self) -> Result<(), ConfigError> {
        if self.k == 0 {
            return Err(ConfigError::invalid(
                "k",
                "at least 1 (Gibbs steps of CD-k)",
                0,
            ));
        }
        if self.persistent && self.chains == 0 {
            return Err(ConfigError::invalid("chains", "at least 1 for PCD", 0));
        }
        if self.restart.is_some() && self.persistent {
            return Err(ConfigError::inconsistent(
                &["restart", "persistent"],
                "restart and persistent are both set: restarted chains are not persistent; set one of them",
            ));
        }
        if self.restart.is_some() && self.chains == 0 {
            return Err(ConfigError::invalid(
                "chains",
                "at least 1 for restarted chains",
                0,
            ));
        }
        if let Some(pt) = &self.tempering {
            if !self.persistent {
                return Err(ConfigError::inconsistent(
                    &["tempering", "persistent"],
                    "tempering is set without persistent: tempering runs the persistent chains of PCD; set persistent to true",
                ));
            }
            crate::eval::tempering::check_ladder(pt.beta_min, pt.replicas)
                .map_err(|e| e.within("tempering"))?;
        }
        for (name, x) in [("l1", self.l1), ("l2", self.l2)] {
            if !(x.is_finite() && (0.0..=MAX_PENALTY).contains(&x)) {
                return Err(ConfigError::invalid(name, format!("between 0 and {MAX_PENALTY}"), x)
                    .because("a larger penalty than the data's pull shrinks the weights past zero each step"));
            }
        }
        Ok(())
    }
}

/// SGD with momentum μ and dampening 0 (Burn's default dampening is 0.1; Hinton's update
/// has none): [`super::CdSgd`], Burn's SGD with one fused pass over the weights on the CPU.
/// It applies no penalty of its own: right for [`PenaltyConvention::Gradient`]; for
/// `Decoupled` use [`TrainingConfig::optimizer`] (or [`super::CdSgd::with_decoupled_penalty`]).
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
    /// Contrastive-divergence settings (k, PCD, penalties and their convention).
    pub cd: CdConfig,
    /// Initial learning rate ε (the rate that multiplies the gradient and, in either
    /// [`PenaltyConvention`], the penalties).
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
    /// Checks the settings ([`Checked::check`]).
    ///
    /// # Errors
    /// [`crate::RbmError::Config`] naming the offending field.
    pub fn validate(&self) -> crate::Result<()> {
        Ok(self.check()?)
    }

    /// The optimiser: SGD with momentum and no dampening ([`super::CdSgd`]), which under
    /// [`PenaltyConvention::Decoupled`] also applies the weights' penalties
    /// ([`CdConfig::decoupled_penalties`]); under `Gradient` it is [`sgd_with_momentum`].
    pub fn optimizer(&self) -> ModuleOptimizer {
        let (l1, l2) = self.cd.decoupled_penalties();
        super::CdSgd::new(self.momentum)
            .with_decoupled_penalty(l1, l2)
            .init()
    }
}

/// The learning-rate scheduler for a run of `steps` optimiser steps (the schedule's
/// parameters were checked with the rest: [`Checked::validated`]).
///
/// # Errors
/// If Burn refuses the schedule's parameters.
pub fn lr_scheduler(
    config: &Valid<TrainingConfig>,
    steps: usize,
) -> crate::Result<ModuleLrScheduler> {
    let scheduler = match config.schedule {
        LrSchedule::Constant => Ok(ModuleLrScheduler::from(config.learning_rate)),
        LrSchedule::Linear { final_lr } => {
            LinearLrSchedulerConfig::new(config.learning_rate, final_lr, steps.max(1)).init()
        }
        LrSchedule::Exponential { gamma } => {
            ExponentialLrSchedulerConfig::new(config.learning_rate, gamma).init()
        }
    };
    scheduler
        .map_err(|e| ConfigError::inconsistent(&["schedule"], format!("the schedule: {e}")).into())
}

impl Checked for TrainingConfig {
    /// The CD settings (under `cd`), a learning rate in (0, 1], momentum in [0, 1), a batch
    /// and an epoch at least, and the schedule's own parameter in (0, 1].
    fn check(&self) -> Result<(), ConfigError> {
        self.cd.check().map_err(|e| e.within("cd"))?;
        let rate = |x: f64| x > 0.0 && x <= 1.0;
        if !rate(self.learning_rate) {
            return Err(ConfigError::invalid(
                "learning_rate",
                "in (0, 1]",
                self.learning_rate,
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(ConfigError::invalid("momentum", "in [0, 1)", self.momentum));
        }
        if self.batch_size == 0 {
            return Err(ConfigError::invalid("batch_size", "at least 1", 0));
        }
        if self.epochs == 0 {
            return Err(ConfigError::invalid("epochs", "at least 1", 0));
        }
        match self.schedule {
            LrSchedule::Linear { final_lr } if !rate(final_lr) => Err(ConfigError::invalid(
                "schedule.final_lr",
                "in (0, 1]",
                final_lr,
            )),
            LrSchedule::Exponential { gamma } if !rate(gamma) => {
                Err(ConfigError::invalid("schedule.gamma", "in (0, 1]", gamma))
            }
            _ => Ok(()),
        }
    }
}
