//! Fig. 3: greedy layer-wise pretraining of the 1600-400-100-25 stack on samples of the 40×40
//! Ising model at K = 0.408, its receptive fields and reconstructions.
//!
//! `cargo run --release -p experiments --bin fig3 -- --preset paper --out runs/fig3`

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use experiments::cli::{DeviceArgs, closing, command, shell_word};
use experiments::lock::lock_run;
use experiments::output::{RunFolder, check_out, clean_out, with_note};
use experiments::pretrain::{
    Override, PretrainConfig, apply_overrides, json_differences, load_or_generate,
};
use experiments::run::{RunHistory, RunJob, RunPaths};
use experiments::sweep::spec::Preset;
use ising_data::config::{Checked, Valid};
use rbm::device::available_devices;

const EXAMPLES: &str = "\
fig3 --preset quick --out runs/quick
fig3 --size 16 --coupling 0.4407 --hidden 64,16 --preset quick --out runs/mine
fig3 --preset paper --out runs/fig3-paper
fig3 --resume --out runs/fig3-paper
fig3 --print-config --preset quick --epochs 5 > mine.json; fig3 --config mine.json --out runs/m";

#[derive(Parser)]
#[command(
    name = env!("CARGO_BIN_NAME"),
    about = "Fig. 3: greedy pretraining of an RBM stack on 2D Ising samples",
    version = experiments::cli::VERSION,
    after_help = experiments::cli::after_help(EXAMPLES)
)]
struct Args {
    /// A preset from experiments/configs [default: paper].
    #[arg(long, value_enum, conflicts_with = "config")]
    preset: Option<Preset>,
    /// A configuration file instead of a preset. Its numbers must lie in these ranges:
    /// init_std 0 to 1, training.learning_rate above 0 to 1, training.momentum 0 to below 1,
    /// training.cd.l1 and l2 0 to 1, data.valid_fraction 0 to below 0.9, data.coupling ≥ 0
    /// (as far as the exact values stay finite), data.samples at least 10 and within memory
    /// (5 bytes a spin).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Run folder (must not exist, unless --resume or --force).
    #[arg(long, required_unless_present = "print_config")]
    out: Option<PathBuf>,
    #[arg(long, conflicts_with = "resume", help = ising_data::cli::FORCE_HELP)]
    force: bool,
    /// Continue the interrupted run in --out: finished layers are loaded, the interrupted
    /// layer continues after its last complete checkpoint. A preset, config or override given
    /// with --resume must agree with the run's config.json.
    #[arg(long)]
    resume: bool,
    /// Where datasets are looked up and stored (a folder).
    #[arg(long, default_value = "datasets")]
    datasets: PathBuf,
    #[command(flatten)]
    device: DeviceArgs,
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
    /// Coupling K of the data (data.coupling), e.g. 0.4407 for the critical point.
    #[arg(long)]
    coupling: Option<f64>,
    /// Linear size L of the lattice (data.size); the first layer becomes L² units.
    #[arg(long)]
    size: Option<usize>,
    /// The hidden layers' widths after the L² visible units, comma-separated (e.g. 64,16 for a
    /// 256-64-16 stack on 16×16); rg_analysis analyses widths m² with m dividing L.
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    hidden: Option<Vec<usize>>,
    /// Learning rate of every layer (training.learning_rate, above 0 to 1).
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Mini-batch size (training.batch_size).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Gibbs steps of CD-k (training.cd.k).
    #[arg(long)]
    cd_k: Option<usize>,
    /// Persistent chains (PCD: training.cd.persistent) instead of CD.
    #[arg(long)]
    persistent: bool,
    /// Any setting by its dotted key, as in sweep files (repeatable, applied after the flags
    /// above): --set training.momentum=0.9 --set propagation=sample.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<Override>,
    /// Print the resolved configuration (the JSON that --config reads back) and exit.
    #[arg(long, conflicts_with = "resume")]
    print_config: bool,
    /// Train an architecture that rg_analysis cannot analyse (hidden widths that are not m×m coarse
    /// lattices with m dividing L).
    #[arg(long)]
    no_rg: bool,
}

/// The configuration the flags ask for: a preset or a file, with the overrides applied.
fn requested_config(args: &Args) -> Result<Valid<PretrainConfig>> {
    let config = match &args.config {
        Some(path) => PretrainConfig::read(path).context("--config")?,
        None => preset(args.preset.unwrap_or(Preset::Paper))?,
    };
    let config = with_overrides(&config, args)?
        .validated()
        .context("configuration")?;
    if !args.no_rg {
        experiments::rg::check_architecture(config.data.size, &config.layers).map_err(|e| {
            anyhow::anyhow!("{e}; add --no-rg to train it anyway (rg_analysis will refuse the run)")
        })?;
    }
    Ok(config)
}

