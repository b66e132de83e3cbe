//! [`update`]: the dashboard's one state transition. Events in ([`AppEvent`]: monitor events,
//! keys, resizes, ticks, signals), state changed, and at most one [`Action`] out for the loop to
//! carry out (call the abort callback, leave). No I/O happens here.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use sparkbench_protocol::{MonitorEvent, RunEvent, WatchdogEvent, WorkerExit};

use crate::dashboard::state::{
    AppState, HISTORY_SECONDS, LogSource, Overlay, Pane, RunStatus, SampleView, TaskState,
    WatchdogStatus,
};
use crate::format;

/// Lines moved by PgUp/PgDn.
pub const PAGE: usize = 10;

/// Everything the dashboard reacts to.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "events are moved one at a time; boxing would allocate per progress event"
)]
pub enum AppEvent {
    /// From the supervisor.
    Monitor(MonitorEvent),
    /// A key press.
    Key(KeyEvent),
    /// The terminal was resized to (columns, rows).
    Resize(u16, u16),
    /// Time passed: the elapsed time since the dashboard started.
    Tick(Duration),
    /// A termination signal arrived (its name).
    Signal(&'static str),
    /// The monitor channel closed.
    EventsClosed,
}

/// What the loop must do after an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The user confirmed the abort: call the abort callback and keep showing the run.
    Abort,
    /// Leave the dashboard (the worker is gone); show the results screen when asked.
    Leave {
        /// The user asked for the results screen.
        show_results: bool,
    },
    /// A signal arrived: abort the worker, restore the terminal and leave now.
    AbortAndLeave {
        /// The signal's name.
        signal: &'static str,
    },
}

/// Apply one event.
pub fn update(state: &mut AppState, event: AppEvent) -> Option<Action> {
    match event {
        AppEvent::Monitor(ev) => {
            on_monitor(state, ev);
            None
        }
        AppEvent::Key(key) => on_key(state, key),
        AppEvent::Resize(w, h) => {
            state.size = (w, h);
            None
        }
        AppEvent::Tick(elapsed) => {
            on_tick(state, elapsed);
            None
        }
        AppEvent::Signal(name) => {
            state.push_log(LogSource::Ui, format!("{name} received: aborting the run"));
            if !state.exited() {
                state.status = RunStatus::Aborting;
            }
            Some(Action::AbortAndLeave { signal: name })
        }
        AppEvent::EventsClosed => {
            if !state.exited() {
                state.status = RunStatus::Exited(WorkerExit::Failed {
                    cause: "the supervisor stopped without saying how the worker ended".into(),
                });
                state.overlay = Overlay::None;
            }
            None
        }
    }
}

fn on_tick(state: &mut AppState, elapsed: Duration) {
    if state.exited() || elapsed < state.elapsed {
        return;
    }
    state.elapsed = elapsed;
    let whole = elapsed.as_secs();
    while state.seconds_recorded < whole {
        let tokens = std::mem::take(&mut state.tokens_pending);
        let docs = std::mem::take(&mut state.docs_pending);
        state.tokens_history.push_back(tokens);
        state.docs_history.push_back(docs);
        if state.tokens_history.len() > HISTORY_SECONDS {
            state.tokens_history.pop_front();
        }
        if state.docs_history.len() > HISTORY_SECONDS {
            state.docs_history.pop_front();
        }
        state.seconds_recorded += 1;
    }
}

fn task_mut<'a>(state: &'a mut AppState, name: &str) -> &'a mut TaskState {
    let index = match state.tasks.iter().position(|t| t.name == name) {
        Some(i) => i,
        None => {
            state.tasks.push(TaskState::new(name.to_string(), 0, 0));
            state.tasks.len() - 1
        }
    };
    &mut state.tasks[index]
}

