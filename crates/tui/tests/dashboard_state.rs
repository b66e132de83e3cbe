//! The dashboard's state changes as plain functions: events in, state (and actions) out.

mod common;

use std::time::Duration;

use common::*;
use crossterm::event::KeyCode;
use sparkbench_protocol::{MonitorEvent, WatchdogEvent, WorkerExit};
use sparkbench_tui::Theme;
use sparkbench_tui::dashboard::{
    Action, AppEvent, AppState, Overlay, Pane, RunStatus, WatchdogStatus, update,
};

#[test]
fn progress_updates_tasks_scores_rates_and_eta() {
    let s = running_state();
    assert_eq!(s.status, RunStatus::Running);
    assert_eq!(s.header.device.as_deref(), Some("cuda:0"));
    assert_eq!(s.header.dtype.as_deref(), Some("bf16"));
    let ifeval = &s.tasks[0];
    assert_eq!((ifeval.done, ifeval.total), (541, 541));
    assert!(ifeval.finished());
    assert_eq!(
        ifeval.shown_score().map(|sc| sc.value),
        Some(0.4140),
        "final score replaces the running one"
    );
    let gsm = &s.tasks[1];
    assert_eq!((gsm.done, gsm.total), (440, 1319));
    assert_eq!(gsm.running.as_ref().map(|r| r.value), Some(0.3250));
    // 8 docs a second from t=41 to t=95: (1319-440)/8 s left.
    let eta = gsm.eta().expect("eta");
    assert!((eta.as_secs_f64() - 879.0 / 8.0).abs() < 1.0, "{eta:?}");
    assert_eq!(s.tasks[2].done, 0);
    assert_eq!(s.elapsed, Duration::from_secs(95));
    assert_eq!(s.tokens_per_second(), 2400.0);
    assert_eq!(s.docs_per_second(), 8.0);
    assert_eq!(s.docs_overall(), (981, 11902));
    assert_eq!(s.sample.as_ref().map(|x| x.doc), Some(439));
}

#[test]
fn watchdog_warning_then_stalled_then_progress_resumes() {
    let mut s = warning_state();
    assert_eq!(s.watchdog.status, WatchdogStatus::Warning);
    assert_eq!(
        s.watchdog.messages.back().map(String::as_str),
        Some("no progress for 1m05s")
    );
    apply(
        &mut s,
        vec![
            secs(190),
            watchdog(WatchdogEvent::Stalled {
                since_progress: Duration::from_secs(95),
                remaining: Some(Duration::from_secs(1705)),
                cpu_percent: 0.0,
                rss_bytes: 1024,
            }),
        ],
    );
    assert_eq!(s.watchdog.status, WatchdogStatus::Stalled);
    assert_eq!(s.watchdog.remaining, Some(Duration::from_secs(1705)));
    let last = s.watchdog.messages.back().cloned().unwrap_or_default();
    assert!(
        last.contains("stalled") && last.contains("CPU 0%") && last.contains("ended in 28m25s"),
        "{last}"
    );
    apply(&mut s, vec![progress("gsm8k", 441, 1319, 10, 0.33)]);
    assert_eq!(s.watchdog.status, WatchdogStatus::Ok);
    assert_eq!(s.watchdog.since_progress, Some(Duration::ZERO));
}

#[test]
fn timeout_marks_the_watchdog_timed_out() {
    let mut s = stalled_state();
    apply(
        &mut s,
        vec![watchdog(WatchdogEvent::TimedOut {
            timeout: Duration::from_secs(1800),
        })],
    );
    assert_eq!(s.watchdog.status, WatchdogStatus::TimedOut);
    assert!(
        s.watchdog
            .messages
            .back()
            .is_some_and(|m| m.contains("timeout of 30m00s reached"))
    );
}

#[test]
fn abort_asks_first_and_can_be_cancelled() {
    let mut s = running_state();
    assert_eq!(update(&mut s, key(KeyCode::Char('q'))), None);
    assert_eq!(s.overlay, Overlay::ConfirmAbort);
    assert_eq!(update(&mut s, key(KeyCode::Char('n'))), None);
    assert_eq!(s.overlay, Overlay::None);
    assert_eq!(s.status, RunStatus::Running);
    assert_eq!(update(&mut s, key(KeyCode::Esc)), None);
    assert_eq!(s.overlay, Overlay::ConfirmAbort);
    assert_eq!(
        update(&mut s, key(KeyCode::Esc)),
        None,
        "Esc in the dialog keeps running"
    );
    assert_eq!(s.overlay, Overlay::None);
}

