//! The one error type of this crate: every variant names the file, field or value at fault.

use std::path::PathBuf;

/// What can go wrong while loading or using a tokenizer.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    /// A required file is missing.
    #[error(
        "tokenizer file not found: {} (a Hugging Face model folder needs tokenizer.json; point --tokenizer at a folder that has one)",
        path.display()
    )]
    Missing {
        /// The path looked for.
        path: PathBuf,
    },
    /// A file exists but cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not what it should be (bad JSON, a field of the wrong type, a tokenizer.json the
    /// `tokenizers` library rejects).
    #[error("invalid {}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong and, where possible, what to do.
        message: String,
    },
    /// The configuration is inconsistent (for example a special token not in the vocabulary).
    #[error("tokenizer configuration: {0}")]
    Config(String),
    /// The `tokenizers` library failed to encode or decode.
    #[error("tokenizer failed: {0}")]
    Tokenizers(String),
    /// GGUF metadata cannot be turned into a tokenizer.
    #[error("GGUF tokenizer: {0}")]
    Gguf(String),
}

impl TokenizerError {
    /// Wraps an error of the `tokenizers` library.
    pub(crate) fn from_tokenizers(err: tokenizers::Error) -> Self {
        Self::Tokenizers(err.to_string())
    }
}
