//! The "RBM flow" of Iso, Shiba & Yokoo (PRE 97, 053304, 2018): an RBM trained on 10×10 Ising
//! configurations at many temperatures, iterated v → h → v from T = 0 and T = ∞, and the
//! temperature of the flowed configurations read from their exact energy; the same for a
//! control RBM trained on low temperatures only (see `experiments::isy`).
//!
//! `cargo run --release -p experiments --bin isy_flow -- --out runs/isy-flow`
//!
//! Writes `isy.json` and `isy-flow.png` to the output folder, and prints the flows' T_fit and
//! ⟨|m|⟩ at a few iterations as Markdown tables.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Parser;
use experiments::isy::{IsyOptions, IsyReport, flow_figure, format_temperature, run};
use experiments::output::RunOutput;
use ising_data::config::{Checked, Valid};
use rbm::Propagation;
use rbm::device::select_device;

#[derive(Parser)]
#[command(about = "The Iso–Shiba–Yokoo RBM flow of 10×10 Ising configurations, and its control")]
struct Args {
    /// Output folder; must not exist unless --force.
    #[arg(long, default_value = "runs/isy-flow")]
    out: PathBuf,
    /// Replace an existing output folder of this program (only once the new one is
    /// complete); any other folder is refused.
    #[arg(long)]
    force: bool,
    /// Passes over the training rows of each RBM (Iso et al. trained for several thousand).
    #[arg(long)]
    epochs: Option<usize>,
    /// Seed of every random number.
    #[arg(long)]
    seed: Option<u64>,
    /// Device (flex, or a backend compiled in with its Cargo feature).
    #[arg(long, default_value = "flex")]
    device: String,
    /// The control RBM is trained on the temperatures T ≤ this (and T ≈ 0) only.
    #[arg(long)]
    control_max_t: Option<f64>,
    /// The Monte Carlo temperatures, comma-separated (default 0.25, 0.5, …, 6).
    #[arg(long, value_delimiter = ',')]
    temperatures: Option<Vec<f64>>,
    /// Configurations per temperature (and ground-state rows; at least one per Monte Carlo
    /// chain).
    #[arg(long)]
    samples: Option<usize>,
    /// Hidden units.
    #[arg(long)]
    hidden: Option<usize>,
    /// SGD learning rate (above 0, at most 1).
    #[arg(long)]
    learning_rate: Option<f64>,
    /// SGD momentum (0 to below 1).
    #[arg(long)]
    momentum: Option<f64>,
    /// Mini-batch size.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Iterations of the flow.
    #[arg(long)]
    iterations: Option<usize>,
    /// Independent chains per start of the flow.
    #[arg(long)]
    starts: Option<usize>,
    /// What the flow passes to the hidden layer: sample (h ~ p(h|v)) or mean (E[h|v]).
    #[arg(long, default_value = "sample")]
    flow_hidden: String,
}

fn options(args: &Args) -> Result<Valid<IsyOptions>> {
    let mut o = IsyOptions::default();
    let set = |target: &mut usize, value: Option<usize>| {
        if let Some(v) = value {
            *target = v;
        }
    };
    set(&mut o.epochs, args.epochs);
    set(&mut o.samples_per_temperature, args.samples);
    set(&mut o.hidden, args.hidden);
    set(&mut o.batch_size, args.batch_size);
    set(&mut o.iterations, args.iterations);
    set(&mut o.starts, args.starts);
    if let Some(seed) = args.seed {
        o.seed = seed;
    }
    if let Some(t) = args.control_max_t {
        o.control_max_t = t;
    }
    if let Some(t) = &args.temperatures {
        o.temperatures = t.clone();
    }
    if let Some(lr) = args.learning_rate {
        o.learning_rate = lr;
    }
    if let Some(momentum) = args.momentum {
        o.momentum = momentum;
    }
    o.flow_hidden = match args.flow_hidden.as_str() {
        "sample" => Propagation::Sample,
        "mean" => Propagation::Mean,
        other => bail!("--flow-hidden must be sample or mean, got '{other}'"),
    };
    Ok(o.validated().map_err(|e| e.renamed(flag_of))?)
}

/// The flag that sets a field of [`IsyOptions`].
fn flag_of(field: &str) -> String {
    match field {
        "samples_per_temperature" => "--samples".into(),
        other => format!("--{}", other.replace('_', "-")),
    }
}

fn main() -> std::process::ExitCode {
    experiments::output::main(run_binary)
}

fn run_binary() -> Result<()> {
    let args = Args::parse();
    let options = options(&args)?;
    let device = select_device(&args.device)?;
    let mut out = RunOutput::new("isy_flow", &args.out, args.force)?;
    let clock = Instant::now();
    let log = |line: &str| eprintln!("[{:6.1} s] {line}", clock.elapsed().as_secs_f64());
    let report = run(&options, &device, &log)?;
    log("figure");
    out.add("isy-flow.png", flow_figure(&report)?);
    out.add_json("isy.json", &report)?;
    let written = out.write()?;
    print_tables(&report);
    println!(
        "wrote {} in {:.1} s",
        written.display(),
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Markdown tables of T_fit and ⟨|m|⟩ at iterations 0, 1, 2, 5, 10, 20, 40 (those run).
fn print_tables(report: &IsyReport) {
    let shown: Vec<usize> = [0, 1, 2, 5, 10, 20, 40]
        .into_iter()
        .filter(|&i| i <= report.options.iterations)
        .collect();
    println!("T_c = {:.4}\n", report.critical_temperature);
    println!("| model | start | iteration | E/N | T_fit | ⟨|m|⟩ | σ(E/N) measured / canonical |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for model in &report.models {
        for flow in &model.flows {
            for p in flow.points.iter().filter(|p| shown.contains(&p.iteration)) {
                let r = &p.readout;
                let canonical = r
                    .canonical_energy_std
                    .map_or("-".into(), |c| format!("{c:.4}"));
                println!(
                    "| {} | {} | {} | {:.4} ± {:.4} | {} | {:.3} ± {:.3} | {:.4} / {canonical} |",
                    model.name,
                    flow.start.label(),
                    p.iteration,
                    r.energy_per_spin.value,
                    r.energy_per_spin.std_error,
                    format_temperature(&r.fit),
                    r.abs_magnetization.value,
                    r.abs_magnetization.std_error,
                    r.energy_std
                );
            }
        }
    }
    println!("\n| data T | E/N (exact) | T_fit | ⟨|m|⟩ |");
    println!("|---:|---:|---:|---:|");
    for d in &report.data {
        println!(
            "| {:.2} | {:.4} ± {:.4} ({:.4}) | {} | {:.3} |",
            d.temperature,
            d.readout.energy_per_spin.value,
            d.readout.energy_per_spin.std_error,
            d.exact_energy_per_spin,
            format_temperature(&d.readout.fit),
            d.readout.abs_magnetization.value
        );
    }
}
