//! Fig. 3: greedy layer-wise pretraining of the 1600-400-100-25 stack on samples of the 40×40
//! Ising model at K = 0.408, its receptive fields and reconstructions.
//!
//! `cargo run --release -p experiments --bin fig3 -- --preset paper --out runs/fig3`

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::config::Config;
use clap::Parser;
use experiments::output::write_file_atomic;
use experiments::plot::{ColourScale, ImagePanel, Series, image_grid, line_chart};
use experiments::pretrain::{
    LayerFields, LayerReport, PretrainConfig, StackOptions, encoding_for, load_or_generate,
    receptive_field_figures, split_rows, tensor_values, train_stack,
};
use ising_data::npy;
use rbm::device::{available_devices, select_device};
use serde::Serialize;

#[derive(Parser)]
#[command(about = "Fig. 3: greedy pretraining of an RBM stack on 2D Ising samples")]
struct Args {
    /// A preset from experiments/configs: paper (the default) or quick.
    #[arg(long, conflicts_with = "config")]
    preset: Option<String>,
    /// A configuration file instead of a preset.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Run folder (must not exist, unless --resume).
    #[arg(long)]
    out: PathBuf,
    /// Continue the interrupted run in --out: finished layers are loaded, the interrupted
    /// layer continues after its last complete checkpoint. A preset, config or override given
    /// with --resume must agree with the run's config.json.
    #[arg(long)]
    resume: bool,
    /// Where datasets are looked up and stored.
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
    /// Number of samples (overrides the config).
    #[arg(long)]
    samples: Option<usize>,
}

/// The configuration the flags ask for: a preset or a file, with the overrides applied.
fn requested_config(args: &Args) -> Result<PretrainConfig> {
    let mut config = match &args.config {
        Some(path) => {
            PretrainConfig::load(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => preset(args.preset.as_deref().unwrap_or("paper"))?,
    };
    if let Some(seed) = args.seed {
        config.training.seed = seed;
    }
    if let Some(epochs) = args.epochs {
        config.training.epochs = epochs;
    }
    if let Some(samples) = args.samples {
        config.data.samples = samples;
    }
    config.validate().context("configuration")?;
    Ok(config)
}

/// The configuration of the run to resume: the folder's own, checked against whatever the
/// flags ask for.
fn resume_config(args: &Args) -> Result<PretrainConfig> {
    let path = args.out.join("config.json");
    if !path.is_file() {
        bail!(
            "--resume: {} is not a run folder (no config.json)",
            args.out.display()
        );
    }
    let saved =
        PretrainConfig::load(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    saved
        .validate()
        .with_context(|| format!("{}", path.display()))?;
    let explicit = args.preset.is_some()
        || args.config.is_some()
        || args.seed.is_some()
        || args.epochs.is_some()
        || args.samples.is_some();
    if explicit {
        let wanted = serde_json::to_value(requested_config(args)?)?;
        let differences = json_differences("", &serde_json::to_value(&saved)?, &wanted);
        if !differences.is_empty() {
            bail!(
                "--resume: the requested configuration differs from {} in {} (the folder's value first); nothing was changed",
                path.display(),
                differences.join(", ")
            );
        }
    }
    if args.out.join("run.json").exists() {
        println!(
            "note: {} finished earlier; its outputs are rewritten from the saved layers",
            args.out.display()
        );
    }
    Ok(saved)
}

/// The paths at which two JSON values differ (e.g. `training.epochs`).
fn json_differences(path: &str, a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    let sub = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match (x.get(k), y.get(k)) {
                        (Some(u), Some(v)) => json_differences(&sub, u, v),
                        _ => vec![sub],
                    }
                })
                .collect()
        }
        _ if a == b => Vec::new(),
        _ => vec![format!(
            "{} ({} vs {})",
            if path.is_empty() { "the config" } else { path },
            a,
            b
        )],
    }
}

fn preset(name: &str) -> Result<PretrainConfig> {
    let text = match name {
        "paper" => include_str!("../../configs/paper.json"),
        "quick" => include_str!("../../configs/quick.json"),
        other => bail!("unknown preset '{other}' (paper or quick)"),
    };
    serde_json::from_str(text).with_context(|| format!("parsing the {name} preset"))
}

#[derive(Serialize)]
struct Metrics {
    layers: Vec<LayerReport>,
    receptive_fields: Vec<LayerFields>,
}

#[derive(Serialize)]
struct RunInfo {
    device: String,
    devices_compiled: Vec<&'static str>,
    crate_version: &'static str,
    burn_version: &'static str,
    data_dir: PathBuf,
    data_generated: bool,
    data_seconds: f64,
    layer_seconds: Vec<f64>,
    figures_seconds: f64,
    total_seconds: f64,
}

