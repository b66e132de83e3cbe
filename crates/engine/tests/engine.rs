//! End-to-end engine tests with fake tasks and the scripted model: ordering, dedupe, batch-size
//! independence, cancel, resume, torn journals, fingerprints, failures, partial results and the
//! shape of the files written.

mod common;

use std::collections::HashSet;
use std::io::Write;

use serde_json::Value;
use sparkbench_engine::{RunStatus, finalize_partial, journal_path, run_plan};
use sparkbench_protocol::{Cancel, RunEvent};

use common::*;

fn samples_text(dir: &std::path::Path) -> Vec<(String, String)> {
    files_with_prefix(dir, "samples_")
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let task = name
                .trim_start_matches("samples_")
                .rsplit_once('_')
                .map(|(t, _)| t.to_string())
                .unwrap_or_default();
            (task, std::fs::read_to_string(&p).expect("read samples"))
        })
        .collect()
}

#[test]
fn complete_run_writes_lm_eval_files_and_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec(dir.path(), 3);
    let mut model = Recording::new(serde_json::json!({}));
    let sink = Sink::new();
    let out = run_plan(&spec, &plan(), &mut model, &sink, &Cancel::new()).expect("run");
    assert_eq!(out.status, RunStatus::Complete);
    assert_eq!(
        out.counts,
        vec![
            ("mc_a".into(), 10),
            ("mc_b".into(), 7),
            ("fake_gen".into(), 9)
        ]
    );

    // Identical requests (docs i and i+3 of a task) were asked once.
    let unique: HashSet<_> = model.seen.iter().collect();
    assert_eq!(unique.len(), model.seen.len(), "a request was sent twice");
    assert_eq!(model.seen.len(), 3 * 4 + 3 * 4 + 9);

    let events = sink.events();
    assert!(matches!(events.first(), Some(RunEvent::Phase { .. })));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RunEvent::Started { tasks, .. } if tasks.len() == 3))
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RunEvent::Sample { task, .. } if task == "fake_gen"))
    );
    let scored: Vec<_> = events
        .iter()
        .filter_map(|e| {
            if let RunEvent::TaskScored { task, .. } = e {
                Some(task.clone())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(scored, vec!["mc_a", "mc_b", "fake_gen"]);
    let last_progress = events.iter().rev().find_map(|e| {
        if let RunEvent::Progress {
            task, done, total, ..
        } = e
        {
            Some((task.clone(), *done, *total))
        } else {
            None
        }
    });
    assert_eq!(last_progress, Some(("fake_gen".into(), 9, 9)));
    let Some(RunEvent::Finished { results_file }) = events.last() else {
        panic!("last event is not Finished: {:?}", events.last())
    };
    assert_eq!(Some(results_file.clone()), out.results_file);

    // Results file: HEAD key order and types.
    let text = std::fs::read_to_string(results_file).expect("read");
    let v: Value = serde_json::from_str(&text).expect("json");
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        vec![
            "results",
            "groups",
            "group_subtasks",
            "configs",
            "versions",
            "n-shot",
            "higher_is_better",
            "n-samples",
            "config",
            "git_hash",
            "date",
            "tokenizer_pad_token",
            "tokenizer_eos_token",
            "tokenizer_bos_token",
            "eot_token_id",
            "max_length",
            "task_hashes",
            "model_source",
            "model_name",
            "model_name_sanitized",
            "system_instruction",
            "system_instruction_sha",
            "fewshot_as_multiturn",
            "chat_template",
            "chat_template_sha",
            "total_evaluation_time_seconds",
            "sparkbench"
        ]
    );
    let results = v["results"].as_object().expect("results");
    assert_eq!(
        results.keys().collect::<Vec<_>>(),
        vec!["fake_group", "mc_a", "mc_b", "fake_gen"]
    );
    let a = results["mc_a"].as_object().expect("mc_a");
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        vec![
            "name",
            "alias",
            "sample_len",
            "acc,none",
            "acc_stderr,none",
            "acc_norm,none",
            "acc_norm_stderr,none"
        ]
    );
    assert_eq!(a["sample_len"], 10);
    assert!(a["acc,none"].is_f64() && a["acc_stderr,none"].is_f64());
    let g = &v["groups"]["fake_group"];
    assert_eq!(g["sample_len"], 17);
    assert_eq!(g["sample_count"]["acc,none"], 17);
    let (va, vb) = (
        a["acc,none"].as_f64().expect("f"),
        results["mc_b"]["acc,none"].as_f64().expect("f"),
    );
    let want = (va * 10.0 + vb * 7.0) / 17.0;
    assert!((g["acc,none"].as_f64().expect("f") - want).abs() < 1e-12);
    assert_eq!(
        v["group_subtasks"]["fake_group"],
        serde_json::json!(["mc_a", "mc_b"])
    );
    assert_eq!(v["versions"]["fake_group"], "2");
    assert_eq!(v["versions"]["fake_gen"], 3.0);
    assert_eq!(
        v["n-samples"]["mc_b"],
        serde_json::json!({"original": 7, "effective": 7})
    );
    assert_eq!(v["n-shot"]["fake_gen"], 5);
    assert_eq!(v["higher_is_better"]["mc_a"]["acc"], true);
    assert!(v["total_evaluation_time_seconds"].is_string());
    assert_eq!(v["sparkbench"]["partial"], false);
    assert_eq!(v["sparkbench"]["fingerprint"], spec.fingerprint());
    assert_eq!(
        v["results"]["fake_gen"]
            .as_object()
            .expect("gen")
            .keys()
            .collect::<Vec<_>>(),
        vec![
            "name",
            "alias",
            "sample_len",
            "exact_match,strict-match",
            "exact_match_stderr,strict-match",
            "exact_match,flexible-extract",
            "exact_match_stderr,flexible-extract"
        ]
    );
    // Written with Python's indent=2 formatting.
    assert!(
        text.starts_with("{\n  \"results\": {\n    \"fake_group\": {\n"),
        "{}",
        &text[..80]
    );

    // Samples: one line per (filter, doc), filter-major, doc_id order, lm-eval's keys.
    let samples = samples_text(dir.path());
    let gen_text = &samples
        .iter()
        .find(|(t, _)| t == "fake_gen")
        .expect("gen samples")
        .1;
    let lines: Vec<Value> = gen_text
        .lines()
        .map(|l| serde_json::from_str(l).expect("line"))
        .collect();
    assert_eq!(lines.len(), 18);
    let order: Vec<(String, u64)> = lines
        .iter()
        .map(|l| {
            (
                l["filter"].as_str().unwrap_or("").to_string(),
                l["doc_id"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    assert_eq!(order[0], ("strict-match".into(), 0));
    assert_eq!(order[8], ("strict-match".into(), 8));
    assert_eq!(order[9], ("flexible-extract".into(), 0));
    let first = lines[0].as_object().expect("line");
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        vec![
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
            "exact_match"
        ]
    );
    assert_eq!(
        first["arguments"]["gen_args_0"]["arg_1"]["until"],
        serde_json::json!(["Question:"])
    );
    assert!(first["resps"][0][0].is_string());
    let mc_text = &samples
        .iter()
        .find(|(t, _)| t == "mc_a")
        .expect("mc samples")
        .1;
    let mc0: Value = serde_json::from_str(mc_text.lines().next().expect("line")).expect("json");
    assert!(
        mc0["resps"][0][0][0]
            .as_str()
            .is_some_and(|s| s.starts_with('-')),
        "{}",
        mc0["resps"]
    );
    assert!(
        mc0["resps"][0][0][1]
            .as_str()
            .is_some_and(|s| s == "True" || s == "False")
    );
    assert_eq!(mc0["arguments"]["gen_args_3"]["arg_1"], " delta");
    assert!(
        mc_text.contains("\"doc_id\": 0, \"doc\": {\"question\": "),
        "Python separators"
    );
    // task_hashes cover every line's three hashes.
    let mut joined = String::new();
    for l in mc_text.lines() {
        let l: Value = serde_json::from_str(l).expect("json");
        for k in ["doc_hash", "prompt_hash", "target_hash"] {
            joined.push_str(l[k].as_str().expect("hash"));
        }
    }
    assert_eq!(
        v["task_hashes"]["mc_a"],
        sparkbench_engine::pyjson::sha256_hex(&joined)
    );
}

#[test]
fn results_do_not_depend_on_batch_size() {
    let mut reference = None;
    for bs in [1, 3, 8] {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = spec(dir.path(), bs);
        let mut model = Recording::new(serde_json::json!({}));
        let out = run_plan(&spec, &plan(), &mut model, &Sink::new(), &Cancel::new()).expect("run");
        assert!(
            model.calls.iter().all(|&c| c <= bs * 4 + 4),
            "calls {:?} for batch size {bs}",
            model.calls
        );
        let got = (
            comparable_results(out.results_file.as_deref().expect("results")),
            samples_text(dir.path()),
        );
        match &reference {
            None => reference = Some(got),
            Some(r) => assert!(r == &got, "batch size {bs} changed the results"),
        }
    }
}

#[test]
fn cancel_then_resume_equals_an_uninterrupted_run_even_with_a_torn_line() {
    let full_dir = tempfile::tempdir().expect("tempdir");
    let full = run_plan(
        &spec(full_dir.path(), 2),
        &plan(),
        &mut Recording::new(serde_json::json!({})),
        &Sink::new(),
        &Cancel::new(),
    )
    .expect("full run");

    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec(dir.path(), 2);
    let sink = Sink::cancelling_after(4);
    let out = run_plan(
        &spec,
        &plan(),
        &mut Recording::new(serde_json::json!({})),
        &sink,
        &sink.cancel,
    )
    .expect("cancelled run");
    assert_eq!(out.status, RunStatus::Cancelled);
    assert!(out.results_file.is_none());
    let done: usize = out.counts.iter().map(|c| c.1).sum();
    assert!(done > 0 && done < 26, "{:?}", out.counts);
    assert!(matches!(sink.events().last(), Some(RunEvent::Cancelled { done: d }) if *d == done));
    assert!(files_with_prefix(dir.path(), "results_").is_empty());

    // kill -9 in the middle of a journal write.
    let jp = journal_path(dir.path(), "mc_a");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&jp)
        .expect("journal");
    f.write_all(b"{\"doc_id\": 9, \"doc\": {\"quest")
        .expect("torn write");
    drop(f);

    let mut model = Recording::new(serde_json::json!({}));
    let sink = Sink::new();
    let resumed = run_plan(&spec, &plan(), &mut model, &sink, &Cancel::new()).expect("resumed run");
    assert_eq!(resumed.status, RunStatus::Complete);
    let started = sink
        .events()
        .into_iter()
        .find_map(|e| {
            if let RunEvent::Started { tasks, .. } = e {
                Some(tasks)
            } else {
                None
            }
        })
        .expect("started");
    assert_eq!(
        started.iter().map(|t| t.done).sum::<usize>(),
        done,
        "journaled docs are counted as done"
    );
    assert!(
        model.seen.len() < 21 + 12,
        "journaled documents were asked again"
    );
    assert_eq!(
        comparable_results(resumed.results_file.as_deref().expect("results")),
        comparable_results(full.results_file.as_deref().expect("results"))
    );
    assert_eq!(samples_text(dir.path()), samples_text(full_dir.path()));
}

#[test]
fn a_folder_of_another_run_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_a = spec(dir.path(), 1);
    let sink = Sink::cancelling_after(1);
    run_plan(
        &spec_a,
        &plan(),
        &mut Recording::new(serde_json::json!({})),
        &sink,
        &sink.cancel,
    )
    .expect("first run");
    let mut spec_b = spec_a.clone();
    spec_b.limit = Some(5.0);
    let sink = Sink::new();
    let err = run_plan(
        &spec_b,
        &plan(),
        &mut Recording::new(serde_json::json!({})),
        &sink,
        &Cancel::new(),
    )
    .expect_err("refused");
    assert!(
        err.to_string().contains("belongs to a different run"),
        "{err}"
    );
    assert!(matches!(
        sink.events().last(),
        Some(RunEvent::Failed { .. })
    ));
    assert!(finalize_partial(&spec_b).is_err());
}

#[test]
fn finalize_partial_writes_marked_results_from_journals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec(dir.path(), 1);
    assert!(finalize_partial(&spec).expect("nothing yet").is_none());
    let sink = Sink::cancelling_after(3);
    let out = run_plan(
        &spec,
        &plan(),
        &mut Recording::new(serde_json::json!({})),
        &sink,
        &sink.cancel,
    )
    .expect("cancelled");
    assert_eq!(out.status, RunStatus::Cancelled);
    let partial = finalize_partial(&spec)
        .expect("finalize")
        .expect("some docs finished");
    assert_eq!(partial.counts, out.counts);
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&partial.results_file).expect("read"))
            .expect("json");
    assert_eq!(v["sparkbench"]["partial"], true);
    let mc_a_done = out.counts[0].1;
    assert_eq!(v["sparkbench"]["counts"]["mc_a"], mc_a_done);
    assert_eq!(v["results"]["mc_a"]["sample_len"], mc_a_done);
    assert_eq!(v["n-samples"]["mc_a"]["effective"], mc_a_done);
    assert_eq!(v["n-samples"]["mc_a"]["original"], 10);
    assert!(
        v["results"].get("fake_gen").is_none(),
        "tasks without documents are left out"
    );
}

