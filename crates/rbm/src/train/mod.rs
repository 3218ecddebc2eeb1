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
//! ℓ − λ₁ Σ|W_ij| − ½ λ₂ Σ W_ij² (weights only, not biases), so the gradient handed to the
//! optimiser is G = −∂ℓ/∂W + λ₁ sign(W) + λ₂ W, and one SGD step with learning rate ε changes
//! W by −ε G: the penalty strength is **scaled by the learning rate**, as in Hinton &
//! Salakhutdinov's `rbm.m` (`epsilonw * (… − weightcost * vishid)`). The paper's "L1 2×10⁻⁴"
//! is `l1 = 2e-4` in this convention. Momentum is SGD momentum with dampening 0:
//! velocity ← μ velocity + G, W ← W − ε velocity ([`CdSgd`], Burn's SGD fused into one pass
//! over the weights on the CPU).
//!
//! The step computes the gradient in closed form (no autodiff graph) and registers it for the
//! model's parameters; it equals the gradient of the free-energy surrogate
//! mean F(v⁰) − mean F(v^k) (tested).
//!
//! # Layout
//! - [`CdConfig`], [`TrainingConfig`], [`LrSchedule`]: the settings (`config.rs`);
//! - [`CdModel`], [`CdBatch`]: the model and Burn's `TrainStep`/`InferenceStep` (`model.rs`),
//!   which draw the step's random numbers ([`crate::noise::StepNoise`]) and hand them to one
//!   of two implementations of the step: the tensor reference (`reference.rs`, every device
//!   and unit type) or the fused CPU kernel (`fused.rs` over the crate-private `kernel` module);
//! - [`CdOutput`]: what a step reports (`output.rs`), and [`metric`]: one Burn metric per
//!   statistic;
//! - [`CdSgd`]: the optimiser (`optim.rs`).

mod config;
mod fused;
pub mod metric;
mod model;
mod optim;
mod output;
mod reference;

pub use config::{CdConfig, LrSchedule, TrainingConfig, sgd_with_momentum};
pub use model::{CdBatch, CdGradient, CdModel};
pub use optim::{CdSgd, CdSgdState, Velocity};
pub use output::CdOutput;
