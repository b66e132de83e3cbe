//! The supervisor against fake workers (bash scripts): event order, tolerance of stray output,
//! abort of an uncooperative tree, the watchdog's timings and timeout, crashes, the finaliser.
//!
//! Durations are shortened through `WorkerCommand`'s fields so each test takes a few seconds.
//! Bounds on how fast a worker is ended are the real bar (grace + 2 s, timeout + 2 s); other
//! margins are generous so a loaded machine does not make the tests flaky.

mod util;

use std::time::{Duration, Instant};

use sparkbench_protocol::{MonitorEvent, Phase, RunEvent, WatchdogEvent, WorkerExit};
use sparkbench_supervisor::{SupervisorError, WorkerCommand, start};
use util::*;

const PHASE: &str = r#"echo '{"event":"phase","phase":"scoring"}'"#;

fn is_phase(e: &MonitorEvent) -> bool {
    matches!(
        e,
        MonitorEvent::Run {
            event: RunEvent::Phase { .. }
        }
    )
}

/// The partial results file and counts, when partial results were finalised.
type Partial = (Option<std::path::PathBuf>, Vec<(String, usize)>);

fn partial(events: &[Timed]) -> Option<Partial> {
    events.iter().find_map(|(_, e)| match e {
        MonitorEvent::PartialFinalised {
            results_file,
            counts,
        } => Some((results_file.clone(), counts.clone())),
        _ => None,
    })
}

#[tokio::test]
async fn events_stream_in_order_and_a_finished_run_completes() {
    let (dir, cmd) = fake(
        r#"
echo '{"event":"phase","phase":"loading_data"}'
for i in 1 2 3; do
  echo "{\"event\":\"progress\",\"task\":\"gsm8k\",\"done\":$i,\"total\":3,\"tokens\":10}"
done
echo '{"event":"log","level":"info","message":"writing"}'
echo '{"event":"finished","results_file":"/tmp/r/results.json"}'
exit 0
"#,
        "touch \"$DIR/finaliser-ran\"; exit 0",
    );
    let mut sup = start(cmd).expect("start");
    let events = collect(&mut sup, secs(20.0)).await;
    let run = run_events(&events);
    assert_eq!(run.len(), 6, "{run:#?}");
    assert_eq!(
        run[0],
        RunEvent::Phase {
            phase: Phase::LoadingData
        }
    );
    for (i, event) in run[1..4].iter().enumerate() {
        assert!(
            matches!(event, RunEvent::Progress { done, .. } if *done == i + 1),
            "{event:?}"
        );
    }
    assert!(matches!(&run[4], RunEvent::Log { message, .. } if message == "writing"));
    assert_eq!(
        run[5],
        RunEvent::Finished {
            results_file: "/tmp/r/results.json".into()
        }
    );
    assert_eq!(exit_of(&events), WorkerExit::Completed);
    assert!(partial(&events).is_none());
    assert!(
        !dir.path().join("finaliser-ran").exists(),
        "no finaliser after a completed run"
    );
    assert_group_gone(sup.pid()).await;
}

#[tokio::test]
async fn stdout_lines_that_are_not_events_become_log_lines() {
    let (_dir, cmd) = fake(
        r#"
echo 'plain text from a library'
echo '{not json'
echo '{"event":"no_such_event"}'
echo ''
echo '{"event":"heartbeat","tokens":5}'
echo 'a warning' >&2
printf 'bad byte \377 here\n'
echo '{"event":"finished","results_file":"r.json"}'
"#,
        FINALISER_OK,
    );
    let mut sup = start(cmd).expect("start");
    let events = collect(&mut sup, secs(20.0)).await;
    let lines = stderr_lines(&events);
    for expected in [
        "plain text from a library",
        "{not json",
        "{\"event\":\"no_such_event\"}",
        "a warning",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected:?} missing from {lines:?}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("bad byte ") && l.ends_with(" here")),
        "{lines:?}"
    );
    assert_eq!(
        run_events(&events),
        vec![
            RunEvent::Heartbeat { tokens: 5 },
            RunEvent::Finished {
                results_file: "r.json".into()
            }
        ]
    );
    assert_eq!(exit_of(&events), WorkerExit::Completed);
}

