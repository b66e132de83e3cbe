//! The dashboard's terminal lifecycle and event loop: [`run_dashboard`] sets up the terminal
//! (ratatui's `try_init`, which also installs the restoring panic hook), merges monitor events,
//! keys, ticks and signals into [`AppEvent`]s, and restores the terminal on every way out.

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::Event;
use ratatui::Terminal;
use ratatui::backend::Backend;
use sparkbench_protocol::{MonitorEvent, WorkerExit};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::dashboard::render::render;
use crate::dashboard::state::{AppState, RunStatus};
use crate::dashboard::update::{Action, AppEvent, update};
use crate::error::TuiError;
use crate::input::InputThread;
use crate::theme::Theme;
use crate::view::HeaderInfo;

/// Redraw and tick period.
pub const TICK: Duration = Duration::from_millis(100);
/// Monitor events applied before a redraw at most (keeps keys responsive under a flood).
const BATCH: usize = 512;

/// How the dashboard ended.
#[derive(Debug)]
pub struct DashboardOutcome {
    /// How the worker ended (`Aborted` when a signal ended the dashboard first).
    pub exit: WorkerExit,
    /// The user asked for the results screen.
    pub show_results: bool,
    /// The results file, when one was written (complete or partial).
    pub results_file: Option<PathBuf>,
    /// Partial results were finalised.
    pub partial: bool,
    /// The signal that ended the dashboard, if one did. The caller should finish up and exit
    /// (signal handlers stay installed for the process's life).
    pub signal: Option<&'static str>,
    /// The monitor stream, handed back when the dashboard left before the worker was gone
    /// (after a signal), so the caller can wait for the partial results with the plain printer.
    pub events: Option<UnboundedReceiver<MonitorEvent>>,
}

/// Restores the terminal when dropped: the normal, error and unwinding exits.
struct RestoreGuard;

impl Drop for RestoreGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Forward SIGTERM, SIGINT and SIGHUP as [`AppEvent::Signal`].
#[cfg(unix)]
fn spawn_signals(tx: UnboundedSender<AppEvent>) -> Result<tokio::task::JoinHandle<()>, TuiError> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &'static str| {
        signal(kind).map_err(|source| TuiError::Signal {
            signal: name,
            source,
        })
    };
    let mut term = listen(SignalKind::terminate(), "SIGTERM")?;
    let mut int = listen(SignalKind::interrupt(), "SIGINT")?;
    let mut hup = listen(SignalKind::hangup(), "SIGHUP")?;
    Ok(tokio::spawn(async move {
        loop {
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
                _ = hup.recv() => "SIGHUP",
            };
            if tx.send(AppEvent::Signal(name)).is_err() {
                break;
            }
        }
    }))
}

#[cfg(not(unix))]
fn spawn_signals(tx: UnboundedSender<AppEvent>) -> Result<tokio::task::JoinHandle<()>, TuiError> {
    Ok(tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if tx.send(AppEvent::Signal("SIGINT")).is_err() {
                break;
            }
        }
    }))
}

/// Show the live dashboard until the worker is gone and the user leaves, or a signal arrives.
/// `abort` is called once when the user confirms the abort (or a signal arrives); the events
/// keep coming until `Exited`. The terminal is restored on every way out.
pub async fn run_dashboard(
    events: UnboundedReceiver<MonitorEvent>,
    abort: Box<dyn Fn() + Send>,
    header: HeaderInfo,
) -> Result<DashboardOutcome, TuiError> {
    let (input_tx, input_rx) = unbounded_channel();
    let signals = spawn_signals(input_tx.clone())?;
    let mut terminal = ratatui::try_init()?;
    let guard = RestoreGuard;
    let input = InputThread::start(move |ev| {
        let app = match ev {
            Event::Resize(w, h) => AppEvent::Resize(w, h),
            Event::Key(key) => AppEvent::Key(key),
            _ => return true,
        };
        input_tx.send(app).is_ok()
    });
    let (w, h) = (terminal.size()?.width, terminal.size()?.height);
    let mut state = AppState::new(header, Theme::from_env());
    state.size = (w, h);
    let result = drive(&mut terminal, &mut state, events, input_rx, abort).await;
    drop(input);
    signals.abort();
    drop(guard);
    result
}

fn draw_error(e: impl std::fmt::Display) -> TuiError {
    TuiError::Terminal(io::Error::other(e.to_string()))
}

/// The loop: apply events, draw, carry out actions. Generic over the backend so tests drive it
/// with a `TestBackend` and channels.
pub async fn drive<B: Backend, F: FnMut()>(
    terminal: &mut Terminal<B>,
    state: &mut AppState,
    mut events: UnboundedReceiver<MonitorEvent>,
    mut inputs: UnboundedReceiver<AppEvent>,
    mut abort: F,
) -> Result<DashboardOutcome, TuiError> {
    let start = Instant::now();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut events_open = true;
    let mut aborted = false;
    let mut dirty = true;
    loop {
        if dirty {
            terminal
                .draw(|frame| render(state, frame))
                .map_err(draw_error)?;
            dirty = false;
        }
        let event = tokio::select! {
            ev = events.recv(), if events_open => match ev {
                Some(ev) => AppEvent::Monitor(ev),
                None => {
                    events_open = false;
                    AppEvent::EventsClosed
                }
            },
            input = inputs.recv() => match input {
                Some(input) => input,
                // Input and signal sources gone: keep going on ticks and monitor events.
                None => AppEvent::Tick(start.elapsed()),
            },
            _ = ticker.tick() => AppEvent::Tick(start.elapsed()),
        };
        let redraw_now = !matches!(event, AppEvent::Monitor(_));
        let mut action = update(state, event);
        // Apply what else is queued before drawing, so a flood of progress costs one frame.
        let mut applied = 0;
        while action.is_none() && events_open && applied < BATCH {
            match events.try_recv() {
                Ok(ev) => action = update(state, AppEvent::Monitor(ev)),
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                    events_open = false;
                    action = update(state, AppEvent::EventsClosed);
                }
            }
            applied += 1;
        }
        dirty |= redraw_now || applied > 0 || action.is_some() || state.exited();
        match action {
            None | Some(Action::Abort) if aborted => {}
            None => {}
            Some(Action::Abort) => {
                aborted = true;
                abort();
            }
            Some(Action::Leave { show_results }) => {
                terminal
                    .draw(|frame| render(state, frame))
                    .map_err(draw_error)?;
                return Ok(outcome(state, show_results, None, None));
            }
            Some(Action::AbortAndLeave { signal }) => {
                if !aborted && !state.exited() {
                    abort();
                }
                let rest = if state.exited() || !events_open {
                    None
                } else {
                    Some(events)
                };
                return Ok(outcome(state, false, Some(signal), rest));
            }
        }
    }
}

fn outcome(
    state: &AppState,
    show_results: bool,
    signal: Option<&'static str>,
    events: Option<UnboundedReceiver<MonitorEvent>>,
) -> DashboardOutcome {
    let exit = match &state.status {
        RunStatus::Exited(exit) => exit.clone(),
        _ => WorkerExit::Aborted,
    };
    DashboardOutcome {
        exit,
        show_results,
        results_file: state.results_file.clone(),
        partial: state.partial.is_some(),
        signal,
        events,
    }
}
