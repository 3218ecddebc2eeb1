//! Running a planned sweep's runs: each one is a `fig3 --resume` child process on the run's
//! folder (the plan wrote its config.json), under a lock in `DIR/locks`, so a run is never
//! worked on by two processes, a finished run (`run.json` and `weights/`) is skipped, and an
//! interrupted one continues after its last checkpoint.

use std::collections::VecDeque;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::plan::SweepPlan;
use crate::interrupt::StopSignal;
use crate::lock::{self, Acquire, Holder};
use crate::output::Interrupted;
use crate::progress;
use crate::run::RunPaths;

/// Whether the fig3 run in `run_dir` finished ([`RunPaths::finished`]).
pub fn finished(run_dir: &Path) -> bool {
    RunPaths::new(run_dir).finished()
}

/// The `fig3` binary next to the running executable.
///
/// # Errors
/// If it is not there.
pub fn locate_fig3() -> Result<PathBuf> {
    locate_sibling("fig3")
}

/// The binary `name` of this package next to the running executable.
///
/// # Errors
/// If it is not there.
pub fn locate_sibling(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the running executable")?;
    let path = exe
        .parent()
        .context("the running executable has no folder")?
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        bail!(
            "{name} is not next to {} ({} is missing); build both with `cargo build --release -p experiments`",
            exe.display(),
            path.display()
        );
    }
    Ok(path)
}

/// How the runs' `fig3` children are started.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// The `fig3` binary.
    pub fig3: PathBuf,
    /// The shared dataset folder (`fig3 --datasets`).
    pub datasets: PathBuf,
    /// The threads of each child, as `RBM_THREADS` and `RAYON_NUM_THREADS` (`None`: inherited).
    pub threads: Option<usize>,
    /// Append each child's output to `DIR/logs/<run>.log` (else it goes to ours).
    pub log_files: bool,
}

/// What became of one run.
#[derive(Debug)]
pub enum Outcome {
    /// It had finished before.
    AlreadyFinished,
    /// It finished now, in this many seconds.
    Finished(f64),
    /// Another live process works on it.
    Held(Option<Holder>),
    /// Its fig3 was interrupted by a signal (it can be resumed).
    Interrupted,
    /// Its fig3 failed: the reason.
    Failed(String),
}

/// The log file of run `name`.
pub fn log_path(dir: &Path, name: &str) -> PathBuf {
    dir.join("logs").join(format!("{name}.log"))
}

