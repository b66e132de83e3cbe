//! lm-eval's output files from the journals: `results_<date_id>.json` (spec section 6.2, HEAD key
//! order) and one `samples_<task>_<date_id>.jsonl` per task (section 6.3), written atomically.
//!
//! Everything is derived from the journal records sorted by `doc_id`, so a resumed run writes
//! the same files as an uninterrupted one (apart from `date`, `total_evaluation_time_seconds`
//! and the file names).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use sparkbench_protocol::{RunSpec, TaskScore};
use sparkbench_tasks::Aggregation;

use crate::aggregate::{group_score, task_scores};
use crate::error::EngineError;
use crate::journal::{DocRecord, RunMeta, TaskMeta};
use crate::plan::TaskNode;
use crate::pyjson::{dumps, dumps_indent2, float_repr, sha256_hex};
use crate::samples::{sample_lines, task_hash};
use crate::write::write_atomic;

/// One task's journal contents, as the writer needs them.
pub struct TaskRecords {
    /// The task's metadata.
    pub meta: TaskMeta,
    /// Finished documents sorted by `doc_id`.
    pub records: Vec<DocRecord>,
}

/// The files written.
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenFiles {
    /// The results file.
    pub results_file: PathBuf,
    /// The samples files, in task order.
    pub samples_files: Vec<PathBuf>,
}

/// `datetime.now().isoformat().replace(":", "-")`, local time with microseconds.
pub fn date_id() -> String {
    chrono::Local::now()
        .format("%Y-%m-%dT%H-%M-%S%.6f")
        .to_string()
}

fn float_value(x: f64) -> Value {
    serde_json::Number::from_f64(x)
        .map(Value::Number)
        .unwrap_or_else(|| Value::String("NaN".into()))
}

fn stderr_value(se: Option<f64>) -> Value {
    se.map(float_value)
        .unwrap_or_else(|| Value::String("N/A".into()))
}

