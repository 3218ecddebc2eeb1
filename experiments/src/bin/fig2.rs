//! Fig. 2: the 1D Ising decimation flow (Eq. 24) and its deep architecture of ±1 RBMs.
//!
//! `cargo run --release -p experiments --bin fig2 -- --out runs/fig2`

use anyhow::{Result, bail};
use burn::prelude::*;
use clap::Parser;
use experiments::cli::{OutArgs, ThreadArgs, next_steps, shell_word};
use experiments::decimation::{
    decimation_host, decimation_rbm, flow, marginal_deviation_enumeration,
    marginal_deviation_transfer, ring_nn_correlation,
};
use experiments::output::RunOutput;
use experiments::plot::{Series, line_chart};
use experiments::streams::Stream;
use ising_data::config::Checked;
use ising_data::exact::{decimation_prefactor, ring_correlation, ring_log_partition};
use ising_data::generate::{GenerateConfig, generate};
use ising_data::{IsingDataset, Lattice, SpinEncoding};
use rbm::Noise;
use rbm::tensor::to_vec;
use serde::Serialize;

/// The largest ring of the sampling check.
const MAX_RING: usize = 1 << 16;
/// The most spins (ring × samples) the sampling check holds.
const MAX_SPINS: usize = 1 << 26;

const EXAMPLES: &str = "\
fig2 --out runs/fig2
fig2 --ring 256 --j0 0.5 --out runs/fig2-weak";