fn on_monitor(state: &mut AppState, ev: MonitorEvent) {
    match ev {
        MonitorEvent::Run { event } => on_run(state, event),
        MonitorEvent::Stderr { line } => state.push_log(LogSource::Stderr, format::sanitize(&line)),
        MonitorEvent::Watchdog { event } => on_watchdog(state, event),
        MonitorEvent::PartialFinalised {
            results_file,
            counts,
        } => {
            let docs: usize = counts.iter().map(|(_, n)| n).sum();
            let text = match &results_file {
                Some(file) => format!(
                    "partial results of {docs} documents written to {}",
                    file.display()
                ),
                None => "no document had finished: no partial results".to_string(),
            };
            state.push_log(LogSource::Ui, text);
            if results_file.is_some() {
                state.results_file = results_file;
            }
            state.partial = Some(counts);
        }
        MonitorEvent::Exited { exit } => {
            let text = match &exit {
                WorkerExit::Completed => "worker finished".to_string(),
                WorkerExit::Aborted => "worker stopped (aborted)".to_string(),
                WorkerExit::TimedOut => "worker ended by the watchdog".to_string(),
                WorkerExit::Failed { cause } => {
                    format!("worker failed: {}", format::sanitize(cause))
                }
            };
            state.push_log(LogSource::Ui, text);
            state.status = RunStatus::Exited(exit);
            if state.overlay == Overlay::ConfirmAbort {
                state.overlay = Overlay::None;
            }
        }
    }
}

fn on_run(state: &mut AppState, event: RunEvent) {
    match event {
        RunEvent::Started { model, tasks } => {
            if state.header.model.is_empty() {
                state.header.model = model.name.clone();
            }
            state.header.device = Some(model.device);
            state.header.dtype = Some(model.dtype);
            state.tasks = tasks
                .into_iter()
                .map(|p| TaskState::new(p.task, p.docs, p.done))
                .collect();
            if state.status == RunStatus::Starting {
                state.status = RunStatus::Running;
            }
        }
        RunEvent::Phase { phase } => {
            state.phase = Some(phase);
            if state.status == RunStatus::Starting {
                state.status = RunStatus::Running;
            }
        }
        RunEvent::Progress {
            task,
            done,
            total,
            tokens,
            running,
        } => {
            let now = state.elapsed;
            let t = task_mut(state, &task);
            let new_docs = done.saturating_sub(t.done) as u64;
            t.done = done;
            t.total = total;
            if running.is_some() {
                t.running = running;
            }
            if t.rate_origin.is_none() {
                t.rate_origin = Some((now, done));
            }
            t.last_progress = Some((now, done));
            state.docs_pending += new_docs;
            state.tokens_pending += tokens;
            state.tokens_total += tokens;
            state.watchdog.since_progress = Some(Duration::ZERO);
            if matches!(
                state.watchdog.status,
                WatchdogStatus::Warning | WatchdogStatus::Stalled
            ) {
                state.watchdog.status = WatchdogStatus::Ok;
                state.push_watchdog_message("progress resumed".into());
            }
        }
        RunEvent::Heartbeat { tokens } => {
            state.tokens_pending += tokens;
            state.tokens_total += tokens;
        }
        RunEvent::Sample {
            task,
            doc,
            prompt_tail,
            response,
            verdict,
        } => {
            state.sample = Some(SampleView {
                task,
                doc,
                prompt_tail: format::sanitize(&prompt_tail),
                response: format::sanitize(&response),
                verdict,
            });
            state.scroll_sample = 0;
        }
        RunEvent::Log { level, message } => {
            state.push_log(LogSource::Worker(level), format::sanitize(&message))
        }
        RunEvent::TaskScored { task, scores } => {
            task_mut(state, &task).scores = Some(scores);
        }
        RunEvent::Finished { results_file } => {
            state.push_log(
                LogSource::Ui,
                format!("results written to {}", results_file.display()),
            );
            state.results_file = Some(results_file);
        }
        RunEvent::Cancelled { done } => {
            state.push_log(
                LogSource::Ui,
                format!("run cancelled; {done} finished documents are journaled"),
            );
        }
        RunEvent::Failed { error } => {
            state.push_log(
                LogSource::Worker(sparkbench_protocol::LogLevel::Error),
                format::sanitize(&error),
            );
        }
    }
}

