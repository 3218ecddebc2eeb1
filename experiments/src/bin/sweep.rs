//! Sweeps of Fig. 3 runs: plan a sweep file into a folder, run it locally or on Slurm,
//! summarise it.
//!
//! ```text
//! sweep plan experiments/sweeps/tiny.json --out runs/tiny
//! sweep run runs/tiny --jobs 2
//! sweep slurm runs/tiny --cpus-per-task 4 --mem 4G --time 02:00:00 --submit
//! sweep analyse runs/tiny --with rg
//! sweep collect runs/tiny --metric kl_per_spin_reverse --axis coupling
//! ```

const EXAMPLES: &str = "\
sweep plan experiments/sweeps/tiny.json --out runs/tiny
sweep run runs/tiny --jobs 2
sweep slurm runs/tiny --cpus-per-task 4 --mem 4G --time 02:00:00 --submit
sweep analyse runs/tiny --with rg
sweep collect runs/tiny --metric kl_per_spin_reverse --axis coupling";

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args as ClapArgs, Parser, Subcommand};
use experiments::output::write_file_atomic;
use experiments::rg::flow::{RgFlow, flow_figures};
use experiments::sweep::{
    self, Launcher, Planned, Resources, SweepConfig, SweepPlan, locate_fig3, slurm,
};
use ising_data::config::Checked;

#[derive(Parser)]
#[command(
    name = env!("CARGO_BIN_NAME"),
    about = "Sweeps of Fig. 3 runs: plan, run locally or on Slurm, analyse, collect",
    version = experiments::cli::VERSION,
    after_help = experiments::cli::after_help(EXAMPLES)
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Expand a sweep file into DIR: manifest.json and each run's config.json.
    Plan {
        /// The sweep file (JSON).
        sweep: PathBuf,
        /// The sweep folder (must not exist, unless it holds the same plan).
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing sweep folder holding another plan, with every run in it.
        #[arg(long)]
        force: bool,
    },
    /// Run the planned sweep in DIR here, at most --jobs runs at a time; finished runs are
    /// skipped, interrupted ones resumed.
    Run {
        /// The sweep folder.
        dir: PathBuf,
        /// Runs at once.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Threads to share among the runs: each run gets threads / jobs (its RBM_THREADS and
        /// RAYON_NUM_THREADS); by default the threads this process may run on.
        #[arg(long)]
        threads: Option<usize>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Write DIR/sweep.sbatch, a Slurm array with one task per run, and optionally submit it.
    Slurm {
        /// The sweep folder.
        dir: PathBuf,
        /// CPUs per task (each task's RAYON_NUM_THREADS).
        #[arg(long, default_value_t = 1)]
        cpus_per_task: usize,
        /// Memory per task, e.g. 4G.
        #[arg(long)]
        mem: Option<String>,
        /// Time limit per task, e.g. 02:00:00.
        #[arg(long)]
        time: Option<String>,
        /// Partition.
        #[arg(long)]
        partition: Option<String>,
        /// Account.
        #[arg(long)]
        account: Option<String>,
        /// At most this many tasks at once.
        #[arg(long)]
        max_parallel: Option<usize>,
        /// Submit it with sbatch and print the job id.
        #[arg(long)]
        submit: bool,
        /// Also write DIR/collect.sbatch, and with --submit submit it to run `sweep collect`
        /// once the array has ended (--dependency=afterany:JOBID).
        #[arg(long)]
        collect_after: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Run, resume or skip run --index of the sweep in DIR (one Slurm array task).
    #[command(hide = true)]
    Task {
        /// The sweep folder.
        dir: PathBuf,
        /// The run's index in manifest.json.
        #[arg(long)]
        index: usize,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Run an analysis (`rg_analysis` or `quality`) on every finished run of DIR that lacks
    /// its output (RUN/rg/rg.json, RUN/quality/quality.json), one run after the other;
    /// `collect` then reads them.
    Analyse {
        /// The sweep folder.
        dir: PathBuf,
        /// The analysis.
        #[arg(long = "with", value_enum)]
        analysis: Analysis,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Summarise the finished runs of DIR into summary.json and summary.csv, listing the
    /// unfinished ones; with --metric, a figure of it against --axis.
    Collect {
        /// The sweep folder.
        dir: PathBuf,
        /// A column of summary.csv to plot (e.g. kl_per_spin_reverse).
        #[arg(long)]
        metric: Option<String>,
        /// The axis on the x axis (the first axis by default); runs differing only in seed
        /// axes are averaged, with error bars.
        #[arg(long, requires = "metric")]
        axis: Option<String>,
    },
}

/// An analysis of a finished run.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Analysis {
    /// rg_analysis: does the stack coarse-grain like block spins (RUN/rg).
    Rg,
    /// quality: how good a model it is (RUN/quality).
    Quality,
}

impl Analysis {
    /// The analysis' binary.
    fn binary(self) -> &'static str {
        match self {
            Analysis::Rg => "rg_analysis",
            Analysis::Quality => "quality",
        }
    }

    /// Its name: the folder it writes in a run and its report's stem.
    fn name(self) -> &'static str {
        match self {
            Analysis::Rg => "rg",
            Analysis::Quality => "quality",
        }
    }
}