#[test]
fn abort_confirmed_asks_the_worker_to_stop_once() {
    let mut s = running_state();
    update(&mut s, key(KeyCode::Char('q')));
    assert_eq!(update(&mut s, key(KeyCode::Char('y'))), Some(Action::Abort));
    assert_eq!(s.status, RunStatus::Aborting);
    assert_eq!(s.overlay, Overlay::None);
    // While aborting, q does not ask again.
    assert_eq!(update(&mut s, key(KeyCode::Char('q'))), None);
    assert_eq!(s.overlay, Overlay::None);
    // Ctrl-C twice also aborts.
    let mut t = running_state();
    update(&mut t, ctrl_c());
    assert_eq!(update(&mut t, ctrl_c()), Some(Action::Abort));
}

#[test]
fn finished_and_exited_wait_for_the_user() {
    let mut s = finished_state();
    assert_eq!(s.status, RunStatus::Exited(WorkerExit::Completed));
    assert!(s.results_file.is_some());
    let elapsed = s.elapsed;
    update(&mut s, secs(500));
    assert_eq!(
        s.elapsed, elapsed,
        "the clock stops when the worker is gone"
    );
    assert_eq!(update(&mut s, key(KeyCode::Char('?'))), None);
    assert_eq!(s.overlay, Overlay::Help);
    update(&mut s, key(KeyCode::Esc));
    assert_eq!(
        update(&mut s, key(KeyCode::Enter)),
        Some(Action::Leave { show_results: true })
    );
    assert_eq!(
        update(&mut s, key(KeyCode::Char('q'))),
        Some(Action::Leave {
            show_results: false
        })
    );
}

#[test]
fn exit_after_abort_closes_the_dialog_and_records_partial_results() {
    let mut s = running_state();
    update(&mut s, key(KeyCode::Char('q')));
    apply(
        &mut s,
        vec![
            AppEvent::Monitor(MonitorEvent::PartialFinalised {
                results_file: Some("outputs/m/results_partial.json".into()),
                counts: vec![("ifeval".into(), 541), ("gsm8k".into(), 440)],
            }),
            AppEvent::Monitor(MonitorEvent::Exited {
                exit: WorkerExit::Aborted,
            }),
        ],
    );
    assert_eq!(s.overlay, Overlay::None);
    assert_eq!(s.status, RunStatus::Exited(WorkerExit::Aborted));
    assert_eq!(s.partial.as_ref().map(Vec::len), Some(2));
    assert!(
        s.log
            .iter()
            .any(|l| l.text.contains("partial results of 981 documents"))
    );
    // Confirming an abort after the exit does nothing.
    assert_eq!(update(&mut s, key(KeyCode::Char('y'))), None);
}

#[test]
fn closed_channel_without_exit_counts_as_failed() {
    let mut s = running_state();
    update(&mut s, AppEvent::EventsClosed);
    assert!(matches!(
        s.status,
        RunStatus::Exited(WorkerExit::Failed { .. })
    ));
}

#[test]
fn signals_abort_and_leave() {
    let mut s = running_state();
    assert_eq!(
        update(&mut s, AppEvent::Signal("SIGTERM")),
        Some(Action::AbortAndLeave { signal: "SIGTERM" })
    );
    assert_eq!(s.status, RunStatus::Aborting);
}

#[test]
fn tab_switches_panes_and_arrows_scroll_the_focused_one() {
    let mut s = running_state();
    assert_eq!(s.focus, Pane::Tasks);
    update(&mut s, key(KeyCode::Down));
    assert_eq!(s.scroll_tasks, 1);
    update(&mut s, key(KeyCode::PageDown));
    assert_eq!(s.scroll_tasks, 2, "clamped to the last task");
    update(&mut s, key(KeyCode::Tab));
    update(&mut s, key(KeyCode::Tab));
    assert_eq!(s.focus, Pane::Log);
    update(&mut s, key(KeyCode::Up));
    assert_eq!(s.scroll_log, 1);
    update(&mut s, key(KeyCode::End));
    assert_eq!(s.scroll_log, 0, "End follows the newest line again");
    update(&mut s, key(KeyCode::BackTab));
    assert_eq!(s.focus, Pane::Sample);
}

#[test]
fn worker_text_is_sanitised() {
    let mut s = AppState::new(header(), Theme::plain());
    update(
        &mut s,
        AppEvent::Monitor(MonitorEvent::Stderr {
            line: "\u{1b}[31mred\u{1b}[0m\rline".into(),
        }),
    );
    assert_eq!(s.log.back().map(|l| l.text.as_str()), Some("red line"));
}

#[test]
fn ticks_fill_one_history_slot_per_second() {
    let mut s = AppState::new(header(), Theme::plain());
    apply(
        &mut s,
        vec![
            run(started()),
            progress("ifeval", 5, 541, 500, 0.2),
            AppEvent::Tick(Duration::from_millis(2500)),
        ],
    );
    assert_eq!(
        s.tokens_history.iter().copied().collect::<Vec<_>>(),
        vec![500, 0]
    );
    update(&mut s, AppEvent::Tick(Duration::from_millis(2900)));
    assert_eq!(s.tokens_history.len(), 2);
}
