//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in `ising-data` because of user input: configurations,
/// dataset folders and files. Programmer errors (wrong tensor shapes, out-of-range indices)
/// panic instead and are documented under `# Panics`.
#[derive(Debug, thiserror::Error)]
pub enum IsingDataError {
    /// A generation or loading configuration is invalid (the error names the field).
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    /// A request the data or the file system cannot serve (a row out of range, a parent that
    /// is not a folder, a manifest that would not read back).
    #[error("{0}")]
    Request(String),
    /// An I/O error while reading or writing `path`.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file or folder at fault.
        path: PathBuf,
        /// The underlying error (shown in the message, so not chained as a source).
        cause: std::io::Error,
    },
    /// A file exists but its content is not what it should be.
    #[error("{}: {reason}", path.display())]
    Format {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `--force` was asked to replace something that this workspace's programs did not write.
    #[error("refusing to replace {} with --force: {reason}; nothing was changed", path.display())]
    NotReplaceable {
        /// The folder at fault.
        path: PathBuf,
        /// Why it may not be replaced.
        reason: String,
    },
    /// A request that needs more memory than the machine has.
    #[error("{0}")]
    Memory(String),
    /// The output folder exists and overwriting it was not asked for.
    #[error("{} already exists (pass --force to replace it)", path.display())]
    Exists {
        /// The existing folder.
        path: PathBuf,
    },
}

/// `Result` with [`IsingDataError`].
pub type Result<T> = std::result::Result<T, IsingDataError>;

impl IsingDataError {
    /// An [`IsingDataError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            cause,
        }
    }

    /// An [`IsingDataError::Format`] for `path`.
    pub fn format(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Format {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl From<IsingDataError> for crate::config::ConfigError {
    /// A memory refusal ([`crate::memory::check_fits`]) or a part's configuration error.
    fn from(e: IsingDataError) -> Self {
        match e {
            IsingDataError::Config(e) => e,
            other => crate::config::ConfigError::TooLarge(other.to_string()),
        }
    }
}