#[tokio::test]
async fn abort_writes_cancel_and_a_cooperative_worker_stops_without_signals() {
    let (_dir, mut cmd) = fake(
        &format!(
            r#"
{PHASE}
read -r line
if [ "$line" = cancel ]; then
  echo '{{"event":"cancelled","done":2}}'
  exit 0
fi
echo "unexpected stdin: $line" >&2
exit 9
"#
        ),
        FINALISER_OK,
    );
    cmd.grace = secs(30.0);
    let mut sup = start(cmd).expect("start");
    let (_, _) = wait_for(&mut sup, secs(20.0), is_phase).await;
    let asked = Instant::now();
    sup.abort();
    let events = collect(&mut sup, secs(20.0)).await;
    assert!(
        asked.elapsed() < secs(15.0),
        "the worker stopped by itself, long before the 30 s grace"
    );
    assert!(
        run_events(&events).contains(&RunEvent::Cancelled { done: 2 }),
        "{events:#?}"
    );
    assert_eq!(exit_of(&events), WorkerExit::Aborted);
    assert!(
        partial(&events).is_some(),
        "partial results are finalised after an abort"
    );
}

#[tokio::test]
async fn abort_ends_a_sigterm_ignoring_worker_and_its_grandchild_within_grace_plus_2s() {
    let (dir, mut cmd) = fake(
        &format!(
            r#"
trap '' TERM
sleep 120 &
echo $! > "$DIR/grandchild"
{PHASE}
while :; do sleep 0.2; done
"#
        ),
        FINALISER_OK,
    );
    cmd.grace = secs(0.5);
    let grace = cmd.grace;
    let mut sup = start(cmd).expect("start");
    let pgid = sup.pid();
    let (_, _) = wait_for(&mut sup, secs(20.0), is_phase).await;
    let grandchild = read_pid(dir.path(), "grandchild").await;
    assert!(process_signalable(grandchild));
    let asked = Instant::now();
    sup.abort();
    sup.abort();
    sup.abort_handle().abort();
    let events = collect(&mut sup, secs(30.0)).await;
    let gone_by = finaliser_started(&events).expect("the finaliser ran");
    let took = gone_by.duration_since(asked);
    assert!(
        took <= grace + secs(2.0),
        "the worker took {took:?} to end after the abort"
    );
    assert_eq!(exit_of(&events), WorkerExit::Aborted);
    let exits = events
        .iter()
        .filter(|(_, e)| matches!(e, MonitorEvent::Exited { .. }))
        .count();
    assert_eq!(exits, 1);
    assert_group_gone(pgid).await;
    assert!(
        !process_signalable(grandchild),
        "the grandchild {grandchild} outlived the abort"
    );
    let (file, counts) = partial(&events).expect("partial results");
    assert_eq!(file, Some("/tmp/partial/results_partial.json".into()));
    assert_eq!(counts, vec![("gsm8k".to_string(), 3)]);
}

#[tokio::test]
async fn a_grandchild_that_left_the_group_cannot_hang_the_supervisor() {
    let (dir, cmd) = fake(
        &format!(
            r#"
setsid sleep 120 &
echo $! > "$DIR/escaped"
{PHASE}
exit 4
"#
        ),
        FINALISER_OK,
    );
    let mut sup = start(cmd).expect("start");
    let started = Instant::now();
    let events = collect(&mut sup, secs(30.0)).await;
    let escaped = read_pid(dir.path(), "escaped").await;
    let still_there = process_signalable(escaped);
    kill_stray(escaped);
    assert!(
        still_there,
        "the escaped grandchild should still hold stdout open during the run"
    );
    assert!(
        started.elapsed() < secs(10.0),
        "the supervisor did not wait for end of file"
    );
    assert!(
        matches!(exit_of(&events), WorkerExit::Failed { cause } if cause.contains("exited with code 4"))
    );
    assert!(partial(&events).is_some());
}

