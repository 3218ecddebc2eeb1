//! `ising-data`: generate and inspect Ising datasets.
//!
//! ```text
//! ising-data generate --dim 2 --size 40 --coupling 0.408 --samples 40000 --seed 7 \
//!     --out datasets/ising2d-L40-K0.408-n40000-seed7
//! ising-data inspect datasets/ising2d-L40-K0.408-n40000-seed7
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use ising_data::config::{Checked, Valid};
use ising_data::exact;
use ising_data::generate::{self, GenerateConfig, MIN_BURN_IN};
use ising_data::observables::{self, MeasureOptions, Observables};
use ising_data::store::{self, ExactValues};
use ising_data::{Algorithm, Lattice};

#[derive(Parser)]
#[command(
    name = env!("CARGO_BIN_NAME"),
    version = ising_data::cli::VERSION,
    about = "Validated Monte Carlo samples of the 1D and 2D Ising models",
    after_help = after_help()
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The closing sections of `--help`: examples and the exit statuses.
fn after_help() -> String {
    format!(
        "Examples:
  ising-data generate --dim 2 --size 40 --coupling 0.408 --samples 40000 --seed 7 --out datasets/paper
  ising-data generate --dim 1 --size 64 --coupling 1.0 --samples 20000 --seed 1 --out datasets/ring
  ising-data inspect datasets/paper

{}",
        ising_data::cli::EXIT_STATUS_HELP
    )
}

#[derive(Clone, Copy, ValueEnum)]
enum AlgorithmArg {
    Wolff,
    Metropolis,
    ExactRing,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a dataset folder (spins.npy + manifest.json).
    Generate {
        /// Dimension: 1 (periodic ring) or 2 (periodic square lattice).
        #[arg(long)]
        dim: usize,
        /// Linear size: N spins for a ring, L for an L×L lattice (at least 3).
        #[arg(long)]
        size: usize,
        /// Coupling K = J/kT (≥ 0). The exact critical coupling is 0.4406868.
        #[arg(long, allow_negative_numbers = true)]
        coupling: f64,
        /// Field h = H/kT (Metropolis or exact-ring only).
        #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
        field: f64,
        /// Number of configurations (at least 1, and at least --chains).
        #[arg(long)]
        samples: usize,
        /// Master seed.
        #[arg(long)]
        seed: u64,
        /// Output folder (must not exist, unless --force).
        #[arg(long)]
        out: PathBuf,
        /// Sampler [default: wolff in 2D, exact-ring in 1D].
        #[arg(long, value_enum)]
        algorithm: Option<AlgorithmArg>,
        /// Burn-in per chain, in sweep-equivalents (at least 1000).
        #[arg(long, default_value_t = MIN_BURN_IN)]
        burn_in: usize,
        /// Sweep-equivalents between stored configurations (at least 1).
        #[arg(long, default_value_t = 10)]
        spacing: usize,
        /// Independent chains (part of the configuration: the output depends on it, not on
        /// the thread count).
        #[arg(long, default_value_t = 8)]
        chains: usize,
        /// Worker threads [default: all cores].
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long, help = ising_data::cli::FORCE_HELP)]
        force: bool,
    },
    /// Verify a dataset folder and re-measure its observables beside the exact values.
    Inspect {
        /// The dataset folder.
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    ising_data::cli::install_panic_hook();
    let cli = Cli::parse();
    ising_data::cli::exit_code(run(cli), |_| None)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Generate {
            dim,
            size,
            coupling,
            field,
            samples,
            seed,
            out,
            algorithm,
            burn_in,
            spacing,
            chains,
            threads,
            force,
        } => {
            let lattice = Lattice::new(dim, size).context("--dim/--size")?;
            let mut config = GenerateConfig::new(lattice, coupling, samples, seed);
            config.field = field;
            config.algorithm = match algorithm {
                None => Algorithm::default_for(&lattice),
                Some(AlgorithmArg::Wolff) => Algorithm::Wolff,
                Some(AlgorithmArg::Metropolis) => Algorithm::Metropolis,
                Some(AlgorithmArg::ExactRing) => Algorithm::ExactRing,
            };
            config.burn_in_sweeps = burn_in;
            config.spacing_sweeps = spacing;
            config.chains = chains;
            let config = config.validated().map_err(|e| e.renamed(flag_of))?;
            for note in ising_data::folder::clean_stale_siblings(&out).context("--out")? {
                eprintln!("note: {note}");
            }
            ising_data::folder::check_destination(&out, force, "ising-data").context("--out")?;
            if let Some(t) = threads {
                if t == 0 {
                    bail!("--threads must be at least 1");
                }
                rayon::ThreadPoolBuilder::new()
                    .num_threads(t)
                    .build_global()
                    .context("--threads")?;
            }
            run_generate(&config, &out, force)
        }
        Command::Inspect { dir } => run_inspect(&dir),
    }
}

