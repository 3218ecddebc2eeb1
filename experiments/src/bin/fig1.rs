//! Fig. 1: Kadanoff 2×2 majority-rule block spins on Monte Carlo samples of the 2D Ising
//! model, and how the block spins' correlations flow below, at and above K_c.
//!
//! `cargo run --release -p experiments --bin fig1 -- --out runs/fig1`

use anyhow::{Result, bail};
use clap::Parser;
use experiments::blocking::{abs_magnetization, block_scales, nearest_neighbour_correlation};
use experiments::cli::{OutArgs, ThreadArgs, next_steps, shell_word};
use experiments::output::RunOutput;
use experiments::plot::{Series, SpinPanel, line_chart, spin_panels};
use experiments::streams::Stream;
use ising_data::Lattice;
use ising_data::config::Checked;
use ising_data::exact::K_C;
use ising_data::generate::{GenerateConfig, generate};
use serde::Serialize;

const EXAMPLES: &str = "\
fig1 --out runs/fig1
fig1 --size 80 --samples 500 --out runs/fig1-L80";

#[derive(Parser)]
#[command(
    name = env!("CARGO_BIN_NAME"),
    about = "Fig. 1: Kadanoff block spins on 2D Ising samples",
    version = experiments::cli::VERSION,
    after_help = experiments::cli::after_help(EXAMPLES)
)]
struct Args {
    #[command(flatten)]
    out: OutArgs,
    #[command(flatten)]
    threads: ThreadArgs,
    /// Lattice size L = 5·2^k with k ≥ 1 (10, 20, 40, 80, …), blocked 2×2 down to 5
    /// (40 → 20 → 10 → 5).
    #[arg(long, default_value_t = 40)]
    size: usize,
    /// Samples per coupling (at least 2).
    #[arg(long, default_value_t = 2000)]
    samples: usize,
    /// Seed (Monte Carlo and tie-breaks).
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

#[derive(Serialize)]
struct Scale {
    size: usize,
    nn_correlation: f64,
    nn_correlation_error: f64,
    abs_magnetization: f64,
    abs_magnetization_error: f64,
}

#[derive(Serialize)]
struct Flow {
    coupling: f64,
    label: String,
    scales: Vec<Scale>,
}

#[derive(Serialize)]
struct Fig1 {
    lattice_size: usize,
    samples_per_coupling: usize,
    rule: &'static str,
    flows: Vec<Flow>,
}

/// Short row labels for the block-spin panels.
const SHORT: [&str; 3] = ["K = 0.38", "K = K_c", "K = 0.50"];

fn mean_and_error(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, (var / n).sqrt())
}

/// The measures of each blocking step, mean and error over the samples `blocked` (each a
/// list of (size, block spins) per step).
fn measure_scales(blocked: &[Vec<(usize, Vec<i8>)>]) -> Vec<Scale> {
    let n_scales = blocked[0].len();
    (0..n_scales)
        .map(|t| {
            let size = blocked[0][t].0;
            let corr: Vec<f64> = blocked
                .iter()
                .map(|b| nearest_neighbour_correlation(&b[t].1, size))
                .collect();
            let mags: Vec<f64> = blocked.iter().map(|b| abs_magnetization(&b[t].1)).collect();
            let (c, ce) = mean_and_error(&corr);
            let (m, me) = mean_and_error(&mags);
            Scale {
                size,
                nn_correlation: c,
                nn_correlation_error: ce,
                abs_magnetization: m,
                abs_magnetization_error: me,
            }
        })
        .collect()
}

