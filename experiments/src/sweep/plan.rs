//! A planned sweep on disk: `DIR/manifest.json` (the sweep, its axes, and one entry per run
//! with the SHA-256 of its configuration) and each run's `DIR/<run>/config.json`, the folder
//! marked as written by `sweep` so that `--force` follows the project's rules
//! ([`ising_data::folder`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use ising_data::folder::{self, MARKER_FILE, Marker};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::spec::{PlannedRun, SweepConfig};
use crate::output::{check_out, read_json};
use crate::pretrain::PretrainConfig;

/// The program name in a sweep folder's marker.
pub const PROGRAM: &str = "sweep";
/// The manifest's file name.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Version of the manifest's layout.
pub const FORMAT_VERSION: u32 = 1;

/// The plan of a sweep, `DIR/manifest.json`: its axes and every run with its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepPlan {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The sweep file as given.
    pub sweep: SweepConfig,
    /// The axes: name and key, outermost first.
    pub axes: Vec<AxisEntry>,
    /// The runs, in array-index order.
    pub runs: Vec<RunEntry>,
}

/// An axis of the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxisEntry {
    /// Its name in folder names and summaries.
    pub name: String,
    /// The dotted key it sets.
    pub key: String,
}

/// A run of the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunEntry {
    /// Array index.
    pub index: usize,
    /// Folder name.
    pub name: String,
    /// Its value of each axis.
    pub values: BTreeMap<String, Value>,
    /// SHA-256 of the canonical JSON of its configuration ([`config_sha256`]).
    pub config_sha256: String,
}

/// SHA-256 (hex) of a configuration's canonical JSON: compact, with every object's keys
/// sorted (as `jq -cS .` writes it).
///
/// # Errors
/// If the configuration cannot be serialised.
pub fn config_sha256(config: &PretrainConfig) -> Result<String> {
    // A `Value`'s objects are sorted maps, so this writes the keys in order.
    let canonical = serde_json::to_vec(&serde_json::to_value(config)?)?;
    Ok(ising_data::store::sha256_hex(&canonical))
}

impl SweepPlan {
    /// The manifest of an expanded sweep.
    ///
    /// # Errors
    /// If a configuration cannot be serialised.
    pub fn new(sweep: &SweepConfig, runs: &[PlannedRun]) -> Result<Self> {
        Ok(Self {
            format_version: FORMAT_VERSION,
            sweep: sweep.clone(),
            axes: sweep
                .axes
                .iter()
                .map(|a| AxisEntry {
                    name: a.label(),
                    key: a.key.clone(),
                })
                .collect(),
            runs: runs
                .iter()
                .map(|r| {
                    Ok(RunEntry {
                        index: r.index,
                        name: r.name.clone(),
                        values: r.values.clone(),
                        config_sha256: config_sha256(&r.config)?,
                    })
                })
                .collect::<Result<_>>()?,
        })
    }

    /// Reads `dir/manifest.json`.
    ///
    /// # Errors
    /// If `dir` is not a planned sweep, naming the file.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST_FILE);
        if !path.is_file() {
            bail!(
                "{} is not a planned sweep (no {MANIFEST_FILE}); make one with `sweep plan SWEEP --out {}`",
                dir.display(),
                dir.display()
            );
        }
        let manifest: Self = read_json(&path)?;
        if manifest.format_version != FORMAT_VERSION {
            bail!(
                "{}: format version {} is not supported (this build reads {FORMAT_VERSION})",
                path.display(),
                manifest.format_version
            );
        }
        for (i, run) in manifest.runs.iter().enumerate() {
            let safe = !run.name.is_empty()
                && !run.name.starts_with('.')
                && run
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '_'));
            if run.index != i || !safe {
                bail!("{}: run {i} is malformed", path.display());
            }
        }
        Ok(manifest)
    }

    /// How `other` differs from this plan in its runs (names and configurations), for
    /// messages; empty when the plans are the same.
    pub fn differences(&self, other: &Self) -> Vec<String> {
        let key = |m: &Self| -> BTreeMap<String, String> {
            m.runs
                .iter()
                .map(|r| (r.name.clone(), r.config_sha256.clone()))
                .collect()
        };
        let (a, b) = (key(self), key(other));
        let mut out = Vec::new();
        let removed: Vec<&String> = a.keys().filter(|k| !b.contains_key(*k)).collect();
        let added: Vec<&String> = b.keys().filter(|k| !a.contains_key(*k)).collect();
        let changed: Vec<&String> = a
            .iter()
            .filter(|(k, h)| b.get(*k).is_some_and(|g| g != *h))
            .map(|(k, _)| k)
            .collect();
        let list = |v: &[&String]| {
            let shown: Vec<&str> = v.iter().take(3).map(|s| s.as_str()).collect();
            format!(
                "{}{}",
                shown.join(", "),
                if v.len() > 3 { ", …" } else { "" }
            )
        };
        if !removed.is_empty() {
            out.push(format!(
                "{} runs only in the folder ({})",
                removed.len(),
                list(&removed)
            ));
        }
        if !added.is_empty() {
            out.push(format!(
                "{} runs only in the new plan ({})",
                added.len(),
                list(&added)
            ));
        }
        if !changed.is_empty() {
            out.push(format!(
                "{} runs with another configuration ({})",
                changed.len(),
                list(&changed)
            ));
        }
        if out.is_empty()
            && self
                .runs
                .iter()
                .map(|r| &r.name)
                .ne(other.runs.iter().map(|r| &r.name))
        {
            out.push("the order of the runs (the array indices)".into());
        }
        out
    }

    /// The run folder of run `index`.
    pub fn run_dir(&self, dir: &Path, index: usize) -> PathBuf {
        dir.join(&self.runs[index].name)
    }

    /// Reads run `index`'s `config.json` and checks it against the plan's hash.
    ///
    /// # Errors
    /// If it is missing, invalid or differs from the plan, naming the file.
    pub fn run_config(&self, dir: &Path, index: usize) -> Result<PretrainConfig> {
        let path = self.run_dir(dir, index).join("config.json");
        let config = PretrainConfig::read(&path)?;
        // The file's own JSON is hashed, not the configuration written back: a later version
        // that adds an optional setting (written as null) still resumes the planned runs.
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
        let hash = ising_data::store::sha256_hex(&serde_json::to_vec(&value)?);
        if hash != self.runs[index].config_sha256 {
            bail!(
                "{} differs from the plan in {MANIFEST_FILE} (SHA-256 {hash}, planned {}); it was edited after `sweep plan`: put it back, or plan a new sweep",
                path.display(),
                self.runs[index].config_sha256
            );
        }
        Ok(config)
    }
}

