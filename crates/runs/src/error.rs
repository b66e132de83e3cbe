//! The one error type of this crate: every variant names the file or value involved and says
//! what to do, because these errors end up in front of the user verbatim.

use std::path::PathBuf;

/// What can go wrong while reading or writing run folders.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunsError {
    /// A file or folder could not be read, written, listed or renamed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`reading`, `writing`, `listing`, ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file is not valid JSON or does not have the expected shape.
    #[error("{path} is not a valid {what}: {source} (fix or delete the file and run again)")]
    Json {
        /// The file.
        path: PathBuf,
        /// What the file should be (`lm-eval results file`, `run.json`, ...).
        what: &'static str,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A run folder holds no `results_*.json`.
    #[error(
        "no results_*.json in {0} (the run did not finish; `sparkbench worker --finalize` writes partial results)"
    )]
    NoResults(PathBuf),
    /// The model folder holds no run of the wanted kind.
    #[error("{0}")]
    NoRun(String),
    /// A file's content is not in the shape we need.
    #[error("{path} {why}; fix the file by hand and run again")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: &'static str,
    },
    /// A value could not be serialised (should not happen for our own types).
    #[error("serialising {what}: {source}")]
    Serialize {
        /// What was being serialised.
        what: &'static str,
        /// The serialiser's error.
        #[source]
        source: serde_json::Error,
    },
}

impl RunsError {
    /// Shorthand for an [`RunsError::Io`].
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        RunsError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// This crate's result type.
pub type Result<T, E = RunsError> = std::result::Result<T, E>;
