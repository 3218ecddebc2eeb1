//! Validated Monte Carlo samples of the 1D and 2D Ising models, exact results to check them
//! against, an open on-disk format, and Burn datasets.
//!
//! The model: the Boltzmann weight exp(K Σ_⟨ij⟩ s_i s_j + h Σ_i s_i) of spins s_i = ±1 on a
//! periodic ring of N spins or a periodic L × L square lattice, at dimensionless coupling
//! K = J/kT and field h = H/kT (as the book's `ising-data` chapter writes it).
//!
//! ```
//! use ising_data::config::Checked;
//! use ising_data::{exact, generate, Lattice, GenerateConfig, observables};
//!
//! // 4 000 Wolff samples of the 8×8 lattice at K = 0.3, compared with Kaufman's exact
//! // finite-lattice energy. A configuration is checked once ([`config`]) before it runs.
//! let mut config = GenerateConfig::new(Lattice::Square { l: 8 }, 0.3, 4000, 1);
//! config.spacing_sweeps = 2;
//! let config = config.validated().unwrap();
//! let run = generate::generate(&config, &|_| {});
//! let obs = observables::measure(&config.lattice, &run.chains(), observables::MeasureOptions {
//!     coupling: 0.3, field: 0.0, correlation: false, bins_per_chain: 8,
//! });
//! let exact_u = exact::kaufman_energy_per_spin(8, 8, 0.3);
//! assert!(obs.energy_per_spin.sigmas_from(exact_u) < 4.0);
//! ```

#[cfg(feature = "cli")]
pub mod cli;
pub mod config;
pub mod dataset;
pub mod error;
pub mod exact;
pub mod exact_values;
// Safe output folders (markers, atomic writes, `--force` rules): public with the `cli` feature,
// for this crate's binary and the `experiments` programs; internal to the data API otherwise.
#[cfg(feature = "cli")]
pub mod folder;
#[cfg(not(feature = "cli"))]
#[allow(dead_code)]
mod folder;
pub mod generate;
pub mod lattice;
pub mod memory;
pub mod npy;
pub mod observables;
pub mod rng;
pub mod sampler;
pub mod stats;
pub mod store;

pub use dataset::{IsingDataset, RowsDataset, SpinEncoding};
pub use error::{IsingDataError, Result};
pub use generate::GenerateConfig;
pub use lattice::Lattice;
pub use sampler::Algorithm;
pub use stats::Estimate;
pub use store::{Manifest, StoredDataset, load_dataset};
