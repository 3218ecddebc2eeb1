//! Slurm: an sbatch array script with one task per run of a planned sweep. Each task runs
//! `sweep task DIR --index $SLURM_ARRAY_TASK_ID`, which runs, resumes or skips its run, so
//! resubmitting the script after a failure finishes only what is left.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use ising_data::config::{Checked, ConfigError};

/// The resources of each array task, and the array's throttle.
#[derive(Debug, Clone)]
pub struct Resources {
    /// `--cpus-per-task` (also each task's `RBM_THREADS` and `RAYON_NUM_THREADS`).
    pub cpus_per_task: usize,
    /// `--mem`, e.g. `4G`.
    pub mem: Option<String>,
    /// `--time`, e.g. `02:00:00` or `1-00:00:00`.
    pub time: Option<String>,
    /// `--partition`.
    pub partition: Option<String>,
    /// `--account`.
    pub account: Option<String>,
    /// At most this many tasks at once (`%M` of `--array`).
    pub max_parallel: Option<usize>,
}

impl Checked for Resources {
    /// Each value's form, so that nothing odd reaches the script.
    fn check(&self) -> std::result::Result<(), ConfigError> {
        if self.cpus_per_task == 0 {
            return Err(ConfigError::invalid("cpus_per_task", "at least 1", 0));
        }
        if self.max_parallel == Some(0) {
            return Err(ConfigError::invalid("max_parallel", "at least 1", 0));
        }
        if let Some(mem) = &self.mem {
            let digits = mem.trim_end_matches(['K', 'M', 'G', 'T']);
            if digits.is_empty()
                || !digits.bytes().all(|b| b.is_ascii_digit())
                || mem.len() - digits.len() > 1
            {
                return Err(ConfigError::invalid(
                    "mem",
                    "a Slurm memory size (a number, optionally with K, M, G or T, e.g. 4G)",
                    format!("'{mem}'"),
                ));
            }
        }
        if let Some(time) = &self.time
            && !valid_time(time)
        {
            return Err(ConfigError::invalid(
                "time",
                "a Slurm time (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)",
                format!("'{time}'"),
            ));
        }
        for (field, value) in [("partition", &self.partition), ("account", &self.account)] {
            if let Some(v) = value
                && (v.is_empty()
                    || !v
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ',')))
            {
                return Err(ConfigError::invalid(
                    field,
                    "a Slurm name (letters, digits, '_', '-', '.', ',')",
                    format!("'{v}'"),
                ));
            }
        }
        Ok(())
    }
}

/// Whether `time` is one of Slurm's time forms.
fn valid_time(time: &str) -> bool {
    let numbers = |s: &str, max_parts: usize| {
        let parts: Vec<&str> = s.split(':').collect();
        parts.len() <= max_parts
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    match time.split_once('-') {
        Some((days, rest)) => numbers(days, 1) && numbers(rest, 3),
        None => numbers(time, 3),
    }
}

/// A path as a single-quoted shell word.
fn shell_word(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// Absolute form of `path` (the script runs on other nodes, from another folder).
///
/// # Errors
/// If the current folder cannot be read.
pub fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))
}

/// The array script for `runs` runs of the sweep in `dir` (absolute), running `sweep` (the
/// absolute path of this binary) with `datasets` (absolute).
pub fn array_script(
    dir: &Path,
    sweep: &Path,
    datasets: &Path,
    runs: usize,
    resources: &Resources,
) -> String {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sweep".into());
    let job_name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!("#SBATCH --job-name=sweep-{job_name}\n"));
    let throttle = resources
        .max_parallel
        .map(|m| format!("%{m}"))
        .unwrap_or_default();
    s.push_str(&format!("#SBATCH --array=0-{}{throttle}\n", runs - 1));
    s.push_str(&format!(
        "#SBATCH --output={}\n",
        dir.join("logs").join("%A_%a.out").display()
    ));
    s.push_str(&format!(
        "#SBATCH --cpus-per-task={}\n",
        resources.cpus_per_task
    ));
    for (flag, value) in [
        ("mem", &resources.mem),
        ("time", &resources.time),
        ("partition", &resources.partition),
        ("account", &resources.account),
    ] {
        if let Some(v) = value {
            s.push_str(&format!("#SBATCH --{flag}={v}\n"));
        }
    }
    s.push_str(&format!(
        "# Written by `sweep slurm`: task i runs (or resumes, or skips when finished) run i of\n\
         # {manifest}, so submitting this script again finishes only what is left.\n\
         set -euo pipefail\n\
         export RAYON_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-{cpus}}}\"\n\
         export RBM_THREADS=\"$RAYON_NUM_THREADS\"\n\
         exec {sweep} task {dir} --index \"$SLURM_ARRAY_TASK_ID\" --datasets {datasets}\n",
        manifest = dir.join("manifest.json").display(),
        cpus = resources.cpus_per_task,
        sweep = shell_word(sweep),
        dir = shell_word(dir),
        datasets = shell_word(datasets),
    ));
    s
}

/// The script that collects the sweep once the array has ended (submitted with
/// `--dependency=afterany:JOBID`).
pub fn collect_script(dir: &Path, sweep: &Path, resources: &Resources) -> String {
    let mut s = String::from("#!/bin/bash\n#SBATCH --job-name=sweep-collect\n");
    s.push_str(&format!(
        "#SBATCH --output={}\n#SBATCH --cpus-per-task=1\n",
        dir.join("logs").join("collect_%j.out").display()
    ));
    for (flag, value) in [
        ("time", &resources.time),
        ("partition", &resources.partition),
        ("account", &resources.account),
    ] {
        if let Some(v) = value {
            s.push_str(&format!("#SBATCH --{flag}={v}\n"));
        }
    }
    s.push_str(&format!(
        "# Written by `sweep slurm --collect-after`: summarises the sweep once its array ended.\n\
         set -euo pipefail\n\
         exec {} collect {}\n",
        shell_word(sweep),
        shell_word(dir)
    ));
    s
}

/// Submits `script` with `sbatch --parsable` (and `extra` flags); returns the job id.
///
/// # Errors
/// If `sbatch` is not on `PATH`, fails (with its message), or prints no job id.
pub fn submit(script: &Path, extra: &[String]) -> Result<String> {
    let output = match Command::new("sbatch")
        .arg("--parsable")
        .args(extra)
        .arg(script)
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "--submit: sbatch is not on PATH (is this a Slurm login node?); {} is written, submit it with `sbatch {}` where Slurm is",
            script.display(),
            script.display()
        ),
        Err(e) => return Err(e).context("--submit: running sbatch"),
    };
    if !output.status.success() {
        bail!(
            "--submit: sbatch {} failed ({}): {}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    // `--parsable` prints `jobid` or `jobid;cluster`.
    let id = stdout
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        bail!(
            "--submit: sbatch printed no job id (it printed '{}')",
            stdout.trim()
        );
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slurm_times_are_recognised() {
        for ok in ["30", "10:00", "02:00:00", "1-00", "1-02:00", "2-00:00:00"] {
            assert!(valid_time(ok), "{ok}");
        }
        for bad in ["", "1h", "1-", "1:2:3:4", "-1", "a-01"] {
            assert!(!valid_time(bad), "{bad}");
        }
    }
}
