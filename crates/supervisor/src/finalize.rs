//! The partial-results finaliser: `<program> worker --finalize --spec FILE`, run after an abort,
//! a timeout or a crash, once the worker is gone.
//!
//! It reads the journals (no model is loaded), so it is short; it still runs in its own process
//! group under a timeout. Its stdout is RunEvent lines too: `Finished { results_file }` names the
//! partial results file, `Progress { task, done, .. }` (or the `done` of a `Started` plan) gives the
//! documents finished per task, `Log` events are forwarded as they come, and `Failed` explains a
//! failure. Success becomes one [`MonitorEvent::PartialFinalised`]; a failure becomes an error log.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use sparkbench_protocol::{LogLevel, MonitorEvent, RunEvent};
use tokio::time::{Instant, sleep_until, timeout};

use crate::command::WorkerCommand;
use crate::group::{group_exists, signal_group};
use crate::lines::{Line, spawn_readers};
use crate::outcome::{Reaped, Record, crash_cause};
use crate::output::Output;
use crate::spawn::{GroupGuard, spawn_in_group};

/// How long to keep reading a finished child's pipes for lines still in flight.
pub(crate) const DRAIN: Duration = Duration::from_millis(500);
/// How long to wait for a SIGKILLed child to be reaped.
pub(crate) const REAP_WAIT: Duration = Duration::from_secs(2);

#[derive(Default)]
struct Findings {
    results_file: Option<PathBuf>,
    counts: Vec<(String, usize)>,
    record: Record,
}

impl Findings {
    fn count(&mut self, task: &str, done: usize) {
        match self.counts.iter_mut().find(|(t, _)| t == task) {
            Some(slot) => slot.1 = done,
            None => self.counts.push((task.to_string(), done)),
        }
    }

    fn line(&mut self, line: Line, out: &mut Output) {
        match line {
            Line::Out(text) => {
                if text.trim().is_empty() {
                    return;
                }
                match RunEvent::from_line(text.trim()) {
                    Ok(event) => self.event(event, out),
                    Err(_) => {
                        self.record.stderr(&text);
                        out.send(MonitorEvent::Stderr { line: text });
                    }
                }
            }
            Line::Err(text) => {
                self.record.stderr(&text);
                out.send(MonitorEvent::Stderr { line: text });
            }
        }
    }

    fn event(&mut self, event: RunEvent, out: &mut Output) {
        self.record.event(&event);
        match event {
            RunEvent::Finished { results_file } => self.results_file = Some(results_file),
            RunEvent::Progress { task, done, .. } => self.count(&task, done),
            RunEvent::Started { tasks, .. } => {
                for plan in tasks {
                    self.count(&plan.task, plan.done);
                }
            }
            RunEvent::Log { .. } => out.send(MonitorEvent::Run { event }),
            _ => {}
        }
    }
}

fn error_log(message: String) -> MonitorEvent {
    MonitorEvent::Run {
        event: RunEvent::Log {
            level: LogLevel::Error,
            message,
        },
    }
}

/// Run the finaliser with `args` and report what it found on `out`.
pub(crate) async fn finalize(cmd: &WorkerCommand, args: &[OsString], out: &mut Output) {
    let mut child = match spawn_in_group(cmd, args, false) {
        Ok(child) => child,
        Err(e) => {
            out.send(error_log(format!(
                "partial results were not finalised: {e}"
            )));
            return;
        }
    };
    let Some(pid) = child.id() else {
        out.send(error_log(
            "partial results were not finalised: the finaliser vanished".into(),
        ));
        return;
    };
    let mut guard = GroupGuard::new(pid);
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        out.send(error_log(
            "partial results were not finalised: its pipes are missing".into(),
        ));
        return;
    };
    let mut readers = spawn_readers(stdout, stderr);
    let mut findings = Findings::default();
    let deadline = Instant::now() + cmd.finalize_timeout;
    let mut open = true;
    let reaped = loop {
        tokio::select! {
            biased;
            line = readers.rx.recv(), if open => match line {
                Some(line) => findings.line(line, out),
                None => open = false,
            },
            status = child.wait() => break match status {
                Ok(status) => Reaped::Status(status),
                Err(e) => Reaped::WaitFailed(e.to_string()),
            },
            () = sleep_until(deadline) => {
                signal_group(pid, libc::SIGKILL);
                let _ = timeout(REAP_WAIT, child.wait()).await;
                let secs = cmd.finalize_timeout.as_secs_f64();
                out.send(error_log(format!(
                    "partial results were not finalised: the finaliser was ended after {secs:.0} s"
                )));
                guard.disarm();
                return;
            }
        }
    };
    if group_exists(pid) {
        signal_group(pid, libc::SIGKILL);
    }
    guard.disarm();
    let drain_until = Instant::now() + DRAIN;
    while open {
        tokio::select! {
            line = readers.rx.recv() => match line {
                Some(line) => findings.line(line, out),
                None => open = false,
            },
            () = sleep_until(drain_until) => break,
        }
    }
    drop(readers);
    let ok =
        matches!(&reaped, Reaped::Status(s) if s.success()) && findings.record.failed().is_none();
    if ok {
        out.send(MonitorEvent::PartialFinalised {
            results_file: findings.results_file,
            counts: findings.counts,
        });
    } else {
        let cause = crash_cause("the finaliser", &reaped, &findings.record);
        out.send(error_log(format!(
            "partial results were not finalised: {cause}"
        )));
    }
}
