//! Does a trained stack do RG? Per hidden layer of a finished `fig3` run: the units' field
//! centres assigned to the Kadanoff coarse lattice, each unit against the majority-rule
//! block spin at its site, and K_eff of the layer's units read as coarse spins beside that of
//! majority-rule blocking (see `experiments::rg`).
//!
//! `cargo run --release -p experiments --bin rg_analysis -- runs/fig3`
//!
//! Writes `rg.json` and PNG figures to `RUN/rg` (or `--out`).

use std::time::Instant;

use anyhow::Result;
use clap::Parser;
use experiments::cli::{closing, command, shell_word};
use experiments::output::RunOutput;
use experiments::rg::coarse::CouplingFit;
use experiments::rg::hamiltonian::HamiltonianFit;
use experiments::rg::mcrg::{McrgRow, McrgTable};
use experiments::rg::operators::Operator;
use experiments::rg::{CoarseSpins, Outcome, RgOptions, RgReport, analyse, figures};
use experiments::run::{RunArgs, RunPaths};
use ising_data::config::Checked;

const EXAMPLES: &str = "\
rg_analysis runs/fig3-paper
rg_analysis runs/mine --rows 500 --out runs/mine-rg-500
rg_analysis runs/mine --force";

#[derive(Parser)]
#[command(
    name = env!("CARGO_BIN_NAME"),
    about = "Does a fig3 run's stack coarse-grain like block spins? Effective couplings and block-spin correlations of its layers",
    version = experiments::cli::VERSION,
    after_help = experiments::cli::after_help(EXAMPLES)
)]
struct Args {
    #[command(flatten)]
    common: RunArgs,
    /// Held-out rows to use [default: all].
    #[arg(long)]
    rows: Option<usize>,
    /// Configurations of the Ising lattice sampled at each K_eff (for its G₂).
    #[arg(long, default_value_t = RgOptions::default().lattice_samples)]
    lattice_samples: usize,
    /// Seed of the analysis.
    #[arg(long, default_value_t = RgOptions::default().seed)]
    seed: u64,
    /// Blocks of consecutive rows behind the errors of the effective Hamiltonian and MCRG.
    #[arg(long, default_value_t = RgOptions::default().error_blocks)]
    error_blocks: usize,
}

fn main() -> std::process::ExitCode {
    experiments::output::main(run)
}

fn fit(f: &CouplingFit, g1: f64) -> String {
    match (f.k_eff, f.error()) {
        (Some(k), Some(e)) => format!("{k:.4} ± {e:.4}"),
        (Some(k), None) => format!("{k:.4}"),
        _ if g1 > 0.0 => "none (G₁ ≈ 1: K > 10)".into(),
        _ => "none (G₁ ≤ 0)".into(),
    }
}

fn describe(c: &CoarseSpins) -> String {
    let r = &c.correlations;
    let g2 = match (&c.ising_at_k_eff, r.g2_connected) {
        (Some(i), Some(g2c)) => format!(
            ", connected G₂ {:.4} ± {:.4} (Ising at the connected K_eff: {:.4})",
            g2c.value, g2c.std_error, i.g2.value
        ),
        _ => String::new(),
    };
    format!(
        "G₁ {:.4} ± {:.4}, K_eff {} (connected: {}), G₂ {:.4} ± {:.4}{g2}, |m| {:.3}",
        r.g1.value,
        r.g1.std_error,
        fit(&c.coupling, r.g1.value),
        fit(&c.coupling_connected, r.g1_connected.value),
        r.g2.value,
        r.g2.std_error,
        r.abs_magnetization.value
    )
}

/// The effective Hamiltonian in one line, or why there is none.
fn hamiltonian(h: &Outcome<HamiltonianFit>) -> String {
    match h {
        Outcome::Measured(fit) => fit
            .couplings
            .iter()
            .map(|c| {
                let name = match c.operator {
                    Operator::Field => "h",
                    Operator::Nearest => "K₁",
                    Operator::Diagonal => "K₂",
                    Operator::Distance2 => "K₃",
                    Operator::Plaquette => "K₄",
                    other => other.label(),
                };
                format!("{name} {:.4} ± {:.4}", c.value.value, c.value.std_error)
            })
            .collect::<Vec<_>>()
            .join(", "),
        Outcome::Failed(why) => format!("none ({why})"),
        Outcome::NotMeasured => "not measured".into(),
    }
}

