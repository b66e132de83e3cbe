//! [`AppState`]: everything the dashboard shows, owned by the UI loop and changed only by
//! [`crate::dashboard::update`]. Time comes in through tick events, so the state is a pure
//! function of the events it was given.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use sparkbench_protocol::{LogLevel, Phase, SampleVerdict, TaskScore, WorkerExit};

use crate::theme::Theme;
use crate::view::HeaderInfo;

/// Log lines kept for the log pane.
pub const LOG_CAPACITY: usize = 1000;
/// Seconds of throughput history kept for the sparkline.
pub const HISTORY_SECONDS: usize = 240;
/// Seconds averaged for the tokens/s and docs/s figures.
pub const RATE_WINDOW_SECONDS: usize = 10;
/// Watchdog messages kept.
pub const WATCHDOG_MESSAGES: usize = 20;

/// The pane that arrows and PgUp/PgDn scroll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// Per-task progress.
    Tasks,
    /// The latest sample.
    Sample,
    /// The log tail.
    Log,
}

impl Pane {
    /// The next pane for Tab.
    pub fn next(self) -> Self {
        match self {
            Pane::Tasks => Pane::Sample,
            Pane::Sample => Pane::Log,
            Pane::Log => Pane::Tasks,
        }
    }

    /// The previous pane for Shift-Tab.
    pub fn prev(self) -> Self {
        match self {
            Pane::Tasks => Pane::Log,
            Pane::Sample => Pane::Tasks,
            Pane::Log => Pane::Sample,
        }
    }
}

/// Progress of one task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskState {
    /// Task name.
    pub name: String,
    /// Documents done.
    pub done: usize,
    /// Documents in total.
    pub total: usize,
    /// The running headline score.
    pub running: Option<TaskScore>,
    /// Final scores, once scored.
    pub scores: Option<Vec<TaskScore>>,
    /// (elapsed, done) at the first progress seen this run, for the ETA.
    pub rate_origin: Option<(Duration, usize)>,
    /// (elapsed, done) at the latest progress.
    pub last_progress: Option<(Duration, usize)>,
}

impl TaskState {
    /// A planned task.
    pub fn new(name: String, total: usize, done: usize) -> Self {
        Self {
            name,
            done,
            total,
            running: None,
            scores: None,
            rate_origin: None,
            last_progress: None,
        }
    }

    /// Finished: scored, or every document done.
    pub fn finished(&self) -> bool {
        self.scores.is_some() || (self.total > 0 && self.done >= self.total)
    }

    /// Documents per second over this run, once two progress points are known.
    pub fn docs_per_second(&self) -> Option<f64> {
        let (t0, d0) = self.rate_origin?;
        let (t1, d1) = self.last_progress?;
        let secs = t1.checked_sub(t0)?.as_secs_f64();
        if secs <= 0.0 || d1 <= d0 {
            return None;
        }
        Some((d1 - d0) as f64 / secs)
    }

    /// Time left at the current rate.
    pub fn eta(&self) -> Option<Duration> {
        if self.finished() {
            return None;
        }
        let rate = self.docs_per_second()?;
        let left = self.total.saturating_sub(self.done) as f64;
        Some(Duration::from_secs_f64(left / rate))
    }

    /// The score to show: the final headline (matching the running metric) or the running one.
    pub fn shown_score(&self) -> Option<&TaskScore> {
        match (&self.scores, &self.running) {
            (Some(scores), Some(running)) => scores
                .iter()
                .find(|s| s.metric == running.metric && s.filter == running.filter)
                .or(scores.first()),
            (Some(scores), None) => scores.first(),
            (None, running) => running.as_ref(),
        }
    }
}

/// The latest sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleView {
    /// Task name.
    pub task: String,
    /// Document index.
    pub doc: usize,
    /// The end of the prompt.
    pub prompt_tail: String,
    /// The response.
    pub response: String,
    /// How it scored.
    pub verdict: SampleVerdict,
}

/// Where a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSource {
    /// A `Log` event.
    Worker(LogLevel),
    /// A stderr line.
    Stderr,
    /// The dashboard itself (abort requested, signals).
    Ui,
}

/// One line of the log pane.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// When, as elapsed time.
    pub at: Duration,
    /// Source and level.
    pub source: LogSource,
    /// Text, sanitised.
    pub text: String,
}

/// The watchdog's state in the pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchdogStatus {
    /// Progress is flowing.
    Ok,
    /// No progress for a while (warning sent).
    Warning,
    /// Stalled (periodic reports).
    Stalled,
    /// The timeout was reached.
    TimedOut,
}

/// The watchdog pane.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchdogState {
    /// Time since progress, at the last reading.
    pub since_progress: Option<Duration>,
    /// Time left, when a timeout is set.
    pub remaining: Option<Duration>,
    /// The configured timeout, when known.
    pub timeout: Option<Duration>,
    /// Worker CPU percent.
    pub cpu_percent: Option<f32>,
    /// Worker resident memory.
    pub rss_bytes: Option<u64>,
    /// Status.
    pub status: WatchdogStatus,
    /// Warnings and stalled reports, newest last.
    pub messages: VecDeque<String>,
}

