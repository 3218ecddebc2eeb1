//! Judging a model: exact enumeration of small RBMs, annealed importance sampling,
//! pseudo-likelihood, the free-energy gap and the KL divergence from the exact Ising
//! distribution, and a parallel-tempering sampler. Nothing here imports the training code;
//! training uses these estimators.

pub mod ais;
pub mod exact;
pub mod likelihood;
pub mod tempering;
