//! A Fig. 3 run from its open folder on ([`RunJob`]): training, then every output the folder
//! holds.

use std::io::IsTerminal;
use std::time::Instant;

use anyhow::Result;
use burn::data::dataset::Dataset;
use burn::prelude::*;
use ising_data::config::Valid;
use ising_data::{RowsDataset, StoredDataset, npy};
use rbm::Dbn;
use rbm::device::available_devices;
use rbm::tensor::to_vec;
use rbm::train::metric::{ReconstructionError, Statistic};

use super::paths::{RunPaths, WeightFile};
use super::record::{Metrics, RunHistory, RunRecord};
use crate::interrupt::StopSignal;
use crate::output::RunFolder;
use crate::plot::{ColourScale, ImagePanel, Series, image_grid, line_chart};
use crate::pretrain::{
    DataSource, FirstLayerQuality, LayerFields, LayerReport, PretrainConfig, StackOptions,
    encoding_for, first_layer_quality, receptive_field_figures, run_rows, train_stack,
};
use crate::progress;
use crate::streams::Stream;
use crate::training::EpochSplit;

/// A Fig. 3 run from its open folder on: the stack trained (finished layers loaded, an
/// interrupted one continued), then every output written: the weights, the figures,
/// `metrics.json` and `run.json`.
pub struct RunJob<'a> {
    /// The run's configuration.
    pub config: &'a Valid<PretrainConfig>,
    /// The open run folder.
    pub folder: &'a RunFolder,
    /// The device it trains on.
    pub device: &'a Device,
    /// The device as asked for (`--device`), for the record.
    pub device_name: &'a str,
    /// Continue the run in the folder (`--resume`).
    pub resume: bool,
    /// Whether a layer had been started before (a resume that continues training).
    pub continued: bool,
    /// Check the first layer's KL per spin every this many epochs (`--kl-every`).
    pub kl_every: Option<usize>,
    /// When the process started, for the record.
    pub start: Instant,
}

