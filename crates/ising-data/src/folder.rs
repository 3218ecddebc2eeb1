//! Output folders and files written safely: atomically (a temporary sibling, then a rename),
//! never over anything the user did not ask to replace, and never over anything this
//! workspace's programs did not write.
//!
//! # What `--force` may replace
//! A program may replace a folder when
//! - the folder carries the marker file [`MARKER_FILE`] written by the same program, and every
//!   file in it, at every depth, is one the marker declares (so files a user added are never
//!   deleted, wherever they are): a sub-folder that carries a marker of its own (the output
//!   of another of our programs inside a run folder) is checked against that marker, or
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
//!
//! # Replacements built in place
//! A program that builds its new folder in place (a resumable training run) moves the old one
//! aside with [`move_aside`] and lists the backup in the new folder's marker
//! ([`Marker::replaces`]) until the new folder is complete. While it is listed the backup is
//! kept, whatever happens to the processes: [`clean_stale_siblings`] removes a backup only
//! when the folder beside it no longer lists it (a finished replacement), and says where a
//! kept one is and how to put it back ([`restore_hint`]).

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
    /// The files the program may write: paths relative to the folder with `/` between
    /// components, where `*` matches any text within one component (e.g. `*.png`,
    /// `layer*/checkpoint/model-*.bpk`). A name that matches a sub-folder carrying a marker
    /// of its own declares that folder, which is checked against its own marker. The
    /// temporaries of atomic writes ([`is_temporary`]) are declared everywhere.
    pub entries: Vec<String>,
    /// How `entries` are matched: [`LAYOUT`] against paths at every depth; 1 (markers
    /// written before layouts were recorded) against the names at the top only, so a folder
    /// with such a marker and files inside its sub-folders is not replaced.
    #[serde(default = "first_layout")]
    pub layout: u32,
    /// The backups (hidden siblings, by name) of the folders this one replaces, kept until
    /// the program has finished writing this folder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaces: Vec<String>,
}

/// The layout of markers this version writes: entries are paths matched at every depth.
pub const LAYOUT: u32 = 2;

fn first_layout() -> u32 {
    1
}

impl Marker {
    /// A marker for `program` declaring `entries`.
    pub fn new(program: &str, entries: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            program: program.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            entries: entries.into_iter().map(Into::into).collect(),
            layout: LAYOUT,
            replaces: Vec::new(),
        }
    }

    /// The same marker, listing the backups `replaces` (see [`Marker::replaces`]).
    #[must_use]
    pub fn replacing(mut self, replaces: Vec<String>) -> Self {
        self.replaces = replaces;
        self
    }

    /// Whether `path` (relative to the folder, `/` between components) is declared: the
    /// marker itself, a temporary of an atomic write, or a match of one of the entries.
    pub fn declares(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        path == MARKER_FILE
            || is_temporary(name)
            || self.entries.iter().any(|pattern| path_match(pattern, path))
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

/// Whether `path` matches `pattern` component by component (`/` between components), each
/// by [`glob_match`].
fn path_match(pattern: &str, path: &str) -> bool {
    let (p, n) = (pattern.split('/'), path.split('/'));
    p.clone().count() == n.clone().count() && p.zip(n).all(|(p, n)| glob_match(p, n))
}

/// Whether `name` is a temporary or backup sibling of an atomic write
/// (`.{name}.{tmp|old}-{pid}-{nanos}`), as [`clean_stale_siblings`] recognises them.
pub fn is_temporary(name: &str) -> bool {
    sibling_parts(name).is_some()
}

/// The parts of a temporary or backup sibling's name `.{target}.{tag}-{pid}-{nanos}`.
struct SiblingName<'a> {
    target: &'a str,
    tag: &'a str,
    pid: u32,
    nanos: u128,
}

fn sibling_parts(name: &str) -> Option<SiblingName<'_>> {
    let rest = name.strip_prefix('.')?;
    let (target, tag, tail) = rest
        .rsplit_once(".tmp-")
        .map(|(t, r)| (t, "tmp", r))
        .or_else(|| rest.rsplit_once(".old-").map(|(t, r)| (t, "old", r)))?;
    let (pid, nanos) = tail.split_once('-')?;
    Some(SiblingName {
        target,
        tag,
        pid: pid.parse().ok()?,
        nanos: nanos.parse().ok()?,
    })
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