#[tokio::test]
async fn a_hang_under_a_timeout_is_ended_within_timeout_plus_2s_and_finalised() {
    let (_dir, mut cmd) = fake(
        &format!(
            r#"
trap '' TERM
{PHASE}
sleep 120
"#
        ),
        FINALISER_OK,
    );
    let timeout = secs(2.0);
    cmd.timeout = Some(timeout);
    cmd.grace = secs(0.5);
    cmd.tick_every = secs(0.5);
    let mut sup = start(cmd).expect("start");
    let pgid = sup.pid();
    let (_, last_progress) = wait_for(&mut sup, secs(20.0), is_phase).await;
    let events = collect(&mut sup, secs(30.0)).await;
    let watchdog = watchdog_events(&events);
    let (timed_out_at, _) = watchdog
        .iter()
        .find(|(_, e)| matches!(e, WatchdogEvent::TimedOut { timeout: t } if *t == timeout))
        .expect("a TimedOut event");
    assert!(
        *timed_out_at >= last_progress + timeout - secs(0.2),
        "timed out too early: {:?} after the last progress",
        timed_out_at.duration_since(last_progress)
    );
    let gone_by = finaliser_started(&events).expect("the finaliser ran");
    let took = gone_by.duration_since(last_progress);
    assert!(
        took <= timeout + secs(2.0),
        "the hung worker was ended {took:?} after its last progress"
    );
    assert!(
        watchdog.iter().any(|(_, e)| matches!(
            e,
            WatchdogEvent::Tick {
                remaining: Some(_),
                ..
            }
        )),
        "readings show the time remaining"
    );
    assert!(
        !watchdog
            .iter()
            .any(|(_, e)| matches!(e, WatchdogEvent::Warning { .. })),
        "60 s warning > 2 s timeout"
    );
    assert_eq!(exit_of(&events), WorkerExit::TimedOut);
    let (file, counts) = partial(&events).expect("partial results");
    assert_eq!(file, Some("/tmp/partial/results_partial.json".into()));
    assert_eq!(counts, vec![("gsm8k".to_string(), 3)]);
    let order: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, (_, e))| {
            matches!(
                e,
                MonitorEvent::PartialFinalised { .. } | MonitorEvent::Exited { .. }
            )
        })
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        order,
        vec![events.len() - 2, events.len() - 1],
        "PartialFinalised, then Exited, last"
    );
    assert_group_gone(pgid).await;
}

