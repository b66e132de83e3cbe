//! The plain printer: progress lines for pipes and CI, never an escape byte.

mod common;

use std::time::Duration;

use common::*;
use sparkbench_protocol::{LogLevel, MonitorEvent, RunEvent, TaskScore, WatchdogEvent, WorkerExit};
use sparkbench_tui::PlainPrinter;
use sparkbench_tui::dashboard::AppEvent;
use tokio::sync::mpsc::unbounded_channel;

fn monitor(e: AppEvent) -> MonitorEvent {
    match e {
        AppEvent::Monitor(m) => m,
        other => panic!("not a monitor event: {other:?}"),
    }
}

fn hostile_run() -> Vec<MonitorEvent> {
    let mut events = vec![monitor(run(started()))];
    for done in 1..=541 {
        events.push(monitor(progress("ifeval", done, 541, 10, 0.4)));
    }
    events.extend([
        MonitorEvent::Stderr {
            line: "\u{1b}[31mred warning\u{1b}[0m \u{1b}]0;title\u{7}done\r".into(),
        },
        MonitorEvent::Run {
            event: RunEvent::Log {
                level: LogLevel::Warn,
                message: "bad \u{1b}[2J clear".into(),
            },
        },
        MonitorEvent::Run {
            event: RunEvent::TaskScored {
                task: "ifeval".into(),
                scores: vec![TaskScore {
                    metric: "prompt_level_strict_acc".into(),
                    filter: "none".into(),
                    value: 0.41,
                    stderr: Some(0.02),
                }],
            },
        },
        MonitorEvent::Watchdog {
            event: WatchdogEvent::Warning {
                since_progress: Duration::from_secs(61),
            },
        },
        MonitorEvent::Watchdog {
            event: WatchdogEvent::Stalled {
                since_progress: Duration::from_secs(90),
                remaining: None,
                cpu_percent: 1.0,
                rss_bytes: 2048,
            },
        },
        MonitorEvent::Run {
            event: RunEvent::Failed {
                error: "\u{1b}[1mboom\u{1b}[0m".into(),
            },
        },
        MonitorEvent::Exited {
            exit: WorkerExit::Failed {
                cause: "exit code 1\u{1b}[0m".into(),
            },
        },
    ]);
    events
}

#[test]
fn plain_output_has_no_escape_bytes() {
    let mut printer = PlainPrinter::new();
    printer.samples = true;
    let text: String = hostile_run()
        .iter()
        .flat_map(|e| printer.lines(e))
        .map(|l| l + "\n")
        .collect();
    assert!(!text.as_bytes().contains(&0x1b), "escape byte in:\n{text}");
    assert!(text.contains("red warning done"), "{text}");
    assert!(text.contains("watchdog: no progress for 1m01s"));
    assert!(text.contains("worker failed: exit code 1"));
}

#[test]
fn progress_is_printed_every_tenth_not_every_document() {
    let mut printer = PlainPrinter::new();
    let progress_lines: Vec<String> = hostile_run()
        .iter()
        .flat_map(|e| printer.lines(e))
        .filter(|l| l.starts_with("[ifeval] ") && l.contains("documents"))
        .collect();
    // The first document, then each tenth up to 100%.
    assert_eq!(progress_lines.len(), 11, "{progress_lines:#?}");
    assert!(progress_lines[0].starts_with("[ifeval] 1/541 documents (0%)"));
    assert!(progress_lines[10].starts_with("[ifeval] 541/541 documents (100%)"));
}

#[tokio::test]
async fn print_plain_writes_until_exit_and_returns_how_it_ended() {
    let (tx, mut rx) = unbounded_channel();
    for e in hostile_run() {
        tx.send(e).expect("send");
    }
    let mut out: Vec<u8> = Vec::new();
    let exit = sparkbench_tui::print_plain(&mut rx, &mut out)
        .await
        .expect("print");
    assert!(matches!(exit, WorkerExit::Failed { .. }));
    assert!(!out.contains(&0x1b));
    let text = String::from_utf8(out).expect("utf-8");
    assert!(
        text.lines().all(|l| l.starts_with("sparkbench: ")),
        "{text}"
    );
}
