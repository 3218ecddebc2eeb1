//! The paper's figures and the exact checks of the variational RG ↔ RBM mapping
//! (Mehta & Schwab 2014): Kadanoff block spins (Fig. 1), the 1D decimation flow and its deep
//! architecture (Fig. 2), and Eqs. 6–22 verified by enumeration. The binaries in `src/bin`
//! turn these into PNG figures and JSON files.
//!
//! ```
//! use experiments::decimation::{decimation_host, flow, marginal_deviation_transfer};
//!
//! // Decimating a ring at J = 1 gives tanh J' = tanh² J, and the RBM of Fig. 2B reproduces it:
//! // its hidden Hamiltonian is −J' Σ h_i h_{i+1} + const to rounding.
//! let j = flow(1.0, 1);
//! assert!((j[1].tanh() - 1f64.tanh().powi(2)).abs() < 1e-15);
//! assert!(marginal_deviation_transfer(&decimation_host(32, j[0]), j[1]) < 1e-12);
//! ```

pub mod blocking;
pub mod checkpoint;
pub mod cli;
pub mod decimation;
pub mod interrupt;
pub mod isy;
pub mod json;
pub mod lock;
pub mod mapping;
pub mod output;
pub mod pace;
pub mod plain;
pub mod plot;
pub mod pretrain;
pub mod progress;
pub mod quality;
pub mod rg;
pub mod run;
pub mod streams;
pub mod sweep;
pub mod torus;
pub mod training;

/// The version of Burn this crate was built with (the `burn` package in the workspace's
/// `Cargo.lock`, read by `build.rs`).
pub const BURN_VERSION: &str = env!("BURN_VERSION");
