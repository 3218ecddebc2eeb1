//! Lock files for work that several processes may start at once, on one machine or on several
//! machines sharing a file system: the dataset a sweep's runs share, and each run of a sweep.
//!
//! A lock is a file created with `O_EXCL` (atomic on local file systems and on NFS v3+),
//! holding the host name and process ids of its holder ([`Holder`]). While held, a thread
//! refreshes its modification time every [`HEARTBEAT`]. A lock is stale, and taken over, when
//! its holder is on this host and none of its processes runs, or, for a holder on another
//! host, when it has not been refreshed for [`STALE_AFTER`]. Dropping the [`FileLock`]
//! removes the file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// How often a held lock's modification time is refreshed.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// How long a lock of another host may go unrefreshed before it is taken for stale.
pub const STALE_AFTER: Duration = Duration::from_secs(60);

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Host name of the holder.
    pub host: String,
    /// The processes working under the lock (the locking process first).
    pub pids: Vec<u32>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pids: Vec<String> = self.pids.iter().map(u32::to_string).collect();
        write!(f, "process {} on {}", pids.join("/"), self.host)
    }
}

/// The outcome of [`try_acquire`].
#[derive(Debug)]
pub enum Acquire {
    /// The lock is ours until dropped.
    Acquired(FileLock),
    /// A live process holds it (`None` while it is still writing its name).
    Held(Option<Holder>),
}

/// A held lock file, removed when dropped.
#[derive(Debug)]
pub struct FileLock {
    path: PathBuf,
    holder: Holder,
    stop: Option<mpsc::Sender<()>>,
    heartbeat: Option<JoinHandle<()>>,
}

/// This machine's host name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`, else `unknown`).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// Whether process `pid` of this host runs (a zombie does not). Without `/proc`, every
/// process counts as running.
fn process_runs(pid: u32) -> bool {
    let proc = Path::new("/proc");
    if !proc.is_dir() {
        return true;
    }
    match std::fs::read_to_string(proc.join(pid.to_string()).join("stat")) {
        // The state follows the parenthesised command name, which may itself hold ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_none_or(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Whether the lock at `path`, held by `holder` (`None`: unreadable), is stale.
fn is_stale(path: &Path, holder: Option<&Holder>) -> bool {
    let age = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .unwrap_or_default();
    match holder {
        Some(h) if h.host == host_name() && Path::new("/proc").is_dir() => {
            !h.pids.iter().any(|&pid| process_runs(pid))
        }
        _ => age > STALE_AFTER,
    }
}

fn read_holder(path: &Path) -> Option<Holder> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Takes the lock at `path` if it is free or stale; otherwise says who holds it. Creates the
/// lock's folder when missing.
///
/// # Errors
/// On I/O failure, naming the path.
pub fn try_acquire(path: &Path) -> Result<Acquire> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    for _ in 0..5 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(mut file) => {
                let holder = Holder {
                    host: host_name(),
                    pids: vec![std::process::id()],
                };
                file.write_all(&serde_json::to_vec(&holder)?)
                    .and_then(|()| file.sync_all())
                    .with_context(|| format!("writing {}", path.display()))?;
                return Ok(Acquire::Acquired(FileLock::start(path, holder)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = read_holder(path);
                if !is_stale(path, holder.as_ref()) {
                    return Ok(Acquire::Held(holder));
                }
                // Take the stale lock over: move it to a name of our own (only one process
                // can), then try again to create it.
                let nanos = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                let aside = path.with_extension(format!("stale-{}-{nanos}", std::process::id()));
                if std::fs::rename(path, &aside).is_ok() {
                    let _ = std::fs::remove_file(&aside);
                }
            }
            Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }
    bail!(
        "could not take the lock {} (it keeps changing hands)",
        path.display()
    )
}

impl FileLock {
    fn start(path: &Path, holder: Holder) -> Self {
        let (stop, ticks) = mpsc::channel::<()>();
        let beat_path = path.to_path_buf();
        let heartbeat = std::thread::Builder::new()
            .name("lock-heartbeat".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = ticks.recv_timeout(HEARTBEAT) {
                    if let Ok(file) = std::fs::OpenOptions::new().write(true).open(&beat_path) {
                        let _ = file.set_modified(SystemTime::now());
                    }
                }
            })
            .ok();
        Self {
            path: path.into(),
            holder,
            stop: Some(stop),
            heartbeat,
        }
    }

    /// Adds a process working under the lock (e.g. a child doing the work), so that the lock
    /// stays held while that process runs, even if this one dies.
    ///
    /// # Errors
    /// On I/O failure, naming the path.
    pub fn add_process(&mut self, pid: u32) -> Result<()> {
        self.holder.pids.push(pid);
        crate::output::write_file_atomic(&self.path, &serde_json::to_vec(&self.holder)?)
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(handle) = self.heartbeat.take() {
            let _ = handle.join();
        }
        // Remove the file only while it is still ours.
        if read_holder(&self.path).is_some_and(|h| h == self.holder) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Takes the lock of the run folder `dir` (the file `.{name}.lock` beside it, see
/// [`try_acquire`]), so that no two processes write one run folder at once; it is
/// released when the returned lock is dropped. Creates `dir`'s parent when missing.
///
/// # Errors
/// If another live process holds it, naming that process; on I/O failure, naming the path.
pub fn lock_run(dir: &Path) -> Result<FileLock> {
    let name = dir
        .file_name()
        .with_context(|| format!("--out {} does not name a folder", dir.display()))?
        .to_string_lossy();
    let path = dir.with_file_name(format!(".{name}.lock"));
    match try_acquire(&path).context("--out")? {
        Acquire::Acquired(lock) => Ok(lock),
        Acquire::Held(holder) => bail!(
            "--out {} is in use by {} (its lock {}): wait for that run to end or stop it; nothing was changed",
            dir.display(),
            holder.map_or_else(|| "another process".to_string(), |h| h.to_string()),
            path.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_refused_and_freed_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("locks/a.lock");
        let Acquire::Acquired(mut lock) = try_acquire(&path).unwrap() else {
            panic!("a fresh lock is free");
        };
        lock.add_process(std::process::id()).unwrap();
        match try_acquire(&path).unwrap() {
            Acquire::Held(Some(h)) => assert_eq!(h.pids[0], std::process::id()),
            other => panic!("expected the lock held, got {other:?}"),
        }
        drop(lock);
        assert!(!path.exists());
        assert!(matches!(try_acquire(&path).unwrap(), Acquire::Acquired(_)));
    }

    #[test]
    fn a_lock_of_a_dead_process_is_taken_over() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("b.lock");
        // A process id above the kernel's maximum (4 194 304) never runs.
        let dead = Holder {
            host: host_name(),
            pids: vec![4_194_305],
        };
        std::fs::write(&path, serde_json::to_vec(&dead).unwrap()).unwrap();
        assert!(matches!(try_acquire(&path).unwrap(), Acquire::Acquired(_)));
    }
}
