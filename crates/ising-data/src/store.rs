//! Dataset folders on disk: `spins.npy` (int8, ±1, C order, shape `[samples, L, L]` or
//! `[samples, N]`) and `manifest.json` (how the data were made and what they measure).
//!
//! Folders are written atomically: everything goes into a hidden temporary folder next to the
//! destination, which is renamed into place only when complete. An existing folder is
//! replaced only when asked to, and then only after the new one is complete.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{IsingDataError, Result};
pub use crate::exact_values::ExactValues;
use crate::generate::{Autocorrelation, GenerateConfig, Generated};
use crate::lattice::Lattice;
use crate::npy;
use crate::observables::Observables;

/// File name of the spins inside a dataset folder.
pub const SPINS_FILE: &str = "spins.npy";
/// File name of the manifest inside a dataset folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Version of the folder layout and manifest schema.
pub const FORMAT_VERSION: u32 = 1;

/// The manifest of a dataset folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// Version of `ising-data` that wrote it.
    pub crate_version: String,
    /// Every generation parameter.
    pub config: GenerateConfig,
    /// Shape of `spins.npy`.
    pub shape: Vec<usize>,
    /// Element type of `spins.npy` (always "int8").
    pub dtype: String,
    /// Spin values (always "±1").
    pub values: String,
    /// Lowercase hex SHA-256 of the whole `spins.npy` file.
    pub spins_sha256: String,
    /// Measured integrated autocorrelation times.
    pub autocorrelation: Autocorrelation,
    /// Observables measured on the stored samples.
    pub measured: Observables,
    /// Exact finite-lattice values, where known.
    pub exact: Option<ExactValues>,
    /// Warnings raised during generation.
    pub warnings: Vec<String>,
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The shape of `spins.npy` for `config`.
pub fn spins_shape(config: &GenerateConfig) -> Vec<usize> {
    let mut shape = vec![config.samples];
    shape.extend(config.lattice.shape());
    shape
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> IsingDataError + '_ {
    move |e| IsingDataError::io(path, e)
}

use crate::folder::write_folder_atomic;

/// Writes a generated dataset with its manifest into `dir` (atomically; see
/// [`write_folder_atomic`]). Returns the manifest written.
///
/// # Errors
/// As [`write_folder_atomic`].
pub fn write_dataset(
    dir: &Path,
    generated: &Generated,
    measured: Observables,
    force: bool,
) -> Result<Manifest> {
    let shape = spins_shape(&generated.config);
    let npy_bytes = npy::encode_i8(&shape, &generated.spins);
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        crate_version: env!("CARGO_PKG_VERSION").into(),
        config: generated.config.clone(),
        shape,
        dtype: "int8".into(),
        values: "±1".into(),
        spins_sha256: sha256_hex(&npy_bytes),
        autocorrelation: generated.tau,
        measured,
        exact: generated.config.exact_values(),
        warnings: generated.warnings.clone(),
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| IsingDataError::Request(format!("cannot serialise manifest: {e}")))?;
    // A folder we write must load: the manifest must read back as it was written (a value
    // that JSON cannot hold, such as an infinite exact value, would not).
    let reread: Manifest = serde_json::from_slice(&json).map_err(|e| {
        IsingDataError::Request(format!(
            "the manifest would not read back ({e}); nothing was written"
        ))
    })?;
    if reread != manifest {
        return Err(IsingDataError::Request(
            "the manifest would not read back as written (a value is not finite); nothing was written"
                .into(),
        ));
    }
    write_folder_atomic(
        dir,
        &[(SPINS_FILE, &npy_bytes), (MANIFEST_FILE, &json)],
        &crate::folder::Marker::new("ising-data", [SPINS_FILE, MANIFEST_FILE]),
        force,
    )?;
    Ok(manifest)
}

/// A dataset loaded from disk and verified.
#[derive(Debug, Clone)]
pub struct StoredDataset {
    /// The folder it came from.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// All configurations, flat, chain 0 first.
    pub spins: Vec<i8>,
}

impl StoredDataset {
    /// The lattice.
    pub fn lattice(&self) -> Lattice {
        self.manifest.config.lattice
    }

    /// Number of configurations.
    pub fn len(&self) -> usize {
        self.manifest.config.samples
    }

    /// Whether there are no configurations (never true for a valid dataset).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads and parses `manifest.json` of a dataset folder (without touching `spins.npy`).
///
/// # Errors
/// I/O errors and malformed JSON, naming the file.
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST_FILE);
    let text = std::fs::read(&path).map_err(io_err(&path))?;
    let mut manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| IsingDataError::format(&path, format!("not a valid manifest: {e}")))?;
    manifest.config = manifest.config.canonical();
    if manifest.format_version != FORMAT_VERSION {
        return Err(IsingDataError::format(
            &path,
            format!(
                "format version {} is not supported (this build reads {FORMAT_VERSION})",
                manifest.format_version
            ),
        ));
    }
    manifest
        .config
        .validate()
        .map_err(|e| IsingDataError::format(&path, e.to_string()))?;
    Ok(manifest)
}

/// Loads a dataset folder and verifies it: the manifest parses, `spins.npy` is a well-formed
/// int8 array whose SHA-256 matches the manifest, whose shape is `[samples, …lattice]` as the
/// manifest says, and whose values are all ±1.
///
/// # Errors
/// [`IsingDataError::Format`] or [`IsingDataError::Io`] naming the file and the fault.
pub fn load_dataset(dir: &Path) -> Result<StoredDataset> {
    let manifest = read_manifest(dir)?;
    let path = dir.join(SPINS_FILE);
    let bytes = std::fs::read(&path).map_err(io_err(&path))?;
    let (shape, spins) = npy::decode_i8(&path, &bytes)?;
    let expected = spins_shape(&manifest.config);
    if manifest.shape != expected {
        let manifest_path = dir.join(MANIFEST_FILE);
        return Err(IsingDataError::format(
            &manifest_path,
            format!(
                "its shape {:?} contradicts its own config, which implies {expected:?} ({} samples of a {})",
                manifest.shape, manifest.config.samples, manifest.config.lattice
            ),
        ));
    }
    if shape != expected {
        return Err(IsingDataError::format(
            &path,
            format!("shape {shape:?} does not match the manifest's {expected:?}"),
        ));
    }
    let digest = sha256_hex(&bytes);
    if digest != manifest.spins_sha256 {
        return Err(IsingDataError::format(
            &path,
            format!(
                "checksum mismatch: SHA-256 {digest}, manifest says {}",
                manifest.spins_sha256
            ),
        ));
    }
    if let Some(i) = spins.iter().position(|&s| s != 1 && s != -1) {
        let n = manifest.config.lattice.n_sites();
        return Err(IsingDataError::format(
            &path,
            format!(
                "value {} at sample {}, site {} is not a spin (±1)",
                spins[i],
                i / n,
                i % n
            ),
        ));
    }
    Ok(StoredDataset {
        dir: dir.into(),
        manifest,
        spins,
    })
}

#[cfg(test)]
mod tests {
    use super::{MANIFEST_FILE, SPINS_FILE};
    use crate::folder::LEGACY_DATASET_FILES;

    /// `folder` recognises datasets from before markers by these names without importing
    /// this module: they must stay the same.
    #[test]
    fn the_folder_module_knows_the_dataset_files() {
        assert_eq!(LEGACY_DATASET_FILES, [MANIFEST_FILE, SPINS_FILE]);
    }
}
