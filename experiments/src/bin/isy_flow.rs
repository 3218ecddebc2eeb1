//! The "RBM flow" of Iso, Shiba & Yokoo (PRE 97, 053304, 2018): an RBM trained on 10×10 Ising
//! configurations at many temperatures, iterated v → h → v from T = 0 and T = ∞, and the
//! temperature of the flowed configurations read from their exact energy; the same for a
//! control RBM trained on low temperatures only (see `experiments::isy`).
//!
//! `cargo run --release -p experiments --bin isy_flow -- --out runs/isy-flow`
//!
//! Writes `isy.json` and `isy-flow.png` to the output folder, and prints the flows' T_fit and
//! ⟨|m|⟩ at a few iterations as Markdown tables.

use std::time::Instant;

use anyhow::Result;
use clap::Parser;
use experiments::cli::{DeviceArgs, OutArgs, PropagationArg, closing, shell_word};
use experiments::isy::{IsyOptions, IsyReport, flow_figure, format_temperature, run};
use experiments::output::RunOutput;
use ising_data::config::{Checked, Valid};

const EXAMPLES: &str = "\
isy_flow --out runs/isy-flow
isy_flow --epochs 50 --iterations 10 --out runs/isy-short
isy_flow --flow-hidden mean --out runs/isy-mean";

#[derive(Parser)]
#[command(
    name = env!("CARGO_BIN_NAME"),
    about = "The Iso–Shiba–Yokoo RBM flow of 10×10 Ising configurations, and its control",
    version = experiments::cli::VERSION,
    after_help = experiments::cli::after_help(EXAMPLES)
)]
struct Args {
    #[command(flatten)]
    out: OutArgs,
    #[command(flatten)]
    device: DeviceArgs,
    /// Passes over the training rows of each RBM (Iso et al. trained for several thousand).
    #[arg(long, default_value_t = defaults().epochs)]
    epochs: usize,
    /// Seed of every random number.
    #[arg(long, default_value_t = defaults().seed)]
    seed: u64,
    /// The control RBM is trained on the temperatures T ≤ this (and T ≈ 0) only.
    #[arg(long, default_value_t = defaults().control_max_t)]
    control_max_t: f64,
    /// The Monte Carlo temperatures, comma-separated [default: 0.25, 0.5, …, 6].
    #[arg(long, value_delimiter = ',', value_name = "T,...")]
    temperatures: Option<Vec<f64>>,
    /// Configurations per temperature (and ground-state rows; at least one per Monte Carlo
    /// chain).
    #[arg(long, default_value_t = defaults().samples_per_temperature)]
    samples: usize,
    /// Hidden units.
    #[arg(long, default_value_t = defaults().hidden)]
    hidden: usize,
    /// SGD learning rate (above 0, at most 1).
    #[arg(long, default_value_t = defaults().learning_rate)]
    learning_rate: f64,
    /// SGD momentum (0 to below 1).
    #[arg(long, default_value_t = defaults().momentum)]
    momentum: f64,
    /// Mini-batch size.
    #[arg(long, default_value_t = defaults().batch_size)]
    batch_size: usize,
    /// Iterations of the flow.
    #[arg(long, default_value_t = defaults().iterations)]
    iterations: usize,
    /// Independent chains per start of the flow.
    #[arg(long, default_value_t = defaults().starts)]
    starts: usize,
    /// What the flow passes to the hidden layer.
    #[arg(long, value_enum, default_value_t = PropagationArg::Sample)]
    flow_hidden: PropagationArg,
}

fn defaults() -> IsyOptions {
    IsyOptions::default()
}

fn options(args: &Args) -> Result<Valid<IsyOptions>> {
    let mut o = IsyOptions {
        epochs: args.epochs,
        samples_per_temperature: args.samples,
        hidden: args.hidden,
        batch_size: args.batch_size,
        iterations: args.iterations,
        starts: args.starts,
        seed: args.seed,
        control_max_t: args.control_max_t,
        learning_rate: args.learning_rate,
        momentum: args.momentum,
        flow_hidden: args.flow_hidden.into(),
        ..IsyOptions::default()
    };
    if let Some(t) = &args.temperatures {
        o.temperatures = t.clone();
    }
    Ok(o.validated().map_err(|e| e.renamed(flag_of))?)
}

/// The flag that sets a field of [`IsyOptions`].
fn flag_of(field: &str) -> String {
    match field {
        "samples_per_temperature" => "--samples".into(),
        other => experiments::cli::flag(other),
    }
}

fn main() -> std::process::ExitCode {
    experiments::output::main(run_binary)
}

fn run_binary() -> Result<()> {
    let args = Args::parse();
    let options = options(&args)?;
    let device = args.device.select()?;
    let mut out = RunOutput::new("isy_flow", &args.out.out, args.out.force)?;
    let clock = Instant::now();
    let log = |line: &str| eprintln!("[{:6.1} s] {line}", clock.elapsed().as_secs_f64());
    let report = run(&options, &device, &log)?;
    log("figure");
    out.add("isy-flow.png", flow_figure(&report)?);
    out.add_json("isy.json", &report)?;
    let written = out.write()?;
    print_tables(&report);
    let steps = [(
        format!("{}/isy-flow.png", shell_word(&written)),
        "the flows' temperature and |m| against iteration, with the control's",
    )];
    let seconds = clock.elapsed().as_secs_f64();
    println!("{}", closing(&written, seconds, &steps));
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
