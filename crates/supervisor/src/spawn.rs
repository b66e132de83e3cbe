//! Starting a child (the worker or the finaliser) as the leader of its own process group, and the
//! guard that ends that group if the supervisor itself goes away first.

use std::ffi::OsString;
use std::process::Stdio;

use tokio::process::{Child, Command};

use crate::command::WorkerCommand;
use crate::error::SupervisorError;
use crate::group::signal_group;

/// Start `cmd.program args` in a new process group with piped stdout and stderr, and stdin piped
/// (`with_stdin`) or closed. Must run inside a tokio runtime.
pub(crate) fn spawn_in_group(
    cmd: &WorkerCommand,
    args: &[OsString],
    with_stdin: bool,
) -> Result<Child, SupervisorError> {
    let mut command = Command::new(&cmd.program);
    command
        .args(args)
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .stdin(if with_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // pgid = the child's pid: one signal reaches the whole tree, and the terminal's Ctrl+C
        // (sent to the foreground group) reaches only the parent, which decides what to do.
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &cmd.current_dir {
        command.current_dir(dir);
    }
    command.spawn().map_err(|source| SupervisorError::Spawn {
        program: cmd.program.clone(),
        source,
    })
}

/// Ends a process group with SIGKILL when dropped while armed, so that neither a panic nor a
/// runtime shutdown can leave a worker running. Disarm it once the group has been cleaned up:
/// after that the group id may be reused by an unrelated process.
pub(crate) struct GroupGuard {
    pgid: u32,
    armed: bool,
}

impl GroupGuard {
    /// Guard the group `pgid`.
    pub(crate) fn new(pgid: u32) -> Self {
        Self { pgid, armed: true }
    }

    /// The group is cleaned up; do nothing on drop.
    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            signal_group(self.pgid, libc::SIGKILL);
        }
    }
}