/// lm-eval's model-name sanitising: `re.sub(r"[\"<>:/|\\?*\[\]]+", "__", name)`.
pub fn sanitize_model_name(name: &str) -> String {
    let mut out = String::new();
    let mut in_run = false;
    for c in name.chars() {
        if "\"<>:/|\\?*[]".contains(c) {
            if !in_run {
                out.push_str("__");
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out
}

/// Everything the results file is built from.
pub struct ResultsInput<'a> {
    /// The run.
    pub spec: &'a RunSpec,
    /// Run-level metadata.
    pub meta: &'a RunMeta,
    /// Tasks with at least one finished document, in evaluation order.
    pub tasks: &'a [TaskRecords],
    /// Whether this is a partial result.
    pub partial: bool,
    /// Seconds the evaluation took.
    pub elapsed_seconds: f64,
}

struct Scored {
    scores: Vec<TaskScore>,
    size: usize,
}

fn metric_entries(entry: &mut Map<String, Value>, scores: &[TaskScore]) {
    for s in scores {
        entry.insert(format!("{},{}", s.metric, s.filter), float_value(s.value));
        entry.insert(
            format!("{}_stderr,{}", s.metric, s.filter),
            stderr_value(s.stderr),
        );
    }
}

/// Score every group node (depth first), over the leaves that have documents.
fn group_scores(
    node: &TaskNode,
    tasks: &[TaskRecords],
    leaf_scores: &BTreeMap<String, Scored>,
    out: &mut Vec<(TaskNode, Vec<TaskScore>, usize)>,
) {
    let TaskNode::Group { children, .. } = node else {
        return;
    };
    let leaves: Vec<String> = node
        .leaves()
        .into_iter()
        .filter(|l| leaf_scores.contains_key(l))
        .collect();
    if !leaves.is_empty() {
        // Aggregate each mean metric every leaf reports (mmlu: acc,none).
        let first = tasks.iter().find(|t| t.meta.name == leaves[0]);
        let mut scores = Vec::new();
        for m in first.map(|t| t.meta.metrics.clone()).unwrap_or_default() {
            if m.aggregation != Aggregation::Mean {
                continue;
            }
            let parts: Option<Vec<(f64, Option<f64>, usize)>> = leaves
                .iter()
                .map(|l| {
                    let sc = leaf_scores.get(l)?;
                    let s = sc
                        .scores
                        .iter()
                        .find(|s| s.metric == m.name && s.filter == m.filter)?;
                    Some((s.value, s.stderr, sc.size))
                })
                .collect();
            if let Some(parts) = parts {
                let (value, stderr) = group_score(&parts);
                scores.push(TaskScore {
                    metric: m.name.clone(),
                    filter: m.filter.clone(),
                    value,
                    stderr,
                });
            }
        }
        let size = leaves
            .iter()
            .filter_map(|l| leaf_scores.get(l))
            .map(|s| s.size)
            .sum();
        out.push((node.clone(), scores, size));
    }
    for c in children {
        group_scores(c, tasks, leaf_scores, out);
    }
}

/// Results entries in lm-eval's display order: a group, then its children.
fn ordered_names(nodes: &[TaskNode], out: &mut Vec<String>) {
    for n in nodes {
        if !out.iter().any(|o| o == n.name()) {
            out.push(n.name().to_string());
        }
        if let TaskNode::Group { children, .. } = n {
            ordered_names(children, out);
        }
    }
}

fn collect_group_subtasks(nodes: &[TaskNode], out: &mut Vec<(String, Vec<String>)>) {
    for n in nodes {
        if let TaskNode::Group { name, children, .. } = n {
            out.push((
                name.clone(),
                children.iter().map(|c| c.name().to_string()).collect(),
            ));
            collect_group_subtasks(children, out);
        }
    }
}

/// The results JSON.
pub fn results_json(input: &ResultsInput<'_>, task_hashes: &[(String, String)]) -> Value {
    let spec = input.spec;
    let info = &input.meta.model;
    let mut leaf_scores = BTreeMap::new();
    for t in input.tasks {
        leaf_scores.insert(
            t.meta.name.clone(),
            Scored {
                scores: task_scores(&t.meta.metrics, &t.records),
                size: t.records.len(),
            },
        );
    }
    let mut groups = Vec::new();
    for node in &input.meta.tree {
        group_scores(node, input.tasks, &leaf_scores, &mut groups);
    }

    let mut entries: BTreeMap<String, Value> = BTreeMap::new();
    for t in input.tasks {
        let mut e = Map::new();
        e.insert("name".into(), json!(t.meta.name));
        e.insert("alias".into(), json!(t.meta.alias));
        e.insert("sample_len".into(), json!(t.records.len()));
        if let Some(sc) = leaf_scores.get(&t.meta.name) {
            metric_entries(&mut e, &sc.scores);
        }
        entries.insert(t.meta.name.clone(), Value::Object(e));
    }
    let mut groups_section = Map::new();
    for (node, scores, size) in &groups {
        let TaskNode::Group { name, alias, .. } = node else {
            continue;
        };
        let mut e = Map::new();
        e.insert("alias".into(), json!(alias));
        e.insert("name".into(), json!(name));
        e.insert("sample_len".into(), json!(size));
        metric_entries(&mut e, scores);
        let counts: Map<String, Value> = scores
            .iter()
            .map(|s| (format!("{},{}", s.metric, s.filter), json!(size)))
            .collect();
        e.insert("sample_count".into(), Value::Object(counts));
        if !scores.is_empty() {
            groups_section.insert(name.clone(), Value::Object(e.clone()));
        }
        entries.insert(name.clone(), Value::Object(e));
    }
    let mut order = Vec::new();
    ordered_names(&input.meta.tree, &mut order);
    for t in input.tasks {
        if !order.contains(&t.meta.name) {
            order.push(t.meta.name.clone());
        }
    }
    let mut results = Map::new();
    for name in &order {
        if let Some(e) = entries.remove(name) {
            results.insert(name.clone(), e);
        }
    }

    let mut subtasks = Vec::new();
    collect_group_subtasks(&input.meta.tree, &mut subtasks);
    let group_subtasks: Map<String, Value> = subtasks
        .into_iter()
        .rev()
        .map(|(g, c)| (g, json!(c)))
        .collect();

    let mut configs = BTreeMap::new();
    let mut versions: BTreeMap<String, Value> = BTreeMap::new();
    let mut n_shot: BTreeMap<String, Value> = BTreeMap::new();
    let mut hib: BTreeMap<String, Value> = BTreeMap::new();
    let mut n_samples = Map::new();
    for t in input.tasks {
        configs.insert(t.meta.name.clone(), t.meta.config.clone());
        versions.insert(t.meta.name.clone(), float_value(t.meta.version));
        n_shot.insert(t.meta.name.clone(), json!(t.meta.n_shot));
        let h: Map<String, Value> = t
            .meta
            .metrics
            .iter()
            .map(|m| (m.name.clone(), json!(m.higher_is_better)))
            .collect();
        hib.insert(t.meta.name.clone(), Value::Object(h));
        n_samples.insert(
            t.meta.name.clone(),
            json!({"original": t.meta.original, "effective": t.records.len()}),
        );
    }
    for (node, scores, _) in &groups {
        let TaskNode::Group { name, version, .. } = node else {
            continue;
        };
        versions.insert(name.clone(), json!(version));
        let shots: Vec<usize> = node
            .leaves()
            .iter()
            .filter_map(|l| input.tasks.iter().find(|t| &t.meta.name == l))
            .map(|t| t.meta.n_shot)
            .collect();
        if let Some(&k) = shots.first()
            && shots.iter().all(|&s| s == k)
        {
            n_shot.insert(name.clone(), json!(k));
        }
        let first_leaf = node
            .leaves()
            .into_iter()
            .find_map(|l| input.tasks.iter().find(|t| t.meta.name == l));
        let h: Map<String, Value> = scores
            .iter()
            .map(|s| {
                let better = first_leaf
                    .and_then(|t| t.meta.metrics.iter().find(|m| m.name == s.metric))
                    .map(|m| m.higher_is_better)
                    .unwrap_or(true);
                (s.metric.clone(), json!(better))
            })
            .collect();
        hib.insert(name.clone(), Value::Object(h));
    }

    let model_args = serde_json::to_value(&spec.model).unwrap_or(Value::Null);
    let gen_kwargs = if spec.gen_kwargs.is_empty() {
        Value::Null
    } else {
        json!(spec.gen_kwargs)
    };
    let config = json!({
        "model": info.backend,
        "model_args": model_args,
        "model_num_parameters": info.num_parameters,
        "model_dtype": info.dtype,
        "model_revision": "main",
        "model_sha": info.weights_sha256.clone().unwrap_or_default(),
        "batch_size": spec.batch_size,
        "batch_sizes": [],
        "device": info.device,
        "use_cache": null,
        "limit": spec.limit,
        "bootstrap_iters": 100000,
        "gen_kwargs": gen_kwargs,
        "random_seed": 0,
        "numpy_seed": 1234,
        "torch_seed": 1234,
        "fewshot_seed": spec.fewshot_seed,
    });

    let mut root = Map::new();
    root.insert("results".into(), Value::Object(results));
    if !groups_section.is_empty() {
        root.insert("groups".into(), Value::Object(groups_section));
    }
    root.insert("group_subtasks".into(), Value::Object(group_subtasks));
    root.insert("configs".into(), json!(configs));
    root.insert("versions".into(), json!(versions));
    root.insert("n-shot".into(), json!(n_shot));
    root.insert("higher_is_better".into(), json!(hib));
    root.insert("n-samples".into(), Value::Object(n_samples));
    root.insert("config".into(), config);
    root.insert("git_hash".into(), Value::Null);
    root.insert("date".into(), float_value(input.meta.started_at));
    if info.eos_text.is_some() {
        let none = || json!("None");
        let eot = info
            .eot_token_id
            .map(|i| json!(i.to_string()))
            .unwrap_or_else(none);
        root.insert("tokenizer_pad_token".into(), json!([info.pad_text, "None"]));
        root.insert("tokenizer_eos_token".into(), json!([info.eos_text, eot]));
        root.insert("tokenizer_bos_token".into(), json!([info.bos_text, "None"]));
        root.insert("eot_token_id".into(), json!(info.eot_token_id));
        root.insert("max_length".into(), json!(info.max_length));
    }
    let hashes: Map<String, Value> = task_hashes
        .iter()
        .map(|(t, h)| (t.clone(), json!(h)))
        .collect();
    root.insert("task_hashes".into(), Value::Object(hashes));
    root.insert("model_source".into(), json!(info.backend));
    root.insert("model_name".into(), json!(info.name));
    root.insert(
        "model_name_sanitized".into(),
        json!(sanitize_model_name(&info.name)),
    );
    root.insert("system_instruction".into(), json!(spec.system_instruction));
    root.insert(
        "system_instruction_sha".into(),
        json!(spec.system_instruction.as_deref().map(sha256_hex)),
    );
    root.insert("fewshot_as_multiturn".into(), json!(spec.multiturn()));
    root.insert("chat_template".into(), json!(input.meta.chat_template));
    root.insert(
        "chat_template_sha".into(),
        json!(input.meta.chat_template.as_deref().map(sha256_hex)),
    );
    root.insert(
        "total_evaluation_time_seconds".into(),
        json!(float_repr(input.elapsed_seconds)),
    );
    let counts: Map<String, Value> = input
        .tasks
        .iter()
        .map(|t| (t.meta.name.clone(), json!(t.records.len())))
        .collect();
    let planned: Map<String, Value> = input
        .tasks
        .iter()
        .map(|t| (t.meta.name.clone(), json!(t.meta.effective)))
        .collect();
    let data_hashes: Map<String, Value> = input
        .tasks
        .iter()
        .map(|t| {
            (
                t.meta.name.clone(),
                Value::Object(
                    t.meta
                        .data_hashes
                        .iter()
                        .map(|(k, v)| (k.clone(), json!(v)))
                        .collect(),
                ),
            )
        })
        .collect();
    root.insert(
        "sparkbench".into(),
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "fingerprint": input.meta.fingerprint,
            "partial": input.partial,
            "counts": counts,
            "planned": planned,
            "data_hashes": data_hashes,
            "backend": info.backend,
            "label": spec.label,
            "loglikelihood": if spec.approximate_loglikelihood { "approximate" } else { "exact" },
        }),
    );
    Value::Object(root)
}