/// The flow of the nearest-neighbour correlation and of |m| per blocking step.
fn flow_figures(out: &mut RunOutput, flows: &[Flow]) -> Result<()> {
    let series = |f: &dyn Fn(&Scale) -> (f64, f64)| -> Vec<Series> {
        flows
            .iter()
            .map(|fl| Series {
                name: fl.label.clone(),
                points: fl
                    .scales
                    .iter()
                    .enumerate()
                    .map(|(t, s)| (t as f64, f(s).0))
                    .collect(),
                errors: Some(fl.scales.iter().map(|s| f(s).1).collect()),
            })
            .collect()
    };
    out.add(
        "fig1_block_flow.png",
        line_chart(
            "Block-spin flow: nearest-neighbour correlation per blocking step",
            "blocking step (lattice spacing ×2 per step)",
            "<s_i s_j> of nearest block spins",
            &series(&|s| (s.nn_correlation, s.nn_correlation_error)),
            false,
        )?,
    );
    out.add(
        "fig1_block_magnetization.png",
        line_chart(
            "Block-spin flow: |m| per blocking step",
            "blocking step (lattice spacing ×2 per step)",
            "<|m|> of the block spins",
            &series(&|s| (s.abs_magnetization, s.abs_magnetization_error)),
            false,
        )?,
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    experiments::output::main(run)
}

fn run() -> Result<()> {
    let args = Args::parse();
    args.threads.apply()?;
    if args.size < 10 || args.size % 5 != 0 || !(args.size / 5).is_power_of_two() {
        bail!(
            "--size must be 5·2^k with k ≥ 1 (10, 20, 40, 80, …) so that 2×2 blocking ends at 5, got {}",
            args.size
        );
    }
    if args.samples < 2 {
        bail!("--samples must be at least 2");
    }
    let mut out = RunOutput::new("fig1", &args.out.out, args.out.force)?;
    let couplings = [
        (0.38, "K = 0.38 < K_c (disordered)".to_string()),
        (K_C, format!("K = K_c = {K_C:.4}")),
        (0.50, "K = 0.50 > K_c (ordered)".to_string()),
    ];
    let mut flows = Vec::new();
    let mut rows = Vec::new();
    for (idx, (k, label)) in couplings.iter().enumerate() {
        let mut config = GenerateConfig::new(
            Lattice::Square { l: args.size },
            *k,
            args.samples,
            Stream::Fig1Data { temperature: idx }.key(args.seed),
        );
        // 20 sweeps keep samples ≥ 5 τ_int apart at K_c (τ_int(E) ≈ 2.2 sweeps at L = 40).
        config.spacing_sweeps = 20;
        // Fewer samples than the default chain count: one sample per chain.
        config.chains = config.chains.min(args.samples);
        let data = generate(&config.validated()?, &|_| {});
        for w in &data.warnings {
            eprintln!("warning ({label}): {w}");
        }
        let n = args.size * args.size;
        let mut rng = Stream::Fig1Blocking { temperature: idx }.rng(args.seed);
        let blocked: Vec<Vec<(usize, Vec<i8>)>> = data
            .spins
            .chunks(n)
            .map(|s| block_scales(s, args.size, 5, &mut rng))
            .collect();
        let scales = measure_scales(&blocked);
        println!(
            "{label}: nearest-neighbour correlation {}",
            scales
                .iter()
                .map(|s| format!(
                    "L={}: {:.3}±{:.3}",
                    s.size, s.nn_correlation, s.nn_correlation_error
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
        rows.push(
            blocked[0]
                .iter()
                .enumerate()
                .map(|(t, (size, spins))| SpinPanel {
                    caption: format!("{}, step {t}: {size}×{size}", SHORT[idx]),
                    l: *size,
                    spins: spins.clone(),
                })
                .collect(),
        );
        flows.push(Flow {
            coupling: *k,
            label: label.clone(),
            scales,
        });
    }
    out.add(
        "fig1_block_spins.png",
        spin_panels(
            "Kadanoff 2×2 majority-rule blocking (black: up); rows: K = 0.38, K_c, 0.50",
            &rows,
        )?,
    );
    flow_figures(&mut out, &flows)?;
    out.add_json(
        "fig1.json",
        &Fig1 {
            lattice_size: args.size,
            samples_per_coupling: args.samples,
            rule: "2x2 majority rule, ties broken by a fair coin (seeded)",
            flows,
        },
    )?;
    let dir = out.write()?;
    println!("wrote {}", dir.display());
    println!(
        "{}",
        next_steps(&[(
            format!("{}/*.png", shell_word(&dir)),
            "the block-spin panels and the flow of |m| and the correlation",
        )])
    );
    Ok(())
}