/// The files of a dataset folder that `ising-data` wrote before folders had markers, its
/// manifest first (`store`'s `MANIFEST_FILE` and `SPINS_FILE`).
pub const LEGACY_DATASET_FILES: [&str; 2] = ["manifest.json", "spins.npy"];

/// The keys every dataset manifest has, and the element type it records.
const MANIFEST_KEYS: [&str; 6] = [
    "format_version",
    "crate_version",
    "config",
    "shape",
    "spins_sha256",
    "dtype",
];

/// Checks that the manifest of `dir`, a folder without a marker, is a dataset manifest.
fn legacy_dataset(dir: &Path) -> Result<()> {
    let path = dir.join(LEGACY_DATASET_FILES[0]);
    let text = std::fs::read(&path).map_err(|e| IsingDataError::io(&path, e))?;
    let fault = match serde_json::from_slice::<serde_json::Value>(&text) {
        Err(e) => Some(e.to_string()),
        Ok(serde_json::Value::Object(map)) => MANIFEST_KEYS
            .iter()
            .find(|k| !map.contains_key(**k))
            .map(|k| format!("it has no '{k}'"))
            .or_else(|| (map["dtype"] != "int8").then(|| "its dtype is not int8".into())),
        Ok(_) => Some("it is not a JSON object".into()),
    };
    match fault {
        Some(why) => Err(refuse(
            dir,
            format!("it has no {MARKER_FILE}, and its manifest.json is not ours ({why})"),
        )),
        None => Ok(()),
    }
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
    let marker = match Marker::read(dir)? {
        Some(marker) if marker.program != program => {
            return Err(refuse(
                dir,
                format!("{} wrote it, not {program}", marker.program),
            ));
        }
        Some(marker) => marker,
        None if program == "ising-data" && dir.join(LEGACY_DATASET_FILES[0]).is_file() => {
            legacy_dataset(dir)?;
            Marker::new(program, LEGACY_DATASET_FILES)
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
    let mut foreign = Vec::new();
    undeclared(dir, &marker, "", &mut foreign)?;
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

/// Adds to `foreign` the files under `dir` (whose path in the checked folder is `prefix`)
/// that `marker` does not declare, at every depth, in sorted order. A declared sub-folder
/// with a marker of its own is checked against that marker.
///
/// # Errors
/// I/O errors naming the path; [`IsingDataError::NotReplaceable`] for a marker of the first
/// layout over a sub-folder that holds files.
fn undeclared(dir: &Path, marker: &Marker, prefix: &str, foreign: &mut Vec<String>) -> Result<()> {
    for name in entries(dir)? {
        let rel = format!("{prefix}{name}");
        let path = dir.join(&name);
        let meta = std::fs::symlink_metadata(&path).map_err(|e| IsingDataError::io(&path, e))?;
        if !meta.is_dir() {
            if !marker.declares(&rel) {
                foreign.push(rel);
            }
            continue;
        }
        let own = match marker.declares(&rel) {
            true => Marker::read(&path)?,
            false => None,
        };
        if let Some(own) = own {
            let mut inner = Vec::new();
            undeclared(&path, &own, "", &mut inner)?;
            foreign.extend(inner.into_iter().map(|f| format!("{rel}/{f}")));
        } else if marker.layout < LAYOUT && holds_files(&path)? {
            return Err(refuse(
                dir,
                format!(
                    "its {MARKER_FILE} comes from an older version that listed only the names at the top, so files added inside '{rel}' cannot be told from ours; move or remove it yourself (a `fig3 --resume` of a run folder renews its marker)"
                ),
            ));
        } else {
            undeclared(&path, marker, &format!("{rel}/"), foreign)?;
        }
    }
    Ok(())
}

/// Whether the folder `dir` holds anything but empty folders, at any depth.
fn holds_files(dir: &Path) -> Result<bool> {
    for name in entries(dir)? {
        let path = dir.join(&name);
        let meta = std::fs::symlink_metadata(&path).map_err(|e| IsingDataError::io(&path, e))?;
        if !meta.is_dir() || holds_files(&path)? {
            return Ok(true);
        }
    }
    Ok(false)
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
    if let Ok(meta) = std::fs::symlink_metadata(dir) {
        // `--force` would not replace a file or a link either: say so at once.
        if !meta.is_dir() {
            let what = match meta.file_type().is_symlink() {
                true => "a symbolic link",
                false => "a file",
            };
            return Err(IsingDataError::Format {
                path: dir.into(),
                reason: format!(
                    "it is {what}, not a folder, and is never replaced (not even with --force); choose another output folder"
                ),
            });
        }
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
        return Err(IsingDataError::Request(format!(
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

/// Removes the temporaries that killed processes left beside `path`, puts back a backup
/// whose replacement never arrived (when `path` itself is missing), removes the backup of a
/// finished replacement, and keeps one that `path`'s marker still lists (an unfinished
/// replacement). Returns what it did or kept, one line each, for the caller to show.
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
    let mut stale: Vec<(u128, String, PathBuf)> = listing
        .flatten()
        .filter_map(|entry| {
            let sibling_name = entry.file_name().to_string_lossy().into_owned();
            let parts = sibling_parts(&sibling_name)?;
            (parts.target == name && !may_be_running(parts.pid, &entry.path()))
                .then(|| (parts.nanos, parts.tag.to_string(), entry.path()))
        })
        .collect();
    // The newest backup first: it is what `path` held last.
    stale.sort_by_key(|(nanos, _, _)| std::cmp::Reverse(*nanos));
    let mut done = Vec::new();
    for (_, tag, stale) in stale {
        done.extend(clean_one(path, &tag, &stale)?);
    }
    Ok(done)
}

/// What [`clean_stale_siblings`] does with one stale sibling `stale` of `path`.
fn clean_one(path: &Path, tag: &str, stale: &Path) -> Result<Option<String>> {
    let exists = std::fs::symlink_metadata(path).is_ok();
    let listed = stale.file_name().is_some_and(|n| {
        Marker::read(path)
            .ok()
            .flatten()
            .is_some_and(|m| m.replaces.iter().any(|r| r.as_str() == n))
    });
    Ok(Some(match tag {
        "tmp" => {
            remove_any(stale)?;
            format!("removed {}, left by an interrupted write", stale.display())
        }
        "old" if !exists => {
            std::fs::rename(stale, path).map_err(|e| IsingDataError::io(stale, e))?;
            format!(
                "restored {} from {}, which an interrupted replacement had moved away",
                path.display(),
                stale.display()
            )
        }
        "old" if listed => format!(
            "{} is an unfinished replacement; {}",
            path.display(),
            restore_hint(path, stale)
        ),
        "old" => {
            remove_any(stale)?;
            format!(
                "removed {}, the previous version of a completed replacement",
                stale.display()
            )
        }
        _ => return Ok(None),
    }))
}

/// Where the folder that `dir` replaces is kept (its backup `backup`), and the command that
/// puts it back.
pub fn restore_hint(dir: &Path, backup: &Path) -> String {
    format!(
        "the folder it replaces is kept in {b} until it finishes; to put that back instead: rm -r '{d}' && mv '{b}' '{d}'",
        b = backup.display(),
        d = dir.display()
    )
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

/// The backups that the marker of `dir` lists as replaced and that still exist beside it
/// ([`Marker::replaces`]), as paths.
pub fn pending_backups(dir: &Path) -> Vec<PathBuf> {
    let own = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    // Only names of `dir`'s own backups count: a damaged marker never points elsewhere.
    let is_backup = |name: &String| {
        sibling_parts(name).is_some_and(|p| {
            p.tag == "old" && Some(p.target) == own.as_deref() && !name.contains('/')
        })
    };
    Marker::read(dir)
        .ok()
        .flatten()
        .map(|m| m.replaces)
        .unwrap_or_default()
        .into_iter()
        .filter(is_backup)
        .map(|name| dir.with_file_name(name))
        .filter(|p| std::fs::symlink_metadata(p).is_ok())
        .collect()
}

/// Removes a backup made by [`move_aside`] (nothing when it is gone already).
///
/// # Errors
/// I/O errors naming the path.
pub fn discard_backup(backup: &Path) -> Result<()> {
    if std::fs::symlink_metadata(backup).is_err() {
        return Ok(());
    }
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
