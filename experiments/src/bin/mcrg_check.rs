//! The check of Monte Carlo RG before it judges a learned map: 2×2 majority rule on Wolff
//! configurations at K_c, blocked repeatedly, against the exact y_t = 1 and y_h = 15/8 (see
//! `experiments::rg::method_check`).
//!
//! `cargo run --release -p experiments --bin mcrg_check -- --out runs/mcrg-check`
//!
//! Writes `mcrg.json`, `mcrg_y_t.png` and `mcrg_y_h.png` to the output folder and prints the
//! convergence table.

use std::time::Instant;

use anyhow::Result;
use clap::Parser;
use experiments::cli::{OutArgs, ThreadArgs, closing, shell_word};
use experiments::output::RunOutput;
use experiments::rg::mcrg::McrgRow;
use experiments::rg::mcrg_figures;
use experiments::rg::method_check::{MethodCheckOptions, MethodCheckReport, run};
use ising_data::config::{Checked, Valid};

const EXAMPLES: &str = "\
mcrg_check --out runs/mcrg-check
mcrg_check --size 32 --samples 8000 --out runs/mcrg-32";

#[derive(Parser)]
#[command(
    name = env!("CARGO_BIN_NAME"),
    about = "Monte Carlo RG of majority-rule blocking at K_c against the exact Ising exponents",
    version = experiments::cli::VERSION,
    after_help = experiments::cli::after_help(EXAMPLES)
)]
struct Args {
    #[command(flatten)]
    out: OutArgs,
    #[command(flatten)]
    threads: ThreadArgs,
    /// Side L of the lattice (divisible by 2^levels, with L/2^levels ≥ 4).
    #[arg(long, default_value_t = defaults().size)]
    size: usize,
    /// Configurations (Wolff, 8 chains).
    #[arg(long, default_value_t = defaults().samples)]
    samples: usize,
    /// Sweep-equivalents between stored configurations.
    #[arg(long, default_value_t = defaults().spacing_sweeps)]
    spacing: usize,
    /// Blocking steps.
    #[arg(long, default_value_t = defaults().levels)]
    levels: usize,
    /// Jackknife blocks of consecutive configurations.
    #[arg(long, default_value_t = defaults().error_blocks)]
    error_blocks: usize,
    /// Seed of the data and of the tie-breaking coins.
    #[arg(long, default_value_t = defaults().seed)]
    seed: u64,
}

fn defaults() -> MethodCheckOptions {
    MethodCheckOptions::default()
}

fn options(args: &Args) -> Result<Valid<MethodCheckOptions>> {
    let o = MethodCheckOptions {
        size: args.size,
        samples: args.samples,
        spacing_sweeps: args.spacing,
        levels: args.levels,
        error_blocks: args.error_blocks,
        seed: args.seed,
    };
    Ok(o.validated().map_err(|e| e.renamed(flag_of))?)
}

/// The flag that sets a field of [`MethodCheckOptions`].
fn flag_of(field: &str) -> String {
    match field {
        "spacing_sweeps" => "--spacing".into(),
        other => experiments::cli::flag(other),
    }
}

fn main() -> std::process::ExitCode {
    experiments::output::main(run_binary)
}

fn run_binary() -> Result<()> {
    let args = Args::parse();
    args.threads.apply()?;
    let options = options(&args)?;
    let mut out = RunOutput::new("mcrg_check", &args.out.out, args.out.force)?;
    let clock = Instant::now();
    let log = |line: &str| eprintln!("[{:6.1} s] {line}", clock.elapsed().as_secs_f64());
    let report = run(&options, &log)?;
    for (name, png) in mcrg_figures(&report.table, "2×2 majority rule at K_c")? {
        out.add(&name, png);
    }
    out.add_json("mcrg.json", &report)?;
    let written = out.write()?;
    print_table(&report);
    let steps = [(
        format!("{}/mcrg_y_*.png", shell_word(&written)),
        "y_t and y_h against the blocking level, per number of operators",
    )];
    println!(
        "{}",
        closing(&written, clock.elapsed().as_secs_f64(), &steps)
    );
    Ok(())
}

/// The convergence table as Markdown, then the verdict on the rows fixed in advance.
fn print_table(report: &MethodCheckReport) {
    let t = &report.table;
    println!(
        "MCRG of 2×2 majority rule, {} configurations of {}×{} at K_c (jackknife over {} blocks)\n",
        t.configurations, report.options.size, report.options.size, t.error_blocks
    );
    for (name, rows, exact) in [("y_t", &t.thermal, 1.0), ("y_h", &t.magnetic, 1.875)] {
        println!("| level | L → L' | operators | λ | {name} (exact {exact}) |");
        println!("|---:|---|---:|---:|---:|");
        for r in rows.iter() {
            println!("{}", row_line(r));
        }
        println!();
    }
    let failed: Vec<String> = report
        .judged
        .iter()
        .filter(|j| !j.within)
        .map(|j| {
            format!(
                "level {} with {} operators: {:.4} ± {:.4} (exact {}, tolerance {})",
                j.row.level,
                j.row.operators,
                j.row.exponent.value,
                j.row.exponent.std_error,
                j.exact,
                j.tolerance
            )
        })
        .collect();
    if failed.is_empty() {
        println!("the method passes: every judged row is within its tolerance");
    } else {
        println!(
            "the method FAILS its check on {} of {} judged rows:",
            failed.len(),
            report.judged.len()
        );
        for line in failed {
            println!("  {line}");
        }
    }
}

fn row_line(r: &McrgRow) -> String {
    format!(
        "| {} | {} → {} | {} | {:.4} ± {:.4} | {:.4} ± {:.4} |",
        r.level,
        r.from_side,
        r.to_side,
        r.operators,
        r.eigenvalue.value,
        r.eigenvalue.std_error,
        r.exponent.value,
        r.exponent.std_error
    )
}