fn on_watchdog(state: &mut AppState, event: WatchdogEvent) {
    let w = &mut state.watchdog;
    match event {
        WatchdogEvent::Tick {
            since_progress,
            remaining,
            cpu_percent,
            rss_bytes,
        } => {
            w.since_progress = Some(since_progress);
            w.remaining = remaining;
            w.cpu_percent = Some(cpu_percent);
            w.rss_bytes = Some(rss_bytes);
        }
        WatchdogEvent::Warning { since_progress } => {
            w.since_progress = Some(since_progress);
            if w.status == WatchdogStatus::Ok {
                w.status = WatchdogStatus::Warning;
            }
            let text = format!("no progress for {}", format::duration(since_progress));
            state.push_watchdog_message(text);
        }
        WatchdogEvent::Stalled {
            since_progress,
            remaining,
            cpu_percent,
            rss_bytes,
        } => {
            w.since_progress = Some(since_progress);
            w.remaining = remaining;
            w.cpu_percent = Some(cpu_percent);
            w.rss_bytes = Some(rss_bytes);
            if w.status != WatchdogStatus::TimedOut {
                w.status = WatchdogStatus::Stalled;
            }
            let mut text = format!(
                "stalled: no progress for {}, CPU {cpu_percent:.0}%, memory {}",
                format::duration(since_progress),
                format::bytes(rss_bytes)
            );
            if let Some(left) = remaining {
                text.push_str(&format!(", ended in {}", format::duration(left)));
            }
            state.push_watchdog_message(text);
        }
        WatchdogEvent::TimedOut { timeout } => {
            w.status = WatchdogStatus::TimedOut;
            w.timeout = Some(timeout);
            w.remaining = Some(Duration::ZERO);
            let text = format!(
                "timeout of {} reached: ending the worker, keeping partial results",
                format::duration(timeout)
            );
            state.push_watchdog_message(text);
        }
    }
}

fn on_key(state: &mut AppState, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
    match state.overlay {
        Overlay::ConfirmAbort => {
            return match key.code {
                KeyCode::Char('y' | 'Y') | KeyCode::Enter => confirm_abort(state),
                _ if ctrl_c => confirm_abort(state),
                KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => {
                    state.overlay = Overlay::None;
                    None
                }
                _ => None,
            };
        }
        Overlay::Help => {
            if matches!(
                key.code,
                KeyCode::Esc | KeyCode::Char('?' | 'q') | KeyCode::Enter
            ) {
                state.overlay = Overlay::None;
            }
            return None;
        }
        Overlay::None => {}
    }
    if state.exited() {
        match key.code {
            KeyCode::Enter | KeyCode::Char('r') => {
                return Some(Action::Leave { show_results: true });
            }
            KeyCode::Char('q') | KeyCode::Esc => {
                return Some(Action::Leave {
                    show_results: false,
                });
            }
            _ if ctrl_c => {
                return Some(Action::Leave {
                    show_results: false,
                });
            }
            _ => {}
        }
    } else if matches!(key.code, KeyCode::Char('q') | KeyCode::Esc) || ctrl_c {
        if state.status != RunStatus::Aborting {
            state.overlay = Overlay::ConfirmAbort;
        }
        return None;
    }
    match key.code {
        KeyCode::Char('?') => state.overlay = Overlay::Help,
        KeyCode::Tab => state.focus = state.focus.next(),
        KeyCode::BackTab => state.focus = state.focus.prev(),
        KeyCode::Up => scroll(state, -1),
        KeyCode::Down => scroll(state, 1),
        KeyCode::PageUp => scroll(state, -(PAGE as isize)),
        KeyCode::PageDown => scroll(state, PAGE as isize),
        KeyCode::Home => scroll(state, isize::MIN / 2),
        KeyCode::End => scroll(state, isize::MAX / 2),
        _ => {}
    }
    None
}

fn confirm_abort(state: &mut AppState) -> Option<Action> {
    state.overlay = Overlay::None;
    if state.exited() {
        return None;
    }
    state.status = RunStatus::Aborting;
    state.push_log(
        LogSource::Ui,
        "abort requested: stopping the worker, keeping finished documents".into(),
    );
    Some(Action::Abort)
}

/// Scroll the focused pane; positive is down (towards the end).
fn scroll(state: &mut AppState, by: isize) {
    fn moved(value: usize, by: isize, max: usize) -> usize {
        value.saturating_add_signed(by).min(max)
    }
    match state.focus {
        Pane::Tasks => {
            state.scroll_tasks = moved(state.scroll_tasks, by, state.tasks.len().saturating_sub(1))
        }
        Pane::Sample => state.scroll_sample = moved(state.scroll_sample, by, 200),
        // The log counts up from the bottom: scrolling down moves towards the newest line.
        Pane::Log => {
            state.scroll_log = moved(state.scroll_log, -by, state.log.len().saturating_sub(1))
        }
    }
}
