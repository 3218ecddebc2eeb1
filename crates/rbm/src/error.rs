//! The crate's error type.

/// Errors from user input: configurations, data of the wrong shape, models too large for an
/// exact computation.
#[derive(Debug, thiserror::Error)]
pub enum RbmError {
    /// An invalid configuration.
    #[error("invalid configuration: {0}")]
    Config(String),
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