impl Launcher {
    /// Runs (or resumes) run `index` of the sweep in `dir` unless it has finished or another
    /// process holds it.
    ///
    /// # Errors
    /// If its config.json differs from the plan, or on I/O failure; a failing fig3 is an
    /// [`Outcome::Failed`], not an error.
    /// `on_start` is called once the run is ours, before its fig3 starts.
    pub fn run_one(
        &self,
        dir: &Path,
        manifest: &SweepPlan,
        index: usize,
        on_start: &dyn Fn(),
    ) -> Result<Outcome> {
        manifest.run_config(dir, index)?;
        let name = &manifest.runs[index].name;
        let run_dir = manifest.run_dir(dir, index);
        if finished(&run_dir) {
            return Ok(Outcome::AlreadyFinished);
        }
        let lock_path = dir.join("locks").join(format!("{name}.lock"));
        let mut held = match lock::try_acquire(&lock_path)? {
            Acquire::Acquired(held) => held,
            Acquire::Held(holder) => return Ok(Outcome::Held(holder)),
        };
        // It may have finished between the first look and the lock.
        if finished(&run_dir) {
            return Ok(Outcome::AlreadyFinished);
        }
        on_start();
        let start = Instant::now();
        let mut command = Command::new(&self.fig3);
        command
            .arg("--out")
            .arg(&run_dir)
            .arg("--resume")
            .arg("--datasets")
            .arg(&self.datasets)
            .stdin(Stdio::null());
        if let Some(every) = manifest.sweep.kl_every {
            command.arg("--kl-every").arg(every.to_string());
        }
        if let Some(threads) = self.threads {
            command.env("RAYON_NUM_THREADS", threads.to_string());
            command.env(rbm::THREADS_VARIABLE, threads.to_string());
        }
        let log = log_path(dir, name);
        if self.log_files {
            std::fs::create_dir_all(dir.join("logs"))
                .with_context(|| format!("creating {}", dir.join("logs").display()))?;
            let mut file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .with_context(|| format!("opening {}", log.display()))?;
            writeln!(
                file,
                "== sweep: fig3 --resume of {} on {} (process {})",
                run_dir.display(),
                lock::host_name(),
                std::process::id()
            )
            .with_context(|| format!("writing {}", log.display()))?;
            let err = file
                .try_clone()
                .with_context(|| format!("opening {}", log.display()))?;
            command.stdout(file).stderr(err);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", self.fig3.display()))?;
        held.add_process(child.id())?;
        let status = child
            .wait()
            .with_context(|| format!("waiting for fig3 of {name}"))?;
        let seconds = start.elapsed().as_secs_f64();
        // A fig3 stopped by SIGINT or SIGTERM before its handler was installed (while loading
        // its data) was interrupted too.
        #[cfg(unix)]
        let signalled = {
            use std::os::unix::process::ExitStatusExt;
            matches!(status.signal(), Some(2 | 15))
        };
        #[cfg(not(unix))]
        let signalled = false;
        Ok(match status.code() {
            _ if signalled => Outcome::Interrupted,
            Some(0) if finished(&run_dir) => Outcome::Finished(seconds),
            Some(0) => Outcome::Failed(format!(
                "fig3 ended without error but {} lacks run.json or weights/",
                run_dir.display()
            )),
            Some(code) if code == i32::from(ising_data::cli::INTERRUPTED_EXIT) => {
                Outcome::Interrupted
            }
            _ => Outcome::Failed(format!(
                "fig3 {status}{}",
                if self.log_files {
                    last_error_line(&log)
                        .map(|l| format!(": {l}"))
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            )),
        })
    }
}

/// The last line of a log that starts with `error`, for a failed run's message.
fn last_error_line(log: &Path) -> Option<String> {
    std::fs::read_to_string(log)
        .ok()?
        .lines()
        .rev()
        .find(|l| l.starts_with("error"))
        .map(str::to_string)
}

/// Runs every unfinished run of the sweep in `dir`, at most `jobs` at a time, printing one
/// line per run started and finished. Runs held by another live process are waited for.
///
/// # Errors
/// If runs failed (naming them and their logs), on [`Interrupted`] when a signal stopped the
/// sweep, or on I/O failure.
pub fn run_local(dir: &Path, launcher: &Launcher, jobs: usize) -> Result<()> {
    let manifest = SweepPlan::read(dir)?;
    let total = manifest.runs.len();
    // Check every run's config before starting any.
    for i in 0..total {
        manifest.run_config(dir, i)?;
    }
    let pending: VecDeque<usize> = (0..total)
        .filter(|&i| !finished(&manifest.run_dir(dir, i)))
        .collect();
    let done_before = total - pending.len();
    progress::info(format!(
        "sweep {}: {total} runs, {done_before} finished before, {} to run, at most {jobs} at a time{}",
        dir.display(),
        pending.len(),
        match launcher.threads {
            Some(t) => format!(
                ", {t} thread{} each (RBM_THREADS)",
                if t == 1 { "" } else { "s" }
            ),
            None => String::new(),
        }
    ));
    if pending.is_empty() {
        return Ok(());
    }
    let stop = StopSignal::install()?;
    let state = Mutex::new(State {
        pending,
        done: done_before,
        failed: Vec::new(),
        interrupted: false,
        waiting_noted: Vec::new(),
    });
    let start = Instant::now();
    let worker = || -> Result<()> {
        loop {
            let Some(index) = ({
                let mut s = lock_state(&state);
                if stop.requested() || s.interrupted {
                    None
                } else {
                    s.pending.pop_front()
                }
            }) else {
                return Ok(());
            };
            let name = &manifest.runs[index].name;
            let run_dir = manifest.run_dir(dir, index);
            let on_start = || {
                let resumed = run_dir.join("layer1").exists();
                progress::info(format!(
                    "started  {name}{} (log {})",
                    if resumed { " (resuming)" } else { "" },
                    log_path(dir, name).display()
                ));
            };
            let outcome = launcher.run_one(dir, &manifest, index, &on_start)?;
            record_outcome(&state, index, name, total, outcome);
        }
    };
    let results: Vec<Result<()>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs.min(total)).map(|_| scope.spawn(worker)).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a worker panicked")))
            })
            .collect()
    });
    for result in results {
        result?;
    }
    conclude(
        &lock_state(&state),
        stop.requested(),
        dir,
        launcher,
        jobs,
        total,
        start,
    )
}