#[derive(ClapArgs)]
struct DataArgs {
    /// Where datasets are looked up and stored, shared by the runs.
    #[arg(long, default_value = "datasets")]
    datasets: PathBuf,
}

fn main() -> std::process::ExitCode {
    experiments::output::main(run)
}

fn run() -> Result<()> {
    match Cli::parse().command {
        Command::Plan { sweep, out, force } => plan(&sweep, &out, force),
        Command::Run {
            dir,
            jobs,
            threads,
            data,
        } => {
            if jobs == 0 {
                bail!("--jobs must be at least 1");
            }
            let threads = match threads {
                Some(0) => bail!("--threads must be at least 1"),
                Some(t) => t,
                None => std::thread::available_parallelism().map_or(1, |n| n.get()),
            };
            let launcher = Launcher {
                fig3: locate_fig3()?,
                datasets: data.datasets,
                threads: Some((threads / jobs).max(1)),
                log_files: true,
            };
            sweep::run_local(&dir, &launcher, jobs)
        }
        Command::Slurm {
            dir,
            cpus_per_task,
            mem,
            time,
            partition,
            account,
            max_parallel,
            submit,
            collect_after,
            data,
        } => {
            let resources = Resources {
                cpus_per_task,
                mem,
                time,
                partition,
                account,
                max_parallel,
            };
            write_slurm(&dir, &data.datasets, &resources, submit, collect_after)
        }
        Command::Task { dir, index, data } => {
            let launcher = Launcher {
                fig3: locate_fig3()?,
                datasets: data.datasets,
                threads: None,
                log_files: false,
            };
            sweep::run_task(&dir, &launcher, index)
        }
        Command::Analyse {
            dir,
            analysis,
            data,
        } => analyse(&dir, analysis, &data.datasets),
        Command::Collect { dir, metric, axis } => collect(&dir, metric, axis),
    }
}

fn plan(path: &std::path::Path, out: &std::path::Path, force: bool) -> Result<()> {
    let (sweep, runs) = SweepConfig::read_and_expand(path)?;
    match sweep::write_plan(out, &sweep, &runs, force)? {
        Planned::Unchanged => println!(
            "{} already holds this plan ({} runs); nothing to do",
            out.display(),
            runs.len()
        ),
        Planned::Written => {
            println!("planned {} runs in {}:", runs.len(), out.display());
            for run in &runs {
                println!("  {:>3}  {}", run.index, run.name);
            }
        }
    }
    Ok(())
}

fn write_slurm(
    dir: &std::path::Path,
    datasets: &std::path::Path,
    resources: &Resources,
    submit: bool,
    collect_after: bool,
) -> Result<()> {
    let resources = resources
        .clone()
        .validated()
        .map_err(|e| e.renamed(experiments::cli::flag))?;
    let resources = &resources;
    let manifest = SweepPlan::read(dir)?;
    let dir = slurm::absolute(dir)?;
    let exe = std::env::current_exe().context("locating the running executable")?;
    locate_fig3()?;
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let script = dir.join("sweep.sbatch");
    write_file_atomic(
        &script,
        slurm::array_script(
            &dir,
            &exe,
            &slurm::absolute(datasets)?,
            manifest.runs.len(),
            resources,
        )
        .as_bytes(),
    )?;
    println!(
        "wrote {} ({} tasks; logs in {}/<job>_<task>.out)",
        script.display(),
        manifest.runs.len(),
        logs.display()
    );
    let collect_script = dir.join("collect.sbatch");
    if collect_after {
        write_file_atomic(
            &collect_script,
            slurm::collect_script(&dir, &exe, resources).as_bytes(),
        )?;
        println!("wrote {}", collect_script.display());
    }
    if !submit {
        println!("submit it with: sbatch {}", script.display());
        if collect_after {
            println!(
                "then: sbatch --dependency=afterany:<job id> {}",
                collect_script.display()
            );
        }
        return Ok(());
    }
    let job = slurm::submit(&script, &[])?;
    println!("submitted job {job}");
    if collect_after {
        let collect_job =
            slurm::submit(&collect_script, &[format!("--dependency=afterany:{job}")])?;
        println!("submitted collect job {collect_job} (after job {job})");
    }
    Ok(())
}

