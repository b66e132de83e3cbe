//! [`start`] and [`Supervised`]: the worker's life from spawn to [`MonitorEvent::Exited`].
//!
//! One tokio task owns the child and runs a single loop over four sources: lines from the pipes,
//! the child's exit, an abort request, and the next timer (reading, watchdog, abort stage). The
//! abort is staged: `cancel` on stdin, `grace`, SIGTERM to the group, `term_wait`, SIGKILL to the
//! group, then at most [`REAP_WAIT`] for the kernel to let the child go. The loop never waits for
//! end of file on the pipes once the child is reaped (an escaped grandchild may hold them open).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sparkbench_protocol::{MonitorEvent, RunEvent, WatchdogEvent};
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, ChildStdin};
use tokio::sync::Notify;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::time::{Instant, sleep_until, timeout};

use crate::command::WorkerCommand;
use crate::error::SupervisorError;
use crate::finalize::{DRAIN, REAP_WAIT, finalize};
use crate::group::{group_exists, signal_group};
use crate::lines::{Line, Readers, spawn_readers};
use crate::outcome::{Reaped, Record, StopReason, classify};
use crate::output::Output;
use crate::spawn::{GroupGuard, spawn_in_group};
use crate::usage::UsageSampler;
use crate::watchdog::{Due, Timings, Watchdog, is_progress};

/// Shortest timer interval, so that zero durations cannot make the loop spin.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// Asks a supervised worker to stop. Clonable, so a key handler can hold one while another task
/// reads the events.
#[derive(Debug, Clone, Default)]
pub struct AbortHandle(Arc<AbortState>);

#[derive(Debug, Default)]
struct AbortState {
    requested: AtomicBool,
    notify: Notify,
}

impl AbortHandle {
    /// Ask the worker to stop: `cancel` on its stdin, then after the grace SIGTERM and SIGKILL to
    /// its process group, then partial results are finalised. Calling it again does nothing.
    pub fn abort(&self) {
        if !self.0.requested.swap(true, Ordering::SeqCst) {
            self.0.notify.notify_one();
        }
    }

    /// Whether an abort was asked for.
    pub fn is_requested(&self) -> bool {
        self.0.requested.load(Ordering::SeqCst)
    }
}

/// A running worker and its event stream.
///
/// Dropping it (or its receiver) counts as an abort: nobody is left to show the run, so the
/// worker is ended and partial results are finalised on the runtime.
#[derive(Debug)]
pub struct Supervised {
    events: UnboundedReceiver<MonitorEvent>,
    abort: AbortHandle,
    pid: u32,
}

impl Supervised {
    /// The event stream. It ends with exactly one [`MonitorEvent::Exited`], after which the
    /// channel closes.
    pub fn events(&mut self) -> &mut UnboundedReceiver<MonitorEvent> {
        &mut self.events
    }

    /// Take the receiver and the abort handle apart (for a UI that reads events on one task and
    /// handles keys on another).
    pub fn into_parts(self) -> (UnboundedReceiver<MonitorEvent>, AbortHandle) {
        (self.events, self.abort)
    }

    /// A handle that aborts this worker.
    pub fn abort_handle(&self) -> AbortHandle {
        self.abort.clone()
    }

    /// Abort the worker (idempotent); see [`AbortHandle::abort`].
    pub fn abort(&self) {
        self.abort.abort();
    }

