//! Runs one RunSpec in the worker process under the supervisor, shown on the dashboard or as
//! plain lines, and keeps `run.json` up to date (running -> complete | partial | failed).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sparkbench_protocol::{MonitorEvent, RunEvent, RunSpec, WorkerExit};
use sparkbench_runs::record::{DocCount, RunRecord, RunStatus, write_run_record};
use sparkbench_supervisor::{WorkerCommand, start, write_spec_file};
use sparkbench_tui::{HeaderInfo, print_plain, run_dashboard};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// How progress is shown.
#[derive(Debug, Clone)]
pub enum Display {
    /// The ratatui dashboard.
    Dashboard(HeaderInfo),
    /// Plain lines on stdout.
    Plain,
}

/// What one run produced.
#[derive(Debug, Clone)]
pub struct Executed {
    /// How the worker ended.
    pub exit: WorkerExit,
    /// The results file (complete or partial).
    pub results_file: Option<PathBuf>,
    /// Whether the results are partial.
    pub partial: bool,
    /// The user asked for the results screen (dashboard only).
    pub show_results: bool,
    /// A signal ended the dashboard.
    pub signal: Option<&'static str>,
}

impl Executed {
    /// Whether the run completed.
    pub fn completed(&self) -> bool {
        matches!(self.exit, WorkerExit::Completed)
    }
}

/// Counts gathered from the event stream for run.json.
#[derive(Debug, Default)]
struct Stats {
    docs: std::collections::BTreeMap<String, DocCount>,
    tokens: u64,
    first_progress: Option<Instant>,
    results_file: Option<PathBuf>,
    partial_results: Option<PathBuf>,
    partial: bool,
}

impl Stats {
    fn see(&mut self, ev: &MonitorEvent) {
        match ev {
            MonitorEvent::Run { event } => match event {
                RunEvent::Started { tasks, .. } => {
                    for t in tasks {
                        self.docs.insert(
                            t.task.clone(),
                            DocCount {
                                done: t.done,
                                total: t.docs,
                            },
                        );
                    }
                }
                RunEvent::Progress {
                    task,
                    done,
                    total,
                    tokens,
                    ..
                } => {
                    self.first_progress.get_or_insert_with(Instant::now);
                    self.tokens += tokens;
                    self.docs.insert(
                        task.clone(),
                        DocCount {
                            done: *done,
                            total: *total,
                        },
                    );
                }
                RunEvent::Heartbeat { tokens } => self.tokens += tokens,
                RunEvent::Finished { results_file } => {
                    self.results_file = Some(results_file.clone())
                }
                _ => {}
            },
            MonitorEvent::PartialFinalised {
                results_file,
                counts,
            } => {
                self.partial = true;
                self.partial_results = results_file.clone();
                for (task, done) in counts {
                    let total = self.docs.get(task).map(|d| d.total).unwrap_or(*done);
                    self.docs
                        .insert(task.clone(), DocCount { done: *done, total });
                }
            }
            _ => {}
        }
    }
}

/// Forward events from `rx` to a new channel, recording stats on the way.
fn tap(
    mut rx: UnboundedReceiver<MonitorEvent>,
    stats: Arc<Mutex<Stats>>,
) -> UnboundedReceiver<MonitorEvent> {
    let (tx, out) = unbounded_channel();
    tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            stats.lock().unwrap_or_else(|p| p.into_inner()).see(&ev);
            if tx.send(ev).is_err() {
                // The display is gone; keep draining so the supervisor is never blocked.
                continue;
            }
        }
    });
    out
}

/// Wait for SIGTERM, SIGINT or SIGHUP; on the first, record it and abort the run.
async fn abort_on_signal(
    abort: sparkbench_supervisor::AbortHandle,
    caught: Arc<Mutex<Option<&'static str>>>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        return;
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
        _ = hup.recv() => "SIGHUP",
    };
    *caught.lock().unwrap_or_else(|p| p.into_inner()) = Some(name);
    eprintln!("sparkbench: {name}: stopping the run; finished documents are kept");
    abort.abort();
}

/// The spec file the worker reads, beside the results.
pub fn spec_file(output_dir: &Path) -> PathBuf {
    output_dir.join("run-spec.json")
}

