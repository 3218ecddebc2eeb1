//! How good a finished `fig3` run is in absolute terms: each layer's ln Z bracketed by forward
//! and reverse AIS, the first layer's NLL and KL per spin against the exact Ising entropy,
//! and the first RBM and the whole DBN as generators of configurations, measured against
//! Kaufman's exact values and the Monte Carlo data (see `experiments::quality`).
//!
//! `cargo run --release -p experiments --bin quality -- runs/fig3`
//!
//! Writes `quality.json` and PNG figures to `RUN/quality` (or `--out`).

use std::cell::RefCell;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Parser;
use experiments::cli::{PropagationArg, closing, command, shell_word};
use experiments::output::RunOutput;
use experiments::progress::{Meter, Tick};
use experiments::quality::{QualityOptions, QualityReport, assess, figures};
use experiments::run::{RunArgs, RunPaths};
use ising_data::config::{Checked, Valid};

const EXAMPLES: &str = "\
quality runs/fig3-paper
quality runs/mine --chains 50 --sweeps 2000 --ais-scale 0.25
quality runs/mine --replicas 8 --tempering energy --out runs/mine-quality-pt";

#[derive(Parser)]
#[command(
    name = env!("CARGO_BIN_NAME"),
    about = "How good a model is a fig3 run? Likelihood, KL per spin and the physics of its generated samples",
    version = experiments::cli::VERSION,
    after_help = experiments::cli::after_help(EXAMPLES)
)]
struct Args {
    #[command(flatten)]
    common: RunArgs,
    /// Chains of each generator (also the reverse-AIS starts).
    #[arg(long, default_value_t = defaults().gibbs.chains)]
    chains: usize,
    /// Burn-in sweeps of each chain.
    #[arg(long, default_value_t = defaults().gibbs.burn_in)]
    burn_in: usize,
    /// Sweeps recorded after the burn-in.
    #[arg(long, default_value_t = defaults().gibbs.sweeps)]
    sweeps: usize,
    /// Sweeps between records.
    #[arg(long, default_value_t = defaults().gibbs.thin)]
    thin: usize,
    /// AIS runs per repetition.
    #[arg(long, default_value_t = defaults().ais_runs)]
    ais_runs: usize,
    /// AIS repetitions (the error bar of ln Z comes from their spread).
    #[arg(long, default_value_t = defaults().ais_repetitions)]
    ais_repetitions: usize,
    /// Scale the AIS ladder's steps by this factor (1 = 4 000 inverse temperatures).
    #[arg(long, default_value_t = 1.0)]
    ais_scale: f64,
    /// What the DBN passes down through its intermediate layers.
    #[arg(long, value_enum, default_value_t = PropagationArg::Mean)]
    downward: PropagationArg,
    /// Replicas of parallel tempering for each layer's chains (1: plain block Gibbs).
    #[arg(long, default_value_t = defaults().replicas)]
    replicas: usize,
    /// The smallest inverse temperature of the tempering ladder (geometric up to 1).
    #[arg(long, default_value_t = defaults().beta_min)]
    beta_min: f64,
    /// What the tempering ladder tempers.
    #[arg(long, value_enum, default_value_t = Tempering::Base)]
    tempering: Tempering,
    /// Seed of the analysis.
    #[arg(long, default_value_t = defaults().seed)]
    seed: u64,
}

/// What parallel tempering's ladder tempers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Tempering {
    /// The path from the data-fitted independent model (the AIS base) to the RBM.
    Base,
    /// The whole energy, toward the uniform distribution.
    Energy,
}

fn defaults() -> QualityOptions {
    QualityOptions::default()
}

fn options(args: &Args) -> Result<Valid<QualityOptions>> {
    let mut o = QualityOptions::default();
    o.gibbs.chains = args.chains;
    o.gibbs.burn_in = args.burn_in;
    o.gibbs.sweeps = args.sweeps;
    o.gibbs.thin = args.thin;
    o.ais_runs = args.ais_runs;
    o.ais_repetitions = args.ais_repetitions;
    o.replicas = args.replicas;
    o.beta_min = args.beta_min;
    o.base_path = args.tempering == Tempering::Base;
    let scale = args.ais_scale;
    if !(scale.is_finite() && scale > 0.0) {
        bail!("--ais-scale must be a positive number, got {scale}");
    }
    for segment in &mut o.ladder {
        segment.1 = ((segment.1 as f64 * scale).round() as usize).max(1);
    }
    o.seed = args.seed;
    o.downward = args.downward.into();
    Ok(o.validated().map_err(|e| e.renamed(flag_of))?)
}