    /// The worker's pid, which is also its process group id.
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

/// Start the worker and supervise it on the current tokio runtime.
///
/// Must be called from inside a tokio runtime (the supervision runs as a task on it); outside
/// one it returns [`SupervisorError::NoRuntime`]. Errors are only about starting; everything
/// after that (crashes, hangs, a failed finaliser) arrives on the event stream.
pub fn start(cmd: WorkerCommand) -> Result<Supervised, SupervisorError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| SupervisorError::NoRuntime)?;
    let _entered = runtime.enter();
    let mut child = spawn_in_group(&cmd, &cmd.args, true)?;
    let missing = |pipe| SupervisorError::MissingPipe {
        program: cmd.program.clone(),
        pipe,
    };
    let pid = child.id().ok_or_else(|| missing("process id"))?;
    // Take stdin before anything can call `wait`: tokio closes it there, and EOF means cancel.
    let stdin = child.stdin.take().ok_or_else(|| missing("stdin"))?;
    let stdout = child.stdout.take().ok_or_else(|| missing("stdout"))?;
    let stderr = child.stderr.take().ok_or_else(|| missing("stderr"))?;
    let readers = spawn_readers(stdout, stderr);
    let (tx, events) = unbounded_channel();
    let abort = AbortHandle::default();
    let worker = Worker {
        watchdog: Watchdog::new(
            Timings {
                timeout: cmd.timeout,
                warning_after: cmd.warning_after,
                status_every: cmd.status_every,
            },
            std::time::Instant::now(),
        ),
        cmd,
        child,
        stdin: Some(stdin),
        pid,
        guard: GroupGuard::new(pid),
        out: Output::new(tx),
        record: Record::default(),
        stop: None,
        stage: Stage::Running,
    };
    runtime.spawn(worker.supervise(readers, abort.clone()));
    Ok(Supervised { events, abort, pid })
}

/// Where the abort sequence stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Not stopping.
    Running,
    /// `cancel` was written; SIGTERM at the instant.
    Grace(Instant),
    /// SIGTERM was sent; SIGKILL at the instant.
    Term(Instant),
    /// SIGKILL was sent; give up waiting for the exit at the instant.
    Killed(Instant),
}

impl Stage {
    fn deadline(self) -> Option<Instant> {
        match self {
            Stage::Running => None,
            Stage::Grace(at) | Stage::Term(at) | Stage::Killed(at) => Some(at),
        }
    }
}

struct Worker {
    cmd: WorkerCommand,
    child: Child,
    stdin: Option<ChildStdin>,
    pid: u32,
    guard: GroupGuard,
    out: Output,
    record: Record,
    watchdog: Watchdog,
    stop: Option<StopReason>,
    stage: Stage,
}

impl Worker {
    async fn supervise(mut self, mut readers: Readers, abort: AbortHandle) {
        let tick_every = self.cmd.tick_every.max(MIN_INTERVAL);
        let sampler = UsageSampler::start(self.pid, tick_every);
        let mut next_tick = Instant::now() + tick_every;
        let mut open = true;
        let reaped = loop {
            let mut wake = next_tick;
            if self.stop.is_none()
                && let Some(due) = self.watchdog.next_due()
            {
                wake = wake.min(Instant::from_std(due));
            }
            if let Some(at) = self.stage.deadline() {
                wake = wake.min(at);
            }
            tokio::select! {
                biased;
                line = readers.rx.recv(), if open => match line {
                    Some(line) => self.line(line),
                    None => open = false,
                },
                status = self.child.wait() => break match status {
                    Ok(status) => Reaped::Status(status),
                    Err(e) => Reaped::WaitFailed(e.to_string()),
                },
                () = abort.0.notify.notified(), if self.stop.is_none() => {
                    self.begin_stop(StopReason::User).await;
                }
                () = sleep_until(wake) => {
                    let now = Instant::now();
                    if now >= next_tick {
                        self.tick(&sampler);
                        while next_tick <= now {
                            next_tick += tick_every;
                        }
                    }
                    self.watch(now, &sampler).await;
                    if let Some(reaped) = self.advance_stage(now) {
                        break reaped;
                    }
                }
            }
            if self.stop.is_none() && self.out.receiver_gone() {
                self.begin_stop(StopReason::User).await;
            }
        };
        drop(sampler);
        self.clean_group().await;
        let drain_until = Instant::now() + DRAIN;
        while open {
            tokio::select! {
                line = readers.rx.recv() => match line {
                    Some(line) => self.line(line),
                    None => open = false,
                },
                () = sleep_until(drain_until) => break,
            }
        }
        drop(readers);
        let exit = classify(self.stop, &reaped, &self.record);
        if exit != sparkbench_protocol::WorkerExit::Completed
            && let Some(args) = self.cmd.finalize_args.clone()
        {
            finalize(&self.cmd, &args, &mut self.out).await;
        }
        self.out.send(MonitorEvent::Exited { exit });
    }

