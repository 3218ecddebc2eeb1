//! The exact variational RG ↔ RBM mapping (Eqs. 6, 8–9, 18–22) by enumeration: for a random
//! RBM on a random Hamiltonian, and across the training of an RBM on samples of a 1D ring.
//!
//! `cargo run --release -p experiments --bin mapping -- --out runs/mapping`

use anyhow::Result;
use burn::prelude::*;
use clap::Parser;
use experiments::cli::{OutArgs, next_steps, shell_word};
use experiments::mapping::{
    MappingConfig, MappingReport, check_mapping, ring_hamiltonian, train_on_ring,
};
use experiments::output::RunOutput;
use experiments::plot::{Series, line_chart};
use experiments::streams::Stream;
use ising_data::config::{Checked, Valid};
use ising_data::generate::{GenerateConfig, generate};
use ising_data::{IsingDataset, Lattice, SpinEncoding};
use rbm::eval::exact::HostRbm;
use rbm::{CdConfig, LrSchedule, RbmConfig, TrainingConfig, Units};
use serde::Serialize;

const EXAMPLES: &str = "\
mapping --out runs/mapping
mapping --ring 8 --hidden 4 --coupling 0.3 --out runs/mapping-small";

#[derive(Parser)]
#[command(
    name = env!("CARGO_BIN_NAME"),
    about = "Exact checks of the variational RG ↔ RBM mapping by enumeration",
    version = experiments::cli::VERSION,
    after_help = experiments::cli::after_help(EXAMPLES)
)]
struct Args {
    #[command(flatten)]
    out: OutArgs,
    /// Spins of the periodic ring (visible units), 4 to 12.
    #[arg(long, default_value_t = 12)]
    ring: usize,
    /// Hidden units, 1 to 12.
    #[arg(long, default_value_t = 8)]
    hidden: usize,
    /// Coupling K of the ring (0 to 10).
    #[arg(long, default_value_t = 0.8)]
    coupling: f64,
    /// Training samples of the ring (at least 100).
    #[arg(long, default_value_t = 10_000)]
    samples: usize,
    /// Training epochs (at least 1).
    #[arg(long, default_value_t = 40)]
    epochs: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Serialize)]
struct Epoch {
    epoch: usize,
    #[serde(flatten)]
    report: MappingReport,
}

#[derive(Serialize)]
struct Counterexample {
    explanation: &'static str,
    hamiltonian_shift: f64,
    delta_f_after_shift: f64,
    max_trace_deviation_after_shift: f64,
}

#[derive(Serialize)]
struct Mapping {
    max_eq21_deviation: f64,
    max_eq22_deviation: f64,
    random_rbm_random_hamiltonian: MappingReport,
    training: Vec<Epoch>,
    eq8_counterexample: Counterexample,
}

const EQ8: &str = "e^{-ΔF} = <Tr_h e^T>_P, so ΔF = 0 only fixes the P-average of Tr_h e^T. Shifting \
H[v] by a constant c changes F^v by c and leaves H^RG and F^h unchanged: with c = ΔF the shifted \
problem has ΔF = 0, yet Tr_h e^T = e^{H[v] + c - F(v)} still varies with v whenever the RBM's \
marginal differs from P, so Tr_h e^T ≠ 1 for some v.";

/// The run's configuration from the flags. The ring's RBM is trained with CD-5 (PCD at this
/// size is noisier from epoch to epoch), a learning rate decaying linearly from 0.02 to 0.005,
/// momentum 0.5 and batches of 100.
fn config(args: &Args) -> MappingConfig {
    let training = TrainingConfig::new(CdConfig::new().with_k(5))
        .with_learning_rate(0.02)
        .with_schedule(LrSchedule::Linear { final_lr: 0.005 })
        .with_momentum(0.5)
        .with_batch_size(100)
        .with_epochs(args.epochs)
        .with_seed(args.seed);
    MappingConfig::new(
        args.ring,
        args.hidden,
        args.coupling,
        args.samples,
        args.seed,
        training,
    )
}

/// The flag that sets a field of [`MappingConfig`].
fn flag_of(field: &str) -> String {
    match field {
        "training.epochs" => "--epochs".into(),
        other => format!("--{other}"),
    }
}

/// A random RBM on a random Hamiltonian: the RBM, H\[v\] and the mapping's report.
fn random_case(
    config: &MappingConfig,
    device: &Device,
) -> Result<(HostRbm, Vec<f64>, MappingReport)> {
    let random = RbmConfig::new(config.ring, config.hidden)
        .with_visible_units(Units::Spin)
        .with_hidden_units(Units::Spin)
        .with_init_std(config.random_init_std)
        .init_seeded(device, Stream::MappingRandomRbm.key(config.seed))?;
    let random_host = HostRbm::from_rbm(&random)?;
    let mut rng = Stream::MappingRandomHamiltonian.rng(config.seed);
    let random_h: Vec<f64> = (0..1 << config.ring)
        .map(|_| 4.0 * rng.next_f64() - 2.0)
        .collect();
    let random_report = check_mapping(&random_host, &random_h);
    println!(
        "random RBM, random H[v]: max |H^RG − H^RBM| = {:.2e} (Eq. 21), max Eq. 22 deviation = {:.2e}, max |Tr_h e^T − 1| = {:.3}",
        random_report.max_eq21_deviation,
        random_report.max_eq22_deviation,
        random_report.max_trace_deviation
    );

    Ok((random_host, random_h, random_report))
}

