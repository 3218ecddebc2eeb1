//! The flags every analysis of a finished run shares (`quality`, `rg_analysis`): the run, where the
//! analysis is written, the dataset's folder and the device.

use std::path::PathBuf;

use anyhow::{Result, bail};

use super::paths::RunPaths;
use crate::cli::DeviceArgs;

/// The flags of an analysis of a run, flattened into the analysis' own (`#[command(flatten)]`).
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// A finished fig3 run folder.
    #[arg(value_name = "RUN")]
    pub run: PathBuf,
    /// Output folder [default: a folder named after the analysis inside RUN]; must not exist
    /// unless --force.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an existing output folder this program wrote (the help is
    /// [`ising_data::cli::FORCE_HELP`]).
    #[arg(long, help = ising_data::cli::FORCE_HELP)]
    pub force: bool,
    /// The folder that holds the run's dataset. By default the dataset is found where the run
    /// recorded it (relative to the run folder, so from any working directory), else in
    /// ./datasets.
    #[arg(long)]
    pub datasets: Option<PathBuf>,
    /// The device.
    #[command(flatten)]
    pub device: DeviceArgs,
}

impl RunArgs {
    /// The run's paths, once RUN is known to be a run folder.
    ///
    /// # Errors
    /// If RUN holds no configuration.
    pub fn paths(&self) -> Result<RunPaths> {
        let paths = RunPaths::new(&self.run);
        if !paths.config().is_file() {
            bail!(
                "{}: not a fig3 run folder (no {})",
                self.run.display(),
                RunPaths::CONFIG
            );
        }
        Ok(paths)
    }

    /// `--out`, or the analysis' folder in the run (`default` of its paths).
    pub fn out_dir(&self, default: impl Fn(&RunPaths) -> PathBuf) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| default(&RunPaths::new(&self.run)))
    }
}
