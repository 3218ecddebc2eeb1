//! Run folders and the edges of the binaries. Every output of `fig1`, `fig2` and `mapping` is
//! collected in memory by a [`RunOutput`] and written atomically at the end, so such a run
//! never leaves a half-written folder; `fig3`, a training run that must be resumable, writes
//! into a [`RunFolder`] as it goes, each file atomically. Either way an existing folder is
//! replaced only with `--force`, only when one of our programs wrote it
//! ([`ising_data::folder`]), and only once the new run is complete. [`main`] gives every
//! binary the same error report, exit status and panic handling.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::progress;
use ising_data::folder::{self, Marker};

/// The files of a run, written together by [`RunOutput::write`].
#[derive(Debug)]
pub struct RunOutput {
    dir: PathBuf,
    force: bool,
    program: String,
    files: Vec<(String, Vec<u8>)>,
}

impl RunOutput {
    /// Prepares output of `program` into `dir`; fails at once (before any work) if `dir`
    /// exists without `force`, if `force` is set but `dir` is not a folder one of our programs
    /// wrote, or if `dir` cannot be created. Removes what killed earlier writes left beside it.
    ///
    /// # Errors
    /// As [`folder::check_destination`], with `--out` as context.
    pub fn new(program: &str, dir: &Path, force: bool) -> Result<Self> {
        check_out(dir, force, program)?;
        Ok(Self {
            dir: dir.into(),
            force,
            program: program.into(),
            files: Vec::new(),
        })
    }

    /// Adds a file.
    pub fn add(&mut self, name: &str, bytes: Vec<u8>) {
        self.files.push((name.into(), bytes));
    }

    /// Adds a pretty-printed JSON file.
    ///
    /// # Errors
    /// If `value` cannot be serialised.
    pub fn add_json(&mut self, name: &str, value: &impl serde::Serialize) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(value).context("serialising JSON")?;
        self.add(name, bytes);
        Ok(())
    }

    /// The folder the run goes to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes all files, with a marker naming them, into the folder atomically (temporary
    /// sibling, then rename).
    ///
    /// # Errors
    /// On I/O failure, naming the path.
    pub fn write(self) -> Result<PathBuf> {
        let files: Vec<(&str, &[u8])> = self
            .files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        let marker = Marker::new(&self.program, self.files.iter().map(|(n, _)| n.clone()));
        folder::write_folder_atomic(&self.dir, &files, &marker, self.force)
            .with_context(|| format!("writing {}", self.dir.display()))?;
        Ok(self.dir)
    }
}

/// A run folder written in place as the run goes, for runs that must be resumable: its
/// [marker](Marker) is written first, so that an interrupted run can be continued or replaced
/// with `--force`, and every file is written atomically. A folder it replaces is kept aside,
/// listed in the marker, until [`RunFolder::finish`], even across interruptions and resumes.
#[derive(Debug)]
pub struct RunFolder {
    dir: PathBuf,
    program: String,
    entries: Vec<String>,
    backups: Vec<PathBuf>,
}

impl RunFolder {
    /// Starts the folder `dir` of a new run of `program`, whose files are `entries` (paths or
    /// patterns, as [`Marker::entries`]). An existing folder (allowed by [`check_out`] with
    /// `--force` before any work) is moved aside, listed in the new marker, and removed by
    /// [`RunFolder::finish`]; so are the folders it was itself replacing, if it was unfinished.
    ///
    /// # Errors
    /// If the existing folder is not one `program` may replace, or on I/O failure, naming
    /// the path.
    pub fn create(program: &str, dir: &Path, entries: Vec<String>) -> Result<Self> {
        let mut backups = Vec::new();
        if dir.exists() {
            backups = folder::pending_backups(dir);
            backups.push(folder::move_aside(dir, program).context("--out")?);
        }
        let run = Self {
            dir: dir.into(),
            program: program.into(),
            entries,
            backups,
        };
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating {}", dir.display()))
            .and_then(|()| run.write_marker())
            .map_err(|e| with_note(e, run.kept_note()))?;
        Ok(run)
    }

    /// Reopens the folder `dir` of an interrupted run of `program` to continue it, renewing
    /// its marker (a run written before markers, or before they listed files at every depth,
    /// gets one that `--force` can check) and keeping the backups it lists.
    ///
    /// # Errors
    /// On I/O failure, naming the path.
    pub fn reopen(program: &str, dir: &Path, entries: Vec<String>) -> Result<Self> {
        let run = Self {
            dir: dir.into(),
            program: program.into(),
            entries,
            backups: folder::pending_backups(dir),
        };
        run.write_marker()?;
        Ok(run)
    }

