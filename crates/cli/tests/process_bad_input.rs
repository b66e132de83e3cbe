//! Bad input to `sparkbench run`: each is a clear error naming what is wrong, a non-zero exit,
//! and never a panic.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(60);

/// Run, expect failure, and return stdout + stderr.
fn fails(args: &[String], cwd: &Path, what: &str) -> String {
    let out = run_to_end(args, cwd, LIMIT);
    let text = all_text(&out);
    assert!(!out.status.success(), "{what}: must exit non-zero:\n{text}");
    assert_no_panic(&String::from_utf8_lossy(&out.stderr), what);
    text
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn resume_of_a_folder_without_a_spec() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let text = fails(
        &resume_args(tmp.path()),
        tmp.path(),
        "resume without a spec",
    );
    assert!(text.contains("run-spec.json"), "{text}");
    assert!(
        text.contains(&tmp.path().display().to_string()),
        "names the folder: {text}"
    );
}

#[test]
fn a_bad_timeout_value_shows_the_hint() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let script = write_script(tmp.path(), "s.json", &json!({}));
    for bad in ["5x", "ten minutes", "0", "1.5.h"] {
        let args = strings(&[
            "run",
            "--scripted",
            &script.display().to_string(),
            "--tasks",
            "arc_easy",
            "--output",
            "out",
            "--yes",
            "--plain",
            "--timeout",
            bad,
        ]);
        let text = fails(&args, tmp.path(), "bad --timeout");
        assert!(text.contains("--timeout"), "{bad}: {text}");
        assert!(text.contains(bad), "{bad}: the value is quoted: {text}");
        assert!(
            text.contains(sparkbench_supervisor::TIMEOUT_HINT),
            "{bad}: the hint is shown: {text}"
        );
        assert!(!tmp.path().join("out").exists(), "nothing was started");
    }
}

#[test]
fn batch_size_zero() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let script = write_script(tmp.path(), "s.json", &json!({}));
    let args = strings(&[
        "run",
        "--scripted",
        &script.display().to_string(),
        "--tasks",
        "arc_easy",
        "--output",
        "out",
        "--yes",
        "--plain",
        "--batch-size",
        "0",
    ]);
    let text = fails(&args, tmp.path(), "--batch-size 0");
    assert!(text.contains("--batch-size"), "{text}");
    assert!(!tmp.path().join("out").exists(), "nothing was started");
}

#[test]
fn unknown_task_and_unknown_suite() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let script = write_script(tmp.path(), "s.json", &json!({}));
    let script = script.display().to_string();
    let args = strings(&[
        "run",
        "--scripted",
        &script,
        "--tasks",
        "arc_easy,no_such_task",
        "--output",
        "out",
        "--yes",
        "--plain",
    ]);
    let text = fails(&args, tmp.path(), "unknown task");
    assert!(text.contains("no_such_task"), "the task is named: {text}");
    assert!(text.contains("gsm8k"), "known tasks are listed: {text}");
    let args = strings(&[
        "run",
        "--scripted",
        &script,
        "--suite",
        "no_such_suite",
        "--output",
        "out",
        "--yes",
        "--plain",
    ]);
    let text = fails(&args, tmp.path(), "unknown suite");
    assert!(text.contains("no_such_suite"), "the suite is named: {text}");
    assert!(text.contains("quick"), "known suites are listed: {text}");
    assert!(!tmp.path().join("out").exists(), "nothing was started");
}

#[test]
fn a_fingerprint_mismatch_on_resume() {
    let Some(data) = data_dir() else { return };
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let script = write_script(tmp.path(), "s.json", &json!({"crash_at_request": 12}));
    let out = tmp.path().join("out");
    let args = run_args(&script, "arc_easy", 10, &data, &out, &[]);
    let first = run_to_end(&args, tmp.path(), LIMIT);
    assert!(
        !first.status.success(),
        "the scripted crash stops the first run"
    );
    assert!(
        !journal_docs(&out, "arc_easy").is_empty(),
        "some documents are journaled"
    );
    let spec_path = out.join("run-spec.json");
    let mut spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&spec_path).expect("the spec"))
            .expect("the spec is JSON");
    spec["limit"] = json!(5.0);
    std::fs::write(&spec_path, spec.to_string()).expect("the edited spec");
    let before = journal_docs(&out, "arc_easy").len();
    let text = fails(&resume_args(&out), tmp.path(), "fingerprint mismatch");
    assert!(
        text.contains("belongs to a different run"),
        "the mismatch is explained: {text}"
    );
    assert!(text.contains("fingerprint"), "{text}");
    assert_eq!(
        journal_docs(&out, "arc_easy").len(),
        before,
        "the journal is left as it was"
    );
    assert!(final_results(&out).is_none(), "no results are written");
}

#[test]
fn a_broken_spec_on_resume() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(tmp.path().join("run-spec.json"), "{not json").expect("a broken spec");
    let text = fails(&resume_args(tmp.path()), tmp.path(), "broken spec");
    assert!(text.contains("run-spec.json"), "the file is named: {text}");
}
