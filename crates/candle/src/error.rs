//! [`LoadError`]: everything that can go wrong while loading a model or running the benchmark,
//! each variant naming the file (or field) and the problem so the user knows what to fix.

use std::path::{Path, PathBuf};

/// Why a model could not be loaded (or the benchmark could not run).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file is missing, unreadable or malformed.
    #[error("{}: {message}", path.display())]
    File {
        /// The file (or folder) at fault.
        path: PathBuf,
        /// What is wrong with it and what to do.
        message: String,
    },
    /// The model (architecture, tensor type, adapter feature, source kind) is not supported.
    #[error("{0}")]
    Unsupported(String),
    /// A load option has a value this backend does not understand.
    #[error("invalid option: {0}")]
    Option(String),
    /// A tensor operation failed while building the model.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
}

impl LoadError {
    /// A [`LoadError::File`] for `path` with `message`.
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        Self::File {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}