#[tokio::test]
async fn warning_once_per_silent_stretch_and_stalled_status_while_stalled() {
    let (_dir, mut cmd) = fake(
        &format!(
            r#"
{PHASE}
sleep 1.6
echo '{{"event":"progress","task":"t","done":1,"total":2,"tokens":3}}'
sleep 1.0
echo '{{"event":"finished","results_file":"r.json"}}'
"#
        ),
        FINALISER_OK,
    );
    cmd.timeout = Some(secs(8.0));
    cmd.warning_after = secs(0.4);
    cmd.status_every = secs(0.3);
    cmd.tick_every = secs(0.25);
    let mut sup = start(cmd).expect("start");
    let events = collect(&mut sup, secs(30.0)).await;
    // Split the stream at the progress event into two silent stretches.
    let split = events
        .iter()
        .position(|(_, e)| {
            matches!(
                e,
                MonitorEvent::Run {
                    event: RunEvent::Progress { .. }
                }
            )
        })
        .expect("progress");
    let first = watchdog_events(&events[..split]);
    let second = watchdog_events(&events[split..]);
    let kinds = |w: &[(Instant, WatchdogEvent)]| -> Vec<&'static str> {
        w.iter()
            .filter_map(|(_, e)| match e {
                WatchdogEvent::Warning { .. } => Some("warning"),
                WatchdogEvent::Stalled { .. } => Some("stalled"),
                WatchdogEvent::TimedOut { .. } => Some("timed out"),
                WatchdogEvent::Tick { .. } => None,
            })
            .collect()
    };
    let first_kinds = kinds(&first);
    assert_eq!(first_kinds.first(), Some(&"warning"), "{first_kinds:?}");
    assert!(
        first_kinds[1..].iter().all(|k| *k == "stalled"),
        "{first_kinds:?}"
    );
    assert!(
        first_kinds.len() >= 3,
        "at least two stalled statuses in 1.6 s of silence: {first_kinds:?}"
    );
    let second_kinds = kinds(&second);
    assert_eq!(
        second_kinds.first(),
        Some(&"warning"),
        "the warning is re-armed by progress: {second_kinds:?}"
    );
    assert!(
        second_kinds[1..].iter().all(|k| *k == "stalled"),
        "{second_kinds:?}"
    );
    for (_, e) in first.iter().chain(&second) {
        match e {
            WatchdogEvent::Warning { since_progress } => assert!(*since_progress >= secs(0.4)),
            WatchdogEvent::Stalled {
                since_progress,
                remaining,
                ..
            } => {
                assert!(*since_progress >= secs(0.7), "{since_progress:?}");
                let remaining = remaining.expect("remaining with a timeout");
                assert!(remaining <= secs(8.0) - *since_progress + secs(0.05));
            }
            _ => {}
        }
    }
    let stalled_times: Vec<Instant> = first
        .iter()
        .filter(|(_, e)| matches!(e, WatchdogEvent::Stalled { .. }))
        .map(|(t, _)| *t)
        .collect();
    for pair in stalled_times.windows(2) {
        assert!(
            pair[1].duration_since(pair[0]) >= secs(0.2),
            "stalled statuses are spaced by status_every"
        );
    }
    assert_eq!(exit_of(&events), WorkerExit::Completed);
}

#[tokio::test]
async fn without_a_timeout_the_watchdog_only_sends_readings() {
    let (_dir, mut cmd) = fake(
        &format!(
            r#"
{PHASE}
x=0; end=$((SECONDS + 2)); while [ $SECONDS -lt $end ]; do x=$((x + 1)); done
echo '{{"event":"finished","results_file":"r.json"}}'
"#
        ),
        FINALISER_OK,
    );
    cmd.warning_after = secs(0.2);
    cmd.status_every = secs(0.2);
    cmd.tick_every = secs(0.2);
    let mut sup = start(cmd).expect("start");
    let events = collect(&mut sup, secs(30.0)).await;
    let watchdog = watchdog_events(&events);
    let ticks: Vec<_> = watchdog
        .iter()
        .filter_map(|(_, e)| match e {
            WatchdogEvent::Tick {
                remaining,
                rss_bytes,
                cpu_percent,
                ..
            } => Some((*remaining, *rss_bytes, *cpu_percent)),
            _ => None,
        })
        .collect();
    assert_eq!(
        ticks.len(),
        watchdog.len(),
        "only readings without a timeout: {watchdog:?}"
    );
    assert!(ticks.len() >= 3, "{ticks:?}");
    assert!(ticks.iter().all(|(remaining, _, _)| remaining.is_none()));
    assert!(
        ticks.iter().any(|(_, rss, _)| *rss > 0),
        "the worker's memory is read: {ticks:?}"
    );
    assert!(
        ticks.iter().any(|(_, _, cpu)| *cpu > 1.0),
        "the busy loop's CPU use is read: {ticks:?}"
    );
    assert_eq!(exit_of(&events), WorkerExit::Completed);
}

#[tokio::test]
async fn a_crash_is_reported_with_its_exit_code_and_stderr_and_finalised() {
    let (_dir, cmd) = fake(
        &format!(
            r#"
{PHASE}
echo 'loading batch 3' >&2
echo 'RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB' >&2
exit 3
"#
        ),
        FINALISER_OK,
    );
    let mut sup = start(cmd).expect("start");
    let events = collect(&mut sup, secs(20.0)).await;
    let WorkerExit::Failed { cause } = exit_of(&events) else {
        panic!("{events:#?}")
    };
    assert!(cause.contains("exited with code 3"), "{cause}");
    assert!(cause.contains("CUDA out of memory"), "{cause}");
    assert!(
        partial(&events).is_some(),
        "partial results are finalised after a crash"
    );
}

