//! Output folders and files written safely: atomically (a temporary sibling, then a rename),
//! never over anything the user did not ask to replace, and never over anything this
//! workspace's programs did not write.
//!
//! # What `--force` may replace
//! A program may replace a folder when
//! - the folder carries the marker file [`MARKER_FILE`] written by the same program, and every
//!   entry in it is one the marker declares (so files a user added are never deleted), or
//! - the program is `ising-data` and the folder is a dataset folder from before markers: a
//!   `manifest.json` that parses as this crate's manifest, and no entries other than
//!   `spins.npy` and `manifest.json`.
//!
//! Anything else (a folder of other data, the current folder or one of its ancestors, a
//! symbolic link, a file) is refused with an error naming the reason, and nothing is touched.
//!
//! # Temporaries
//! Temporary and backup siblings are named `.{name}.tmp-{pid}-{nanos}` and
//! `.{name}.old-{pid}-{nanos}`. A process killed in the middle of a write leaves one behind;
//! the next write of the same destination ([`clean_stale_siblings`]) removes the temporaries
//! of processes that no longer run, and puts back a backup whose replacement never arrived.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{IsingDataError, Result};

/// Name of the marker file that identifies a folder written by this workspace's programs.
pub const MARKER_FILE: &str = ".vrg-rbm-output.json";

/// The content of [`MARKER_FILE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// The program that wrote the folder (e.g. `fig1`).
    pub program: String,
    /// The version of the workspace that wrote it.
    pub version: String,
    /// The entries the program may write at the top of the folder: names, where `*` matches
    /// any text (e.g. `layer*`, `*.png`).
    pub entries: Vec<String>,
}

impl Marker {
    /// A marker for `program` declaring `entries`.
    pub fn new(program: &str, entries: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            program: program.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            entries: entries.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether `name` is one of the declared entries (or the marker itself).
    pub fn declares(&self, name: &str) -> bool {
        name == MARKER_FILE || self.entries.iter().any(|pattern| glob_match(pattern, name))
    }

    /// The marker's JSON bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising a struct of strings cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Reads the marker of `dir`, if it has one.
    ///
    /// # Errors
    /// If the marker exists but cannot be read or parsed.
    pub fn read(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(MARKER_FILE);
        if !path.exists() {
            return Ok(None);
        }
        let bytes = std::fs::read(&path).map_err(|e| IsingDataError::io(&path, e))?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| IsingDataError::format(&path, format!("not a valid marker: {e}")))
    }
}

