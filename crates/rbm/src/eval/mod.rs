//! Judging a model: exact enumeration of small RBMs, annealed importance sampling,
//! pseudo-likelihood, the free-energy gap, the KL divergence from the exact Ising
//! distribution, and the model as a generator of configurations (block Gibbs, and parallel
//! tempering where block Gibbs mixes slowly), and one pass up a layer. Nothing here imports the training code;
//! training uses these estimators.

pub mod ais;
pub mod exact;
pub mod generator;
pub mod hidden;
pub mod likelihood;
pub mod tempering;