/// The flag that sets a field of [`GenerateConfig`].
fn flag_of(field: &str) -> String {
    match field {
        "lattice.l" | "lattice.n" => "--size".into(),
        "burn_in_sweeps" => "--burn-in".into(),
        "spacing_sweeps" => "--spacing".into(),
        other => format!("--{other}"),
    }
}

fn run_generate(config: &Valid<GenerateConfig>, out: &std::path::Path, force: bool) -> Result<()> {
    let start = Instant::now();
    let bar = ProgressBar::new(config.total_sweeps()).with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} sweeps ({eta} left)",
        )
        .context("progress template")?,
    );
    let generated = generate::generate(config, &|d| bar.inc(d));
    bar.finish_and_clear();
    let mc_seconds = start.elapsed().as_secs_f64();
    let measured = observables::measure(
        &config.lattice,
        &generated.chains(),
        measure_options(config, false),
    );
    let manifest = store::write_dataset(out, &generated, measured, force)
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {} configurations of the {} at K = {} to {} ({:.1} s of Monte Carlo, {:.1} s in all)",
        config.samples,
        config.lattice,
        config.coupling,
        out.display(),
        mc_seconds,
        start.elapsed().as_secs_f64()
    );
    let t = &manifest.autocorrelation;
    println!(
        "tau_int in sweeps: energy {:.3}, |m| {:.3}; between stored samples: energy {:.3}, |m| {:.3}",
        t.sweeps.energy, t.sweeps.abs_magnetization, t.samples.energy, t.samples.abs_magnetization
    );
    print_comparison(&manifest.measured, manifest.exact.as_ref(), config);
    for w in &manifest.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

fn measure_options(config: &GenerateConfig, correlation: bool) -> MeasureOptions {
    MeasureOptions {
        coupling: config.coupling,
        field: config.field,
        correlation,
        bins_per_chain: (64 / config.chains).max(4),
    }
}

fn run_inspect(dir: &std::path::Path) -> Result<()> {
    let data = store::load_dataset(dir)?;
    let config = &data.manifest.config;
    println!(
        "{}: {} configurations, shape {:?}, SHA-256 verified, all values ±1",
        dir.display(),
        data.len(),
        data.manifest.shape
    );
    println!(
        "generated by ising-data {} with {:?}, K = {}, h = {}, seed {}, {} chains, burn-in {}, spacing {} sweeps",
        data.manifest.crate_version,
        config.algorithm,
        config.coupling,
        config.field,
        config.seed,
        config.chains,
        config.burn_in_sweeps,
        config.spacing_sweeps
    );
    let t = &data.manifest.autocorrelation;
    println!(
        "recorded tau_int in sweeps: energy {:.3}, |m| {:.3}",
        t.sweeps.energy, t.sweeps.abs_magnetization
    );
    let chains = generate::chain_slices(config, &data.spins);
    let measured = observables::measure(&config.lattice, &chains, measure_options(config, true));
    print_comparison(&measured, data.manifest.exact.as_ref(), config);
    for w in &data.manifest.warnings {
        println!("recorded warning: {w}");
    }
    Ok(())
}

fn print_comparison(m: &Observables, exact: Option<&ExactValues>, config: &GenerateConfig) {
    let (lattice, k) = (&config.lattice, config.coupling);
    let row = |name: &str, est: &ising_data::Estimate, exact: Option<f64>| match exact {
        Some(x) => println!(
            "  {name:<22} {est:>28}   exact {x:>12.6}   ({:.1} σ)",
            est.sigmas_from(x)
        ),
        None => println!("  {name:<22} {est:>28}"),
    };
    println!(
        "observables on {} samples (error: binned jackknife):",
        m.samples
    );
    row(
        "energy per spin",
        &m.energy_per_spin,
        exact.and_then(|e| e.energy_per_spin),
    );
    row(
        "specific heat",
        &m.specific_heat,
        exact.and_then(|e| e.specific_heat),
    );
    let yang = match lattice {
        Lattice::Square { .. } if k > exact::K_C && config.field == 0.0 => {
            Some(exact::yang_magnetization(k))
        }
        _ => None,
    };
    row("|m|", &m.abs_magnetization, None);
    if let Some(y) = yang {
        println!("  {:<22} {:>28}   (infinite lattice, Yang: {y:.6})", "", "");
    }
    row("m^2", &m.magnetization_sq, None);
    row("susceptibility", &m.susceptibility, None);
    row("Binder cumulant", &m.binder, None);
    for (r, g) in m.correlation.iter().enumerate() {
        let exact = match *lattice {
            Lattice::Ring { n } if config.field == 0.0 => Some(exact::ring_correlation(n, k, r)),
            _ => None,
        };
        row(&format!("G({r})"), g, exact);
    }
    if let Some(e) = exact {
        println!("  exact values: {}", e.source);
        if let Some(s) = e.entropy_per_spin {
            println!("  exact entropy per spin (floor of a model's NLL per spin): {s:.6}");
        }
    }
}
