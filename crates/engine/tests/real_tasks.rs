//! The engine over real tasks and real data (`SPARKBENCH_TEST_DATA`, default `../shared/data`)
//! with the scripted model: `run` resolves, loads, prepares and writes lm-eval's files.

mod common;

use std::path::PathBuf;

use serde_json::Value;
use sparkbench_engine::{RunStatus, run};
use sparkbench_protocol::{Cancel, TaskSelection};
use sparkbench_scripted::ScriptedModel;

use common::*;

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SPARKBENCH_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    if dir.join("arc_easy").is_dir() && dir.join("gsm8k").is_dir() && dir.join("mmlu").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: no test data at {} (set SPARKBENCH_TEST_DATA)",
            dir.display()
        );
        None
    }
}

#[test]
fn real_tasks_run_end_to_end_and_resume_identically() {
    let Some(data) = data_dir() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut spec = spec(dir.path(), 4);
    spec.data_dir = Some(data);
    spec.tasks = vec![
        TaskSelection {
            name: "arc_easy".into(),
            limit: Some(6.0),
            num_fewshot: None,
        },
        TaskSelection {
            name: "gsm8k".into(),
            limit: Some(3.0),
            num_fewshot: None,
        },
        TaskSelection {
            name: "mmlu_stem".into(),
            limit: Some(2.0),
            num_fewshot: None,
        },
    ];
    let mut model = ScriptedModel::from_json(&serde_json::json!({})).expect("script");
    let sink = Sink::new();
    let out = match run(&spec, &mut model, &sink, &Cancel::new()) {
        Ok(o) => o,
        Err(e) => panic!("run failed: {e}"),
    };
    assert_eq!(out.status, RunStatus::Complete);
    let results = out.results_file.expect("results file");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&results).expect("read")).expect("json");
    assert_eq!(v["results"]["arc_easy"]["sample_len"], 6);
    assert!(v["results"]["arc_easy"]["acc,none"].is_f64());
    assert!(v["results"]["gsm8k"]["exact_match,strict-match"].is_f64());
    assert_eq!(v["n-shot"]["gsm8k"], 5);
    let g = &v["groups"]["mmlu_stem"];
    let leaves = v["group_subtasks"]["mmlu_stem"]
        .as_array()
        .expect("subtasks")
        .len();
    assert_eq!(g["sample_len"].as_u64(), Some(2 * leaves as u64));
    assert!(g["acc,none"].is_f64(), "{g}");

    // Same spec, fresh folder, cancelled and resumed: same files.
    let dir2 = tempfile::tempdir().expect("tempdir");
    let mut spec2 = spec.clone();
    spec2.output_dir = dir2.path().to_path_buf();
    let sink = Sink::cancelling_after(2);
    let mut model = ScriptedModel::from_json(&serde_json::json!({})).expect("script");
    let c = run(&spec2, &mut model, &sink, &sink.cancel).expect("cancelled");
    assert_eq!(c.status, RunStatus::Cancelled);
    let mut model = ScriptedModel::from_json(&serde_json::json!({})).expect("script");
    let r = run(&spec2, &mut model, &Sink::new(), &Cancel::new()).expect("resumed");
    assert_eq!(
        comparable_results(r.results_file.as_deref().expect("file")),
        comparable_results(&results)
    );
}
