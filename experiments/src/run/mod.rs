//! A Fig. 3 run folder, typed: where each file is ([`RunPaths`]), training a run and writing
//! its outputs ([`RunJob`]), the records `fig3` writes ([`Metrics`] in `metrics.json`,
//! [`RunHistory`] in `run.json`), and reading the trained stack and its dataset back
//! ([`load_run`], [`load_run_dataset`]), and the flags of an analysis of a run ([`RunArgs`]).
//! The reports that `quality` and `rg_analysis` add inside the
//! run are [`crate::quality::QualityReport`] and [`crate::rg::RgReport`].

mod args;
mod job;
mod load;
mod paths;
mod record;

pub use args::RunArgs;
pub use job::RunJob;
pub use load::{load_run, load_run_dataset};
pub use paths::{RunPaths, WeightFile, relative_path};
pub use record::{Metrics, RunHistory, RunRecord, check_not_diverged};