/// The flag that sets a field of [`QualityOptions`].
fn flag_of(field: &str) -> String {
    match field {
        "gibbs.chains" => "--chains".into(),
        "gibbs.burn_in" => "--burn-in".into(),
        "gibbs.sweeps" => "--sweeps".into(),
        "gibbs.thin" => "--thin".into(),
        "ladder" => "--ais-scale".into(),
        other => experiments::cli::flag(other),
    }
}

fn main() -> std::process::ExitCode {
    experiments::output::main(run)
}

fn run() -> Result<()> {
    let args = Args::parse();
    let options = options(&args)?;
    let common = &args.common;
    common.paths()?;
    let device = common.device.select()?;
    let out_dir = common.out_dir(RunPaths::quality_dir);
    let mut out = RunOutput::new("quality", &out_dir, common.force)?;
    let start = Instant::now();
    let (current, meter) = (RefCell::new(String::new()), RefCell::new(None::<Meter>));
    let stage = |name: &str| {
        meter.replace(None);
        current.replace(name.to_string());
        println!("[{:6.1} s] {name}", start.elapsed().as_secs_f64());
    };
    let progress = |tick: Tick| {
        let mut meter = meter.borrow_mut();
        meter
            .get_or_insert_with(|| Meter::new(&current.borrow(), tick.total as u64, tick.unit))
            .inc(tick.done as u64);
    };
    let (report, samples) = assess(
        &common.run,
        common.datasets.as_deref(),
        &options,
        &device,
        &stage,
        &progress,
    )?;
    stage("figures");
    for (name, png) in figures(&report, &samples)? {
        out.add(&name, png);
    }
    out.add_json(RunPaths::QUALITY_REPORT, &report)?;
    let written = out.write()?;

    print_summary(&report);
    let steps = [
        (
            format!("{}/*.png", shell_word(&written)),
            "the figures: the generators' observables beside the exact values, the AIS brackets",
        ),
        (
            command("rg_analysis", &shell_word(&common.run)),
            "does the stack coarse-grain like block spins?",
        ),
    ];
    let seconds = start.elapsed().as_secs_f64();
    println!("{}", closing(&written, seconds, &steps));
    Ok(())
}

/// The report's numbers, one line per layer and generator.
fn print_summary(report: &QualityReport) {
    let f = &report.first_layer;
    println!(
        "layer 1: KL per spin {:.4} ± {:.4} (forward AIS, biased low) to {:.4} ± {:.4} (reverse, biased high); exact entropy {:.4}",
        f.kl_per_spin.forward.value,
        f.kl_per_spin.forward.std_error,
        f.kl_per_spin.reverse.value,
        f.kl_per_spin.reverse.std_error,
        f.entropy_per_spin
    );
    for p in &report.log_partition {
        println!(
            "layer {}: ln Z in [{:.3} ± {:.3}, {:.3} ± {:.3}] (width {:.3}), chains τ_int {:.1} sweeps, swap acceptance {}",
            p.layer,
            p.log_partition_forward.log_partition,
            p.log_partition_forward.std_error,
            p.log_partition_reverse.log_partition,
            p.log_partition_reverse.std_error,
            p.bracket_width,
            p.tau_int_sweeps,
            acceptance(&p.swap_acceptance)
        );
    }
    println!(
        "exact: E/N {:.5}, C {:.4}; data: E/N {}, |m| {}",
        report.exact["energy_per_spin"],
        report.exact["specific_heat"],
        report.data.energy_per_spin,
        report.data.abs_magnetization
    );
    for g in &report.generators {
        let fit = g
            .coupling_fit
            .map_or("none".to_string(), |k| format!("{k}"));
        println!(
            "{}: E/N {} (z {:+.1}), C {} (z {:+.1}), |m| {} (z {:+.1}), K_fit {fit}, τ_int {:.1}/{:.1} sweeps, R̂ {:.2}/{:.2}, swap acceptance {}{}",
            g.generator,
            g.observables.energy_per_spin,
            g.z_scores["energy_per_spin"],
            g.observables.specific_heat,
            g.z_scores["specific_heat"],
            g.observables.abs_magnetization,
            g.z_scores["abs_magnetization"],
            g.tau_int_energy_sweeps,
            g.tau_int_abs_magnetization_sweeps,
            g.r_hat_energy,
            g.r_hat_magnetization,
            acceptance(&g.swap_acceptance),
            if g.equilibrated {
                ""
            } else {
                " (NOT equilibrated: τ_int against the 20τ/50τ rule, or R̂ ≥ 1.1)"
            }
        );
    }
}

/// Swap acceptances, the lowest and the one into β = 1, or "-" without tempering.
fn acceptance(rates: &Option<Vec<f64>>) -> String {
    match rates {
        None => "-".into(),
        Some(r) => format!(
            "min {:.2}, last {:.2}",
            r.iter().copied().fold(f64::INFINITY, f64::min),
            r.last().copied().unwrap_or(f64::NAN)
        ),
    }
}