    /// Forward one line and feed the watchdog.
    fn line(&mut self, line: Line) {
        match line {
            Line::Out(text) => {
                if text.trim().is_empty() {
                    return;
                }
                match RunEvent::from_line(text.trim()) {
                    Ok(event) => {
                        if is_progress(&event) {
                            self.watchdog.progress(std::time::Instant::now());
                        }
                        self.record.event(&event);
                        self.out.send(MonitorEvent::Run { event });
                    }
                    Err(_) => {
                        self.record.stderr(&text);
                        self.out.send(MonitorEvent::Stderr { line: text });
                    }
                }
            }
            Line::Err(text) => {
                self.record.stderr(&text);
                self.out.send(MonitorEvent::Stderr { line: text });
            }
        }
    }

    fn tick(&mut self, sampler: &UsageSampler) {
        let now = std::time::Instant::now();
        let usage = sampler.latest();
        self.out.send(MonitorEvent::Watchdog {
            event: WatchdogEvent::Tick {
                since_progress: self.watchdog.since_progress(now),
                remaining: self.watchdog.remaining(now),
                cpu_percent: usage.cpu_percent,
                rss_bytes: usage.rss_bytes,
            },
        });
    }

    /// Send what the watchdog has due, and start the abort at the timeout.
    async fn watch(&mut self, now: Instant, sampler: &UsageSampler) {
        if self.stop.is_some() {
            return;
        }
        let now = now.into_std();
        for due in self.watchdog.poll(now) {
            let since_progress = self.watchdog.since_progress(now);
            let event = match due {
                Due::Warning => WatchdogEvent::Warning { since_progress },
                Due::Stalled => {
                    let usage = sampler.latest();
                    WatchdogEvent::Stalled {
                        since_progress,
                        remaining: self.watchdog.remaining(now),
                        cpu_percent: usage.cpu_percent,
                        rss_bytes: usage.rss_bytes,
                    }
                }
                Due::TimedOut => {
                    // `poll` reports the timeout only when one is set.
                    WatchdogEvent::TimedOut {
                        timeout: self.cmd.timeout.unwrap_or(since_progress),
                    }
                }
            };
            self.out.send(MonitorEvent::Watchdog { event });
            if due == Due::TimedOut {
                self.begin_stop(StopReason::Timeout).await;
                return;
            }
        }
    }

    /// First abort stage: `cancel` on stdin, then close it (EOF also means cancel).
    async fn begin_stop(&mut self, reason: StopReason) {
        if self.stop.is_some() {
            return;
        }
        self.stop = Some(reason);
        if let Some(mut stdin) = self.stdin.take() {
            // A worker that exited or never reads stdin must not delay the abort.
            let _ = timeout(Duration::from_millis(200), async {
                stdin.write_all(b"cancel\n").await?;
                stdin.flush().await
            })
            .await;
        }
        self.stage = Stage::Grace(Instant::now() + self.cmd.grace);
    }

    /// Later abort stages; returns how the wait ended when the child cannot be reaped.
    fn advance_stage(&mut self, now: Instant) -> Option<Reaped> {
        match self.stage {
            Stage::Grace(at) if now >= at => {
                signal_group(self.pid, libc::SIGTERM);
                self.stage = Stage::Term(now + self.cmd.term_wait);
            }
            Stage::Term(at) if now >= at => {
                signal_group(self.pid, libc::SIGKILL);
                self.stage = Stage::Killed(now + REAP_WAIT);
            }
            Stage::Killed(at) if now >= at => return Some(Reaped::Stuck),
            _ => {}
        }
        None
    }

    /// After the worker exited: end whatever is left of its group (helpers it started), so
    /// nothing outlives the run, then stop guarding the group id.
    async fn clean_group(&mut self) {
        if !matches!(self.stage, Stage::Killed(_)) && group_exists(self.pid) {
            signal_group(self.pid, libc::SIGTERM);
            let until = Instant::now() + self.cmd.term_wait;
            while group_exists(self.pid) && Instant::now() < until {
                tokio::time::sleep(MIN_INTERVAL * 2).await;
            }
        }
        signal_group(self.pid, libc::SIGKILL);
        self.guard.disarm();
    }
}
