//! Contrastive divergence (CD-k) and persistent contrastive divergence (PCD) as a Burn
//! `TrainStep`, usable by Burn's `Learner` and by a plain loop.
//!
//! # The update and its conventions
//! For a batch of B visible vectors v⁰, the negative sample v^k is k steps of block Gibbs
//! sampling started at v⁰ (CD-k) or at the persistent chains (PCD, Tieleman 2008), and
//!
//! ∂ℓ/∂W ≈ ⟨v E[h|v]ᵀ⟩_{v⁰} − ⟨v E[h|v]ᵀ⟩_{v^k},
//! ∂ℓ/∂a ≈ ⟨v⟩_{v⁰} − ⟨v⟩_{v^k}, ∂ℓ/∂b ≈ ⟨E[h|v]⟩_{v⁰} − ⟨E[h|v]⟩_{v^k},
//!
//! the CD estimate of the gradient of the mean log-likelihood ℓ, each phase averaged over its
//! own samples (the batch, and the batch or the persistent chains). The chain alternates
//! sampled hidden and sampled visible states; the statistics use the conditional means
//! E[h|v] (Rao–Blackwellised). The penalties enter as terms of the objective
//! ℓ − λ₁ Σ|W_ij| − ½ λ₂ Σ W_ij² (weights only, not biases), whose descent direction is
//! G + P with G = −∂ℓ/∂W and P = λ₁ sign(W) + λ₂ W. Momentum is SGD momentum with
//! dampening 0 ([`CdSgd`], Burn's SGD fused into one pass over the weights on the CPU).
//!
//! # The penalty convention
//! Where P enters the update is a setting of the configuration, [`CdConfig::penalty`]
//! ([`PenaltyConvention`]), so that its meaning does not depend on the optimiser:
//!
//! - `"gradient"` (the default, and the only convention before the setting existed): the train
//!   step hands the optimiser G + P, so P passes through momentum: velocity ← μ velocity + G + P,
//!   W ← W − ε velocity. The strength is **scaled by the learning rate**, as in Hinton &
//!   Salakhutdinov's `rbm.m` (`epsilonw * (… − weightcost * vishid)`); the paper's
//!   "L1 2×10⁻⁴" is `l1 = 2e-4` in this convention. Another optimiser (Adam, say) would
//!   rescale P with the gradient.
//! - `"decoupled"`: the train step hands the optimiser G alone, and the optimiser shrinks the
//!   weights itself after its update of them: velocity ← μ velocity + G,
//!   W ← W − ε velocity − ε P(W₀), P evaluated at the weights W₀ before the step and never
//!   entering the velocity (the weight decay of AdamW). The strength is again scaled by ε,
//!   and not by the optimiser's statistics of the gradient. [`TrainingConfig::optimizer`]
//!   builds [`CdSgd`] with the strengths ([`CdSgd::with_decoupled_penalty`]); an optimiser
//!   built otherwise must apply them itself.
//!
//! Without momentum (μ = 0) the two are the same update, up to f32 rounding; with momentum,
//! `gradient` accumulates past penalties in the velocity (an effective strength of up to
//! λ/(1 − μ) in a steady state) and `decoupled` does not. In both, the biases are never penalised: the optimiser
//! tells the weights by rank (the only rank-2 parameter of an [`crate::Rbm`]; see [`CdSgd`]).
//! The fused CPU kernel and the tensor reference implement both conventions (tested in
//! `tests/penalty.rs`).
//!
//! # PT-PCD
//! With [`CdConfig::tempering`] (a [`PtConfig`]; PCD only) each persistent chain has a
//! replica at every inverse temperature β of a geometric ladder ending at 1 (Desjardins,
//! Courville, Bengio, Vincent & Delalleau 2010), replica k sampling p_β(v, h) ∝ e^{−β E(v, h)}.
//! A training step moves the β = 1 replicas by its k Gibbs steps (those are the negative
//! samples, on the fused kernel where it applies), then updates the ladder once
//! (`ladder.rs`): every replica draws h ~ p_β(h | v); neighbouring pairs (β_k, β_{k+1}) swap
//! with probability min(1, e^{(β_k − β_{k+1})(E_k − E_{k+1})}) by the joint energy, first the
//! pairs with k even, then those with k odd; the replicas below β = 1 draw v ~ p_β(v | h). Each
//! part leaves the product of the tempered distributions invariant. The ladder's random numbers
//! come from the step's stream after the step's own, so a step stays a function of the model,
//! the batch and its key; the replicas are the model's `chains`, saved with checkpoints.
//!
//! The step computes the gradient in closed form (no autodiff graph) and registers it for the
//! model's parameters; it equals the gradient of the free-energy surrogate
//! mean F(v⁰) − mean F(v^k) (tested).
//!
//! # Layout
//! - [`CdConfig`], [`PenaltyConvention`], [`PtConfig`], [`TrainingConfig`], [`LrSchedule`]:
//!   the settings (`config.rs`);
//! - the PT-PCD ladder of the persistent chains (`ladder.rs`);
//! - [`CdModel`], [`CdBatch`]: the model and Burn's `TrainStep`/`InferenceStep` (`model.rs`),
//!   which draw the step's random numbers ([`crate::noise::StepNoise`]) and hand them to one
//!   of two implementations of the step: the tensor reference (`reference.rs`, every device
//!   and unit type) or the fused CPU kernel (`fused.rs` over the crate-private `kernel` module);
//! - [`CdOutput`]: what a step reports (`output.rs`), and [`metric`]: one Burn metric per
//!   statistic;
//! - [`CdSgd`]: the optimiser (`optim.rs`).

mod config;
mod fused;
mod ladder;
pub mod metric;
mod model;
mod optim;
mod output;
mod reference;
mod step;

pub use config::{
    CdConfig, LrSchedule, PenaltyConvention, PtConfig, Restart, TrainingConfig, lr_scheduler,
    sgd_with_momentum,
};
pub use model::{CdBatch, CdGradient, CdModel};
pub use optim::{CdSgd, CdSgdState, Velocity};
pub use output::CdOutput;