/// Whether `name` matches `pattern`, in which `*` matches any text (nothing else is special).
fn glob_match(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

fn refuse(dir: &Path, reason: impl Into<String>) -> IsingDataError {
    IsingDataError::NotReplaceable {
        path: dir.into(),
        reason: reason.into(),
    }
}

/// The entries of `dir` (names), sorted.
fn entries(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| IsingDataError::io(dir, e))? {
        let entry = entry.map_err(|e| IsingDataError::io(dir, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// Checks that `dir` is a folder written by `program`, which its `--force` may replace (see
/// the module docs).
///
/// # Errors
/// [`IsingDataError::NotReplaceable`] naming why not; I/O errors naming the path.
pub fn ensure_replaceable(dir: &Path, program: &str) -> Result<()> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| IsingDataError::io(dir, e))?;
    if meta.file_type().is_symlink() {
        return Err(refuse(dir, "it is a symbolic link"));
    }
    if !meta.is_dir() {
        return Err(refuse(dir, "it is a file, not a folder"));
    }
    let canonical = dir.canonicalize().map_err(|e| IsingDataError::io(dir, e))?;
    if let Ok(cwd) = std::env::current_dir().and_then(|c| c.canonicalize())
        && cwd.starts_with(&canonical)
    {
        return Err(refuse(dir, "it is the current folder or contains it"));
    }
    let names = entries(dir)?;
    let declared: Box<dyn Fn(&str) -> bool> = match Marker::read(dir)? {
        Some(marker) if marker.program != program => {
            return Err(refuse(
                dir,
                format!("{} wrote it, not {program}", marker.program),
            ));
        }
        Some(marker) => Box::new(move |n: &str| marker.declares(n)),
        None if program == "ising-data"
            && names.iter().any(|n| n == crate::store::MANIFEST_FILE) =>
        {
            crate::store::read_manifest(dir).map_err(|e| {
                refuse(
                    dir,
                    format!("it has no {MARKER_FILE}, and its manifest.json is not ours ({e})"),
                )
            })?;
            Box::new(|n: &str| n == crate::store::MANIFEST_FILE || n == crate::store::SPINS_FILE)
        }
        None => {
            return Err(refuse(
                dir,
                format!(
                    "it was not written by this workspace's programs (no {MARKER_FILE} and no dataset manifest)"
                ),
            ));
        }
    };
    let foreign: Vec<&String> = names.iter().filter(|n| !declared(n)).collect();
    if !foreign.is_empty() {
        let shown: Vec<String> = foreign.iter().take(5).map(|n| format!("'{n}'")).collect();
        return Err(refuse(
            dir,
            format!(
                "it holds {} that the program did not write: {}{}",
                if foreign.len() == 1 {
                    "an entry"
                } else {
                    "entries"
                },
                shown.join(", "),
                if foreign.len() > 5 { ", …" } else { "" }
            ),
        ));
    }
    Ok(())
}

/// The nearest existing ancestor of `path` (itself included); `.` for a relative path with
/// no existing component.
fn nearest_existing(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    loop {
        if p.exists() {
            return p;
        }
        match p.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => p = parent.to_path_buf(),
            _ => return PathBuf::from("."),
        }
    }
}

/// Checks, before any work, that `program` can write an output folder at `dir`: it must not
/// exist (unless `force`, and then it must be [replaceable](ensure_replaceable) by `program`),
/// and the nearest existing ancestor must be a folder in which files can be created. Creates
/// nothing.
///
/// # Errors
/// [`IsingDataError::Exists`] without `force`; [`IsingDataError::NotReplaceable`];
/// [`IsingDataError::Io`] naming the folder that cannot be written.
pub fn check_destination(dir: &Path, force: bool, program: &str) -> Result<()> {
    if std::fs::symlink_metadata(dir).is_ok() {
        if !force {
            return Err(IsingDataError::Exists { path: dir.into() });
        }
        ensure_replaceable(dir, program)?;
    }
    if dir.file_name().is_none() {
        return Err(refuse(dir, "it does not name a folder"));
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let existing = nearest_existing(parent);
    if !existing.is_dir() {
        return Err(IsingDataError::Config(format!(
            "{} is not a folder, so {} cannot be created",
            existing.display(),
            dir.display()
        )));
    }
    let probe = existing.join(format!(".vrg-rbm-write-probe-{}", std::process::id()));
    std::fs::File::create(&probe).map_err(|e| IsingDataError::io(&existing, e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// A hidden sibling of `path` tagged `tag` (`tmp` or `old`) and owned by this process.
fn sibling(path: &Path, tag: &str) -> Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| refuse(path, "it does not name a file or folder"))?
        .to_string_lossy();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok(path.with_file_name(format!(".{name}.{tag}-{}-{nanos}", std::process::id())))
}

/// Whether process `pid` may still be running. Where `/proc` is missing, a sibling counts as
/// alive for a day after its last change.
fn may_be_running(pid: u32, sibling: &Path) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    if proc.is_dir() {
        return proc.join(pid.to_string()).exists();
    }
    std::fs::symlink_metadata(sibling)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_none_or(|age| age.as_secs() < 86_400)
}

/// Removes the temporaries that killed processes left beside `path`, and puts back a backup
/// whose replacement never arrived (when `path` itself is missing). Returns what it did, one
/// line each, for the caller to show.
///
/// # Errors
/// I/O errors naming the path.
pub fn clean_stale_siblings(path: &Path) -> Result<Vec<String>> {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Ok(Vec::new());
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(listing) = std::fs::read_dir(&parent) else {
        return Ok(Vec::new());
    };
    let mut done = Vec::new();
    for entry in listing.flatten() {
        let sibling_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = sibling_name.strip_prefix(&format!(".{name}.")) else {
            continue;
        };
        let Some((tag, rest)) = rest.split_once('-') else {
            continue;
        };
        let Some(pid) = rest
            .split_once('-')
            .and_then(|(pid, nanos)| nanos.parse::<u128>().ok().and(pid.parse::<u32>().ok()))
        else {
            continue;
        };
        let stale = entry.path();
        if may_be_running(pid, &stale) {
            continue;
        }
        match tag {
            "tmp" => {
                remove_any(&stale)?;
                done.push(format!(
                    "removed {}, left by an interrupted write",
                    stale.display()
                ));
            }
            "old" if std::fs::symlink_metadata(path).is_err() => {
                std::fs::rename(&stale, path).map_err(|e| IsingDataError::io(&stale, e))?;
                done.push(format!(
                    "restored {} from {}, which an interrupted replacement had moved away",
                    path.display(),
                    stale.display()
                ));
            }
            "old" => {
                remove_any(&stale)?;
                done.push(format!(
                    "removed {}, the previous version of a completed replacement",
                    stale.display()
                ));
            }
            _ => {}
        }
    }
    Ok(done)
}

fn remove_any(path: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| IsingDataError::io(path, e))?;
    if meta.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
    .map_err(|e| IsingDataError::io(path, e))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path).map_err(|e| IsingDataError::io(path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| IsingDataError::io(path, e))
}

/// Writes `bytes` to the file `path` atomically: a temporary sibling (synced to disk), then a
/// rename, so that `path` is either its old content or the new one. Stale temporaries of the
/// same file left by killed processes are removed first.
///
/// # Errors
/// I/O errors naming the path.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    clean_stale_siblings(path)?;
    let tmp = sibling(path, "tmp")?;
    if let Err(e) = write_synced(&tmp, bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        IsingDataError::io(path, e)
    })
}