    fn marker(&self) -> Marker {
        let names = self
            .backups
            .iter()
            .filter_map(|b| b.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        Marker::new(&self.program, self.entries.clone()).replacing(names)
    }

    fn write_marker(&self) -> Result<()> {
        let marker = self.marker();
        if Marker::read(&self.dir).ok().flatten().as_ref() != Some(&marker) {
            self.write(folder::MARKER_FILE, &marker.to_bytes())?;
        }
        Ok(())
    }

    /// Where the folder this run replaces is kept and how to put it back, while the run is
    /// unfinished; `None` when it replaces nothing.
    pub fn kept_note(&self) -> Option<String> {
        self.backups
            .first()
            .map(|b| folder::restore_hint(&self.dir, b))
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes the file `name` (a path relative to the folder, whose sub-folders are created
    /// when missing) atomically.
    ///
    /// # Errors
    /// On I/O failure, naming the path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        write_file_atomic(&path, bytes)
    }

    /// Writes a pretty-printed JSON file ([`RunFolder::write`]).
    ///
    /// # Errors
    /// If `value` cannot be serialised, or on I/O failure.
    pub fn write_json(&self, name: &str, value: &impl serde::Serialize) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(value).context("serialising JSON")?;
        self.write(name, &bytes)
    }

    /// Ends the run: its marker stops listing the folders it replaced, which are then
    /// removed.
    ///
    /// # Errors
    /// If the marker cannot be written or a replaced folder cannot be removed.
    pub fn finish(mut self) -> Result<PathBuf> {
        let backups = std::mem::take(&mut self.backups);
        self.write_marker()?;
        for old in backups {
            folder::discard_backup(&old).context("removing the replaced run")?;
        }
        Ok(self.dir)
    }
}

/// The checks of an output folder made before any work: [`clean_out`], then
/// [`folder::check_destination`].
///
/// # Errors
/// As [`folder::check_destination`], with `--out` as context.
pub fn check_out(dir: &Path, force: bool, program: &str) -> Result<()> {
    clean_out(dir)?;
    folder::check_destination(dir, force, program).context("--out")?;
    Ok(())
}

/// Removes what killed writes left beside the output folder `dir`
/// ([`folder::clean_stale_siblings`]), saying so on standard error.
///
/// # Errors
/// As [`folder::clean_stale_siblings`], with `--out` as context.
pub fn clean_out(dir: &Path) -> Result<()> {
    for note in folder::clean_stale_siblings(dir).context("--out")? {
        progress::note(note);
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder (synced), then a
/// rename.
///
/// # Errors
/// On I/O failure, naming the path.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    folder::write_file_atomic(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Reads a JSON file into `T`, `null` read as NaN where `T` has a float (as the writers write
/// NaN; see [`crate::json`]).
///
/// # Errors
/// Naming the file that cannot be read or parsed, and the field that does not fit.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    crate::json::from_value(value).map_err(|e| anyhow::anyhow!("parsing {}: {e}", path.display()))
}

/// The error of a run stopped by Ctrl-C, `SIGINT` or `SIGTERM`; [`main`] exits with
/// [`ising_data::cli::INTERRUPTED_EXIT`] on it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub String);

/// An error followed by a note the user needs to act on it (where a replaced run is kept);
/// shown as one line, `error; note`.
#[derive(Debug, thiserror::Error)]
#[error("{error:#}; {note}")]
pub struct WithNote {
    /// The error.
    pub error: anyhow::Error,
    /// What the user needs to know besides.
    pub note: String,
}

/// `error` with `note` appended ([`WithNote`]), or `error` itself when there is no note.
pub fn with_note(error: anyhow::Error, note: Option<String>) -> anyhow::Error {
    match note {
        Some(note) => WithNote { error, note }.into(),
        None => error,
    }
}

/// Whether `e` is (or carries, through [`WithNote`]) an [`Interrupted`].
fn is_interrupted(e: &anyhow::Error) -> bool {
    e.downcast_ref::<Interrupted>().is_some()
        || e.downcast_ref::<WithNote>()
            .is_some_and(|w| is_interrupted(&w.error))
}

/// A binary's `main`: keeps freed memory for reuse (see
/// [`rbm::retain_freed_memory`]), installs the panic hook of
/// [`ising_data::cli`], checks `RBM_KERNEL` ([`rbm::CpuPath::from_env`]), runs `run`, and
/// turns its result into one line and an exit status (1 for errors, 130 for
/// [`Interrupted`]).
pub fn main(run: impl FnOnce() -> Result<()>) -> ExitCode {
    rbm::retain_freed_memory();
    ising_data::cli::install_panic_hook();
    let result = rbm::CpuPath::from_env()
        .map_err(anyhow::Error::from)
        .and_then(|_| run());
    ising_data::cli::exit_code(result, |e: &anyhow::Error| {
        is_interrupted(e).then_some(ising_data::cli::INTERRUPTED_EXIT)
    })
}

/// Serde for `f64` fields that may hold NaN or ±∞ (a diverged metric): JSON has no such
/// numbers, so they are written as `null` and read back as NaN, and a record with them still
/// loads.
pub mod float {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes a finite value as a number, anything else as `null`.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        if value.is_finite() {
            s.serialize_f64(*value)
        } else {
            s.serialize_none()
        }
    }

    /// Reads a number, or `null` as NaN.
    ///
    /// # Errors
    /// The deserializer's.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// [`float`] for maps of names to values.
pub mod float_map {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes finite values as numbers, others as `null`.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<S: Serializer>(map: &BTreeMap<String, f64>, s: S) -> Result<S::Ok, S::Error> {
        map.iter()
            .map(|(k, v)| (k, v.is_finite().then_some(*v)))
            .collect::<BTreeMap<_, _>>()
            .serialize(s)
    }

    /// Reads numbers, and `null` as NaN.
    ///
    /// # Errors
    /// The deserializer's.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
        Ok(BTreeMap::<String, Option<f64>>::deserialize(d)?
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or(f64::NAN)))
            .collect())
    }
}
