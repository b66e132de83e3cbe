//! The dashboard loop end to end on a TestBackend: monitor events and keys through channels,
//! the abort callback, the outcome, and the stream handed back after a signal.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sparkbench_protocol::{MonitorEvent, RunEvent, WorkerExit};
use sparkbench_tui::Theme;
use sparkbench_tui::dashboard::{AppEvent, AppState, drive};
use tokio::sync::mpsc::unbounded_channel;

/// Wait (up to 10 s) until `done` holds; events and keys arrive on separate channels, so tests
/// wait for the effect they need instead of guessing a delay.
async fn wait_until(done: impl Fn() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("condition not reached within 10 s");
}

/// Send `key` every 10 ms until the loop task ends.
async fn press_until_finished<T>(
    keys: &tokio::sync::mpsc::UnboundedSender<AppEvent>,
    code: KeyCode,
    task: &tokio::task::JoinHandle<T>,
) {
    wait_until(|| {
        let _ = keys.send(key(code));
        task.is_finished()
    })
    .await;
}

fn counter() -> (Arc<AtomicUsize>, impl Fn() + Send + 'static) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    (calls, move || {
        c.fetch_add(1, Ordering::SeqCst);
    })
}

#[tokio::test]
async fn abort_confirmed_calls_the_callback_once_and_leaves_after_exit() {
    let (events_tx, events_rx) = unbounded_channel();
    let (keys_tx, keys_rx) = unbounded_channel();
    let (calls, abort) = counter();
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    let mut state = AppState::new(header(), Theme::plain());
    let abort_tx = events_tx.clone();
    let task = tokio::spawn(async move {
        let outcome = drive(&mut terminal, &mut state, events_rx, keys_rx, abort).await;
        (outcome, terminal)
    });
    events_tx
        .send(MonitorEvent::Run { event: started() })
        .expect("send");
    for key_event in [
        key(KeyCode::Char('q')),
        key(KeyCode::Char('y')),
        key(KeyCode::Char('q')),
        key(KeyCode::Char('y')),
    ] {
        keys_tx.send(key_event).expect("send");
    }
    // The supervisor reacts to the abort: partial results, then the exit.
    wait_until(|| calls.load(Ordering::SeqCst) > 0).await;
    abort_tx
        .send(MonitorEvent::PartialFinalised {
            results_file: Some("outputs/m/results.json".into()),
            counts: vec![("ifeval".into(), 3)],
        })
        .expect("send");
    abort_tx
        .send(MonitorEvent::Exited {
            exit: WorkerExit::Aborted,
        })
        .expect("send");
    press_until_finished(&keys_tx, KeyCode::Enter, &task).await;
    let (outcome, terminal) = task.await.expect("join");
    let outcome = outcome.expect("outcome");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(outcome.exit, WorkerExit::Aborted);
    assert!(outcome.show_results);
    assert!(outcome.partial);
    assert_eq!(
        outcome.results_file.as_deref(),
        Some(std::path::Path::new("outputs/m/results.json"))
    );
    assert!(outcome.signal.is_none() && outcome.events.is_none());
    let screen = format!("{}", terminal.backend());
    assert!(screen.contains("aborted"), "{screen}");
}

#[tokio::test]
async fn a_signal_aborts_and_hands_the_stream_back() {
    let (events_tx, events_rx) = unbounded_channel();
    let (keys_tx, keys_rx) = unbounded_channel();
    let (calls, abort) = counter();
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    let mut state = AppState::new(header(), Theme::plain());
    events_tx
        .send(MonitorEvent::Run { event: started() })
        .expect("send");
    keys_tx.send(AppEvent::Signal("SIGTERM")).expect("send");
    let outcome = drive(&mut terminal, &mut state, events_rx, keys_rx, abort)
        .await
        .expect("outcome");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(outcome.signal, Some("SIGTERM"));
    assert_eq!(outcome.exit, WorkerExit::Aborted);
    let mut rest = outcome.events.expect("stream handed back");
    events_tx
        .send(MonitorEvent::Run {
            event: RunEvent::Cancelled { done: 3 },
        })
        .expect("send");
    assert!(rest.recv().await.is_some());
}

#[tokio::test]
async fn completed_run_then_q_leaves_without_results() {
    let (events_tx, events_rx) = unbounded_channel();
    let (keys_tx, keys_rx) = unbounded_channel();
    let (calls, abort) = counter();
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    let mut state = AppState::new(header(), Theme::plain());
    events_tx
        .send(MonitorEvent::Run { event: started() })
        .expect("send");
    events_tx
        .send(MonitorEvent::Run {
            event: RunEvent::Finished {
                results_file: "r.json".into(),
            },
        })
        .expect("send");
    events_tx
        .send(MonitorEvent::Exited {
            exit: WorkerExit::Completed,
        })
        .expect("send");
    drop(events_tx);
    let task = tokio::spawn(async move {
        let outcome = drive(&mut terminal, &mut state, events_rx, keys_rx, abort).await;
        (outcome, terminal)
    });
    press_until_finished(&keys_tx, KeyCode::Char('q'), &task).await;
    let (outcome, terminal) = task.await.expect("join");
    let outcome = outcome.expect("outcome");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(outcome.exit, WorkerExit::Completed);
    assert!(!outcome.show_results);
    assert!(format!("{}", terminal.backend()).contains("completed"));
}