/// Writes `files` (name, bytes) and `marker` into the folder `dir` atomically: everything goes
/// into a temporary sibling, renamed into place when complete. An existing `dir` is replaced
/// only with `force`, only if it is [replaceable](ensure_replaceable), and only after the new
/// folder is complete; on failure the old folder is left in place.
///
/// # Errors
/// As [`check_destination`]; I/O errors naming the path.
pub fn write_folder_atomic(
    dir: &Path,
    files: &[(&str, &[u8])],
    marker: &Marker,
    force: bool,
) -> Result<()> {
    clean_stale_siblings(dir)?;
    check_destination(dir, force, &marker.program)?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| IsingDataError::io(parent, e))?;
    }
    let tmp = sibling(dir, "tmp")?;
    std::fs::create_dir(&tmp).map_err(|e| IsingDataError::io(&tmp, e))?;
    let marker_bytes = marker.to_bytes();
    let write_all = || -> Result<()> {
        for (name, bytes) in files.iter().chain([&(MARKER_FILE, &marker_bytes[..])]) {
            write_synced(&tmp.join(name), bytes)?;
        }
        Ok(())
    };
    if let Err(e) = write_all() {
        // Our own temporary folder; the original error is what matters.
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if std::fs::symlink_metadata(dir).is_ok() {
        let old = sibling(dir, "old")?;
        std::fs::rename(dir, &old).map_err(|e| IsingDataError::io(dir, e))?;
        if let Err(e) = std::fs::rename(&tmp, dir) {
            // Put the original back before reporting.
            let _ = std::fs::rename(&old, dir);
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(IsingDataError::io(dir, e));
        }
        std::fs::remove_dir_all(&old).map_err(|e| IsingDataError::io(&old, e))?;
    } else {
        std::fs::rename(&tmp, dir).map_err(|e| IsingDataError::io(dir, e))?;
    }
    Ok(())
}

/// Moves an existing folder `dir` that `program` may [replace](ensure_replaceable) aside (to a hidden
/// `old` sibling), for programs that build their output in place, such as a training run that
/// must be resumable. Returns the backup's path; remove it with [`discard_backup`] once the
/// new folder is complete. If the process dies first, the next [`clean_stale_siblings`] of
/// `dir` removes the backup when `dir` exists again, or puts it back when it does not.
///
/// # Errors
/// As [`ensure_replaceable`]; I/O errors naming the path.
pub fn move_aside(dir: &Path, program: &str) -> Result<PathBuf> {
    ensure_replaceable(dir, program)?;
    let old = sibling(dir, "old")?;
    std::fs::rename(dir, &old).map_err(|e| IsingDataError::io(dir, e))?;
    Ok(old)
}

/// Removes a backup made by [`move_aside`].
///
/// # Errors
/// I/O errors naming the path.
pub fn discard_backup(backup: &Path) -> Result<()> {
    remove_any(backup)
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn glob_patterns_match_as_documented() {
        assert!(glob_match("config.json", "config.json"));
        assert!(!glob_match("config.json", "config.json.bak"));
        assert!(glob_match("layer*", "layer12"));
        assert!(!glob_match("layer*", "xlayer1"));
        assert!(glob_match("*.png", "fig3b.png"));
        assert!(!glob_match("*.png", "fig3b.png.txt"));
        assert!(glob_match(".*.tmp-*", ".run.json.tmp-12-345"));
        assert!(!glob_match(".*.tmp-*", "notes.txt"));
        assert!(glob_match("a*b*c", "abc"));
        assert!(!glob_match("a*bc*c", "abc"));
    }
}
