//! Helpers shared by this crate's unit tests: minimal lm-eval results documents and file writes.

use std::path::Path;

use serde_json::{Value, json};

/// Write a file, creating its folders; panics in tests only.
pub(crate) fn write(path: &Path, text: &str) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// A minimal lm-eval results document: one metric per task, stderr 0.01, 5-shot for gsm8k and
/// 0-shot otherwise, version 1.0, 100 documents.
pub(crate) fn results_json(tasks: &[(&str, &str, f64)]) -> Value {
    let mut doc = json!({
        "results": {}, "group_subtasks": {}, "configs": {}, "versions": {}, "n-shot": {},
        "higher_is_better": {}, "n-samples": {},
        "config": {"model": "hf", "limit": null, "gen_kwargs": null, "fewshot_seed": 1234},
        "lm_eval_version": "0.4.12", "chat_template": null, "chat_template_sha": null,
    });
    for (task, key, value) in tasks {
        let (metric, filter) = key.split_once(',').unwrap_or((key, "none"));
        let entry = doc["results"].as_object_mut().and_then(|r| {
            r.entry(task.to_string())
                .or_insert_with(|| json!({"alias": task}));
            r.get_mut(*task)
        });
        if let Some(e) = entry {
            e[key.to_string()] = json!(value);
            e[format!("{metric}_stderr,{filter}")] = json!(0.01);
        }
        doc["versions"][task.to_string()] = json!(1.0);
        doc["n-shot"][task.to_string()] = json!(if *task == "gsm8k" { 5 } else { 0 });
        doc["higher_is_better"][task.to_string()][metric.to_string()] = json!(true);
        doc["n-samples"][task.to_string()] = json!({"original": 100, "effective": 100});
    }
    doc
}