/// The entries of a sweep folder, for its marker: the plan's files, what `run`, `slurm` and
/// `collect` write, and the runs (temporaries of atomic writes are declared everywhere).
pub fn marker_entries(manifest: &SweepPlan) -> Vec<String> {
    let mut entries: Vec<String> = [
        MANIFEST_FILE,
        "logs/*.log",
        "logs/*.out",
        "locks/*.lock",
        "sweep.sbatch",
        "collect.sbatch",
        "summary.json",
        "summary.csv",
        "summary_*.png",
        "flow*.png",
        "k_eff_by_layer*.png",
        // The locks `fig3` takes beside each run folder while it trains it.
        ".*.lock",
    ]
    .map(String::from)
    .into();
    for run in &manifest.runs {
        // A run folder carries fig3's marker once fig3 has started it; before, only its
        // configuration.
        entries.push(run.name.clone());
        entries.push(format!("{}/config.json", run.name));
    }
    entries
}

/// What [`write_plan`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planned {
    /// The plan was written.
    Written,
    /// `dir` already held this plan; nothing was changed.
    Unchanged,
}

/// Writes the plan of `runs` into `dir`: the manifest and each run's config.json, built in a
/// temporary sibling folder and renamed into place. An existing `dir` holding the same plan
/// is left as it is ([`Planned::Unchanged`]); one holding anything else is refused, or with
/// `force` replaced (with its runs) when `sweep` wrote it.
///
/// # Errors
/// If `dir` exists with another plan and no `force`, or may not be replaced, or on I/O
/// failure, naming the path; nothing existing is changed then.
pub fn write_plan(
    dir: &Path,
    sweep: &SweepConfig,
    runs: &[PlannedRun],
    force: bool,
) -> Result<Planned> {
    let manifest = SweepPlan::new(sweep, runs)?;
    crate::output::clean_out(dir)?;
    if dir.is_dir() {
        let ours = Marker::read(dir)
            .ok()
            .flatten()
            .is_some_and(|m| m.program == PROGRAM);
        if !ours {
            // `--force` would be refused too: only a folder `sweep` wrote is replaced.
            bail!(
                "--out {} already exists and is not a sweep folder (it has no {MARKER_FILE} of sweep); nothing was changed: choose another --out",
                dir.display()
            );
        }
        let held = match SweepPlan::read(dir) {
            Ok(existing) => {
                let differences = existing.differences(&manifest);
                if differences.is_empty() {
                    return Ok(Planned::Unchanged);
                }
                format!("another plan: {}", differences.join("; "))
            }
            Err(_) => format!("no readable {MANIFEST_FILE}"),
        };
        if !force {
            bail!(
                "--out {} already exists and holds {held}; nothing was changed: choose another --out, or add --force to replace it and every run in it",
                dir.display()
            );
        }
    }
    check_out(dir, force, PROGRAM)?;
    let tmp = temporary_sibling(dir)?;
    let build = || -> Result<()> {
        std::fs::create_dir(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let marker = Marker::new(PROGRAM, marker_entries(&manifest));
        write_synced(&tmp.join(MARKER_FILE), &marker.to_bytes())?;
        write_synced(
            &tmp.join(MANIFEST_FILE),
            &serde_json::to_vec_pretty(&manifest)?,
        )?;
        for run in runs {
            let run_dir = tmp.join(&run.name);
            std::fs::create_dir(&run_dir)
                .with_context(|| format!("creating {}", run_dir.display()))?;
            write_synced(
                &run_dir.join("config.json"),
                &serde_json::to_vec_pretty(&run.config)?,
            )?;
        }
        Ok(())
    };
    if let Err(e) = build() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let backup = if std::fs::symlink_metadata(dir).is_ok() {
        Some(folder::move_aside(dir, PROGRAM).context("--out")?)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(&tmp, dir) {
        if let Some(old) = &backup {
            let _ = std::fs::rename(old, dir);
        }
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e).with_context(|| format!("writing {}", dir.display()));
    }
    if let Some(old) = backup {
        folder::discard_backup(&old).context("removing the replaced sweep")?;
    }
    Ok(Planned::Written)
}

/// A temporary sibling of `dir` named as [`ising_data::folder`] names them
/// (`.{name}.tmp-{pid}-{nanos}`), so that one left by a killed process is cleaned up.
fn temporary_sibling(dir: &Path) -> Result<PathBuf> {
    let name = dir
        .file_name()
        .with_context(|| format!("--out {} does not name a folder", dir.display()))?
        .to_string_lossy();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    Ok(dir.with_file_name(format!(".{name}.tmp-{}-{nanos}", std::process::id())))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut file =
        std::fs::File::create(path).with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}