fn analyse(dir: &std::path::Path, analysis: Analysis, datasets: &std::path::Path) -> Result<()> {
    let program = analysis.name();
    let manifest = SweepPlan::read(dir)?;
    let exe = sweep::locate_sibling(analysis.binary())?;
    let (mut done, mut failed) = (0, Vec::new());
    for (i, entry) in manifest.runs.iter().enumerate() {
        let run_dir = manifest.run_dir(dir, i);
        if !sweep::finished(&run_dir) {
            println!("skipped  {} (not finished)", entry.name);
            continue;
        }
        if run_dir
            .join(program)
            .join(format!("{program}.json"))
            .is_file()
        {
            continue;
        }
        let start = std::time::Instant::now();
        let output = std::process::Command::new(&exe)
            .arg(&run_dir)
            .arg("--datasets")
            .arg(datasets)
            .stdin(std::process::Stdio::null())
            .output()
            .with_context(|| format!("starting {}", exe.display()))?;
        let log = sweep::run::log_path(dir, &format!("{}-{program}", entry.name));
        std::fs::create_dir_all(dir.join("logs"))
            .with_context(|| format!("creating {}", dir.join("logs").display()))?;
        write_file_atomic(&log, &[output.stdout, output.stderr].concat())?;
        if output.status.success() {
            done += 1;
            println!(
                "{program} of {} in {:.1} s",
                entry.name,
                start.elapsed().as_secs_f64()
            );
        } else {
            failed.push(format!("{} (log {})", entry.name, log.display()));
        }
    }
    if !failed.is_empty() {
        bail!(
            "{program} failed for {} runs: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    println!(
        "{program}: {done} runs analysed; now `sweep collect {}`",
        dir.display()
    );
    Ok(())
}

fn collect(dir: &std::path::Path, metric: Option<String>, axis: Option<String>) -> Result<()> {
    let manifest = SweepPlan::read(dir)?;
    let summary = sweep::summarise(dir)?;
    write_file_atomic(
        &dir.join("summary.json"),
        &serde_json::to_vec_pretty(&summary)?,
    )?;
    write_file_atomic(&dir.join("summary.csv"), summary.to_csv().as_bytes())?;
    println!(
        "wrote {} and {}: {} finished runs",
        dir.join("summary.json").display(),
        dir.join("summary.csv").display(),
        summary.runs.len()
    );
    if !summary.unfinished.is_empty() {
        println!(
            "unfinished ({}): {}",
            summary.unfinished.len(),
            summary.unfinished.join(", ")
        );
    }
    let flows: Vec<RgFlow> = summary.runs.iter().filter_map(|r| r.flow.clone()).collect();
    if !flows.is_empty() {
        for (name, png) in flow_figures(&flows)? {
            let path = dir.join(&name);
            write_file_atomic(&path, &png)?;
            println!(
                "wrote {} (from {} runs' rg.json)",
                path.display(),
                flows.len()
            );
        }
    }
    let curves: Vec<_> = summary
        .runs
        .iter()
        .map(|r| (&r.values, r.kl_curve.as_slice()))
        .collect();
    if let Some(png) = experiments::sweep::kl_curves::kl_figure(&manifest, &curves)? {
        let path = dir.join("summary_kl_vs_seconds.png");
        write_file_atomic(&path, &png)?;
        println!("wrote {}", path.display());
    }
    if let Some(metric) = metric {
        let axis = axis.unwrap_or_else(|| manifest.axes[0].name.clone());
        let png = summary.figure(&manifest, &metric, &axis)?;
        let path = dir.join(format!("summary_{metric}_vs_{axis}.png"));
        write_file_atomic(&path, &png)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
