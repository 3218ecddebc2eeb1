//! Fig. 3: greedy layer-wise pretraining of the 1600-400-100-25 stack on samples of the 40×40
//! Ising model at K = 0.408, its receptive fields and reconstructions.
//!
//! `cargo run --release -p experiments --bin fig3 -- --preset paper --out runs/fig3`

use rbm::tensor::to_vec;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::data::dataset::Dataset;
use burn::prelude::Device;
use clap::Parser;
use experiments::interrupt::StopSignal;
use experiments::lock::lock_run;
use experiments::output::{RunFolder, check_out, clean_out, with_note};
use experiments::plot::{ColourScale, ImagePanel, Series, image_grid, line_chart};
use experiments::pretrain::{
    DataSource, FirstLayerQuality, LayerFields, LayerReport, PretrainConfig, StackOptions,
    encoding_for, first_layer_quality, json_differences, load_or_generate, receptive_field_figures,
    split_rows, train_stack,
};
use experiments::run::{Metrics, RunHistory, RunPaths, RunRecord, WeightFile};
use experiments::streams::Stream;
use experiments::training::EpochSplit;
use ising_data::{RowsDataset, StoredDataset, npy};
use rbm::Dbn;
use rbm::device::{available_devices, select_device};
use rbm::train::metric::{ReconstructionError, Statistic};

#[derive(Parser)]
#[command(about = "Fig. 3: greedy pretraining of an RBM stack on 2D Ising samples")]
struct Args {
    /// A preset from experiments/configs: paper (the default) or quick.
    #[arg(long, conflicts_with = "config")]
    preset: Option<String>,
    /// A configuration file instead of a preset. Its numbers must lie in these ranges:
    /// init_std 0 to 1, training.learning_rate above 0 to 1, training.momentum 0 to below 1,
    /// training.cd.l1 and l2 0 to 1, data.valid_fraction 0 to below 0.9, data.coupling ≥ 0
    /// (as far as the exact values stay finite), data.samples at least 10 and within memory
    /// (5 bytes a spin).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Run folder (must not exist, unless --resume or --force).
    #[arg(long)]
    out: PathBuf,
    /// Replace an existing run folder that fig3 wrote (it is removed once the new run
    /// finishes); any other folder is refused.
    #[arg(long, conflicts_with = "resume")]
    force: bool,
    /// Continue the interrupted run in --out: finished layers are loaded, the interrupted
    /// layer continues after its last complete checkpoint. A preset, config or override given
    /// with --resume must agree with the run's config.json.
    #[arg(long)]
    resume: bool,
    /// Where datasets are looked up and stored (a folder).
    #[arg(long, default_value = "datasets")]
    datasets: PathBuf,
    /// Device (flex, or a backend compiled in with its Cargo feature).
    #[arg(long, default_value = "flex")]
    device: String,
    /// Training seed (overrides the config).
    #[arg(long)]
    seed: Option<u64>,
    /// Epochs per layer (overrides the config).
    #[arg(long)]
    epochs: Option<usize>,
    /// Number of samples (overrides the config): enough for one full training batch and at
    /// least three held-out rows (the paper preset needs at least 111).
    #[arg(long)]
    samples: Option<usize>,
    /// Check the first layer's KL per spin (the end-of-run check) every N epochs during its
    /// training; each check runs beside the next epoch.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    kl_every: Option<u64>,
}

/// The configuration the flags ask for: a preset or a file, with the overrides applied.
fn requested_config(args: &Args) -> Result<PretrainConfig> {
    let config = match &args.config {
        Some(path) => PretrainConfig::read(path).context("--config")?,
        None => preset(args.preset.as_deref().unwrap_or("paper"))?,
    };
    let config = with_overrides(config, args);
    config.validate().context("configuration")?;
    Ok(config)
}

/// `config` with the flags' overrides (seed, epochs, samples) applied.
fn with_overrides(mut config: PretrainConfig, args: &Args) -> PretrainConfig {
    if let Some(seed) = args.seed {
        config.training.seed = seed;
    }
    if let Some(epochs) = args.epochs {
        config.training.epochs = epochs;
    }
    if let Some(samples) = args.samples {
        config.data.samples = samples;
    }
    config
}

/// The configuration of the run to resume: the folder's own, checked against whatever the
/// flags ask for.
fn resume_config(args: &Args) -> Result<PretrainConfig> {
    let paths = RunPaths::new(&args.out);
    let path = paths.config();
    if !path.is_file() {
        bail!(
            "--resume: {} is not a run folder (no {})",
            args.out.display(),
            RunPaths::CONFIG
        );
    }
    let saved = PretrainConfig::read(&path)?;
    saved
        .validate()
        .with_context(|| format!("{}", path.display()))?;
    let explicit = args.preset.is_some()
        || args.config.is_some()
        || args.seed.is_some()
        || args.epochs.is_some()
        || args.samples.is_some();
    if explicit {
        // Overrides alone are compared against the run's own configuration; a preset or a
        // file, with the overrides applied, against the whole of it.
        let wanted = match args.preset.is_some() || args.config.is_some() {
            true => requested_config(args)?,
            false => with_overrides(saved.clone(), args),
        };
        let wanted = serde_json::to_value(wanted)?;
        let differences = json_differences("", &serde_json::to_value(&saved)?, &wanted);
        if !differences.is_empty() {
            bail!(
                "--resume: the requested configuration differs from {} in {} (the folder's value first); nothing was changed",
                path.display(),
                differences.join(", ")
            );
        }
    }
    if paths.record().exists() {
        RunHistory::read(&paths.record()).map_err(|e| {
            anyhow::anyhow!(
                "--resume: {e:#}; it holds the first run's record, which a resume keeps: restore it, or remove it to have this resume write a new record; nothing was changed"
            )
        })?;
        println!(
            "note: {} finished earlier; its outputs are rewritten from the saved layers, and run.json keeps the first run's record",
            args.out.display()
        );
    }
    Ok(saved)
}