/// Trains the RBM on samples of the ring, checking the mapping after every epoch.
fn train_and_check(config: &Valid<MappingConfig>, device: &Device) -> Result<Vec<Epoch>> {
    let hamiltonian = ring_hamiltonian(config.ring, config.coupling);
    // A ring's default sampler is the exact one (independent samples).
    let generate_config = GenerateConfig::new(
        Lattice::Ring { n: config.ring },
        config.coupling,
        config.samples,
        config.seed,
    );
    let spins = generate(&generate_config.clone().validated()?, &|_| {}).spins;
    let rows = IsingDataset::new(generate_config.lattice, spins)?.rows(SpinEncoding::PlusMinusOne);
    let mut training = Vec::new();
    train_on_ring(
        &config.part(),
        &rows,
        config.hidden,
        config.init_std,
        device,
        |epoch, model| {
            let report = check_mapping(&HostRbm::from_rbm(&model.rbm)?, &hamiltonian);
            if epoch > 0 {
                println!(
                    "epoch {epoch:>3}: KL = {:.5} nats, sd_P(ln Tr_h e^T) = {:.4}, ΔF = {:+.4}, \
                     with H shifted to ΔF = 0: E_P|Tr_h e^T − 1| = {:.4}, max_v |Tr_h e^T − 1| = {:.3}",
                    report.kl,
                    report.log_trace_std,
                    report.delta_f,
                    report.mean_trace_deviation_at_zero_delta_f,
                    report.max_trace_deviation_at_zero_delta_f
                );
            }
            training.push(Epoch { epoch, report });
            Ok(())
        },
    )?;

    Ok(training)
}

/// KL and the trace's deviations from 1 per epoch, on a log scale.
fn training_figure(args: &Args, training: &[Epoch]) -> Result<Vec<u8>> {
    let series = |name: &str, f: &dyn Fn(&MappingReport) -> f64| {
        Series::new(
            name,
            training
                .iter()
                .map(|e| (e.epoch as f64, f(&e.report)))
                .collect(),
        )
    };
    line_chart(
        &format!(
            "RBM ({} visible, {} hidden ±1 units) trained on a ring at K = {}",
            args.ring, args.hidden, args.coupling
        ),
        "epoch",
        "log scale",
        &[
            series("KL(P || p)", &|r| r.kl),
            series("sd_P(ln Tr_h e^T)", &|r| r.log_trace_std),
            series("E_P |Tr_h e^T − 1|, H shifted to ΔF = 0", &|r| {
                r.mean_trace_deviation_at_zero_delta_f
            }),
            series("max_v |Tr_h e^T − 1|, H shifted to ΔF = 0", &|r| {
                r.max_trace_deviation_at_zero_delta_f
            }),
        ],
        true,
    )
}

fn main() -> std::process::ExitCode {
    experiments::output::main(run)
}

fn run() -> Result<()> {
    let args = Args::parse();
    let config = config(&args).validated().map_err(|e| e.renamed(flag_of))?;
    let mut out = RunOutput::new("mapping", &args.out.out, args.out.force)?;
    let device = Device::flex();

    // 1. A random RBM on a random Hamiltonian.
    let (random_host, random_h, random_report) = random_case(&config, &device)?;

    // 2. Training on the ring; the mapping's quantities after every epoch.
    let training = train_and_check(&config, &device)?;

    // 3. Eq. 8: ΔF = 0 does not imply Tr_h e^T = 1 (shift H[v] by ΔF of the random case).
    let shift = random_report.delta_f;
    let shifted: Vec<f64> = random_h.iter().map(|h| h + shift).collect();
    let shifted_report = check_mapping(&random_host, &shifted);
    println!(
        "Eq. 8: after shifting H[v] by {shift:.4}, ΔF = {:.2e} but max |Tr_h e^T − 1| = {:.3}",
        shifted_report.delta_f, shifted_report.max_trace_deviation
    );

    let max21 = training
        .iter()
        .map(|e| e.report.max_eq21_deviation)
        .chain([
            random_report.max_eq21_deviation,
            shifted_report.max_eq21_deviation,
        ])
        .fold(0.0, f64::max);
    let max22 = training
        .iter()
        .map(|e| e.report.max_eq22_deviation)
        .chain([
            random_report.max_eq22_deviation,
            shifted_report.max_eq22_deviation,
        ])
        .fold(0.0, f64::max);
    println!("largest deviation over every check: Eq. 21 {max21:.2e}, Eq. 22 {max22:.2e}");

    out.add("mapping_training.png", training_figure(&args, &training)?);
    out.add_json("config.json", &config)?;
    out.add_json(
        "mapping.json",
        &Mapping {
            max_eq21_deviation: max21,
            max_eq22_deviation: max22,
            random_rbm_random_hamiltonian: random_report,
            training,
            eq8_counterexample: Counterexample {
                explanation: EQ8,
                hamiltonian_shift: shift,
                delta_f_after_shift: shifted_report.delta_f,
                max_trace_deviation_after_shift: shifted_report.max_trace_deviation,
            },
        },
    )?;
    let dir = out.write()?;
    println!("wrote {}", dir.display());
    println!(
        "{}",
        next_steps(&[(
            format!("{}/*.png", shell_word(&dir)),
            "the checks of Eqs. 6–22 against enumeration",
        )])
    );
    Ok(())
}