fn main() -> Result<()> {
    rbm::cpu_kernel::retain_freed_memory();
    let args = Args::parse();
    let start = Instant::now();
    let device = select_device(&args.device)?;
    let config = if args.resume {
        resume_config(&args)?
    } else {
        let config = requested_config(&args)?;
        if args.out.exists() {
            bail!(
                "{} already exists; choose a new --out folder, or add --resume to continue it",
                args.out.display()
            );
        }
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("creating {}", args.out.display()))?;
        write_file_atomic(
            &args.out.join("config.json"),
            serde_json::to_string_pretty(&config)?.as_bytes(),
        )?;
        config
    };
    let out = args.out.as_path();
    println!(
        "device: {} (compiled: {})",
        args.device,
        available_devices().join(", ")
    );

    let (stored, source) = load_or_generate(&config.data, &args.datasets)?;
    let l = config.data.size;
    let encoding = encoding_for(config.units);
    let (train, valid) = split_rows(
        stored,
        encoding,
        config.data.valid_fraction,
        config.data.seed,
    )?;
    let options = StackOptions {
        resume: args.resume,
        dashboard: std::io::stdout().is_terminal(),
    };
    let (dbn, reports) = train_stack(&config, train, valid.clone(), &device, out, options)?;

    let figures_start = Instant::now();
    let weights_dir = out.join("weights");
    std::fs::create_dir_all(&weights_dir)?;
    for (i, layer) in dbn.layers.iter().enumerate() {
        let [nv, nh] = [layer.n_visible(), layer.n_hidden()];
        let put = |name: String, shape: &[usize], data: Vec<f32>| {
            write_file_atomic(&weights_dir.join(name), &npy::encode_f32(shape, &data))
        };
        put(
            format!("layer{}_W.npy", i + 1),
            &[nv, nh],
            tensor_values(layer.weights.val()),
        )?;
        put(
            format!("layer{}_visible_bias.npy", i + 1),
            &[nv],
            tensor_values(layer.visible_bias.val()),
        )?;
        put(
            format!("layer{}_hidden_bias.npy", i + 1),
            &[nh],
            tensor_values(layer.hidden_bias.val()),
        )?;
    }

    // Receptive fields r(l) (Appendix B) and their measured size and locality.
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
        write_file_atomic(&out.join(name), bytes)?;
    }

    // Three held-out samples and their reconstructions from the top layer.
    let v = valid.to_tensor(&device).slice([0..3, 0..l * l]);
    let recon = tensor_values(dbn.reconstruct(v.clone()));
    let v = tensor_values(v);
    let (lo, hi) = match encoding {
        ising_data::SpinEncoding::ZeroOne => (0.0, 1.0),
        ising_data::SpinEncoding::PlusMinusOne => (-1.0, 1.0),
    };
    let mut panels = Vec::new();
    for s in 0..3 {
        panels.push(ImagePanel {
            caption: format!("sample {}", s + 1),
            l,
            values: v[s * l * l..(s + 1) * l * l].to_vec(),
            scale: ColourScale::Grey { lo, hi },
        });
    }
    for s in 0..3 {
        panels.push(ImagePanel {
            caption: format!("reconstruction {}", s + 1),
            l,
            values: recon[s * l * l..(s + 1) * l * l].to_vec(),
            scale: ColourScale::Grey { lo, hi },
        });
    }
    write_file_atomic(
        &out.join("fig3e_reconstructions.png"),
        &image_grid(
            "Held-out samples (top) and their reconstructions from the top layer (black: up)",
            &panels,
            3,
            240,
        )?,
    )?;

    // Training curves: reconstruction error per epoch, train and held-out, per layer.
    let mut curves = Vec::new();
    for r in &reports {
        for split in ["train", "valid"] {
            let points: Vec<(f64, f64)> = r
                .epochs
                .iter()
                .filter(|e| e.split == split)
                .filter_map(|e| {
                    e.values
                        .get("Reconstruction error")
                        .map(|&x| (e.epoch as f64, x))
                })
                .collect();
            if !points.is_empty() {
                curves.push(Series::new(format!("layer {} {split}", r.layer), points));
            }
        }
    }
    if !curves.is_empty() {
        write_file_atomic(
            &out.join("training_curves.png"),
            &line_chart(
                "Reconstruction error per unit during training",
                "epoch",
                "mean squared error",
                &curves,
                true,
            )?,
        )?;
    }
    let figures_seconds = figures_start.elapsed().as_secs_f64();
    write_file_atomic(
        &out.join("metrics.json"),
        &serde_json::to_vec_pretty(&Metrics {
            layers: reports.clone(),
            receptive_fields: field_reports,
        })?,
    )?;
    let info = RunInfo {
        device: args.device.clone(),
        devices_compiled: available_devices(),
        crate_version: env!("CARGO_PKG_VERSION"),
        burn_version: "0.22.1",
        data_dir: source.dir,
        data_generated: source.generated,
        data_seconds: source.seconds,
        layer_seconds: reports.iter().map(|r| r.seconds).collect(),
        figures_seconds,
        total_seconds: start.elapsed().as_secs_f64(),
    };
    write_file_atomic(&out.join("run.json"), &serde_json::to_vec_pretty(&info)?)?;
    println!("wrote {} in {:.1} s", out.display(), info.total_seconds);
    Ok(())
}
