//! The crate's error type.

/// Errors from user input: configurations, data of the wrong shape, models too large for an
/// exact computation.
#[derive(Debug, thiserror::Error)]
pub enum RbmError {
    /// An invalid configuration, naming the field.
    #[error("{0}")]
    Config(#[from] ising_data::config::ConfigError),
    /// Input that does not fit the model (layers of a stack, rows, a base of another width).
    #[error("{0}")]
    Mismatch(String),
    /// A computation that is not possible for this model (e.g. exact enumeration of too many
    /// units).
    #[error("{0}")]
    Unsupported(String),
    /// The device could not hand a result back.
    #[error("{0}")]
    Device(String),
}

/// `Result` with [`RbmError`].
pub type Result<T> = std::result::Result<T, RbmError>;