/// `config` with the flags' overrides applied: the named flags, then every --set.
fn with_overrides(config: &PretrainConfig, args: &Args) -> Result<PretrainConfig> {
    let mut o = Vec::new();
    let mut set = |key: &str, value: Option<serde_json::Value>| {
        if let Some(value) = value {
            o.push(Override::new(key, value));
        }
    };
    set("training.seed", args.seed.map(Into::into));
    set("training.epochs", args.epochs.map(Into::into));
    set("data.samples", args.samples.map(Into::into));
    set("data.coupling", args.coupling.map(Into::into));
    set("data.size", args.size.map(Into::into));
    if args.size.is_some() || args.hidden.is_some() {
        let l = args.size.unwrap_or(config.data.size);
        let hidden = match &args.hidden {
            Some(h) => h.clone(),
            None => config.layers.get(1..).unwrap_or_default().to_vec(),
        };
        let layers: Vec<usize> = std::iter::once(l.saturating_mul(l)).chain(hidden).collect();
        set("layers", Some(layers.into()));
    }
    set("training.learning_rate", args.learning_rate.map(Into::into));
    set("training.batch_size", args.batch_size.map(Into::into));
    set("training.cd.k", args.cd_k.map(Into::into));
    set(
        "training.cd.persistent",
        args.persistent.then_some(true.into()),
    );
    o.extend(args.set.iter().cloned());
    apply_overrides(config, &o).context("the flags")
}

/// Whether any flag asks for a setting (a preset, a file or an override).
fn asks_for_settings(args: &Args) -> bool {
    args.preset.is_some()
        || args.config.is_some()
        || args.seed.is_some()
        || args.epochs.is_some()
        || args.samples.is_some()
        || args.coupling.is_some()
        || args.size.is_some()
        || args.hidden.is_some()
        || args.learning_rate.is_some()
        || args.batch_size.is_some()
        || args.cd_k.is_some()
        || args.persistent
        || !args.set.is_empty()
}

/// The configuration of the run to resume: the folder's own, checked against whatever the
/// flags ask for.
fn resume_config(args: &Args, out: &Path) -> Result<Valid<PretrainConfig>> {
    let paths = RunPaths::new(out);
    let path = paths.config();
    if !path.is_file() {
        bail!(
            "--resume: {} is not a run folder (no {})",
            out.display(),
            RunPaths::CONFIG
        );
    }
    let saved = PretrainConfig::read(&path)?
        .validated()
        .with_context(|| format!("{}", path.display()))?;
    if asks_for_settings(args) {
        // Overrides alone are compared against the run's own configuration; a preset or a
        // file, with the overrides applied, against the whole of it.
        let wanted = match args.preset.is_some() || args.config.is_some() {
            true => requested_config(args)?.into_inner(),
            false => with_overrides(&saved, args)?,
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
            out.display()
        );
    }
    Ok(saved)
}

fn preset(preset: Preset) -> Result<PretrainConfig> {
    PretrainConfig::from_json(preset.text())
        .with_context(|| format!("the {} preset", preset.name()))
}

fn main() -> std::process::ExitCode {
    experiments::output::main(run)
}

fn run() -> Result<()> {
    let args = Args::parse();
    let start = Instant::now();
    if args.print_config {
        let config = requested_config(&args)?;
        println!("{}", serde_json::to_string_pretty(&config)?);
        return Ok(());
    }
    let out = args.out.clone().context("--out is required")?;
    let device = args.device.select()?;
    let config = if args.resume {
        let lock = lock_run(&out)?;
        clean_out(&out)?;
        (resume_config(&args, &out)?, lock)
    } else {
        let config = requested_config(&args)?;
        if out.is_dir() && !args.force {
            bail!(
                "{} already exists; choose a new --out folder, add --resume to continue it, or --force to replace it",
                out.display()
            );
        }
        check_out(&out, args.force, "fig3")?;
        (config, lock_run(&out)?)
    };
    let (config, _lock) = config;
    println!(
        "device: {} (compiled: {})",
        args.device.device,
        available_devices().join(", ")
    );

    // The data first: a dataset error leaves no run folder behind.
    let (stored, source) = load_or_generate(&config.data, &args.datasets)?;
    // A --resume of a folder that holds only its config (a run `sweep plan` prepared) starts
    // the run; it continues one only when a layer has been started.
    let continued =
        args.resume && (1..config.layers.len()).any(|l| RunPaths::new(&out).layer(l).exists());
    let folder = if args.resume {
        RunFolder::reopen("fig3", &out, RunPaths::marker_entries(&config))?
    } else {
        let folder = RunFolder::create("fig3", &out, RunPaths::marker_entries(&config))?;
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
        device_name: &args.device.device,
        resume: args.resume,
        continued,
        kl_every: args.kl_every.map(|n| n as usize),
        start,
    };
    match job.train(stored, source).and_then(|()| folder.finish()) {
        Ok(out) => {
            let run = shell_word(&out);
            let steps = [
                (
                    command("rg_analysis", &run),
                    "does the stack coarse-grain like block spins? (seconds)",
                ),
                (
                    command("quality", &run),
                    "how good a model of the Ising distribution is it? (minutes)",
                ),
            ];
            let seconds = start.elapsed().as_secs_f64();
            println!("{}", closing(&out, seconds, &steps));
            Ok(())
        }
        Err(e) => Err(with_note(e, kept)),
    }
}
