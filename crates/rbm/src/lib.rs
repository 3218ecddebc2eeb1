//! Restricted Boltzmann machines as Burn modules: energies, free energies, conditionals and
//! block Gibbs sampling on any Burn device, exact likelihoods by enumeration, annealed
//! importance sampling, pseudo-likelihood, and the {0,1} ↔ ±1 reparameterisation.
//!
//! ```
//! use burn::prelude::*;
//! use rbm::{RbmConfig, Units, eval::exact::HostRbm};
//!
//! let device = Device::flex();
//! device.seed(1);
//! let rbm = RbmConfig::new(6, 3)
//!     .with_visible_units(Units::Spin)
//!     .with_init_std(0.5)
//!     .init(&device)
//!     .unwrap();
//! // p(v) = e^{−F(v)} / Z sums to one over all 2^6 visible configurations.
//! let host = HostRbm::from_rbm(&rbm).unwrap();
//! let log_z = host.log_partition_exact().unwrap();
//! let total: f64 = (0..64)
//!     .map(|i| (-host.free_energy(&rbm::eval::exact::state(Units::Spin, 6, i)) - log_z).exp())
//!     .sum();
//! assert!((total - 1.0).abs() < 1e-12);
//! // The tensor free energy agrees with the f64 one.
//! let v = Tensor::<2>::ones([1, 6], &device);
//! let f = rbm.free_energy(v).into_scalar::<f64>();
//! assert!((f - host.free_energy(&[1.0; 6])).abs() < 1e-4);
//! ```

//!
//! # Where things are
//! - [`rbm`], [`units`], [`dbn`]: the model (an RBM layer and its unit types, a stack);
//! - [`train`]: CD-k and PCD as a Burn `TrainStep`, its settings and its metrics;
//! - [`eval`]: judging a model (exact enumeration, AIS, pseudo-likelihood, KL); it does not
//!   depend on [`train`];
//! - [`noise`]: the keyed random streams, and [`noise::StepNoise`], every random number of
//!   one CD step;
//! - `kernel`: the fused CPU path of the step, for AVX-512, AVX2 and NEON (crate-private
//!   but for [`CpuPath`] and [`Isa`], which choose it; all of the crate's `unsafe`);
//! - [`math`], [`tensor`]: log-sum-exp and softplus in f64; reading tensors back.

pub mod dbn;
pub mod device;
pub mod error;
pub mod eval;
mod kernel;
pub mod math;
pub mod noise;
pub mod rbm;
pub mod tensor;
pub mod train;
pub mod units;

#[doc(hidden)]
pub use kernel::profiling;
pub use kernel::{
    CpuPath, Isa, KERNEL_VARIABLE, THREADS_VARIABLE, describe_cpu, retain_freed_memory, set_threads,
};

pub use dbn::{Dbn, Propagation};
pub use error::{RbmError, Result};
pub use noise::Noise;
pub use rbm::{Rbm, RbmConfig};
pub use train::{
    CdBatch, CdConfig, CdModel, CdOutput, CdSgd, LrSchedule, PenaltyConvention, PtConfig, Restart,
    TrainingConfig, lr_scheduler, sgd_with_momentum,
};
pub use units::Units;
