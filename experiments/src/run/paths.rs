//! Where each file of a Fig. 3 run folder is.

use std::path::{Path, PathBuf};

use crate::pretrain::PretrainConfig;

/// The paths of a Fig. 3 run folder: the one place that names its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPaths {
    dir: PathBuf,
}

/// One of a layer's parameter files in `weights/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightFile {
    /// W, `[n_v, n_h]`.
    Weights,
    /// The visible bias a, `[n_v]`.
    VisibleBias,
    /// The hidden bias b, `[n_h]`.
    HiddenBias,
}

impl WeightFile {
    /// Every parameter file of a layer, in the order they are written.
    pub const ALL: [WeightFile; 3] = [Self::Weights, Self::VisibleBias, Self::HiddenBias];

    /// The file's path inside the run folder for layer `layer` (from 1), e.g.
    /// `weights/layer1_W.npy`.
    pub fn relative(self, layer: usize) -> String {
        let part = match self {
            Self::Weights => "W",
            Self::VisibleBias => "visible_bias",
            Self::HiddenBias => "hidden_bias",
        };
        format!("{}/layer{layer}_{part}.npy", RunPaths::WEIGHTS)
    }
}

impl RunPaths {
    /// The configuration, `config.json` ([`crate::pretrain::PretrainConfig`]).
    pub const CONFIG: &'static str = "config.json";
    /// What the run measured, `metrics.json` ([`super::Metrics`]).
    pub const METRICS: &'static str = "metrics.json";
    /// What each process of the run did, `run.json` ([`super::RunHistory`]).
    pub const RECORD: &'static str = "run.json";
    /// The trained parameters' folder.
    pub const WEIGHTS: &'static str = "weights";
    /// `quality`'s folder inside the run.
    pub const QUALITY: &'static str = "quality";
    /// `quality`'s report in its folder ([`crate::quality::QualityReport`]).
    pub const QUALITY_REPORT: &'static str = "quality.json";
    /// `rg_analysis`'s folder inside the run.
    pub const RG: &'static str = "rg";
    /// `rg`'s report in its folder ([`crate::rg::RgReport`]).
    pub const RG_REPORT: &'static str = "rg.json";

    /// The run folder `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `config.json`.
    pub fn config(&self) -> PathBuf {
        self.dir.join(Self::CONFIG)
    }

    /// `metrics.json`.
    pub fn metrics(&self) -> PathBuf {
        self.dir.join(Self::METRICS)
    }

    /// `run.json`.
    pub fn record(&self) -> PathBuf {
        self.dir.join(Self::RECORD)
    }

    /// A parameter file of layer `layer` (from 1).
    pub fn weights(&self, layer: usize, file: WeightFile) -> PathBuf {
        self.dir.join(file.relative(layer))
    }

    /// The folder of layer `layer`'s training (from 1): `layer{l}`.
    pub fn layer(&self, layer: usize) -> PathBuf {
        self.dir.join(format!("layer{layer}"))
    }

    /// `quality`'s default output folder.
    pub fn quality_dir(&self) -> PathBuf {
        self.dir.join(Self::QUALITY)
    }

    /// `quality`'s report, where `quality` wrote into the run.
    pub fn quality_report(&self) -> PathBuf {
        self.quality_dir().join(Self::QUALITY_REPORT)
    }

    /// `rg_analysis`'s default output folder.
    pub fn rg_dir(&self) -> PathBuf {
        self.dir.join(Self::RG)
    }

    /// `rg`'s report, where `rg_analysis` wrote into the run.
    pub fn rg_report(&self) -> PathBuf {
        self.rg_dir().join(Self::RG_REPORT)
    }

    /// The files of a fig3 run folder of `config`, at every depth, for the marker that lets
    /// `--force` replace it: exact names or narrow patterns (so that a file a user adds, such as
    /// `layer_notes.txt` or `weights/notes.txt`, is never taken for ours), and the `quality` and
    /// `rg` folders, which carry their own markers.
    pub fn marker_entries(config: &PretrainConfig) -> Vec<String> {
        let mut entries: Vec<String> = [
            RunPaths::CONFIG,
            RunPaths::METRICS,
            RunPaths::RECORD,
            "fig3b_top_receptive_fields.png",
            "fig3c_middle_receptive_fields.png",
            "fig3d_receptive_field_size.png",
            "fig3e_reconstructions.png",
            "training_curves.png",
            RunPaths::QUALITY,
            RunPaths::RG,
        ]
        .map(String::from)
        .into();
        for l in 1..config.layers.len() {
            for file in WeightFile::ALL {
                entries.push(file.relative(l));
            }
            for file in [
                "epochs.json",
                "kl_during_training.json",
                "model.bpk",
                "layer.json",
            ] {
                entries.push(format!("layer{l}/{file}"));
            }
            for record in crate::checkpoint::RECORDS {
                entries.push(format!("layer{l}/checkpoint/{record}-*.bpk"));
            }
        }
        entries
    }

    /// Whether the run finished: its record and weights exist (both are written at its end).
    pub fn finished(&self) -> bool {
        self.record().is_file() && self.dir.join(Self::WEIGHTS).is_dir()
    }
}

/// The path of `target` relative to the folder `base` (both absolute, without `..`), e.g.
/// `../datasets/x` from `/a/runs` to `/a/datasets/x`.
pub fn relative_path(target: &Path, base: &Path) -> PathBuf {
    let (t, b): (Vec<_>, Vec<_>) = (target.components().collect(), base.components().collect());
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_weight_files_have_their_names() {
        assert_eq!(WeightFile::Weights.relative(2), "weights/layer2_W.npy");
        assert_eq!(
            RunPaths::new("r").weights(1, WeightFile::HiddenBias),
            Path::new("r/weights/layer1_hidden_bias.npy")
        );
        assert_eq!(
            RunPaths::new("r").rg_report(),
            Path::new("r").join("rg").join("rg.json")
        );
    }

    #[test]
    fn a_relative_path_climbs_to_the_common_folder() {
        let r = |t: &str, b: &str| relative_path(Path::new(t), Path::new(b));
        assert_eq!(
            r("/a/datasets/x", "/a/runs/r1"),
            Path::new("../../datasets/x")
        );
        assert_eq!(r("/a/r1/data", "/a/r1"), Path::new("data"));
        assert_eq!(r("/a", "/a"), Path::new(""));
        assert_eq!(r("/x/y", "/a/b"), Path::new("../../x/y"));
    }
}
