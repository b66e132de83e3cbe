//! The plain printer for output that is not a terminal (pipes, CI): [`MonitorEvent`]s become
//! progress lines with no escape codes, whatever the worker wrote. Progress is printed at the
//! first document, every tenth of a task and its end, so logs stay short.

use std::collections::HashMap;
use std::io::Write;

use sparkbench_protocol::{
    LogLevel, MonitorEvent, RunEvent, SampleVerdict, WatchdogEvent, WorkerExit,
};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::error::TuiError;
use crate::format;

/// Turns monitor events into lines.
#[derive(Debug, Default)]
pub struct PlainPrinter {
    /// The tenth of each task last printed.
    printed: HashMap<String, usize>,
    /// Print every sample (off by default).
    pub samples: bool,
}

impl PlainPrinter {
    /// A printer that prints progress, logs, watchdog reports and the end.
    pub fn new() -> Self {
        Self::default()
    }

    /// The lines for one event (often none), without trailing newlines or escape codes.
    pub fn lines(&mut self, event: &MonitorEvent) -> Vec<String> {
        let lines = match event {
            MonitorEvent::Run { event } => self.run_lines(event),
            MonitorEvent::Stderr { line } => vec![format!("worker: {line}")],
            MonitorEvent::Watchdog { event } => watchdog_lines(event),
            MonitorEvent::PartialFinalised {
                results_file,
                counts,
            } => {
                let docs: usize = counts.iter().map(|(_, n)| n).sum();
                match results_file {
                    Some(f) => vec![format!(
                        "partial results: {docs} documents, written to {}",
                        f.display()
                    )],
                    None => vec!["partial results: no document had finished".to_string()],
                }
            }
            MonitorEvent::Exited { exit } => vec![match exit {
                WorkerExit::Completed => "worker finished".to_string(),
                WorkerExit::Aborted => "worker stopped: aborted".to_string(),
                WorkerExit::TimedOut => "worker stopped: timed out".to_string(),
                WorkerExit::Failed { cause } => format!("worker failed: {cause}"),
            }],
        };
        lines.into_iter().map(|l| format::sanitize(&l)).collect()
    }

    fn run_lines(&mut self, event: &RunEvent) -> Vec<String> {
        match event {
            RunEvent::Started { model, tasks } => {
                let mut out = vec![format!(
                    "model {} on {} ({}, {}), {} tasks",
                    model.name,
                    model.backend,
                    model.device,
                    model.dtype,
                    tasks.len()
                )];
                for t in tasks {
                    let resumed = if t.done > 0 {
                        format!(", {} already done", t.done)
                    } else {
                        String::new()
                    };
                    out.push(format!("  {}: {} documents{resumed}", t.task, t.docs));
                }
                out
            }
            RunEvent::Phase { phase } => vec![format!("phase: {}", phase.label())],
            RunEvent::Progress {
                task,
                done,
                total,
                running,
                ..
            } => {
                let tenth = if *total == 0 {
                    10
                } else {
                    (done * 10 / total).min(10)
                };
                if self.printed.get(task).is_some_and(|&last| tenth <= last) {
                    return Vec::new();
                }
                self.printed.insert(task.clone(), tenth);
                let pct = if *total == 0 {
                    100.0
                } else {
                    *done as f64 * 100.0 / *total as f64
                };
                let score = running.as_ref().map_or_else(String::new, |s| {
                    format!(
                        ", {} {}",
                        s.metric,
                        format::score_with_stderr(s.value, s.stderr)
                    )
                });
                vec![format!(
                    "[{task}] {done}/{total} documents ({pct:.0}%){score}"
                )]
            }
            RunEvent::Heartbeat { .. } => Vec::new(),
            RunEvent::Sample {
                task,
                doc,
                response,
                verdict,
                ..
            } if self.samples => {
                let v = match verdict {
                    SampleVerdict::Correct => "correct".to_string(),
                    SampleVerdict::Incorrect => "incorrect".to_string(),
                    SampleVerdict::Score(s) => format!("score {s:.2}"),
                };
                vec![format!(
                    "[{task}] doc {doc}: {v}: {}",
                    format::head(response, 120)
                )]
            }
            RunEvent::Sample { .. } => Vec::new(),
            RunEvent::Log { level, message } => {
                let tag = match level {
                    LogLevel::Debug => "debug",
                    LogLevel::Info => "info",
                    LogLevel::Warn => "warning",
                    LogLevel::Error => "error",
                };
                vec![format!("{tag}: {message}")]
            }
            RunEvent::TaskScored { task, scores } => {
                let parts: Vec<String> = scores
                    .iter()
                    .map(|s| {
                        let name = if s.filter == "none" {
                            s.metric.clone()
                        } else {
                            format!("{},{}", s.metric, s.filter)
                        };
                        format!("{name} {}", format::score_with_stderr(s.value, s.stderr))
                    })
                    .collect();
                vec![format!("[{task}] scored: {}", parts.join(", "))]
            }
            RunEvent::Finished { results_file } => {
                vec![format!("results written to {}", results_file.display())]
            }
            RunEvent::Cancelled { done } => vec![format!(
                "run cancelled; {done} finished documents are journaled"
            )],
            RunEvent::Failed { error } => vec![format!("run failed: {error}")],
        }
    }
}

fn watchdog_lines(event: &WatchdogEvent) -> Vec<String> {
    match event {
        WatchdogEvent::Tick { .. } => Vec::new(),
        WatchdogEvent::Warning { since_progress } => {
            vec![format!(
                "watchdog: no progress for {}",
                format::duration(*since_progress)
            )]
        }
        WatchdogEvent::Stalled {
            since_progress,
            remaining,
            cpu_percent,
            rss_bytes,
        } => {
            let mut line = format!(
                "watchdog: stalled, no progress for {}, CPU {cpu_percent:.0}%, memory {}",
                format::duration(*since_progress),
                format::bytes(*rss_bytes)
            );
            if let Some(left) = remaining {
                line.push_str(&format!(", ended in {}", format::duration(*left)));
            }
            vec![line]
        }
        WatchdogEvent::TimedOut { timeout } => vec![format!(
            "watchdog: timeout of {} reached, ending the worker and keeping partial results",
            format::duration(*timeout)
        )],
    }
}

/// Print every event's lines to `out` until the worker is gone; returns how it ended.
pub async fn print_plain(
    events: &mut UnboundedReceiver<MonitorEvent>,
    out: &mut (dyn Write + Send),
) -> Result<WorkerExit, TuiError> {
    let mut printer = PlainPrinter::new();
    while let Some(event) = events.recv().await {
        for line in printer.lines(&event) {
            writeln!(out, "sparkbench: {line}")?;
        }
        out.flush()?;
        if let MonitorEvent::Exited { exit } = event {
            return Ok(exit);
        }
    }
    Ok(WorkerExit::Failed {
        cause: "the supervisor stopped without saying how the worker ended".into(),
    })
}