/// Records what became of run `index` (`name`) of `total` in the sweep's state, printing its
/// line; a run another process holds goes back in the queue after a second.
fn record_outcome(state: &Mutex<State>, index: usize, name: &str, total: usize, outcome: Outcome) {
    let mut s = lock_state(state);
    match outcome {
        Outcome::AlreadyFinished => {
            s.done += 1;
            progress::info(format!(
                "finished {name} (by another process) [{}/{total}]",
                s.done
            ));
        }
        Outcome::Finished(seconds) => {
            s.done += 1;
            progress::info(format!(
                "finished {name} in {seconds:.1} s [{}/{total}]",
                s.done
            ));
        }
        Outcome::Held(holder) => {
            if !s.waiting_noted.contains(&index) {
                s.waiting_noted.push(index);
                progress::info(format!(
                    "waiting  {name}: {} works on it",
                    holder.map_or_else(|| "another process".into(), |h| h.to_string())
                ));
            }
            s.pending.push_back(index);
            drop(s);
            std::thread::sleep(Duration::from_secs(1));
        }
        Outcome::Interrupted => {
            s.interrupted = true;
            progress::info(format!(
                "stopped  {name} (interrupted; it resumes where it stopped)"
            ));
        }
        Outcome::Failed(reason) => {
            progress::info(format!("FAILED   {name}: {reason}"));
            s.failed.push(name.to_string());
        }
    }
}

/// The sweep's end: interrupted (with the command that continues it), failed runs named, or
/// all finished.
fn conclude(
    s: &State,
    stopped: bool,
    dir: &Path,
    launcher: &Launcher,
    jobs: usize,
    total: usize,
    start: Instant,
) -> Result<()> {
    if stopped || s.interrupted {
        return Err(Interrupted(format!(
            "interrupted: {} of {total} runs finished; continue with `sweep run {} --jobs {jobs} --datasets {}`",
            s.done,
            dir.display(),
            launcher.datasets.display()
        ))
        .into());
    }
    if !s.failed.is_empty() {
        bail!(
            "{} of {total} runs failed ({}); their logs are in {}; `sweep run {} --jobs {jobs} --datasets {}` again resumes them",
            s.failed.len(),
            s.failed.join(", "),
            dir.join("logs").display(),
            dir.display(),
            launcher.datasets.display()
        );
    }
    progress::info(format!(
        "sweep {}: all {total} runs finished ({:.1} s)",
        dir.display(),
        start.elapsed().as_secs_f64()
    ));
    Ok(())
}

struct State {
    pending: VecDeque<usize>,
    done: usize,
    failed: Vec<String>,
    interrupted: bool,
    waiting_noted: Vec<usize>,
}

fn lock_state(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs (or resumes, or skips when finished) run `index` of the sweep in `dir` in the
/// foreground: one Slurm array task. Waits while another live process holds the run.
///
/// # Errors
/// If `index` is out of range, the run's fig3 fails or is interrupted, or on I/O failure.
pub fn run_task(dir: &Path, launcher: &Launcher, index: usize) -> Result<()> {
    let manifest = SweepPlan::read(dir)?;
    let total = manifest.runs.len();
    if index >= total {
        bail!(
            "--index {index} is out of range: the sweep in {} has {total} runs (0 to {})",
            dir.display(),
            total - 1
        );
    }
    let name = &manifest.runs[index].name;
    let mut noted = false;
    loop {
        let on_start = || {
            progress::info(format!(
                "started {name} ({})",
                manifest.run_dir(dir, index).display()
            ))
        };
        match launcher.run_one(dir, &manifest, index, &on_start)? {
            Outcome::AlreadyFinished => {
                progress::info(format!("{name} finished earlier; nothing to do"));
                return Ok(());
            }
            Outcome::Finished(seconds) => {
                progress::info(format!("finished {name} in {seconds:.1} s"));
                return Ok(());
            }
            Outcome::Held(holder) => {
                if !noted {
                    progress::info(format!(
                        "waiting: {} works on {name}",
                        holder.map_or_else(|| "another process".into(), |h| h.to_string())
                    ));
                    noted = true;
                }
                std::thread::sleep(Duration::from_secs(2));
            }
            Outcome::Interrupted => {
                return Err(Interrupted(format!(
                    "interrupted: {name}; it resumes where it stopped when the task runs again"
                ))
                .into());
            }
            Outcome::Failed(reason) => bail!("{name}: {reason}"),
        }
    }
}