/// Write the samples files and the results file into `dir`.
pub fn write_all(dir: &Path, input: &ResultsInput<'_>) -> Result<WrittenFiles, EngineError> {
    let id = date_id();
    let mut samples_files = Vec::new();
    let mut hashes = Vec::new();
    for t in input.tasks {
        let lines = sample_lines(t);
        hashes.push((t.meta.name.clone(), task_hash(&lines)));
        let mut text = String::new();
        for l in &lines {
            text.push_str(&dumps(l));
            text.push('\n');
        }
        let path = dir.join(format!("samples_{}_{id}.jsonl", t.meta.name));
        write_atomic(&path, text.as_bytes())?;
        samples_files.push(path);
    }
    let results = results_json(input, &hashes);
    let results_file = dir.join(format!("results_{id}.json"));
    write_atomic(&results_file, dumps_indent2(&results).as_bytes())?;
    Ok(WrittenFiles {
        results_file,
        samples_files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_are_sanitised_like_lm_eval() {
        assert_eq!(sanitize_model_name("org/My-Model"), "org__My-Model");
        assert_eq!(sanitize_model_name("a:/b"), "a__b");
    }

    #[test]
    fn date_id_has_no_colons() {
        let id = date_id();
        assert!(!id.contains(':'));
        assert_eq!(id.len(), "2026-11-22T06-39-24.288851".len(), "{id}");
    }
}
