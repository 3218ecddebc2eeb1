//! Run folders: every output of a binary is collected in memory and written atomically at
//! the end, so a run never leaves a half-written folder and never overwrites one unless asked.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The files of a run, written together by [`RunOutput::write`].
#[derive(Debug)]
pub struct RunOutput {
    dir: PathBuf,
    force: bool,
    files: Vec<(String, Vec<u8>)>,
}

impl RunOutput {
    /// Prepares output into `dir`; fails at once (before any work) if it exists and `force`
    /// is not set.
    ///
    /// # Errors
    /// If `dir` exists without `force`, or exists and is not a folder.
    pub fn new(dir: &Path, force: bool) -> Result<Self> {
        ising_data::store::check_destination(dir, force).context("--out")?;
        Ok(Self {
            dir: dir.into(),
            force,
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

    /// Writes all files into the folder atomically (temporary sibling, then rename).
    ///
    /// # Errors
    /// On I/O failure, naming the path.
    pub fn write(self) -> Result<PathBuf> {
        let files: Vec<(&str, &[u8])> = self
            .files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        ising_data::store::write_folder_atomic(&self.dir, &files, self.force)
            .with_context(|| format!("writing {}", self.dir.display()))?;
        Ok(self.dir)
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, then a rename.
///
/// # Errors
/// On I/O failure, naming the path.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming onto {}", path.display()))?;
    Ok(())
}

/// Reads a JSON file into `T`.
///
/// # Errors
/// Naming the file that cannot be read or parsed.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}
