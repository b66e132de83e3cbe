//! The whole life of a model folder through the public API: discovery, run folders and
//! run.json, a partial fine-tuned run on another backend, benchmark.json with the paired tests
//! (McNemar on ifeval, sign-flip on truthfulqa_mc2, pooled over subtasks for the mmlu group),
//! README sections twice (byte-identical), history and base reuse.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::{Value, json};
use sparkbench_protocol::{Backend, ModelSource, RunSpec, TaskSelection};
use sparkbench_runs::compare::{CompareOptions, Verdict};
use sparkbench_runs::discover::{Format, discover_models};
use sparkbench_runs::history::{build_history, render_history};
use sparkbench_runs::layout::{RunKind, plan_run};
use sparkbench_runs::record::{DocCount, RunRecord, RunStatus, write_run_record};
use sparkbench_runs::render::render_comparison;
use sparkbench_runs::stats::TestKind;
use sparkbench_runs::summary::find_reusable_base;
use sparkbench_runs::update::refresh_model;

fn write(path: &Path, text: &str) {
    if let Some(p) = path.parent() {
        fs::create_dir_all(p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
    }
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn spec(model: ModelSource, output: &Path) -> RunSpec {
    RunSpec {
        label: "qwen-lima".into(),
        model,
        tasks: ["ifeval", "truthfulqa_mc2", "mmlu"]
            .iter()
            .map(|t| TaskSelection::named(*t))
            .collect(),
        suite: None,
        limit: None,
        num_fewshot: None,
        fewshot_seed: 1234,
        apply_chat_template: false,
        fewshot_as_multiturn: None,
        system_instruction: None,
        gen_kwargs: BTreeMap::new(),
        batch_size: 8,
        max_length: None,
        dtype: None,
        device: None,
        data_dir: None,
        output_dir: output.to_path_buf(),
        concurrency: None,
        approximate_loglikelihood: false,
    }
}

/// Per-document scores of one run.
struct Scores {
    ifeval: Vec<bool>,
    mc2: Vec<f64>,
    anatomy: Vec<f64>,
    astronomy: Vec<f64>,
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn write_run(lm: &Path, stamp: &str, s: &Scores, extra: Option<Value>) {
    let ife = s.ifeval.iter().filter(|b| **b).count() as f64 / s.ifeval.len() as f64;
    let mmlu_all: Vec<f64> = s.anatomy.iter().chain(&s.astronomy).copied().collect();
    let mut doc = json!({
        "results": {
            "ifeval": {"alias": "ifeval", "prompt_level_strict_acc,none": ife, "prompt_level_strict_acc_stderr,none": 0.05,
                       "inst_level_strict_acc,none": ife, "inst_level_strict_acc_stderr,none": "N/A"},
            "truthfulqa_mc2": {"alias": "truthfulqa_mc2", "acc,none": mean(&s.mc2), "acc_stderr,none": 0.02},
            "mmlu": {"alias": "mmlu", "acc,none": mean(&mmlu_all), "acc_stderr,none": 0.03},
            "mmlu_anatomy": {"alias": "  - anatomy", "acc,none": mean(&s.anatomy), "acc_stderr,none": 0.04},
            "mmlu_astronomy": {"alias": "  - astronomy", "acc,none": mean(&s.astronomy), "acc_stderr,none": 0.04}
        },
        "group_subtasks": {"mmlu": ["mmlu_anatomy", "mmlu_astronomy"]},
        "configs": {"ifeval": {"generation_kwargs": {"max_gen_toks": 1280}}},
        "versions": {"ifeval": 4.0, "truthfulqa_mc2": 3.0, "mmlu": "2", "mmlu_anatomy": 1.0, "mmlu_astronomy": 1.0},
        "n-shot": {"ifeval": 0, "truthfulqa_mc2": 0, "mmlu_anatomy": 0, "mmlu_astronomy": 0},
        "higher_is_better": {"ifeval": {"prompt_level_strict_acc": true}, "truthfulqa_mc2": {"acc": true},
                             "mmlu_anatomy": {"acc": true}, "mmlu_astronomy": {"acc": true}},
        "n-samples": {},
        "config": {"model": "sparkbench", "limit": null, "gen_kwargs": null, "fewshot_seed": 1234},
        "chat_template": null, "chat_template_sha": null, "lm_eval_version": "0.4.12"
    });
    if let Some(e) = extra {
        doc["sparkbench"] = e;
    }
    write(
        &lm.join(format!("results_{stamp}.json")),
        &serde_json::to_string_pretty(&doc).unwrap_or_default(),
    );
    let lines =
        |f: &dyn Fn(usize) -> String, n: usize| (0..n).map(|i| f(i) + "\n").collect::<String>();
    write(
        &lm.join(format!("samples_ifeval_{stamp}.jsonl")),
        &lines(
            &|i| {
                json!({"doc_id": i, "filter": "none", "prompt_level_strict_acc": s.ifeval[i], "inst_level_strict_acc": [s.ifeval[i]]}).to_string()
            },
            s.ifeval.len(),
        ),
    );
    write(
        &lm.join(format!("samples_truthfulqa_mc2_{stamp}.jsonl")),
        &lines(
            &|i| json!({"doc_id": i, "filter": "none", "acc": s.mc2[i]}).to_string(),
            s.mc2.len(),
        ),
    );
    for (task, v) in [
        ("mmlu_anatomy", &s.anatomy),
        ("mmlu_astronomy", &s.astronomy),
    ] {
        write(
            &lm.join(format!("samples_{task}_{stamp}.jsonl")),
            &lines(
                &|i| json!({"doc_id": i, "filter": "none", "acc": v[i]}).to_string(),
                v.len(),
            ),
        );
    }
}

#[test]
fn a_model_folder_from_discovery_to_readme() {
    let Ok(tmp) = tempfile::tempdir() else {
        panic!("tempdir")
    };
    let outputs = tmp.path().join("outputs");
    let m = outputs.join("qwen-lima");
    write(
        &m.join("lora/adapter_config.json"),
        r#"{"base_model_name_or_path": "Qwen/Qwen3-1.7B", "r": 16}"#,
    );
    let lora_readme = "---\r\nbase_model: Qwen/Qwen3-1.7B\r\nlibrary_name: peft\r\n---\r\n\r\n# qwen-lima LoRA\r\n";
    write(&m.join("lora/README.md"), lora_readme);
    write(&m.join("gguf/qwen-lima-Q4_K_M.gguf"), "GGUF....");
    let gguf_readme = "# GGUF build\n\nNo trailing newline here";
    write(&m.join("gguf/README.md"), gguf_readme);

    let models = discover_models(&outputs, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(models.len(), 1);
    assert_eq!(
        models[0]
            .formats
            .iter()
            .map(|f| f.format)
            .collect::<Vec<_>>(),
        [Format::Lora, Format::Gguf]
    );
    assert_eq!(
        models[0].base.as_ref().map(|b| b.name.as_str()),
        Some("Qwen/Qwen3-1.7B")
    );
    assert!(models[0].last_benchmark.is_none());

    // The base run, native safetensors, complete, with run.json.
    let base = plan_run(&m, RunKind::Base, Backend::Safetensors);
    let base_spec = spec(
        ModelSource::Hf {
            path: "/models/Qwen3-1.7B".into(),
        },
        &base.lm_eval_dir(),
    );
    let base_scores = Scores {
        ifeval: (0..40).map(|i| i % 4 == 0).collect(), // 10/40
        mc2: (0..8).map(|i| 0.40 + 0.01 * i as f64).collect(),
        anatomy: (0..10).map(|i| if i < 5 { 1.0 } else { 0.0 }).collect(),
        astronomy: (0..10).map(|i| if i < 5 { 1.0 } else { 0.0 }).collect(),
    };
    write_run(
        &base.lm_eval_dir(),
        "2026-11-22T10-00-00.000001",
        &base_scores,
        None,
    );
    let mut rec = RunRecord::start(&base_spec);
    rec.finish(RunStatus::Complete, None);
    write_run_record(&base.dir, &rec).unwrap_or_else(|e| panic!("{e}"));

    // The fine-tuned run on GGUF, stopped early (partial).
    let ft = plan_run(&m, RunKind::FineTuned, Backend::Gguf);
    assert!(
        ft.dir
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with("-gguf"))
    );
    let ft_scores = Scores {
        ifeval: (0..40)
            .map(|i| i % 4 == 0 || i % 4 == 1 || i == 3)
            .collect(), // 21/40: c = 11, b = 0
        mc2: (0..8).map(|i| 0.40 + 0.01 * i as f64 + 0.05).collect(), // +0.05 on every doc
        anatomy: (0..10).map(|i| if i < 5 { 1.0 } else { 0.0 }).collect(),
        astronomy: (0..10)
            .map(|i| if i < 4 || i == 9 { 1.0 } else { 0.0 })
            .collect(), // b = 1, c = 1
    };
    let partial = json!({"partial": true, "counts": {"ifeval": {"done": 40, "total": 541}}});
    write_run(
        &ft.lm_eval_dir(),
        "2026-11-22T11-00-00.5",
        &ft_scores,
        Some(partial),
    );
    let mut ft_rec = RunRecord::start(&spec(
        ModelSource::Gguf {
            path: m.join("gguf/qwen-lima-Q4_K_M.gguf"),
            tokenizer: None,
        },
        &ft.lm_eval_dir(),
    ));
    ft_rec.doc_counts.insert(
        "ifeval".into(),
        DocCount {
            done: 40,
            total: 541,
        },
    );
    ft_rec.finish(RunStatus::Partial, Some("timeout after 30m".into()));
    write_run_record(&ft.dir, &ft_rec).unwrap_or_else(|e| panic!("{e}"));

    let opts = CompareOptions::default();
    let first = refresh_model(&m, &opts, true).unwrap_or_else(|e| panic!("{e}"));
    let c = first
        .summary
        .sparkbench
        .comparison
        .clone()
        .unwrap_or_else(|| panic!("no comparison"));
    let task = |n: &str| {
        c.tasks
            .iter()
            .find(|t| t.task == n)
            .unwrap_or_else(|| panic!("no {n}"))
    };

    let ife = task("ifeval");
    let s = ife
        .significance
        .as_ref()
        .unwrap_or_else(|| panic!("no ifeval test"));
    assert_eq!(
        (s.test, s.pairs, s.base_only, s.finetuned_only),
        (TestKind::Mcnemar, 40, Some(0), Some(11))
    );
    // Exact two-sided p = 2 / 2^11; mid-p = 1 / 2^11.
    assert!(
        (s.p_value - 2.0 / 2048.0).abs() < 1e-12 && (s.decision_p - 1.0 / 2048.0).abs() < 1e-12
    );
    assert_eq!(ife.verdict, Some(Verdict::Excellent)); // +27.5 points
    assert_eq!(
        ife.finetuned_partial,
        Some(DocCount {
            done: 40,
            total: 541
        })
    );

    let tqa = task("truthfulqa_mc2");
    let s = tqa
        .significance
        .as_ref()
        .unwrap_or_else(|| panic!("no mc2 test"));
    // 8 equal positive differences: only the all-plus and all-minus patterns reach |sum|.
    assert_eq!(s.test, TestKind::SignFlip);
    assert!((s.p_value - 2.0 / 256.0).abs() < 1e-12);
    assert_eq!(tqa.verdict, Some(Verdict::Good));

    let mmlu = task("mmlu");
    let s = mmlu
        .significance
        .as_ref()
        .unwrap_or_else(|| panic!("no mmlu test"));
    assert_eq!(
        (s.pairs, s.base_only, s.finetuned_only),
        (20, Some(1), Some(1))
    );
    assert!(s.within_noise && mmlu.within_noise());
    assert_eq!(mmlu.headline.as_ref().map(|h| h.arrow.glyph()), Some("→"));
    assert!(task("mmlu_anatomy").parent.as_deref() == Some("mmlu"));
    assert_eq!(c.top_level().count(), 3);
    assert!(
        c.notes
            .iter()
            .any(|n| n.contains("fine-tuned run is partial"))
    );

    // benchmark.json on disk is the summary.
    let on_disk: Value =
        serde_json::from_str(&fs::read_to_string(&first.benchmark_json).unwrap_or_default())
            .unwrap_or_default();
    assert_eq!(
        on_disk["comparison"]["ifeval"]["metric"],
        "prompt_level_strict_acc"
    );
    assert_eq!(on_disk["fine_tuned_model"]["partial"], true);
    assert_eq!(on_disk["fine_tuned_model"]["backend"], "gguf");
    assert_eq!(on_disk["base_model_name"], "Qwen/Qwen3-1.7B");

    // READMEs: the model one created, format ones updated around their own bytes.
    let read = |p: &str| fs::read(m.join(p)).unwrap_or_default();
    let lora_after = String::from_utf8(read("lora/README.md")).unwrap_or_default();
    assert!(
        lora_after.starts_with(lora_readme) && lora_after.contains("<!-- sparkbench:end -->\r\n")
    );
    assert!(!lora_after.replace("\r\n", "").contains('\n'));
    let gguf_after = String::from_utf8(read("gguf/README.md")).unwrap_or_default();
    assert!(gguf_after.starts_with(&format!("{gguf_readme}\n\n<!-- sparkbench:begin -->")));
    let top = String::from_utf8(read("README.md")).unwrap_or_default();
    assert!(
        top.starts_with("# qwen-lima\n\n<!-- sparkbench:begin -->\n## Benchmark results\n"),
        "{top}"
    );
    assert!(top.contains("| ifeval (partial: fine-tuned 40/541) | prompt_level_strict_acc | 25.00% | 52.50% | ↗ +27.50 pts (+110.0%) | excellent | p < 0.001 |"), "{top}");
    assert!(
        top.contains("| mmlu | acc | 50.00% | 50.00% | → no change |"),
        "{top}"
    );
    let snapshot: Vec<Vec<u8>> = ["README.md", "lora/README.md", "gguf/README.md"]
        .iter()
        .map(|p| read(p))
        .collect();
    let second = refresh_model(&m, &opts, true).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        second.readmes.iter().all(|u| !u.changed),
        "{:?}",
        second.readmes
    );
    let again: Vec<Vec<u8>> = ["README.md", "lora/README.md", "gguf/README.md"]
        .iter()
        .map(|p| read(p))
        .collect();
    assert_eq!(snapshot, again);

    // The terminal table and the history.
    let table = render_comparison(&c);
    assert!(
        table.contains("ifeval (partial: fine-tuned 40/541)") && table.contains("within noise"),
        "{table}"
    );
    let h = render_history(&build_history(&m, false).unwrap_or_else(|e| panic!("{e}")));
    assert!(
        h.contains("[1] base — base, 2026-11-22 10:00, complete"),
        "{h}"
    );
    assert!(
        h.contains("(gguf) — fine-tuned, 2026-11-22 11:00, partial"),
        "{h}"
    );

    // The wizard now sees the last benchmark.
    let models = discover_models(&outputs, None).unwrap_or_else(|e| panic!("{e}"));
    let lb = models[0]
        .last_benchmark
        .clone()
        .unwrap_or_else(|| panic!("no last benchmark"));
    assert_eq!(lb.date, "2026-11-22 11:00");
    assert_eq!(lb.headline.map(|h| h.task), Some("ifeval".to_string()));

    // The base is reused for the same settings, not for others.
    let wanted = spec(
        ModelSource::Hf {
            path: "/models/Qwen3-1.7B".into(),
        },
        Path::new("/elsewhere"),
    );
    assert!(find_reusable_base(&m, &wanted).is_some_and(|r| r.folder.dir == base.dir));
    let mut other = wanted.clone();
    other.num_fewshot = Some(5);
    assert!(find_reusable_base(&m, &other).is_none());
}
