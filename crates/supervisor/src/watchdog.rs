//! The inactivity watchdog as a pure state machine over instants, so its timing is unit-tested
//! without processes or sleeps.
//!
//! "Progress" is any Started, Phase, Progress or Heartbeat event. Without a timeout the watchdog
//! stays silent (readings are still sent by the supervisor). With one: a warning once per silent
//! stretch after `warning_after` (the seed never re-armed it), a stalled status every
//! `status_every` after that, and the timeout itself, once.

use std::time::{Duration, Instant};

use sparkbench_protocol::RunEvent;

/// What is due now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    /// The warning of this silent stretch.
    Warning,
    /// A stalled status.
    Stalled,
    /// The timeout was reached.
    TimedOut,
}

/// Timings of the watchdog.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timings {
    pub timeout: Option<Duration>,
    pub warning_after: Duration,
    pub status_every: Duration,
}

/// The watchdog's state.
#[derive(Debug, Clone)]
pub(crate) struct Watchdog {
    timings: Timings,
    last_progress: Instant,
    warned: bool,
    next_stalled: Option<Instant>,
    timed_out: bool,
}

/// Whether a worker event counts as progress.
pub(crate) fn is_progress(event: &RunEvent) -> bool {
    matches!(
        event,
        RunEvent::Started { .. }
            | RunEvent::Phase { .. }
            | RunEvent::Progress { .. }
            | RunEvent::Heartbeat { .. }
    )
}

impl Watchdog {
    /// A watchdog whose first silent stretch starts at `start`.
    pub(crate) fn new(timings: Timings, start: Instant) -> Self {
        Self {
            timings,
            last_progress: start,
            warned: false,
            next_stalled: None,
            timed_out: false,
        }
    }

    /// Progress was seen at `now`: a new silent stretch starts.
    pub(crate) fn progress(&mut self, now: Instant) {
        self.last_progress = now;
        self.warned = false;
        self.next_stalled = None;
    }

    /// Time since the last progress.
    pub(crate) fn since_progress(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.last_progress)
    }

    /// Time left before the timeout, when one is set.
    pub(crate) fn remaining(&self, now: Instant) -> Option<Duration> {
        self.timings
            .timeout
            .map(|t| t.saturating_sub(self.since_progress(now)))
    }

    /// The next instant at which [`Watchdog::poll`] has something to say, if any.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        let timeout = self.timings.timeout?;
        if self.timed_out {
            return None;
        }
        let mut due = self.last_progress + timeout;
        if !self.warned && self.timings.warning_after < timeout {
            due = due.min(self.last_progress + self.timings.warning_after);
        }
        if let Some(stalled) = self.next_stalled {
            due = due.min(stalled);
        }
        Some(due)
    }

    /// What is due at `now`, in order (at most one of each kind per call).
    pub(crate) fn poll(&mut self, now: Instant) -> Vec<Due> {
        let mut due = Vec::new();
        let Some(timeout) = self.timings.timeout else {
            return due;
        };
        if self.timed_out {
            return due;
        }
        let silent = self.since_progress(now);
        if silent >= timeout {
            self.timed_out = true;
            due.push(Due::TimedOut);
            return due;
        }
        if !self.warned && silent >= self.timings.warning_after {
            self.warned = true;
            self.next_stalled =
                Some(now + self.timings.status_every.max(Duration::from_millis(10)));
            due.push(Due::Warning);
        }
        if let Some(at) = self.next_stalled
            && now >= at
        {
            // Skip missed beats (a suspended laptop) rather than sending a burst.
            let every = self.timings.status_every.max(Duration::from_millis(10));
            let mut next = at + every;
            while next <= now {
                next += every;
            }
            self.next_stalled = Some(next);
            due.push(Due::Stalled);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn dog(timeout: Option<f64>) -> (Watchdog, Instant) {
        let t0 = Instant::now();
        let timings = Timings {
            timeout: timeout.map(secs),
            warning_after: secs(60.0),
            status_every: secs(30.0),
        };
        (Watchdog::new(timings, t0), t0)
    }

    #[test]
    fn silent_without_a_timeout() {
        let (mut w, t0) = dog(None);
        assert_eq!(w.next_due(), None);
        assert!(w.poll(t0 + secs(3600.0)).is_empty());
        assert_eq!(w.remaining(t0), None);
    }

    #[test]
    fn warns_once_then_reports_stalled_every_interval_then_times_out() {
        let (mut w, t0) = dog(Some(200.0));
        assert_eq!(w.next_due(), Some(t0 + secs(60.0)));
        assert!(w.poll(t0 + secs(59.0)).is_empty());
        assert_eq!(w.poll(t0 + secs(60.0)), vec![Due::Warning]);
        assert!(
            w.poll(t0 + secs(61.0)).is_empty(),
            "the warning is sent once"
        );
        assert_eq!(w.next_due(), Some(t0 + secs(90.0)));
        assert_eq!(w.poll(t0 + secs(90.0)), vec![Due::Stalled]);
        assert!(w.poll(t0 + secs(100.0)).is_empty());
        assert_eq!(w.poll(t0 + secs(120.0)), vec![Due::Stalled]);
        assert_eq!(w.remaining(t0 + secs(120.0)), Some(secs(80.0)));
        assert_eq!(w.poll(t0 + secs(200.0)), vec![Due::TimedOut]);
        assert!(
            w.poll(t0 + secs(300.0)).is_empty(),
            "the timeout fires once"
        );
        assert_eq!(w.next_due(), None);
    }

    #[test]
    fn progress_re_arms_the_warning() {
        let (mut w, t0) = dog(Some(600.0));
        assert_eq!(w.poll(t0 + secs(61.0)), vec![Due::Warning]);
        w.progress(t0 + secs(70.0));
        assert_eq!(w.next_due(), Some(t0 + secs(130.0)));
        assert!(
            w.poll(t0 + secs(100.0)).is_empty(),
            "no stalled status after progress resumed"
        );
        assert_eq!(
            w.poll(t0 + secs(130.0)),
            vec![Due::Warning],
            "a second stretch warns again"
        );
    }

    #[test]
    fn a_timeout_shorter_than_the_warning_skips_the_warning() {
        let (mut w, t0) = dog(Some(30.0));
        assert_eq!(w.next_due(), Some(t0 + secs(30.0)));
        assert_eq!(w.poll(t0 + secs(30.0)), vec![Due::TimedOut]);
    }

    #[test]
    fn progress_events_are_recognised() {
        assert!(is_progress(&RunEvent::Heartbeat { tokens: 1 }));
        assert!(!is_progress(&RunEvent::Log {
            level: sparkbench_protocol::LogLevel::Info,
            message: "x".into()
        }));
    }
}
