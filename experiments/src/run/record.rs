//! The records a Fig. 3 run writes: [`Metrics`] (`metrics.json`) and [`RunHistory`]
//! (`run.json`, one [`RunRecord`] per process of the run).

use std::path::Path;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::output::read_json;
use crate::pretrain::{DataSource, FirstLayerQuality, LayerFields, LayerReport};

/// What a run measured (`metrics.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metrics {
    /// Each layer's training: its per-epoch means and final measures.
    pub layers: Vec<LayerReport>,
    /// Each layer's receptive fields, measured (Appendix B).
    pub receptive_fields: Vec<LayerFields>,
    /// The first layer's likelihood and KL per spin at the end of the run.
    pub first_layer_quality: FirstLayerQuality,
}

impl Metrics {
    /// Reads `metrics.json`.
    ///
    /// # Errors
    /// Naming the file and the field that does not fit.
    pub fn read(path: &Path) -> Result<Self> {
        read_json(path)
    }
}

/// What one process of a run did (the first, or a `--resume`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// Whether this process continued an interrupted or finished run.
    pub resumed: bool,
    /// The device asked for (`--device`).
    pub device: String,
    /// Where the CD step runs on the flex device (`RBM_KERNEL`, or the widest instruction set
    /// of the fused kernel this CPU has): `avx512`, `avx2`, `neon` or `tensor`.
    #[serde(default)]
    pub cpu_path: String,
    /// The devices this build can use.
    #[serde(default)]
    pub devices_compiled: Vec<String>,
    /// The version of `experiments`.
    #[serde(default)]
    pub crate_version: String,
    /// The version of Burn.
    #[serde(default)]
    pub burn_version: String,
    /// The commit the binary was built from (`-modified`: with changes to its sources;
    /// `unknown`: not built from a git checkout).
    #[serde(default)]
    pub git_commit: String,
    /// The command line of the process, program first.
    #[serde(default)]
    pub command_line: Vec<String>,
    /// When the process wrote this record (UTC, RFC 3339).
    #[serde(default)]
    pub finished: String,
    /// Where the data came from.
    pub data: DataSource,
    /// Wall time of each layer's training, seconds.
    #[serde(default)]
    pub layer_seconds: Vec<f64>,
    /// Wall time of the figures, seconds.
    #[serde(default)]
    pub figures_seconds: f64,
    /// Wall time of the process, seconds.
    #[serde(default)]
    pub total_seconds: f64,
}

/// `run.json`: the first process's record and those of the processes that resumed the
/// finished run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunHistory {
    /// The process that trained the run.
    #[serde(flatten)]
    pub first: RunRecord,
    /// Later processes that rewrote its outputs from the saved layers.
    #[serde(default)]
    pub resumes: Vec<RunRecord>,
}

impl RunHistory {
    /// Reads `run.json`.
    ///
    /// # Errors
    /// Naming the file and the field that does not fit.
    pub fn read(path: &Path) -> Result<Self> {
        read_json(path)
    }

    /// The history after a process's `record`: the first one, or one more resume of `previous`.
    pub fn then(previous: Option<Self>, record: RunRecord) -> Self {
        match previous {
            Some(mut history) => {
                history.resumes.push(record);
                history
            }
            None => Self {
                first: record,
                resumes: Vec::new(),
            },
        }
    }
}

/// Refuses a run whose training diverged: a per-epoch metric of `metrics` that is not
/// finite (written as `null`), naming the layer, epoch, split and metric.
///
/// # Errors
/// As above, naming `path`.
pub fn check_not_diverged(metrics: &Metrics, path: &Path) -> Result<()> {
    for layer in &metrics.layers {
        for epoch in &layer.epochs {
            if let Some((name, _)) = epoch.values.iter().find(|(_, x)| !x.is_finite()) {
                bail!(
                    "{}: the run diverged (layer {}'s {name} is not finite at epoch {} of the {} split), so it is not analysed",
                    path.display(),
                    layer.layer,
                    epoch.epoch,
                    epoch.split.name()
                );
            }
        }
    }
    Ok(())
}