fn preset(name: &str) -> Result<PretrainConfig> {
    let text = match name {
        "paper" => include_str!("../../configs/paper.json"),
        "quick" => include_str!("../../configs/quick.json"),
        other => bail!("unknown preset '{other}' (paper or quick)"),
    };
    PretrainConfig::from_json(text).with_context(|| format!("the {name} preset"))
}

/// The files of a fig3 run folder of `config`, at every depth, for the marker that lets
/// `--force` replace it: exact names or narrow patterns (so that a file a user adds, such as
/// `layer_notes.txt` or `weights/notes.txt`, is never taken for ours), and the `quality` and
/// `rg` folders, which carry their own markers.
fn run_entries(config: &PretrainConfig) -> Vec<String> {
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
        for record in experiments::checkpoint::RECORDS {
            entries.push(format!("layer{l}/checkpoint/{record}-*.bpk"));
        }
    }
    entries
}

fn main() -> std::process::ExitCode {
    experiments::output::main(run)
}

fn run() -> Result<()> {
    let args = Args::parse();
    let start = Instant::now();
    let device = select_device(&args.device)?;
    let config = if args.resume {
        let lock = lock_run(&args.out)?;
        clean_out(&args.out)?;
        (resume_config(&args)?, lock)
    } else {
        let config = requested_config(&args)?;
        if args.out.is_dir() && !args.force {
            bail!(
                "{} already exists; choose a new --out folder, add --resume to continue it, or --force to replace it",
                args.out.display()
            );
        }
        check_out(&args.out, args.force, "fig3")?;
        (config, lock_run(&args.out)?)
    };
    let (config, _lock) = config;
    println!(
        "device: {} (compiled: {})",
        args.device,
        available_devices().join(", ")
    );

    // The data first: a dataset error leaves no run folder behind.
    let (stored, source) = load_or_generate(&config.data, &args.datasets)?;
    // A --resume of a folder that holds only its config (a run `sweep plan` prepared) starts
    // the run; it continues one only when a layer has been started.
    let continued = args.resume
        && (1..config.layers.len()).any(|l| args.out.join(format!("layer{l}")).exists());
    let folder = if args.resume {
        RunFolder::reopen("fig3", &args.out, run_entries(&config))?
    } else {
        let folder = RunFolder::create("fig3", &args.out, run_entries(&config))?;
        folder
            .write_json(RunPaths::CONFIG, &config)
            .map_err(|e| with_note(e, folder.kept_note()))?;
        folder
    };
    // Until the run finishes, every error says where the run it replaces is kept.
    let kept = folder.kept_note();
    let trained = Trained {
        args: &args,
        config: &config,
        folder: &folder,
        device: &device,
        continued,
        start,
    };
    match trained.train(stored, source).and_then(|()| folder.finish()) {
        Ok(out) => {
            println!(
                "wrote {} in {:.1} s",
                out.display(),
                start.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Err(e) => Err(with_note(e, kept)),
    }
}

/// A run from its open folder on: training, then every output.
struct Trained<'a> {
    args: &'a Args,
    config: &'a PretrainConfig,
    folder: &'a RunFolder,
    device: &'a Device,
    continued: bool,
    start: Instant,
}

impl Trained<'_> {
    /// Trains the stack on `stored` and writes the weights, figures, metrics and record.
    fn train(&self, stored: StoredDataset, source: DataSource) -> Result<()> {
        let (config, folder, device) = (self.config, self.folder, self.device);
        let (train, valid) = split_rows(
            stored,
            encoding_for(config.units),
            config.data.valid_fraction,
            config.data.seed,
        )?;
        let options = StackOptions {
            resume: self.args.resume,
            dashboard: std::io::stdout().is_terminal(),
            stop: StopSignal::install()?,
            kl_every: self.args.kl_every.map(|n| n as usize),
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
            println!(
                "layer {}: {} fields, half-maximum area {:.0} sites (radius {:.2}), {:.1}% of |r| inside the {b}×{b} block (uniform: {:.1}%)",
                f.layer,
                f.units,
                m.half_max_area,
                m.half_max_radius,
                100.0 * m.block_fraction,
                100.0 * m.uniform_block_fraction,
                b = m.block_side,
            );
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
            println!("layer 1: no likelihood result: {why}");
            return Ok(quality);
        }
        let (f, r) = (
            &quality.log_partition_forward,
            &quality.log_partition_reverse,
        );
        let (kf, kr) = (&quality.kl_per_spin_forward, &quality.kl_per_spin_reverse);
        println!(
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
        );
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
        let (args, folder, out) = (self.args, self.folder, self.folder.dir());
        let continued = self.continued;
        let start = self.start;
        let record = RunRecord {
            resumed: continued,
            device: args.device.clone(),
            cpu_path: rbm::CpuPath::from_env()?.to_string(),
            devices_compiled: available_devices().iter().map(|d| d.to_string()).collect(),
            crate_version: env!("CARGO_PKG_VERSION").into(),
            burn_version: experiments::BURN_VERSION.into(),
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
