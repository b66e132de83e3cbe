//! Aborting through the supervisor: SIGTERM or SIGINT to the parent `sparkbench run` mid-run
//! (the worker busy, or hung and ignoring cancel) leaves partial results and no process of the
//! worker's group behind. Also: killing the parent while it writes benchmark.json never leaves
//! a half-written file.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

/// Signal the parent once `arc_easy` has documents done; check what is left.
fn signal_parent_mid_run(signal: &str, script: serde_json::Value, wait_for: &str) {
    let Some(data) = data_dir() else { return };
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let script = write_script(tmp.path(), "s.json", &script);
    let out = tmp.path().join("out");
    let args = run_args(&script, "arc_easy,gsm8k", 20, &data, &out, &[]);
    let mut run = Running::spawn(&args, tmp.path());
    let worker = run
        .worker(Duration::from_secs(60))
        .expect("sparkbench run starts a worker");
    run.wait_line(Duration::from_secs(60), |l| l.contains(wait_for))
        .unwrap_or_else(|| panic!("the run gets going:\n{}", run.seen_text()));
    let reported = reported_done(&run.seen);
    assert!(send_signal(run.pid(), signal), "SIG{signal} is delivered");
    let ended = run.finish(Duration::from_secs(60));
    let text = ended.all_text();
    assert!(
        !ended.status.success(),
        "SIG{signal}: an aborted run exits non-zero:\n{text}"
    );
    assert_no_panic(&ended.stderr, "signal");
    let left = wait_group_gone(worker, Duration::from_secs(2));
    assert!(
        left.is_empty(),
        "SIG{signal}: the worker's process group outlives `sparkbench run`: {left:?}\n{text}"
    );
    let partial = partial_results(&out).unwrap_or_else(|| {
        panic!(
            "SIG{signal}: no partial results in {} after the abort:\n{text}",
            out.display()
        )
    });
    let counts = partial.counts();
    let arc = counts.get("arc_easy").copied().unwrap_or(0);
    assert!(arc > 0, "{counts:?}");
    assert!(arc >= reported.get("arc_easy").copied().unwrap_or(0));
    assert_eq!(arc, journal_docs(&out, "arc_easy").len());
}

#[test]
fn sigterm_to_the_parent_mid_run_keeps_partial_results_and_ends_the_worker_group() {
    signal_parent_mid_run("TERM", json!({"latency_ms": 25}), "[arc_easy] 6/");
}

#[test]
fn sigint_to_the_parent_while_the_worker_hangs_keeps_partial_results_and_ends_the_worker_group() {
    signal_parent_mid_run(
        "INT",
        json!({"latency_ms": 5, "hang_at_request": 30}),
        "hanging at request",
    );
}

#[test]
fn killing_the_parent_while_it_writes_benchmark_json_leaves_no_half_written_file() {
    let Some(data) = data_dir() else { return };
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let script = write_script(tmp.path(), "s.json", &json!({}));
    let model = tmp.path().join("model");
    std::fs::create_dir_all(&model).expect("a model folder");
    let args: Vec<String> = [
        "run",
        "--scripted",
        &script.display().to_string(),
        "--model",
        &model.display().to_string(),
        "--tasks",
        "arc_easy",
        "--limit",
        "3",
        "--data-dir",
        &data.display().to_string(),
        "--yes",
        "--plain",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let summary = model.join("benchmarks").join("benchmark.json");
    // The worker's end is printed just before the parent writes benchmark.json and the README.
    for delay_ms in [0u64, 2, 5, 10, 20] {
        let mut run = Running::spawn(&args, tmp.path());
        run.wait_line(Duration::from_secs(60), |l| l.contains("worker finished"))
            .unwrap_or_else(|| panic!("the run finishes:\n{}", run.seen_text()));
        std::thread::sleep(Duration::from_millis(delay_ms));
        send_signal(run.pid(), "KILL");
        let _ = run.finish(Duration::from_secs(30));
        if summary.exists() {
            let text = std::fs::read_to_string(&summary).expect("benchmark.json is readable");
            assert!(
                serde_json::from_str::<serde_json::Value>(&text).is_ok(),
                "a half-written benchmark.json after a kill {delay_ms} ms into the finish:\n{text}"
            );
        }
    }
    let done = Running::spawn(&args, tmp.path()).finish(Duration::from_secs(60));
    assert!(done.status.success(), "{}", done.all_text());
    let text = std::fs::read_to_string(&summary).expect("benchmark.json is written");
    serde_json::from_str::<serde_json::Value>(&text).expect("benchmark.json is JSON");
}
