//! Every task end to end on the tiny-llama fixture over the real data, with a small limit, through
//! the real binary; the results and samples files must follow lm-eval's schema.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn shared(var: &str, sub: &str) -> Option<PathBuf> {
    let dir = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")).join(sub)
    });
    if dir.exists() {
        Some(dir)
    } else {
        eprintln!("skipped: {} not found (set {var})", dir.display());
        None
    }
}

const TASKS: &[&str] = &[
    "ifeval",
    "gsm8k",
    "hellaswag",
    "mmlu_anatomy",
    "arc_easy",
    "arc_challenge",
    "winogrande",
    "truthfulqa_mc1",
    "truthfulqa_mc2",
    "piqa",
    "boolq",
];

/// lm-eval's results keys that every results file has, in lm-eval's order.
const RESULTS_KEYS: &[&str] = &[
    "results",
    "group_subtasks",
    "configs",
    "versions",
    "n-shot",
    "higher_is_better",
    "n-samples",
    "config",
    "git_hash",
    "date",
];

/// lm-eval's samples keys, in order, before the per-metric values.
const SAMPLE_KEYS: &[&str] = &[
    "doc_id",
    "doc",
    "target",
    "arguments",
    "resps",
    "filtered_resps",
    "filter",
    "metrics",
    "doc_hash",
    "prompt_hash",
    "target_hash",
];

fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read output dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect();
    v.sort();
    v
}

fn in_order(keys: &[String], wanted: &[&str]) -> bool {
    let positions: Vec<Option<usize>> = wanted
        .iter()
        .map(|w| keys.iter().position(|k| k == w))
        .collect();
    positions.iter().all(Option::is_some) && positions.windows(2).all(|w| w[0] < w[1])
}

#[test]
fn every_task_runs_on_tiny_llama_and_writes_lm_eval_files() {
    let (Some(data), Some(fixtures)) = (
        shared("SPARKBENCH_TEST_DATA", "data"),
        shared("SPARKBENCH_FIXTURES", "fixtures"),
    ) else {
        return;
    };
    let model = fixtures.join("models/tiny-llama");
    let out = tempfile::tempdir().expect("tmp");
    let status = Command::new(env!("CARGO_BIN_EXE_sparkbench"))
        .args(["run", "--model"])
        .arg(&model)
        .args([
            "--tasks",
            &TASKS.join(","),
            "--limit",
            "3",
            "--batch-size",
            "4",
            "--gen-kwargs",
            "max_gen_toks=24",
        ])
        .arg("--data-dir")
        .arg(&data)
        .arg("--output")
        .arg(out.path())
        .args(["--yes", "--plain"])
        .output()
        .expect("run sparkbench");
    let stdout = String::from_utf8_lossy(&status.stdout);
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(
        status.status.success(),
        "sparkbench failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );

    let results = files(out.path(), "results_");
    assert_eq!(results.len(), 1, "one results file: {results:?}");
    let text = std::fs::read_to_string(&results[0]).expect("read results");
    let root: Value = serde_json::from_str(&text).expect("results are JSON");
    let keys: Vec<String> = root.as_object().expect("object").keys().cloned().collect();
    assert!(
        in_order(&keys, RESULTS_KEYS),
        "results keys out of lm-eval's order: {keys:?}"
    );
    for task in TASKS {
        let r = &root["results"][*task];
        assert_eq!(r["name"], *task, "results[{task}].name");
        assert_eq!(r["sample_len"], 3, "results[{task}].sample_len");
        let metric_keys: Vec<&String> = r
            .as_object()
            .expect("task object")
            .keys()
            .filter(|k| k.contains(',') && !k.contains("_stderr"))
            .collect();
        assert!(!metric_keys.is_empty(), "{task} has no metric");
        for k in metric_keys {
            assert!(r[k].is_number(), "{task} {k} is a number");
            let (m, f) = k.split_once(',').expect("metric,filter");
            let se = &r[format!("{m}_stderr,{f}")];
            assert!(se.is_number() || se == "N/A", "{task} {m} stderr: {se}");
        }
        assert_eq!(root["n-samples"][*task]["effective"], 3);
        assert!(root["versions"][*task].is_number(), "versions[{task}]");
        assert!(
            root["higher_is_better"][*task].is_object(),
            "higher_is_better[{task}]"
        );

        let samples = files(out.path(), &format!("samples_{task}_"));
        assert_eq!(samples.len(), 1, "{task}: one samples file");
        let lines = std::fs::read_to_string(&samples[0]).expect("read samples");
        let mut docs = std::collections::BTreeSet::new();
        for line in lines.lines() {
            let s: Value = serde_json::from_str(line).expect("samples line is JSON");
            let keys: Vec<String> = s.as_object().expect("object").keys().cloned().collect();
            assert!(
                in_order(&keys, SAMPLE_KEYS),
                "{task}: samples keys {keys:?}"
            );
            assert!(
                s["arguments"]["gen_args_0"]["arg_0"].is_string(),
                "{task}: arguments"
            );
            for h in ["doc_hash", "prompt_hash", "target_hash"] {
                assert_eq!(
                    s[h].as_str().map(str::len),
                    Some(64),
                    "{task}: {h} is a sha256"
                );
            }
            docs.insert(s["doc_id"].as_u64().expect("doc_id"));
        }
        assert_eq!(
            docs.into_iter().collect::<Vec<_>>(),
            vec![0, 1, 2],
            "{task}: docs 0..3"
        );
    }
    // gsm8k reports both filters, ifeval its four metrics.
    assert!(root["results"]["gsm8k"]["exact_match,strict-match"].is_number());
    assert!(root["results"]["gsm8k"]["exact_match,flexible-extract"].is_number());
    assert_eq!(
        root["results"]["ifeval"]["inst_level_strict_acc_stderr,none"],
        "N/A"
    );
    assert!(root["results"]["ifeval"]["prompt_level_loose_acc,none"].is_number());
    assert!(
        !stdout.contains('\u{1b}'),
        "plain output has no escape codes"
    );
}