#[tokio::test]
async fn a_death_by_signal_is_named() {
    let (_dir, cmd) = fake(&format!("{PHASE}\nkill -SEGV $$\nsleep 5\n"), FINALISER_OK);
    let mut sup = start(cmd).expect("start");
    let events = collect(&mut sup, secs(20.0)).await;
    let WorkerExit::Failed { cause } = exit_of(&events) else {
        panic!("{events:#?}")
    };
    assert!(cause.contains("killed by signal SIGSEGV"), "{cause}");
}

#[tokio::test]
async fn the_failed_event_message_is_the_cause() {
    let (_dir, cmd) = fake(
        r#"
echo 'noise' >&2
echo '{"event":"failed","error":"dataset gsm8k not found under /data"}'
exit 1
"#,
        FINALISER_OK,
    );
    let mut sup = start(cmd).expect("start");
    let events = collect(&mut sup, secs(20.0)).await;
    let WorkerExit::Failed { cause } = exit_of(&events) else {
        panic!("{events:#?}")
    };
    assert!(
        cause.starts_with("dataset gsm8k not found under /data"),
        "{cause}"
    );
    assert!(cause.contains("exited with code 1"), "{cause}");
}

#[tokio::test]
async fn exit_zero_without_finished_is_a_failure() {
    let (_dir, cmd) = fake(&format!("{PHASE}\nexit 0\n"), FINALISER_OK);
    let mut sup = start(cmd).expect("start");
    let events = collect(&mut sup, secs(20.0)).await;
    let WorkerExit::Failed { cause } = exit_of(&events) else {
        panic!("{events:#?}")
    };
    assert!(
        cause.contains("without reporting a finished run"),
        "{cause}"
    );
}

#[tokio::test]
async fn a_failing_finaliser_is_reported_and_exited_still_comes_last() {
    let (_dir, cmd) = fake(
        "exit 2",
        "echo 'journal unreadable: /x/journal/gsm8k.jsonl' >&2\nexit 1",
    );
    let mut sup = start(cmd).expect("start");
    let events = collect(&mut sup, secs(20.0)).await;
    assert!(partial(&events).is_none());
    let logged = run_events(&events).into_iter().any(|e| {
        matches!(e,
        RunEvent::Log { message, .. } if message.starts_with("partial results were not finalised")
            && message.contains("journal unreadable"))
    });
    assert!(logged, "{events:#?}");
    assert!(matches!(exit_of(&events), WorkerExit::Failed { .. }));
}

#[tokio::test]
async fn dropping_the_supervised_ends_the_worker() {
    let (_dir, mut cmd) = fake(
        &format!("trap '' TERM\n{PHASE}\nwhile :; do sleep 0.2; done\n"),
        FINALISER_OK,
    );
    cmd.grace = secs(0.3);
    let mut sup = start(cmd).expect("start");
    let pgid = sup.pid();
    let _ = wait_for(&mut sup, secs(20.0), is_phase).await;
    drop(sup);
    let until = Instant::now() + secs(0.3 + 2.0 + 2.0);
    while !live_members(pgid).is_empty() {
        assert!(
            Instant::now() < until,
            "the worker outlived its dropped supervisor"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_group_gone(pgid).await;
}

#[tokio::test]
async fn a_missing_program_is_a_start_error_naming_it() {
    let err = start(WorkerCommand::new(
        "/nonexistent/sparkbench",
        "/tmp/spec.json",
    ))
    .expect_err("no such program");
    assert!(matches!(err, SupervisorError::Spawn { .. }));
    assert!(err.to_string().contains("/nonexistent/sparkbench"), "{err}");
}

#[test]
fn start_outside_a_runtime_is_an_error() {
    let err = start(WorkerCommand::new("bash", "/tmp/spec.json")).expect_err("no runtime");
    assert!(matches!(err, SupervisorError::NoRuntime), "{err}");
}
