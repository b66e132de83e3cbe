//! [`SupervisorError`]: why a worker could not be started.
//!
//! Everything that goes wrong after the start (a crash, a hang, a failed finaliser) is reported
//! on the event stream instead, because the UI must keep running and show it.

use std::path::PathBuf;

use thiserror::Error;

/// A worker that could not be started, or a spec file that could not be written.
#[derive(Debug, Error)]
pub enum SupervisorError {
    /// [`crate::start`] was called outside a tokio runtime.
    #[error(
        "the supervisor needs a tokio runtime: call sparkbench_supervisor::start from inside one \
         (for example under #[tokio::main])"
    )]
    NoRuntime,
    /// The path of the running sparkbench binary could not be found.
    #[error("cannot find the path of the running sparkbench binary to start the worker: {0}")]
    CurrentExe(#[source] std::io::Error),
    /// The worker program could not be started.
    #[error("cannot start the worker {program}: {source}")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A pipe to the worker was not set up.
    #[error("the worker {program} was started without its {pipe} pipe")]
    MissingPipe {
        /// The program.
        program: PathBuf,
        /// `stdin`, `stdout` or `stderr`.
        pipe: &'static str,
    },
    /// The run spec could not be written for the worker.
    #[error("cannot write the run spec to {path}: {source}")]
    WriteSpec {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The run spec could not be serialised.
    #[error("cannot serialise the run spec for {path}: {source}")]
    SerialiseSpec {
        /// The file it was meant for.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}