/// How the run stands.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    /// Waiting for the worker to load the model.
    Starting,
    /// Evaluating.
    Running,
    /// The user confirmed abort; waiting for the worker to stop.
    Aborting,
    /// The worker is gone.
    Exited(WorkerExit),
}

/// Modal overlays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    /// None.
    None,
    /// "Abort the run?"
    ConfirmAbort,
    /// Key help.
    Help,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, PartialEq)]
pub struct AppState {
    /// Header facts.
    pub header: HeaderInfo,
    /// Phase.
    pub phase: Option<Phase>,
    /// Time since the dashboard started (from ticks).
    pub elapsed: Duration,
    /// Tasks in plan order.
    pub tasks: Vec<TaskState>,
    /// Tokens per whole second, oldest first.
    pub tokens_history: VecDeque<u64>,
    /// Documents per whole second, oldest first.
    pub docs_history: VecDeque<u64>,
    /// Tokens since the last whole second.
    pub tokens_pending: u64,
    /// Documents since the last whole second.
    pub docs_pending: u64,
    /// Whole seconds already put into the history.
    pub seconds_recorded: u64,
    /// Total tokens this run.
    pub tokens_total: u64,
    /// The latest sample.
    pub sample: Option<SampleView>,
    /// The log tail.
    pub log: VecDeque<LogLine>,
    /// The watchdog pane.
    pub watchdog: WatchdogState,
    /// How the run stands.
    pub status: RunStatus,
    /// The results file, once written (or finalised partial).
    pub results_file: Option<PathBuf>,
    /// Partial results were finalised.
    pub partial: Option<Vec<(String, usize)>>,
    /// The focused pane.
    pub focus: Pane,
    /// Scroll offsets: tasks (rows from the top), sample (lines from the top), log (lines up from the bottom).
    pub scroll_tasks: usize,
    /// See `scroll_tasks`.
    pub scroll_sample: usize,
    /// See `scroll_tasks`.
    pub scroll_log: usize,
    /// The overlay shown.
    pub overlay: Overlay,
    /// Terminal size (columns, rows), from resize events.
    pub size: (u16, u16),
    /// Colours.
    pub theme: Theme,
}

impl AppState {
    /// A dashboard for a run with this header.
    pub fn new(header: HeaderInfo, theme: Theme) -> Self {
        Self {
            header,
            phase: None,
            elapsed: Duration::ZERO,
            tasks: Vec::new(),
            tokens_history: VecDeque::new(),
            docs_history: VecDeque::new(),
            tokens_pending: 0,
            docs_pending: 0,
            seconds_recorded: 0,
            tokens_total: 0,
            sample: None,
            log: VecDeque::new(),
            watchdog: WatchdogState {
                since_progress: None,
                remaining: None,
                timeout: None,
                cpu_percent: None,
                rss_bytes: None,
                status: WatchdogStatus::Ok,
                messages: VecDeque::new(),
            },
            status: RunStatus::Starting,
            results_file: None,
            partial: None,
            focus: Pane::Tasks,
            scroll_tasks: 0,
            scroll_sample: 0,
            scroll_log: 0,
            overlay: Overlay::None,
            size: (80, 24),
            theme,
        }
    }

    /// Whether the worker is gone.
    pub fn exited(&self) -> bool {
        matches!(self.status, RunStatus::Exited(_))
    }

    /// Documents done and in total, over all tasks.
    pub fn docs_overall(&self) -> (usize, usize) {
        self.tasks
            .iter()
            .fold((0, 0), |(d, t), task| (d + task.done, t + task.total))
    }

    /// Tokens per second over the last [`RATE_WINDOW_SECONDS`].
    pub fn tokens_per_second(&self) -> f64 {
        window_rate(&self.tokens_history)
    }

    /// Documents per second over the last [`RATE_WINDOW_SECONDS`].
    pub fn docs_per_second(&self) -> f64 {
        window_rate(&self.docs_history)
    }

    /// Add a line to the log tail.
    pub fn push_log(&mut self, source: LogSource, text: String) {
        if self.log.len() == LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(LogLine {
            at: self.elapsed,
            source,
            text,
        });
    }

    /// Add a watchdog message.
    pub fn push_watchdog_message(&mut self, text: String) {
        if self.watchdog.messages.len() == WATCHDOG_MESSAGES {
            self.watchdog.messages.pop_front();
        }
        self.watchdog.messages.push_back(text);
    }
}

fn window_rate(history: &VecDeque<u64>) -> f64 {
    let n = history.len().min(RATE_WINDOW_SECONDS);
    if n == 0 {
        return 0.0;
    }
    history.iter().rev().take(n).sum::<u64>() as f64 / n as f64
}
