//! [`WorkerCommand`]: how to start the worker, and the watchdog and abort timings.
//!
//! The defaults are what users get; tests and callers shorten them through the public fields.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sparkbench_protocol::RunSpec;

use crate::error::SupervisorError;

/// How long without progress before the watchdog warns (the seed's 60 s).
pub const DEFAULT_WARNING_AFTER: Duration = Duration::from_secs(60);
/// How often a stalled status is sent while stalled.
pub const DEFAULT_STATUS_EVERY: Duration = Duration::from_secs(30);
/// How often a [`sparkbench_protocol::WatchdogEvent::Tick`] reading is sent.
pub const DEFAULT_TICK_EVERY: Duration = Duration::from_secs(1);
/// How long the worker may take to stop by itself after `cancel` is written to its stdin.
pub const DEFAULT_GRACE: Duration = Duration::from_millis(1500);
/// How long after SIGTERM to the process group before SIGKILL.
pub const DEFAULT_TERM_WAIT: Duration = Duration::from_millis(300);
/// How long the partial-results finaliser may run before it is ended.
pub const DEFAULT_FINALIZE_TIMEOUT: Duration = Duration::from_secs(120);

/// How to start one worker and how to watch it.
///
/// [`WorkerCommand::new`] fills `args` and `finalize_args` from `spec_file`; changing
/// `spec_file` afterwards does not change them.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerCommand {
    /// The program (the sparkbench binary itself in production).
    pub program: PathBuf,
    /// Its arguments: `worker --spec FILE` by default.
    pub args: Vec<OsString>,
    /// Arguments of the partial-results finaliser, run after an abort, a timeout or a crash:
    /// `worker --finalize --spec FILE` by default. `None` runs no finaliser.
    pub finalize_args: Option<Vec<OsString>>,
    /// The run spec file the worker reads.
    pub spec_file: PathBuf,
    /// End the worker after this long without progress. `None` (the default) turns the
    /// watchdog's warnings and the timeout off; readings are still sent every `tick_every`.
    pub timeout: Option<Duration>,
    /// Warn after this long without progress (once per silent stretch).
    pub warning_after: Duration,
    /// While stalled (after the warning), send a status this often.
    pub status_every: Duration,
    /// Send a CPU/memory reading this often.
    pub tick_every: Duration,
    /// After `cancel` is written to the worker's stdin, wait this long before SIGTERM.
    pub grace: Duration,
    /// After SIGTERM to the worker's process group, wait this long before SIGKILL.
    pub term_wait: Duration,
    /// The finaliser is ended after this long.
    pub finalize_timeout: Duration,
    /// Extra environment variables for the worker and the finaliser (added to the inherited ones).
    pub env: Vec<(OsString, OsString)>,
    /// The working directory of the worker and the finaliser (the parent's when `None`).
    pub current_dir: Option<PathBuf>,
}

impl WorkerCommand {
    /// `program worker --spec FILE`, with the default timings and no timeout.
    pub fn new(program: impl Into<PathBuf>, spec_file: impl Into<PathBuf>) -> Self {
        let spec_file = spec_file.into();
        let spec = spec_file.clone().into_os_string();
        Self {
            program: program.into(),
            args: vec!["worker".into(), "--spec".into(), spec.clone()],
            finalize_args: Some(vec![
                "worker".into(),
                "--finalize".into(),
                "--spec".into(),
                spec,
            ]),
            spec_file,
            timeout: None,
            warning_after: DEFAULT_WARNING_AFTER,
            status_every: DEFAULT_STATUS_EVERY,
            tick_every: DEFAULT_TICK_EVERY,
            grace: DEFAULT_GRACE,
            term_wait: DEFAULT_TERM_WAIT,
            finalize_timeout: DEFAULT_FINALIZE_TIMEOUT,
            env: Vec::new(),
            current_dir: None,
        }
    }

    /// [`WorkerCommand::new`] with the running binary as the program.
    pub fn for_current_exe(spec_file: impl Into<PathBuf>) -> Result<Self, SupervisorError> {
        let program = std::env::current_exe().map_err(SupervisorError::CurrentExe)?;
        Ok(Self::new(program, spec_file))
    }

    /// Set the inactivity timeout (builder style).
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }
}

/// Write `spec` as pretty JSON to `path` atomically (a temp file beside it, then a rename), for
/// `sparkbench worker --spec FILE`.
pub fn write_spec_file(spec: &RunSpec, path: &Path) -> Result<(), SupervisorError> {
    let json =
        serde_json::to_vec_pretty(spec).map_err(|source| SupervisorError::SerialiseSpec {
            path: path.to_path_buf(),
            source,
        })?;
    let write_err = |source| SupervisorError::WriteSpec {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp_name);
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(&json).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(write_err(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_arguments_name_the_spec_file() {
        let cmd = WorkerCommand::new("/usr/bin/sparkbench", "/tmp/run/spec.json");
        assert_eq!(
            cmd.args,
            ["worker", "--spec", "/tmp/run/spec.json"].map(OsString::from)
        );
        assert_eq!(
            cmd.finalize_args,
            Some(
                ["worker", "--finalize", "--spec", "/tmp/run/spec.json"]
                    .map(OsString::from)
                    .to_vec()
            )
        );
        assert_eq!(cmd.timeout, None);
        assert_eq!(cmd.warning_after, Duration::from_secs(60));
        assert_eq!(cmd.status_every, Duration::from_secs(30));
        assert!(cmd.grace + cmd.term_wait < Duration::from_secs(2));
    }

    #[test]
    fn spec_file_round_trips_and_errors_name_the_file() {
        let spec: RunSpec = serde_json::from_str(
            r#"{"label":"m","model":{"kind":"hf","path":"/m"},"tasks":[{"name":"gsm8k"}],"output_dir":"/out"}"#,
        )
        .expect("spec");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("spec.json");
        write_spec_file(&spec, &path).expect("write");
        let back: RunSpec =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("parse");
        assert_eq!(back, spec);
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("list").count(),
            1,
            "no temp file left"
        );
        let bad = dir.path().join("missing").join("spec.json");
        let err = write_spec_file(&spec, &bad).expect_err("no such folder");
        assert!(
            err.to_string().contains(&bad.display().to_string()),
            "{err}"
        );
    }
}