#[test]
fn model_failure_emits_failed_and_keeps_earlier_documents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec(dir.path(), 1);
    let sink = Sink::new();
    let mut model = Recording::new(serde_json::json!({"fail_at_request": 10}));
    let err = run_plan(&spec, &plan(), &mut model, &sink, &Cancel::new()).expect_err("fails");
    assert!(err.to_string().contains("request 10"), "{err}");
    assert!(
        matches!(sink.events().last(), Some(RunEvent::Failed { error }) if error.contains("request 10"))
    );
    let partial = finalize_partial(&spec)
        .expect("finalize")
        .expect("docs before the failure");
    assert_eq!(partial.counts[0], ("mc_a".into(), 2));
}

#[test]
fn chat_mode_records_the_template_and_needs_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut spec = spec(dir.path(), 4);
    spec.apply_chat_template = true;
    let out = run_plan(
        &spec,
        &plan(),
        &mut Recording::new(serde_json::json!({})),
        &Sink::new(),
        &Cancel::new(),
    )
    .expect("run");
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(out.results_file.expect("file")).expect("read"),
    )
    .expect("json");
    assert_eq!(v["chat_template"], sparkbench_scripted::CHATML_TEMPLATE);
    assert_eq!(v["fewshot_as_multiturn"], true);
    assert_eq!(
        v["chat_template_sha"],
        sparkbench_engine::pyjson::sha256_hex(sparkbench_scripted::CHATML_TEMPLATE)
    );
    let gen_samples = samples_text(dir.path())
        .into_iter()
        .find(|(t, _)| t == "fake_gen")
        .expect("gen")
        .1;
    assert!(gen_samples.contains("<|im_start|>user"));

    let dir = tempfile::tempdir().expect("tempdir");
    let mut spec2 = spec.clone();
    spec2.output_dir = dir.path().to_path_buf();
    let err = run_plan(
        &spec2,
        &plan(),
        &mut Recording::new(serde_json::json!({"chat_template": false})),
        &Sink::new(),
        &Cancel::new(),
    )
    .expect_err("no template");
    assert!(err.to_string().contains("no chat template"), "{err}");
}

#[test]
fn missing_capability_is_a_clear_error_before_any_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut model = Recording::new(serde_json::json!({"loglikelihood": false}));
    let err = run_plan(
        &spec(dir.path(), 1),
        &plan(),
        &mut model,
        &Sink::new(),
        &Cancel::new(),
    )
    .expect_err("unsupported");
    assert!(
        err.to_string().contains("mc_a needs loglikelihood"),
        "{err}"
    );
    assert!(model.seen.is_empty());
}
