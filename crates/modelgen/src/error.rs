//! The error type of model generation: every variant names the file or value at fault.

use std::path::PathBuf;

/// What can go wrong while writing or reading a model folder.
#[derive(Debug, thiserror::Error)]
pub enum ModelgenError {
    /// An unknown shape name.
    #[error("unknown model shape {0:?}; choose one of: tiny, smollm2-135m, qwen2.5-0.5b")]
    UnknownShape(String),
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not what it should be.
    #[error("invalid {}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The tokenizer could not be trained or saved.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A tensor operation failed.
    #[error("tensor {name}: {message}")]
    Tensor {
        /// The tensor.
        name: String,
        /// What failed.
        message: String,
    },
    /// A bad argument (rank 0, an output folder that is not empty, ...).
    #[error("{0}")]
    Argument(String),
}

impl ModelgenError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn tensor(name: &str, err: impl std::fmt::Display) -> Self {
        Self::Tensor {
            name: name.to_owned(),
            message: err.to_string(),
        }
    }
}
