//! Fig. 3: greedy layer-wise pretraining of the 1600-400-100-25 stack on samples of the 40×40
//! Ising model at K = 0.408, its receptive fields and reconstructions.
//!
//! `cargo run --release -p experiments --bin fig3 -- --preset paper --out runs/fig3`

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use experiments::lock::lock_run;
use experiments::output::{RunFolder, check_out, clean_out, with_note};
use experiments::pretrain::{PretrainConfig, json_differences, load_or_generate};
use experiments::run::{RunHistory, RunJob, RunPaths};
use experiments::sweep::spec::preset_text;
use ising_data::config::{Checked, Valid};
use rbm::device::{available_devices, select_device};

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
fn requested_config(args: &Args) -> Result<Valid<PretrainConfig>> {
    let config = match &args.config {
        Some(path) => PretrainConfig::read(path).context("--config")?,
        None => preset(args.preset.as_deref().unwrap_or("paper"))?,
    };
    let config = with_overrides(config, args)
        .validated()
        .context("configuration")?;
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
fn resume_config(args: &Args) -> Result<Valid<PretrainConfig>> {
    let paths = RunPaths::new(&args.out);
    let path = paths.config();
    if !path.is_file() {
        bail!(
            "--resume: {} is not a run folder (no {})",
            args.out.display(),
            RunPaths::CONFIG
        );
    }
    let saved = PretrainConfig::read(&path)?
        .validated()
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
            true => requested_config(args)?.into_inner(),
            false => with_overrides(saved.clone().into_inner(), args),
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
    PretrainConfig::from_json(preset_text(name)?).with_context(|| format!("the {name} preset"))
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
    let continued =
        args.resume && (1..config.layers.len()).any(|l| RunPaths::new(&args.out).layer(l).exists());
    let folder = if args.resume {
        RunFolder::reopen("fig3", &args.out, RunPaths::marker_entries(&config))?
    } else {
        let folder = RunFolder::create("fig3", &args.out, RunPaths::marker_entries(&config))?;
        folder
            .write_json(RunPaths::CONFIG, &config)
            .map_err(|e| with_note(e, folder.kept_note()))?;
        folder
    };
    // Until the run finishes, every error says where the run it replaces is kept.
    let kept = folder.kept_note();
    let job = RunJob {
        config: &config,
        folder: &folder,
        device: &device,
        device_name: &args.device,
        resume: args.resume,
        continued,
        kl_every: args.kl_every.map(|n| n as usize),
        start,
    };
    match job.train(stored, source).and_then(|()| folder.finish()) {
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