/// Run `spec` and wait for it. `run_dir` (the folder holding `lm-eval/`) gets `run.json`.
pub fn execute(
    rt: &tokio::runtime::Runtime,
    spec: &RunSpec,
    run_dir: Option<&Path>,
    timeout: Option<Duration>,
    display: Display,
) -> Result<Executed> {
    std::fs::create_dir_all(&spec.output_dir)
        .with_context(|| format!("creating {}", spec.output_dir.display()))?;
    let spec_path = spec_file(&spec.output_dir);
    write_spec_file(spec, &spec_path)?;
    let mut record = RunRecord::start(spec);
    if let Some(dir) = run_dir {
        write_run_record(dir, &record)?;
    }
    let started = Instant::now();
    let stats = Arc::new(Mutex::new(Stats::default()));
    let mut cmd = WorkerCommand::for_current_exe(&spec_path)?.with_timeout(timeout);
    // A hung worker ignores the cooperative cancel; keep the escalation well inside the
    // "timeout + 2 s" promise. Finished documents are journaled either way.
    cmd.grace = Duration::from_millis(800);
    // One compute thread per physical core (candle's matmul and our kernels both read it).
    cmd.env.push((
        sparkbench_candle::device::THREADS_ENV.into(),
        sparkbench_candle::device::compute_threads()
            .to_string()
            .into(),
    ));
    let outcome = rt.block_on(async {
        let supervised = start(cmd)?;
        let (events, abort) = supervised.into_parts();
        let events = tap(events, stats.clone());
        match display {
            Display::Dashboard(header) => {
                let out = run_dashboard(events, Box::new(move || abort.abort()), header).await?;
                let mut exit = out.exit.clone();
                if let Some(mut rest) = out.events {
                    // A signal ended the dashboard: wait for the partial results, printing plainly.
                    let mut stdout = std::io::stdout();
                    exit = print_plain(&mut rest, &mut stdout).await?;
                }
                anyhow::Ok(Executed {
                    exit,
                    results_file: out.results_file,
                    partial: out.partial,
                    show_results: out.show_results,
                    signal: out.signal,
                })
            }
            Display::Plain => {
                // Without the dashboard, SIGTERM/SIGINT/SIGHUP abort the run the same way the
                // dashboard's `q` does: the worker is ended and partial results are finalised.
                let caught: Arc<Mutex<Option<&'static str>>> = Arc::default();
                let watcher = tokio::spawn(abort_on_signal(abort, caught.clone()));
                let mut events = events;
                let mut stdout = std::io::stdout();
                let exit = print_plain(&mut events, &mut stdout).await?;
                watcher.abort();
                let signal = *caught.lock().unwrap_or_else(|p| p.into_inner());
                anyhow::Ok(Executed {
                    exit,
                    results_file: None,
                    partial: false,
                    show_results: false,
                    signal,
                })
            }
        }
    })?;
    let stats = stats.lock().unwrap_or_else(|p| p.into_inner());
    let mut executed = outcome;
    if executed.results_file.is_none() {
        executed.results_file = stats
            .results_file
            .clone()
            .or_else(|| stats.partial_results.clone());
    }
    executed.partial |= stats.partial;
    if let Some(dir) = run_dir {
        let (status, error) = match &executed.exit {
            WorkerExit::Completed => (RunStatus::Complete, None),
            WorkerExit::Aborted => (RunStatus::Partial, Some("aborted by the user".to_string())),
            WorkerExit::TimedOut => (
                RunStatus::Partial,
                Some("ended by the watchdog".to_string()),
            ),
            WorkerExit::Failed { cause } => (
                if stats.partial_results.is_some() {
                    RunStatus::Partial
                } else {
                    RunStatus::Failed
                },
                Some(cause.clone()),
            ),
        };
        record.doc_counts = stats.docs.clone();
        let wall = started.elapsed().as_secs_f64();
        record.timings.total_s = Some(wall);
        let done: usize = stats.docs.values().map(|d| d.done).sum();
        if wall > 0.0 {
            record.throughput.docs_per_s = Some(done as f64 / wall);
            record.throughput.tokens_per_s = Some(stats.tokens as f64 / wall);
        }
        record.finish(status, error);
        write_run_record(dir, &record)?;
    }
    Ok(executed)
}
