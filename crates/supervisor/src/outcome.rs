//! What the supervisor remembers of a worker's output, and how that becomes a [`WorkerExit`].
//!
//! A crash must be explained in the UI without scrolling back: the cause names the exit code or
//! signal, and adds the worker's own `Failed` message or, lacking one, its last stderr lines.

use std::collections::VecDeque;
use std::process::ExitStatus;

use sparkbench_protocol::{RunEvent, WorkerExit};

use crate::group::describe_status;

/// How many stderr lines a crash cause quotes.
const TAIL_LINES: usize = 10;
/// Longest quoted stderr line, in characters.
const TAIL_LINE_CHARS: usize = 300;

/// Why the supervisor is ending the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// The user asked (or nobody listens to the events any more).
    User,
    /// The watchdog's timeout.
    Timeout,
}

/// How the wait for the worker ended.
#[derive(Debug)]
pub(crate) enum Reaped {
    /// It exited with this status.
    Status(ExitStatus),
    /// It could not be reaped (for example stuck in the kernel after SIGKILL).
    Stuck,
    /// Waiting for it failed.
    WaitFailed(String),
}

/// What was seen of the worker's output.
#[derive(Debug, Default)]
pub(crate) struct Record {
    finished: bool,
    failed: Option<String>,
    tail: VecDeque<String>,
}

impl Record {
    /// Note a worker event.
    pub(crate) fn event(&mut self, event: &RunEvent) {
        match event {
            RunEvent::Finished { .. } => self.finished = true,
            RunEvent::Failed { error } => self.failed = Some(error.clone()),
            _ => {}
        }
    }

    /// Note a stderr line (or a stdout line that was not an event).
    pub(crate) fn stderr(&mut self, line: &str) {
        let line = line.trim_end();
        if line.trim().is_empty() {
            return;
        }
        let mut kept: String = line.chars().take(TAIL_LINE_CHARS).collect();
        if kept.len() < line.len() {
            kept.push('…');
        }
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(kept);
    }

    /// Whether a `Finished` event was seen.
    pub(crate) fn finished(&self) -> bool {
        self.finished
    }

    /// The worker's `Failed` message, if any.
    pub(crate) fn failed(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    /// The last stderr lines, indented, or `None` when there were none.
    pub(crate) fn tail(&self) -> Option<String> {
        if self.tail.is_empty() {
            return None;
        }
        Some(
            self.tail
                .iter()
                .map(|l| format!("  {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }
}

/// How the worker ended.
pub(crate) fn classify(stop: Option<StopReason>, reaped: &Reaped, record: &Record) -> WorkerExit {
    let success = matches!(reaped, Reaped::Status(s) if s.success());
    if success && record.finished() {
        return WorkerExit::Completed;
    }
    match stop {
        Some(StopReason::User) => WorkerExit::Aborted,
        Some(StopReason::Timeout) => WorkerExit::TimedOut,
        None => WorkerExit::Failed {
            cause: crash_cause("the worker", reaped, record),
        },
    }
}

/// A crash explained: `{who} exited with code 3; last stderr lines: ...`.
pub(crate) fn crash_cause(who: &str, reaped: &Reaped, record: &Record) -> String {
    let how = match reaped {
        Reaped::Status(s) if s.success() && record.finished() => {
            format!("{who} exited normally")
        }
        Reaped::Status(s) if s.success() => {
            format!("{who} exited with code 0 without reporting a finished run")
        }
        Reaped::Status(s) if record.finished() => {
            format!("{who} wrote its results but then {}", describe_status(s))
        }
        Reaped::Status(s) => format!("{who} {}", describe_status(s)),
        Reaped::Stuck => format!("{who} did not exit even after SIGKILL"),
        Reaped::WaitFailed(e) => format!("waiting for {who} failed: {e}"),
    };
    if let Some(error) = record.failed() {
        return format!("{error} ({how})");
    }
    match record.tail() {
        Some(tail) => format!("{how}; last stderr lines:\n{tail}"),
        None => format!("{how} and wrote nothing to stderr"),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::*;

    fn exited(code: i32) -> Reaped {
        Reaped::Status(ExitStatus::from_raw(code << 8))
    }

    #[test]
    fn completed_needs_success_and_a_finished_event() {
        let mut record = Record::default();
        assert!(matches!(
            classify(None, &exited(0), &record),
            WorkerExit::Failed { .. }
        ));
        record.event(&RunEvent::Finished {
            results_file: "r.json".into(),
        });
        assert_eq!(classify(None, &exited(0), &record), WorkerExit::Completed);
        assert_eq!(
            classify(Some(StopReason::User), &exited(0), &record),
            WorkerExit::Completed
        );
        assert!(matches!(
            classify(None, &exited(1), &record),
            WorkerExit::Failed { .. }
        ));
    }

    #[test]
    fn stops_are_reported_as_such() {
        let record = Record::default();
        assert_eq!(
            classify(Some(StopReason::User), &exited(1), &record),
            WorkerExit::Aborted
        );
        assert_eq!(
            classify(Some(StopReason::Timeout), &Reaped::Stuck, &record),
            WorkerExit::TimedOut
        );
    }

    #[test]
    fn cause_quotes_the_failed_message_or_the_stderr_tail() {
        let mut record = Record::default();
        assert_eq!(
            crash_cause("the worker", &exited(3), &record),
            "the worker exited with code 3 and wrote nothing to stderr"
        );
        for i in 0..15 {
            record.stderr(&format!("line {i}"));
        }
        let cause = crash_cause("the worker", &exited(3), &record);
        assert!(
            cause.starts_with("the worker exited with code 3; last stderr lines:\n  line 5\n"),
            "{cause}"
        );
        assert!(cause.ends_with("  line 14"), "{cause}");
        record.event(&RunEvent::Failed {
            error: "CUDA out of memory".into(),
        });
        assert_eq!(
            crash_cause("the worker", &exited(1), &record),
            "CUDA out of memory (the worker exited with code 1)"
        );
    }
}
