//! [`MonitorEvent`]: what the supervisor hands the UI and the plain CLI printer.
//!
//! It wraps the worker's own [`RunEvent`]s and adds what only the parent can know: the worker's
//! stderr lines, the watchdog's observations, and how the process ended.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::event::RunEvent;

/// A watchdog observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WatchdogEvent {
    /// A periodic reading of the worker process group (about once a second).
    Tick {
        /// Time since the last progress or heartbeat event.
        #[serde(with = "secs")]
        since_progress: Duration,
        /// Time left before the worker is ended, when a timeout is set.
        #[serde(with = "opt_secs")]
        remaining: Option<Duration>,
        /// CPU use of the worker's process tree, percent of one core.
        cpu_percent: f32,
        /// Resident memory of the worker's process tree, bytes.
        rss_bytes: u64,
    },
    /// No progress for 60 s (sent once per silent stretch).
    Warning {
        /// Time since the last progress.
        #[serde(with = "secs")]
        since_progress: Duration,
    },
    /// Every 30 s while stalled: elapsed, remaining, CPU and memory, in words and numbers.
    Stalled {
        /// Time since the last progress.
        #[serde(with = "secs")]
        since_progress: Duration,
        /// Time left before the worker is ended, when a timeout is set.
        #[serde(with = "opt_secs")]
        remaining: Option<Duration>,
        /// CPU use, percent of one core.
        cpu_percent: f32,
        /// Resident memory, bytes.
        rss_bytes: u64,
    },
    /// The timeout was reached; the worker is being ended and partial results finalised.
    TimedOut {
        /// The timeout that was reached.
        #[serde(with = "secs")]
        timeout: Duration,
    },
}

/// How the worker process ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WorkerExit {
    /// Exit status 0 after a `Finished` event.
    Completed,
    /// Stopped by the user's abort.
    Aborted,
    /// Ended by the watchdog.
    TimedOut,
    /// Crashed or failed: exit code or signal, and the cause in words (last stderr lines, the
    /// `Failed` event's message, or the signal name).
    Failed {
        /// The cause in words.
        cause: String,
    },
}

/// What the UI receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum MonitorEvent {
    /// An event from the worker.
    Run {
        /// The event.
        event: RunEvent,
    },
    /// A line the worker wrote to stderr.
    Stderr {
        /// The line.
        line: String,
    },
    /// A watchdog observation.
    Watchdog {
        /// The observation.
        event: WatchdogEvent,
    },
    /// Partial results were finalised from the journals after an abort, timeout or crash.
    PartialFinalised {
        /// The results file written, if any document had finished.
        results_file: Option<std::path::PathBuf>,
        /// Documents finished per task.
        counts: Vec<(String, usize)>,
    },
    /// The worker is gone; this is the last event.
    Exited {
        /// How it ended.
        exit: WorkerExit,
    },
}

mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Ok(Duration::from_secs_f64(v.max(0.0)))
    }
}

mod opt_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let v = Option::<f64>::deserialize(d)?;
        Ok(v.map(|v| Duration::from_secs_f64(v.max(0.0))))
    }
}