#[derive(Parser)]
#[command(
    name = env!("CARGO_BIN_NAME"),
    about = "Fig. 2: the 1D decimation flow and its deep RBM architecture",
    version = experiments::cli::VERSION,
    after_help = experiments::cli::after_help(EXAMPLES)
)]
struct Args {
    #[command(flatten)]
    out: OutArgs,
    #[command(flatten)]
    threads: ThreadArgs,
    /// Ring samples for the sampling check (at least 2; ring × samples at most 2^26).
    #[arg(long, default_value_t = 20_000)]
    samples: usize,
    /// Ring size for the sampling check (a power of two from 8 to 65 536).
    #[arg(long, default_value_t = 64)]
    ring: usize,
    /// J(0) of the sampling check (above 0, at most 10).
    #[arg(long, default_value_t = 1.0)]
    j0: f64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// The largest J(0) accepted, as `mapping`'s largest coupling.
const MAX_J0: f64 = 10.0;

#[derive(Serialize)]
struct Flow {
    j0: f64,
    couplings: Vec<f64>,
}

#[derive(Serialize)]
struct LayerCheck {
    ring: usize,
    layer: usize,
    visible_spins: usize,
    coupling: f64,
    next_coupling: f64,
    max_deviation_transfer_matrix: f64,
    max_deviation_enumeration: Option<f64>,
    decimation_identity_deviation: f64,
}

#[derive(Serialize)]
struct SamplingCheck {
    layer: usize,
    spins: usize,
    coupling: f64,
    measured_nn_correlation: f64,
    standard_error: f64,
    exact_nn_correlation: f64,
}

#[derive(Serialize)]
struct Fig2 {
    note: &'static str,
    flows: Vec<Flow>,
    architecture: Vec<LayerCheck>,
    max_marginal_deviation: f64,
    sampling: Vec<SamplingCheck>,
}

const NOTE: &str = "As in the paper (Fig. 2B): in each layer only the decimated (odd) visible \
spins couple to the hidden layer, each to its two neighbouring hidden spins with weight J(n); \
half of the visible spins do not couple to the hidden layer at all.";

/// The flags' limits, checked before any work.
fn check_args(args: &Args) -> Result<()> {
    if args.ring < 8 || args.ring > MAX_RING || !args.ring.is_power_of_two() {
        bail!(
            "--ring must be a power of two from 8 to {MAX_RING}, got {}",
            args.ring
        );
    }
    if args.ring.saturating_mul(args.samples) > MAX_SPINS {
        bail!(
            "--ring × --samples must be at most {MAX_SPINS} spins (the samples are held in memory as float tensors), got {} × {}",
            args.ring,
            args.samples
        );
    }
    if args.samples < 2 {
        bail!("--samples must be at least 2");
    }
    if !(args.j0.is_finite() && args.j0 > 0.0 && args.j0 <= MAX_J0) {
        bail!(
            "--j0 must be above 0 and at most {MAX_J0} (beyond, the decimation identity's check overflows), got {}",
            args.j0
        );
    }
    Ok(())
}

/// The flow tanh J(n+1) = tanh² J(n) (Eq. 24, Fig. 2C) from five J(0), printed and drawn.
fn decimation_flows(out: &mut RunOutput) -> Result<Vec<Flow>> {
    let flows: Vec<Flow> = [0.5, 1.0, 1.5, 2.0, 3.0]
        .iter()
        .map(|&j0| Flow {
            j0,
            couplings: flow(j0, 8),
        })
        .collect();
    for f in &flows {
        println!(
            "flow from J(0) = {}: {}",
            f.j0,
            f.couplings
                .iter()
                .map(|j| format!("{j:.4}"))
                .collect::<Vec<_>>()
                .join(" → ")
        );
    }
    let series: Vec<Series> = flows
        .iter()
        .map(|f| {
            Series::new(
                format!("J(0) = {}", f.j0),
                f.couplings
                    .iter()
                    .enumerate()
                    .map(|(n, &j)| (n as f64, j))
                    .collect(),
            )
        })
        .collect();
    out.add(
        "fig2c_flow.png",
        line_chart(
            "Decimation flow of the 1D Ising model: tanh J(n+1) = tanh² J(n)",
            "decimation step n",
            "coupling J(n)",
            &series,
            false,
        )?,
    );

    Ok(flows)
}

/// The deep architecture: the hidden marginal of each layer against the decimated ring, on
/// rings of 16 and 64 spins from J(0) = `j0`.
fn architecture_checks(j0: f64) -> Vec<LayerCheck> {
    let mut architecture = Vec::new();
    for ring in [16usize, 64] {
        let (mut n, mut layer) = (ring, 0);
        let couplings = flow(j0, ring.trailing_zeros() as usize);
        while n >= 4 {
            let (j, j_next) = (couplings[layer], couplings[layer + 1]);
            let host = decimation_host(n, j);
            let transfer = marginal_deviation_transfer(&host, j_next);
            let enumeration = (n / 2 <= 16).then(|| marginal_deviation_enumeration(&host, j_next));
            let identity = (ring_log_partition(n, j)
                - (n as f64 / 2.0 * decimation_prefactor(j).ln()
                    + ring_log_partition(n / 2, j_next)))
            .abs();
            println!(
                "ring {ring}, layer {layer} ({n} → {} spins, J = {j:.5} → {j_next:.5}): \
                 max |H^RBM[h] + J' Σ h h − c| = {transfer:.2e} (transfer matrix){}",
                n / 2,
                enumeration.map_or(String::new(), |e| format!(", {e:.2e} (enumeration)"))
            );
            architecture.push(LayerCheck {
                ring,
                layer,
                visible_spins: n,
                coupling: j,
                next_coupling: j_next,
                max_deviation_transfer_matrix: transfer,
                max_deviation_enumeration: enumeration,
                decimation_identity_deviation: identity,
            });
            n /= 2;
            layer += 1;
        }
    }
    architecture
}

/// Sampling: ring samples at J(0) pushed up through the stack by sampling p(h|v), their
/// nearest-neighbour correlation per layer against the exact one, printed and drawn.
fn sampling_checks(args: &Args, out: &mut RunOutput) -> Result<Vec<SamplingCheck>> {
    let device = Device::flex();
    // A ring's default sampler is the exact one (independent samples).
    let config = GenerateConfig::new(
        Lattice::Ring { n: args.ring },
        args.j0,
        args.samples,
        args.seed,
    );
    let data = generate(&config.clone().validated()?, &|_| {});
    let mut v = IsingDataset::new(config.lattice, data.spins)?
        .to_tensor(SpinEncoding::PlusMinusOne, &device);
    let couplings = flow(args.j0, args.ring.trailing_zeros() as usize);
    let mut sampling = Vec::new();
    let (mut n, mut layer) = (args.ring, 0);
    loop {
        let host_values = to_vec::<f32, _>(v.clone())?;
        let (corr, err) = ring_nn_correlation(&host_values, n);
        let exact = ring_correlation(n, couplings[layer], 1);
        println!(
            "layer {layer} ({n} spins): ⟨h_i h_i+1⟩ = {corr:.4} ± {err:.4}, exact for the ring at J({layer}) = {:.4}: {exact:.4}",
            couplings[layer]
        );
        sampling.push(SamplingCheck {
            layer,
            spins: n,
            coupling: couplings[layer],
            measured_nn_correlation: corr,
            standard_error: err,
            exact_nn_correlation: exact,
        });
        if n < 8 {
            break;
        }
        // Layer l's hidden units are drawn from the stream keyed (seed, l), so each layer's
        // draws are independent of how many the layers below made.
        let rbm = decimation_rbm(n, couplings[layer], &device);
        let mut noise = Noise::new(Stream::Fig2Layer { layer }.key(args.seed));
        v = rbm
            .hidden_units
            .sample_with(rbm.hidden_input(v), &mut noise);
        n /= 2;
        layer += 1;
    }
    let measured = Series {
        name: "sampled up the RBM stack".into(),
        points: sampling
            .iter()
            .map(|s| (s.layer as f64, s.measured_nn_correlation))
            .collect(),
        errors: Some(sampling.iter().map(|s| s.standard_error).collect()),
    };
    let exact = Series::new(
        "tanh J(n) (exact, finite ring)",
        sampling
            .iter()
            .map(|s| (s.layer as f64, s.exact_nn_correlation))
            .collect(),
    );
    out.add(
        "fig2_sampling.png",
        line_chart(
            &format!(
                "Nearest-neighbour correlation per layer, ring of {} at J(0) = {}",
                args.ring, args.j0
            ),
            "layer n",
            "<h_i h_i+1>",
            &[exact, measured],
            false,
        )?,
    );
    Ok(sampling)
}

fn main() -> std::process::ExitCode {
    experiments::output::main(run)
}

fn run() -> Result<()> {
    let args = Args::parse();
    args.threads.apply()?;
    check_args(&args)?;
    let mut out = RunOutput::new("fig2", &args.out.out, args.out.force)?;
    println!("{NOTE}");

    let flows = decimation_flows(&mut out)?;

    let architecture = architecture_checks(args.j0);
    let max_marginal_deviation = architecture
        .iter()
        .map(|c| {
            c.max_deviation_transfer_matrix
                .max(c.max_deviation_enumeration.unwrap_or(0.0))
        })
        .fold(0.0, f64::max);
    println!(
        "largest deviation of any hidden marginal from the decimated ring: {max_marginal_deviation:.2e}"
    );

    let sampling = sampling_checks(&args, &mut out)?;
    out.add_json(
        "fig2.json",
        &Fig2 {
            note: NOTE,
            flows,
            architecture,
            max_marginal_deviation,
            sampling,
        },
    )?;
    let dir = out.write()?;
    println!("wrote {}", dir.display());
    println!(
        "{}",
        next_steps(&[(
            format!("{}/*.png", shell_word(&dir)),
            "the decimation flow and the checks of its RBM",
        )])
    );
    Ok(())
}
