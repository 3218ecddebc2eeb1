//! Restricted Boltzmann machines as Burn modules: energies, free energies, conditionals and
//! block Gibbs sampling on any Burn device, exact likelihoods by enumeration, annealed
//! importance sampling, pseudo-likelihood, and the {0,1} ↔ ±1 reparameterisation.

pub mod ais;
pub mod dbn;
pub mod device;
pub mod error;
pub mod exact;
pub mod likelihood;
pub mod rbm;
pub mod train;
pub mod units;

pub use dbn::{Dbn, Propagation};
pub use error::{RbmError, Result};
pub use rbm::{Rbm, RbmConfig};
pub use train::{CdConfig, CdModel, CdOutput, LrSchedule, TrainingConfig, sgd_with_momentum};
pub use units::Units;
