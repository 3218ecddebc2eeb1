//! Sweeps: many pretraining runs from one sweep file, planned into a folder, run locally
//! (several at a time) or as a Slurm array, resumable run by run, and summarised.
//!
//! - [`spec`]: the sweep file ([`SweepConfig`]) and its expansion into runs;
//! - [`plan`]: the planned folder (`manifest.json`, each run's `config.json`);
//! - [`run`]: running the runs as `fig3 --resume` children, locally or one per Slurm task;
//! - [`slurm`]: the sbatch array script and its submission;
//! - [`collect`]: `summary.json`, `summary.csv` and a figure;
//! - [`kl_curves`]: the first layer's KL during training against time, per run and as a figure;
//! - [`crate::lock`]: lock files shared by processes and machines (runs, datasets).
//!
//! ```
//! use experiments::sweep::SweepConfig;
//!
//! let sweep = SweepConfig::from_json(r#"{
//!   "base": {"preset": "quick"},
//!   "axes": [{"key": "data.coupling", "values": [0.3, 0.408]},
//!            {"key": "training.seed", "values": [1, 2]}]
//! }"#).unwrap();
//! let runs = sweep.expand(std::path::Path::new(".")).unwrap();
//! assert_eq!(runs.len(), 4);
//! assert_eq!(runs[2].name, "coupling-0.408_seed-1");
//! ```

pub mod collect;
pub mod columns;
pub mod kl_curves;
pub mod plan;
pub mod run;
pub mod slurm;
pub mod spec;

pub use collect::{Summary, summarise};
pub use plan::{Planned, SweepPlan, write_plan};
pub use run::{Launcher, finished, locate_fig3, locate_sibling, run_local, run_task};
pub use slurm::Resources;
pub use spec::{Axis, Base, PlannedRun, SweepConfig};
