//! Checkpoints of a layer's training: Burn's three records (model, optimiser, learning-rate
//! scheduler) per epoch, written atomically, and the checks a resumed run makes before it
//! trusts them.
//!
//! Burn's `FileCheckpointer` writes a record straight to its final name, so a process killed
//! while writing leaves a truncated file that looks like a checkpoint. [`AtomicCheckpointer`]
//! writes to a temporary sibling and renames it: a checkpoint file is either complete or
//! absent. The three records of one epoch are written one after the other, so after a kill
//! the newest epoch may have only some of them; [`last_complete_epoch`] is the newest epoch
//! with all three.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::lr_scheduler::LrSchedulerRecord;
use burn::module::Module;
use burn::optim::OptimizerRecord;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use burn::train::checkpoint::{Checkpoint, Checkpointer, CheckpointerError};
use rbm::CdModel;

use crate::output::write_file_atomic;

/// The records Burn's learner checkpoints, as file-name stems.
pub const RECORDS: [&str; 3] = ["model", "optim", "scheduler"];

/// How many epochs' checkpoints a layer keeps.
pub const KEEP_EPOCHS: usize = 3;

/// A checkpointer writing `{name}-{epoch}.bpk` files atomically into one folder.
#[derive(Debug, Clone)]
pub struct AtomicCheckpointer {
    dir: PathBuf,
    name: String,
}

impl AtomicCheckpointer {
    /// Checkpoints named `name` in `dir` (created when missing).
    ///
    /// # Errors
    /// If `dir` cannot be created, naming it.
    pub fn new(dir: &Path, name: &str) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            name: name.to_string(),
        })
    }

    /// The file of `epoch`.
    pub fn path(&self, epoch: usize) -> PathBuf {
        checkpoint_path(&self.dir, &self.name, epoch)
    }
}

/// The file of record `name` at `epoch` in a checkpoint folder.
pub fn checkpoint_path(dir: &Path, name: &str, epoch: usize) -> PathBuf {
    dir.join(format!("{name}-{epoch}.bpk"))
}

impl<R: Checkpoint> Checkpointer<R> for AtomicCheckpointer {
    fn save(&self, epoch: usize, record: R) -> Result<(), CheckpointerError> {
        let bytes = record
            .checkpoint_into_bytes()
            .map_err(CheckpointerError::Record)?;
        write_file_atomic(&self.path(epoch), &bytes)
            .map_err(|e| CheckpointerError::Unknown(format!("{e:#}")))
    }

    fn delete(&self, epoch: usize) -> Result<(), CheckpointerError> {
        let path = self.path(epoch);
        if path.exists() {
            std::fs::remove_file(path).map_err(CheckpointerError::IOError)?;
        }
        Ok(())
    }

    fn restore(&self, epoch: usize) -> Result<R, CheckpointerError> {
        let bytes = std::fs::read(self.path(epoch)).map_err(CheckpointerError::IOError)?;
        R::checkpoint_from_bytes(Bytes::from_bytes_vec(bytes)).map_err(CheckpointerError::Record)
    }
}

/// A function run on the model record of an epoch after it is saved: `(epoch, record)`.
pub type RecordHook = Box<dyn Fn(usize, ModuleRecord) + Send + Sync>;

/// The model's checkpointer: an [`AtomicCheckpointer`] that, with a hook, also hands the
/// record of every `every`-th epoch to the hook once the record is on disk. Burn runs
/// checkpointers on their own thread, so the hook runs beside the next epoch's training
/// (and the epoch after waits for it).
pub struct ModelCheckpointer {
    inner: AtomicCheckpointer,
    hook: Option<(usize, RecordHook)>,
}

impl ModelCheckpointer {
    /// The checkpointer of the model records in `dir`, with an optional `(every, hook)`.
    ///
    /// # Errors
    /// If `dir` cannot be created, naming it.
    pub fn new(dir: &Path, hook: Option<(usize, RecordHook)>) -> Result<Self> {
        Ok(Self {
            inner: AtomicCheckpointer::new(dir, RECORDS[0])?,
            hook,
        })
    }
}

impl Checkpointer<ModuleRecord> for ModelCheckpointer {
    fn save(&self, epoch: usize, record: ModuleRecord) -> Result<(), CheckpointerError> {
        let due = self
            .hook
            .as_ref()
            .filter(|(every, _)| epoch.is_multiple_of(*every))
            .map(|(_, hook)| (hook, record.clone()));
        self.inner.save(epoch, record)?;
        if let Some((hook, record)) = due {
            hook(epoch, record);
        }
        Ok(())
    }

    fn delete(&self, epoch: usize) -> Result<(), CheckpointerError> {
        Checkpointer::<ModuleRecord>::delete(&self.inner, epoch)
    }

    fn restore(&self, epoch: usize) -> Result<ModuleRecord, CheckpointerError> {
        self.inner.restore(epoch)
    }
}

/// The newest epoch of which all three records exist in `dir`, if any.
pub fn last_complete_epoch(dir: &Path) -> Option<usize> {
    last_complete_epoch_up_to(dir, usize::MAX)
}

/// The newest epoch, at most `max`, of which all three records exist in `dir`, if any.
pub fn last_complete_epoch_up_to(dir: &Path, max: usize) -> Option<usize> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut epochs: Vec<usize> = entries
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("model-")?
                .strip_suffix(".bpk")?
                .parse()
                .ok()
        })
        .filter(|&e| e <= max)
        .collect();
    epochs.sort_unstable();
    epochs
        .into_iter()
        .rev()
        .find(|&e| RECORDS.iter().all(|r| checkpoint_path(dir, r, e).is_file()))
}

/// Checks that the checkpoint of `epoch` in `dir` can be resumed from: each record decodes,
/// and the model record fits `model` (same architecture and chains).
///
/// # Errors
/// Naming the file that is corrupt or does not fit.
pub fn verify_checkpoint(dir: &Path, epoch: usize, model: CdModel) -> Result<()> {
    let read = |name: &str| {
        let path = checkpoint_path(dir, name, epoch);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok::<_, anyhow::Error>((path, Bytes::from_bytes_vec(bytes)))
    };
    let corrupt = |path: &Path, e: String| {
        anyhow::anyhow!(
            "checkpoint {} is corrupt or unreadable ({e}); the run folder was left as it is",
            path.display()
        )
    };
    let (path, bytes) = read("model")?;
    let record = ModuleRecord::from_bytes(bytes).map_err(|e| corrupt(&path, e.to_string()))?;
    if let Err(e) = model.try_load_record(record) {
        bail!(
            "checkpoint {} does not fit this layer's architecture ({e}); the run folder was left as it is",
            path.display()
        );
    }
    let (path, bytes) = read("optim")?;
    OptimizerRecord::from_bytes(bytes).map_err(|e| corrupt(&path, e.to_string()))?;
    let (path, bytes) = read("scheduler")?;
    LrSchedulerRecord::from_bytes(bytes).map_err(|e| corrupt(&path, e.to_string()))?;
    Ok(())
}
