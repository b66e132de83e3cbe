//! [`EngineError`]: why a run could not start, continue or write its files.

use std::path::PathBuf;

use sparkbench_protocol::ModelError;
use sparkbench_tasks::TaskError;

/// Why the engine failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A task could not be resolved, loaded, prepared or scored.
    #[error("task {task}: {source}")]
    Task {
        /// The task (or group) name.
        task: String,
        /// The cause.
        #[source]
        source: TaskError,
    },
    /// The model failed a call.
    #[error("model failed during task {task}: {source}")]
    Model {
        /// The task being evaluated.
        task: String,
        /// The cause.
        #[source]
        source: ModelError,
    },
    /// The model cannot serve what a task needs.
    #[error("{0}")]
    Unsupported(String),
    /// The model answered with the wrong number of responses (a backend bug).
    #[error("the model returned {got} answers for {sent} {kind} requests")]
    AnswerCount {
        /// Requests sent.
        sent: usize,
        /// Answers received.
        got: usize,
        /// Request kind.
        kind: &'static str,
    },
    /// `--apply-chat-template` was asked for but the model has none.
    #[error(
        "--apply-chat-template was given but the model has no chat template; run without it or use a model whose tokenizer_config.json has `chat_template`"
    )]
    NoChatTemplate,
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A journal line is unreadable (not a torn last line, which is ignored).
    #[error("{path}, line {line}: {message}; move the file away to start this task over")]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The output folder holds journals of a different run.
    #[error(
        "the run folder {dir} belongs to a different run (its journals have fingerprint {found}, this run has {expected}); choose a new output folder or remove {dir}/journal to start over"
    )]
    FingerprintMismatch {
        /// The output folder.
        dir: PathBuf,
        /// Fingerprint found in the journals.
        found: String,
        /// This run's fingerprint.
        expected: String,
    },
}

impl EngineError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EngineError::Io {
            path: path.into(),
            source,
        }
    }
}
