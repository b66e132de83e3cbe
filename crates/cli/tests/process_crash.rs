//! A worker that crashes (`abort()` at a scripted request) is reported with its cause, the
//! signal named, the run exits non-zero, and the documents finished before it are kept as
//! partial results; a backend error (`fail_at_request`) is reported with its message.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[test]
fn a_crash_is_reported_with_its_signal_and_partial_results_are_kept() {
    let Some(data) = data_dir() else { return };
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let script = write_script(
        tmp.path(),
        "crash.json",
        &json!({"latency_ms": 5, "crash_at_request": 40}),
    );
    let out = tmp.path().join("out");
    let args = run_args(&script, "arc_easy,gsm8k", 20, &data, &out, &[]);
    let ended = Running::spawn(&args, tmp.path()).finish(Duration::from_secs(90));
    let text = ended.all_text();
    assert!(
        !ended.status.success(),
        "a crashed run exits non-zero:\n{text}"
    );
    assert_no_panic(&ended.stderr, "crash");
    assert!(
        text.contains("SIGABRT"),
        "the cause names the signal:\n{text}"
    );
    assert!(
        text.contains("crashing at request 40"),
        "the cause quotes the worker's last words:\n{text}"
    );
    let partial = partial_results(&out).expect("partial results are kept");
    let counts = partial.counts();
    let arc = counts.get("arc_easy").copied().unwrap_or(0);
    assert!(arc > 0, "documents finished before the crash: {counts:?}");
    assert_eq!(arc, journal_docs(&out, "arc_easy").len());
    assert!(
        arc >= reported_done(&ended.lines)
            .get("arc_easy")
            .copied()
            .unwrap_or(0)
    );
}

#[test]
fn a_backend_failure_is_reported_with_its_message() {
    let Some(data) = data_dir() else { return };
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let script = write_script(tmp.path(), "fail.json", &json!({"fail_at_request": 30}));
    let out = tmp.path().join("out");
    let args = run_args(&script, "arc_easy", 20, &data, &out, &[]);
    let ended = Running::spawn(&args, tmp.path()).finish(Duration::from_secs(90));
    let text = ended.all_text();
    assert!(
        !ended.status.success(),
        "a failed run exits non-zero:\n{text}"
    );
    assert_no_panic(&ended.stderr, "fail");
    assert!(
        text.contains("failure at request 30"),
        "the backend's message is shown:\n{text}"
    );
    let partial = partial_results(&out).expect("partial results are kept");
    assert_eq!(
        partial.counts().get("arc_easy").copied().unwrap_or(0),
        journal_docs(&out, "arc_easy").len()
    );
}