impl RunJob<'_> {
    /// Trains the stack on `stored` and writes the weights, figures, metrics and record.
    ///
    /// # Errors
    /// Training's and writing's; an interrupted run as [`crate::output::Interrupted`].
    pub fn train(&self, stored: StoredDataset, source: DataSource) -> Result<()> {
        let (config, folder, device) = (self.config, self.folder, self.device);
        let (train, valid) = run_rows(config, stored)?;
        let options = StackOptions {
            resume: self.resume,
            dashboard: std::io::stdout().is_terminal(),
            stop: StopSignal::install()?,
            kl_every: self.kl_every,
        };
        let (dbn, reports) =
            train_stack(config, train, valid.clone(), device, folder.dir(), options)?;
        let figures_start = Instant::now();
        write_weights(folder, &dbn)?;
        let field_reports = self.field_figures(&dbn)?;
        self.reconstructions(&dbn, &valid)?;
        training_curves(folder, &reports)?;
        let figures_seconds = figures_start.elapsed().as_secs_f64();
        let quality = self.first_layer(&dbn, &valid)?;
        folder.write_json(
            RunPaths::METRICS,
            &Metrics {
                layers: reports.clone(),
                receptive_fields: field_reports,
                first_layer_quality: quality,
            },
        )?;
        self.record(&reports, source, figures_seconds)
    }

    /// Receptive fields r(l) (Appendix B), their measured size and locality, and figures.
    fn field_figures(&self, dbn: &Dbn) -> Result<Vec<LayerFields>> {
        let l = self.config.data.size;
        let folder = self.folder;
        let (field_reports, figures) = receptive_field_figures(&dbn.receptive_fields(), l)?;
        for f in &field_reports {
            let m = &f.measures;
            progress::info(format!(
                "layer {}: {} fields, half-maximum area {:.0} sites (radius {:.2}), {:.1}% of |r| inside the {b}×{b} block (uniform: {:.1}%)",
                f.layer,
                f.units,
                m.half_max_area,
                m.half_max_radius,
                100.0 * m.block_fraction,
                100.0 * m.uniform_block_fraction,
                b = m.block_side,
            ));
        }
        for (name, bytes) in &figures {
            folder.write(name, bytes)?;
        }

        Ok(field_reports)
    }

    /// Three held-out samples and their reconstructions from the top layer (validation
    /// guarantees at least three held-out rows).
    fn reconstructions(&self, dbn: &Dbn, valid: &RowsDataset) -> Result<()> {
        let (l, device, folder) = (self.config.data.size, self.device, self.folder);
        let encoding = encoding_for(self.config.units);
        let shown = valid.len().min(3);
        let v = valid.to_tensor(device).slice([0..shown, 0..l * l]);
        let recon = to_vec::<f32, _>(dbn.reconstruct(v.clone()))?;
        let v = to_vec::<f32, _>(v)?;
        let (lo, hi) = match encoding {
            ising_data::SpinEncoding::ZeroOne => (0.0, 1.0),
            ising_data::SpinEncoding::PlusMinusOne => (-1.0, 1.0),
        };
        let mut panels = Vec::new();
        for s in 0..shown {
            panels.push(ImagePanel {
                caption: format!("sample {}", s + 1),
                l,
                values: v[s * l * l..(s + 1) * l * l].to_vec(),
                scale: ColourScale::Grey { lo, hi },
            });
        }
        for s in 0..shown {
            panels.push(ImagePanel {
                caption: format!("reconstruction {}", s + 1),
                l,
                values: recon[s * l * l..(s + 1) * l * l].to_vec(),
                scale: ColourScale::Grey { lo, hi },
            });
        }
        folder.write(
            "fig3e_reconstructions.png",
            &image_grid(
                "Held-out samples (top) and their reconstructions from the top layer (black: up)",
                &panels,
                3,
                240,
            )?,
        )?;

        Ok(())
    }

    /// The first layer in absolute terms: ln Z bracketed by forward and reverse AIS, and the
    /// held-out NLL and KL per spin.
    fn first_layer(&self, dbn: &Dbn, valid: &RowsDataset) -> Result<FirstLayerQuality> {
        let config = self.config;
        let quality = first_layer_quality(
            &dbn.layers[0],
            valid,
            config.data.size,
            config.data.coupling,
            Stream::FinalCheck.key(config.training.seed),
            self.device,
        )?;
        if let Some(why) = &quality.inconsistent {
            progress::info(format!("layer 1: no likelihood result: {why}"));
            return Ok(quality);
        }
        let (f, r) = (
            &quality.log_partition_forward,
            &quality.log_partition_reverse,
        );
        let (kf, kr) = (&quality.kl_per_spin_forward, &quality.kl_per_spin_reverse);
        progress::info(format!(
            "layer 1: ln Z = {:.2} ± {:.2} by forward AIS (a lower bound in expectation), {:.2} ± {:.2} by reverse AIS from held-out data; held-out KL per spin from the exact Ising distribution {:.4} ± {:.4} (forward, biased low), {:.4} ± {:.4} (reverse) nats ({} runs each way, a ladder of {} steps, {:.1} s)",
            f.log_partition,
            f.std_error,
            r.log_partition,
            r.std_error,
            kf.value,
            kf.std_error,
            kr.value,
            kr.std_error,
            quality.runs,
            quality.ladder.iter().map(|s| s.1).sum::<usize>(),
            quality.seconds,
        ));
        Ok(quality)
    }

    /// Writes run.json: this process's record, added to the first one's when a finished run
    /// is resumed.
    fn record(
        &self,
        reports: &[LayerReport],
        source: DataSource,
        figures_seconds: f64,
    ) -> Result<()> {
        let (folder, out) = (self.folder, self.folder.dir());
        let continued = self.continued;
        let start = self.start;
        let record = RunRecord {
            resumed: continued,
            device: self.device_name.to_string(),
            cpu_path: rbm::CpuPath::from_env()?.to_string(),
            devices_compiled: available_devices().iter().map(|d| d.to_string()).collect(),
            crate_version: env!("CARGO_PKG_VERSION").into(),
            burn_version: crate::BURN_VERSION.into(),
            git_commit: crate::cli::GIT_COMMIT.into(),
            command_line: std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            finished: crate::cli::now_utc(),
            data: source.seen_from(out),
            layer_seconds: reports.iter().map(|r| r.seconds).collect(),
            figures_seconds,
            total_seconds: start.elapsed().as_secs_f64(),
        };
        let paths = RunPaths::new(out);
        // A resumed finished run keeps the first record and adds this one.
        let previous = match paths.record().exists() {
            true => Some(RunHistory::read(&paths.record())?),
            false => None,
        };
        let info = RunHistory::then(previous, record);
        folder.write_json(RunPaths::RECORD, &info)?;
        Ok(())
    }
}

/// The weights and biases of every layer, as `.npy` files in `weights/`.
fn write_weights(folder: &RunFolder, dbn: &Dbn) -> Result<()> {
    for (i, layer) in dbn.layers.iter().enumerate() {
        let [nv, nh] = [layer.n_visible(), layer.n_hidden()];
        let put = |file: WeightFile, shape: &[usize], data: Vec<f32>| {
            folder.write(&file.relative(i + 1), &npy::encode_f32(shape, &data))
        };
        put(
            WeightFile::Weights,
            &[nv, nh],
            to_vec::<f32, _>(layer.weights.val())?,
        )?;
        put(
            WeightFile::VisibleBias,
            &[nv],
            to_vec::<f32, _>(layer.visible_bias.val())?,
        )?;
        put(
            WeightFile::HiddenBias,
            &[nh],
            to_vec::<f32, _>(layer.hidden_bias.val())?,
        )?;
    }
    Ok(())
}

/// Training curves: reconstruction error per epoch, train and held-out, per layer.
fn training_curves(folder: &RunFolder, reports: &[LayerReport]) -> Result<()> {
    let mut curves = Vec::new();
    for r in reports {
        for split in [EpochSplit::Train, EpochSplit::Valid] {
            let points: Vec<(f64, f64)> = r
                .epochs
                .iter()
                .filter(|e| e.split == split)
                .filter_map(|e| {
                    e.values
                        .get(ReconstructionError::ID)
                        .map(|&x| (e.epoch as f64, x))
                })
                .collect();
            if !points.is_empty() {
                let name = format!("layer {} {}", r.layer, split.name());
                curves.push(Series::new(name, points));
            }
        }
    }
    if !curves.is_empty() {
        folder.write(
            "training_curves.png",
            &line_chart(
                "Reconstruction error per unit during training",
                "epoch",
                "mean squared error",
                &curves,
                true,
            )?,
        )?;
    }
    Ok(())
}