/// y_t with 2 and with all even operators, y_h with 1 and all odd ones, or why there are none.
fn exponents(t: &Outcome<McrgTable>) -> String {
    let Outcome::Measured(t) = t else {
        return match t {
            Outcome::Failed(why) => format!("none ({why})"),
            _ => "not measured".into(),
        };
    };
    let pick = |rows: &[McrgRow], n: usize| {
        rows.iter()
            .find(|r| r.operators == n)
            .map_or("-".into(), |r| {
                format!(
                    "{:.3} ± {:.3} ({n})",
                    r.exponent.value, r.exponent.std_error
                )
            })
    };
    format!(
        "y_t {}, {}; y_h {}, {}",
        pick(&t.thermal, 2),
        pick(&t.thermal, t.even_operators.len()),
        pick(&t.magnetic, 1),
        pick(&t.magnetic, t.odd_operators.len())
    )
}

/// The report's numbers, a few lines per layer.
fn print_report(report: &RgReport) {
    println!(
        "data (K = {}, {}×{}, {} held-out rows): {}",
        report.coupling,
        report.lattice_size,
        report.lattice_size,
        report.rows,
        describe(&report.data)
    );
    println!(
        "  effective Hamiltonian: {}",
        hamiltonian(&report.data.hamiltonian)
    );
    for l in &report.layers {
        let a = &l.assignment;
        let u = &l.unit_block;
        println!(
            "layer {} ({} units, b = {}): displacement mean {:.2} max {:.2}, unique nearest {:.2}; unit vs its block r = {:.3} [{:.3}, {:.3}] (baseline {:.3})",
            l.layer,
            l.units,
            a.block_side,
            a.mean_displacement,
            a.max_displacement,
            a.unique_nearest_fraction,
            u.mean_activation.median,
            u.mean_activation.q1,
            u.mean_activation.q3,
            u.baseline_mean_activation.median
        );
        for (name, c) in [
            ("stack:        ", &l.rbm),
            ("majority rule:", &l.majority_rule),
        ] {
            println!("  {name} {}", describe(c));
            println!("    effective Hamiltonian: {}", hamiltonian(&c.hamiltonian));
        }
        if let Some(m) = &l.mcrg {
            println!("  MCRG (operators in brackets; exact y_t 1, y_h 1.875):");
            println!("    stack:         {}", exponents(&m.stack));
            println!("    majority rule: {}", exponents(&m.majority_rule));
        }
    }
}

fn run() -> Result<()> {
    let args = Args::parse();
    let options = RgOptions {
        rows: args.rows,
        lattice_samples: args.lattice_samples,
        seed: args.seed,
        error_blocks: args.error_blocks,
    };
    let options = options
        .validated()
        .map_err(|e| e.renamed(experiments::cli::flag))?;
    let common = &args.common;
    common.paths()?;
    let device = common.device.select()?;
    let out_dir = common.out_dir(RunPaths::rg_dir);
    let mut out = RunOutput::new("rg", &out_dir, common.force)?;
    let start = Instant::now();
    let stage = |name: &str| eprintln!("[{:6.1} s] {name}", start.elapsed().as_secs_f64());
    let (report, fields) = analyse(
        &common.run,
        common.datasets.as_deref(),
        &options,
        &device,
        &stage,
    )?;
    stage("figures");
    for (name, png) in figures(&report, &fields)? {
        out.add(&name, png);
    }
    out.add_json(RunPaths::RG_REPORT, &report)?;
    let written = out.write()?;

    print_report(&report);
    let steps = [
        (
            format!("{}/*.png", shell_word(&written)),
            "the figures: K_eff by layer beside majority rule, each layer's units on the coarse lattice",
        ),
        (
            command("quality", &shell_word(&common.run)),
            "how good a model of the Ising distribution the stack is",
        ),
    ];
    let seconds = start.elapsed().as_secs_f64();
    println!("{}", closing(&written, seconds, &steps));
    Ok(())
}
