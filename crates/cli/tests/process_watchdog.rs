//! The watchdog end to end: a scripted model that hangs (ignoring cancel, no heartbeats) under
//! `--timeout 5s` is ended within the timeout plus 2 s of its last progress, `sparkbench run`
//! exits non-zero, and the partial results count exactly the documents finished before the hang.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

/// The bar: the worker is gone this long after its last progress at the latest.
const TIMEOUT: Duration = Duration::from_secs(5);
const SLACK: Duration = Duration::from_secs(2);
const HANG_AT: u64 = 50;

#[test]
fn a_hang_is_ended_by_the_watchdog_and_partial_results_are_kept() {
    let Some(data) = data_dir() else { return };
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let script = write_script(
        tmp.path(),
        "hang.json",
        &json!({"latency_ms": 10, "hang_at_request": HANG_AT}),
    );
    let out = tmp.path().join("out");
    let args = run_args(
        &script,
        "arc_easy,gsm8k",
        20,
        &data,
        &out,
        &["--timeout", "5s"],
    );
    let mut run = Running::spawn(&args, tmp.path());
    let worker = run
        .worker(Duration::from_secs(60))
        .expect("sparkbench run starts a worker process");
    let hang = run
        .wait_line(Duration::from_secs(60), |l| {
            l.contains("hanging at request")
        })
        .unwrap_or_else(|| panic!("the scripted hang is reported:\n{}", run.seen_text()));
    // The last progress line read is at or before the worker's last progress event as the
    // supervisor saw it (lines are printed after the event), so measuring from it is strict.
    let last_progress = run
        .seen
        .iter()
        .rev()
        .find(|l| parse_progress(&l.text).is_some())
        .map(|l| l.at)
        .expect("documents finished before the hang");
    assert!(last_progress <= hang.at);
    let ended = wait_until_ended(worker, TIMEOUT + SLACK + Duration::from_secs(30))
        .expect("the hung worker is ended by the watchdog");
    let after = ended.duration_since(last_progress);
    let ended_run = run.finish(Duration::from_secs(60));
    let text = ended_run.all_text();
    eprintln!("the worker ended {after:?} after its last progress line");
    assert!(
        after <= TIMEOUT + SLACK,
        "the worker ended {after:?} after its last progress, more than {:?}:\n{text}",
        TIMEOUT + SLACK
    );
    assert!(
        after >= TIMEOUT - Duration::from_millis(200),
        "the worker ended {after:?} after its last progress, before the 5 s timeout:\n{text}"
    );
    assert!(
        !ended_run.status.success(),
        "a timed-out run exits non-zero:\n{text}"
    );
    assert!(text.contains("timed out"), "the end is explained:\n{text}");
    assert_no_panic(&ended_run.stderr, "hang");
    assert!(
        wait_group_gone(worker, Duration::from_secs(2)).is_empty(),
        "nothing of the worker's process group is left"
    );

    let partial = partial_results(&out).expect("partial results are written");
    let counts = partial.counts();
    let journaled = journal_docs(&out, "arc_easy");
    let reported = reported_done(&ended_run.lines);
    let arc = counts.get("arc_easy").copied().unwrap_or(0);
    assert!(arc > 0, "documents finished before the hang: {counts:?}");
    assert_eq!(arc, journaled.len(), "partial counts equal the journal");
    assert!(
        arc >= reported.get("arc_easy").copied().unwrap_or(0),
        "every reported document is counted: {counts:?} vs {reported:?}"
    );
    assert_eq!(
        counts.get("gsm8k").copied().unwrap_or(0),
        journal_docs(&out, "gsm8k").len()
    );
    // Only documents whose requests were all answered before the hung request are finished.
    let requests: usize = journaled
        .iter()
        .map(|d| d["requests"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(
        requests < HANG_AT as usize,
        "{requests} requests journaled, the model hung at request {HANG_AT}"
    );
    let samples = samples_files(&out, &partial.stamp);
    let arc_samples = samples
        .get("arc_easy")
        .expect("a samples file for the partial task");
    assert_eq!(line_count(arc_samples), arc, "one sample line per document");
    let effective = partial
        .json
        .pointer("/n-samples/arc_easy/effective")
        .and_then(serde_json::Value::as_u64);
    assert_eq!(
        effective,
        Some(arc as u64),
        "n-samples tells the partial count"
    );
}
