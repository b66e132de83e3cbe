//! Loading a run from its `lm-eval/` folder, generically over lm-eval's JSON (never through the
//! engine's types): the newest `results_*.json` by the timestamp in its name, every task's
//! metrics, the settings that decide comparability, and the `"sparkbench"` key our engine adds
//! (`{"partial": bool, "counts": {task: {"done", "total"}}, "data_hashes": {task: sha256}}`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Result, RunsError};
use crate::layout::{RunFolder, RunKind};
use crate::record::{DocCount, RunRecord, read_run_record};

/// One metric of a task (`"<metric>,<filter>"` in lm-eval's files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// The full key, e.g. `exact_match,strict-match`.
    pub key: String,
    /// The metric name, e.g. `exact_match`.
    pub metric: String,
    /// The filter name, e.g. `strict-match` (`none` for most tasks).
    pub filter: String,
    /// The value.
    pub value: f64,
    /// The standard error (`None` where lm-eval writes "N/A").
    pub stderr: Option<f64>,
}

/// One task (or group) of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskResult {
    /// Task or group name.
    pub name: String,
    /// Display alias, trimmed of lm-eval's indentation.
    pub alias: Option<String>,
    /// The metrics in file order.
    pub metrics: Vec<Metric>,
    /// lm-eval's `higher_is_better` for this task (metric name -> bool).
    pub higher_is_better: BTreeMap<String, bool>,
    /// Whether this is a group (it has subtasks in `group_subtasks`).
    pub is_group: bool,
    /// The group this task belongs to, if any.
    pub parent: Option<String>,
    /// The direct subtasks of a group.
    pub children: Vec<String>,
}

impl TaskResult {
    /// A metric by its full key.
    pub fn metric(&self, key: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.key == key)
    }
    /// Whether larger values of `metric` are better (lm-eval's default: true).
    pub fn higher_is_better(&self, metric: &str) -> bool {
        self.higher_is_better.get(metric).copied().unwrap_or(true)
    }
}

/// Per-task settings that decide whether two runs may be compared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskSettings {
    /// Few-shot count (`n-shot`).
    pub n_shot: Option<u64>,
    /// Documents in the split (`n-samples.original`).
    pub docs_original: Option<u64>,
    /// Documents evaluated (`n-samples.effective`).
    pub docs_effective: Option<u64>,
    /// Generation length cap (task config, overridden by the run's `gen_kwargs`).
    pub max_gen_toks: Option<u64>,
    /// Task version (`versions`), as text.
    pub version: Option<String>,
    /// Data hash written by sparkbench (`sparkbench.data_hashes`).
    pub data_hash: Option<String>,
}

/// Run-wide settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    /// `config.limit`.
    pub limit: Option<f64>,
    /// Whether a chat template was applied.
    pub chat_template: bool,
    /// Its sha256, when recorded.
    pub chat_template_sha: Option<String>,
    /// `fewshot_as_multiturn`.
    pub fewshot_as_multiturn: Option<bool>,
    /// `system_instruction_sha`.
    pub system_instruction_sha: Option<String>,
    /// `config.gen_kwargs` as written (string or object).
    pub gen_kwargs: Option<Value>,
    /// `config.fewshot_seed`.
    pub fewshot_seed: Option<Value>,
    /// `lm_eval_version` (or the sparkbench version our engine writes there).
    pub lm_eval_version: Option<String>,
    /// Per-task settings.
    pub tasks: BTreeMap<String, TaskSettings>,
}

/// A run with its results loaded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadedRun {
    /// Where it lives.
    pub folder: RunFolder,
    /// The results file that was read.
    pub results_file: PathBuf,
    /// The timestamp from the results file name (`2026-11-22T06-39-24.288851`).
    pub results_stamp: Option<String>,
    /// The tasks and groups, in file order.
    pub tasks: Vec<TaskResult>,
    /// Tasks and groups that no group contains, in file order (what tables show).
    pub top_level: Vec<String>,
    /// Whether the engine marked the results partial.
    pub partial: bool,
    /// Per-task document counts from the `"sparkbench"` key (partial runs).
    pub counts: BTreeMap<String, DocCount>,
    /// Comparability settings.
    pub settings: RunSettings,
    /// `run.json`, when present.
    pub record: Option<RunRecord>,
    /// The run's date in words (`YYYY-MM-DD HH:MM`), from the results file name, the folder
    /// name or the file time.
    pub date: String,
    /// The raw `results` object, for `benchmark.json`.
    #[serde(skip)]
    pub raw_results: Value,
}

impl LoadedRun {
    /// A task by name.
    pub fn task(&self, name: &str) -> Option<&TaskResult> {
        self.tasks.iter().find(|t| t.name == name)
    }
    /// The leaf tasks under a task or group (itself when a leaf).
    pub fn leaves(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![(name.to_string(), 0usize)];
        while let Some((n, depth)) = stack.pop() {
            match self.task(&n) {
                Some(t) if t.is_group && depth < 16 => {
                    for c in t.children.iter().rev() {
                        stack.push((c.clone(), depth + 1));
                    }
                }
                _ => out.push(n),
            }
        }
        out
    }
    /// The status in words: from `run.json`, else `partial`/`complete` from the results.
    pub fn status_label(&self) -> &'static str {
        if self.partial {
            return "partial";
        }
        match &self.record {
            Some(r) => r.status.label(),
            None => "complete",
        }
    }
}

/// The timestamp in an lm-eval file name, parsed (`2026-11-22T06-39-24.288851`, microseconds
/// optional as Python's `isoformat` drops them when zero).
pub fn parse_file_stamp(stamp: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H-%M-%S%.f").ok()
}

fn mtime(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn list_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = fs::read_dir(dir).map_err(|e| RunsError::io("listing", dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| RunsError::io("listing", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.path().is_file() {
            out.push((name, entry.path()));
        }
    }
    Ok(out)
}

/// Order key: parsed name stamp first (unparseable names sort before any parsed one, by mtime).
type NewestKey = (Option<NaiveDateTime>, Option<SystemTime>, String);

/// The newest `results_*.json` in an `lm-eval/` folder, with its name stamp.
pub fn newest_results_file(lm_eval_dir: &Path) -> Result<(PathBuf, Option<String>)> {
    let mut best: Option<(NewestKey, PathBuf, Option<String>)> = None;
    for (name, path) in list_files(lm_eval_dir)? {
        let Some(stamp) = name
            .strip_prefix("results_")
            .and_then(|s| s.strip_suffix(".json"))
        else {
            continue;
        };
        let parsed = parse_file_stamp(stamp);
        let key = (parsed, mtime(&path), name.clone());
        let stamp = parsed.map(|_| stamp.to_string());
        if best.as_ref().is_none_or(|(k, _, _)| key > *k) {
            best = Some((key, path, stamp));
        }
    }
    best.map(|(_, p, s)| (p, s))
        .ok_or_else(|| RunsError::NoResults(lm_eval_dir.to_path_buf()))
}

/// The samples file of a task: the one whose stamp matches the results file, else the newest.
pub fn samples_file(
    lm_eval_dir: &Path,
    task: &str,
    results_stamp: Option<&str>,
) -> Result<Option<PathBuf>> {
    let prefix = format!("samples_{task}_");
    let mut best: Option<(NewestKey, PathBuf)> = None;
    for (name, path) in list_files(lm_eval_dir)? {
        let Some(stamp) = name
            .strip_prefix(&prefix)
            .and_then(|s| s.strip_suffix(".jsonl"))
        else {
            continue;
        };
        // `samples_mmlu_` must not claim `samples_mmlu_anatomy_<ts>`: the rest is a stamp only.
        let Some(parsed) = parse_file_stamp(stamp) else {
            continue;
        };
        if Some(stamp) == results_stamp {
            return Ok(Some(path));
        }
        let key = (Some(parsed), mtime(&path), name.clone());
        if best.as_ref().is_none_or(|(k, _)| key > *k) {
            best = Some((key, path));
        }
    }
    Ok(best.map(|(_, p)| p))
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn parse_metrics(entry: &serde_json::Map<String, Value>) -> Vec<Metric> {
    let mut out = Vec::new();
    for (key, value) in entry {
        let Some((metric, filter)) = key.split_once(',') else {
            continue;
        };
        if metric.ends_with("_stderr") {
            continue;
        }
        let Some(v) = (match value {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }) else {
            continue;
        };
        let stderr = entry
            .get(&format!("{metric}_stderr,{filter}"))
            .and_then(|s| match s {
                Value::Number(n) => n.as_f64(),
                _ => None,
            });
        out.push(Metric {
            key: key.clone(),
            metric: metric.to_string(),
            filter: filter.to_string(),
            value: v,
            stderr,
        });
    }
    out
}

fn max_gen_toks_of(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Object(m) => m.get("max_gen_toks").and_then(as_f64).map(|x| x as u64),
        Value::String(s) => s.split(',').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k.trim() == "max_gen_toks")
                .then(|| v.trim().parse().ok())
                .flatten()
        }),
        _ => None,
    }
}

/// Parse a results document (already read) into tasks and settings.
fn parse_results(
    doc: &Value,
) -> (
    Vec<TaskResult>,
    Vec<String>,
    RunSettings,
    bool,
    BTreeMap<String, DocCount>,
) {
    let empty = serde_json::Map::new();
    let obj = |key: &str| doc.get(key).and_then(Value::as_object).unwrap_or(&empty);
    let results = obj("results");
    let group_subtasks = obj("group_subtasks");
    let hib = obj("higher_is_better");
    let mut parent: BTreeMap<String, String> = BTreeMap::new();
    for (g, children) in group_subtasks {
        for c in children
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            parent.insert(c.to_string(), g.clone());
        }
    }
    let mut tasks = Vec::new();
    for (name, entry) in results {
        let Some(entry) = entry.as_object() else {
            continue;
        };
        let children: Vec<String> = group_subtasks
            .get(name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect();
        let higher_is_better = hib
            .get(name)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_bool().map(|b| (k.clone(), b)))
                    .collect()
            })
            .unwrap_or_default();
        tasks.push(TaskResult {
            name: name.clone(),
            alias: entry
                .get("alias")
                .and_then(Value::as_str)
                .map(|a| a.trim().trim_start_matches("- ").to_string()),
            metrics: parse_metrics(entry),
            higher_is_better,
            is_group: !children.is_empty(),
            parent: parent.get(name).cloned(),
            children,
        });
    }
    // A group's higher_is_better may be missing: take its first leaf's.
    let by_name: BTreeMap<String, BTreeMap<String, bool>> = tasks
        .iter()
        .map(|t| (t.name.clone(), t.higher_is_better.clone()))
        .collect();
    for t in tasks
        .iter_mut()
        .filter(|t| t.is_group && t.higher_is_better.is_empty())
    {
        if let Some(h) = t
            .children
            .iter()
            .find_map(|c| by_name.get(c).filter(|h| !h.is_empty()))
        {
            t.higher_is_better = h.clone();
        }
    }
    let top_level: Vec<String> = tasks
        .iter()
        .filter(|t| t.parent.is_none())
        .map(|t| t.name.clone())
        .collect();

    let config = obj("config");
    let sb = obj("sparkbench");
    let data_hashes = sb
        .get("data_hashes")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let run_gen_max = max_gen_toks_of(config.get("gen_kwargs"));
    let mut settings = RunSettings {
        limit: config.get("limit").and_then(as_f64),
        chat_template: doc.get("chat_template").is_some_and(|v| !v.is_null()),
        chat_template_sha: doc.get("chat_template_sha").and_then(as_text),
        fewshot_as_multiturn: doc.get("fewshot_as_multiturn").and_then(Value::as_bool),
        system_instruction_sha: doc.get("system_instruction_sha").and_then(as_text),
        gen_kwargs: config.get("gen_kwargs").filter(|v| !v.is_null()).cloned(),
        fewshot_seed: config.get("fewshot_seed").cloned(),
        lm_eval_version: doc.get("lm_eval_version").and_then(as_text),
        tasks: BTreeMap::new(),
    };
    for t in &tasks {
        let n_samples = obj("n-samples").get(&t.name);
        let task_gen = obj("configs")
            .get(&t.name)
            .and_then(|c| c.get("generation_kwargs"));
        settings.tasks.insert(
            t.name.clone(),
            TaskSettings {
                n_shot: obj("n-shot")
                    .get(&t.name)
                    .and_then(as_f64)
                    .map(|x| x as u64),
                docs_original: n_samples
                    .and_then(|n| n.get("original"))
                    .and_then(as_f64)
                    .map(|x| x as u64),
                docs_effective: n_samples
                    .and_then(|n| n.get("effective"))
                    .and_then(as_f64)
                    .map(|x| x as u64),
                max_gen_toks: run_gen_max.or_else(|| max_gen_toks_of(task_gen)),
                version: obj("versions").get(&t.name).and_then(as_text),
                data_hash: data_hashes.get(&t.name).and_then(as_text),
            },
        );
    }
    let partial = sb.get("partial").and_then(Value::as_bool).unwrap_or(false);
    let mut counts = BTreeMap::new();
    for (task, c) in sb
        .get("counts")
        .and_then(Value::as_object)
        .unwrap_or(&empty)
    {
        let count = match c {
            Value::Object(m) => DocCount {
                done: m.get("done").and_then(as_f64).unwrap_or(0.0) as usize,
                total: m.get("total").and_then(as_f64).unwrap_or(0.0) as usize,
            },
            other => {
                let n = as_f64(other).unwrap_or(0.0) as usize;
                DocCount { done: n, total: n }
            }
        };
        counts.insert(task.clone(), count);
    }
    (tasks, top_level, settings, partial, counts)
}

fn date_of(folder: &RunFolder, stamp: Option<&str>, file: &Path) -> String {
    if let Some(t) = stamp.and_then(parse_file_stamp) {
        return t.format("%Y-%m-%d %H:%M").to_string();
    }
    if let Some(t) = folder
        .stamp
        .as_deref()
        .and_then(|s| NaiveDateTime::parse_from_str(s, crate::layout::STAMP_FORMAT).ok())
    {
        return t.format("%Y-%m-%d %H:%M").to_string();
    }
    match mtime(file) {
        Some(t) => chrono::DateTime::<chrono::Local>::from(t)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        None => "unknown date".to_string(),
    }
}

/// Load a run folder: its newest results file, `run.json` when present.
pub fn load_run(folder: &RunFolder) -> Result<LoadedRun> {
    let (results_file, results_stamp) = newest_results_file(&folder.lm_eval_dir())?;
    let text = fs::read_to_string(&results_file)
        .map_err(|e| RunsError::io("reading", &results_file, e))?;
    let doc: Value = serde_json::from_str(&text).map_err(|source| RunsError::Json {
        path: results_file.clone(),
        what: "lm-eval results file",
        source,
    })?;
    let (tasks, top_level, settings, partial, counts) = parse_results(&doc);
    let record = read_run_record(&folder.dir)?;
    let date = date_of(folder, results_stamp.as_deref(), &results_file);
    Ok(LoadedRun {
        folder: folder.clone(),
        results_file,
        results_stamp,
        tasks,
        top_level,
        partial: partial
            || record
                .as_ref()
                .is_some_and(|r| r.status == crate::record::RunStatus::Partial),
        counts,
        settings,
        record,
        date,
        raw_results: doc
            .get("results")
            .cloned()
            .unwrap_or(Value::Object(serde_json::Map::new())),
    })
}

/// Load a run from any run folder path (kind guessed from the path: a folder under
/// `fine-tuned/` is fine-tuned, anything else base).
pub fn load_run_dir(run_dir: &Path) -> Result<LoadedRun> {
    let name = run_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let under_ft = run_dir
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|p| p == "fine-tuned");
    let folder = if under_ft {
        let stamp = name.get(..19).map(str::to_string);
        let backend = match name.get(19..) {
            Some("") => Some(sparkbench_protocol::Backend::Safetensors),
            Some(rest) => rest
                .strip_prefix('-')
                .and_then(crate::layout::backend_from_id),
            None => None,
        };
        RunFolder {
            kind: RunKind::FineTuned,
            dir: run_dir.to_path_buf(),
            backend,
            stamp,
        }
    } else {
        let backend = match name.strip_prefix("base-") {
            Some(id) => crate::layout::backend_from_id(id),
            None => Some(sparkbench_protocol::Backend::Safetensors),
        };
        RunFolder {
            kind: RunKind::Base,
            dir: run_dir.to_path_buf(),
            backend,
            stamp: None,
        }
    };
    load_run(&folder)
}

/// Per-document values of one metric, keyed by (task, doc_id, index within a list value such
/// as ifeval's `inst_level_strict_acc`), for the paired significance test.
pub type DocScores = BTreeMap<(String, u64, usize), f64>;

/// Per-leaf scores already read, keyed by (leaf, metric, filter); lets a comparison read each
/// samples file once even though MMLU's group, subgroups and subjects all need it.
pub type LeafCache = BTreeMap<(String, String, String), Option<DocScores>>;

/// Read the per-document values of `metric` under `filter` for a task or, for a group, all its
/// leaves. `Ok(None)` when a leaf has no samples file (run without `--log_samples`).
pub fn doc_scores(
    run: &LoadedRun,
    task: &str,
    metric: &str,
    filter: &str,
) -> Result<Option<DocScores>> {
    doc_scores_cached(run, task, metric, filter, &mut LeafCache::new())
}

/// [`doc_scores`] with a cache of leaves already read (one cache per run).
pub fn doc_scores_cached(
    run: &LoadedRun,
    task: &str,
    metric: &str,
    filter: &str,
    cache: &mut LeafCache,
) -> Result<Option<DocScores>> {
    let mut out = DocScores::new();
    for leaf in run.leaves(task) {
        let key = (leaf.clone(), metric.to_string(), filter.to_string());
        if !cache.contains_key(&key) {
            let scores = leaf_doc_scores(run, &leaf, metric, filter)?;
            cache.insert(key.clone(), scores);
        }
        match cache.get(&key) {
            Some(Some(scores)) => out.extend(scores.iter().map(|(k, v)| (k.clone(), *v))),
            _ => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// One leaf task's per-document values.
fn leaf_doc_scores(
    run: &LoadedRun,
    leaf: &str,
    metric: &str,
    filter: &str,
) -> Result<Option<DocScores>> {
    let dir = run.folder.lm_eval_dir();
    let Some(path) = samples_file(&dir, leaf, run.results_stamp.as_deref())? else {
        return Ok(None);
    };
    let text = fs::read_to_string(&path).map_err(|e| RunsError::io("reading", &path, e))?;
    let mut out = DocScores::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|source| RunsError::Json {
            path: path.with_file_name(format!(
                "{}:{}",
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                i + 1
            )),
            what: "lm-eval samples line",
            source,
        })?;
        if v.get("filter").and_then(Value::as_str).unwrap_or("none") != filter {
            continue;
        }
        let Some(doc_id) = v.get("doc_id").and_then(Value::as_u64) else {
            continue;
        };
        match v.get(metric) {
            Some(Value::Array(items)) => {
                for (k, item) in items.iter().enumerate() {
                    if let Some(x) = as_f64(item) {
                        out.insert((leaf.to_string(), doc_id, k), x);
                    }
                }
            }
            Some(item) => {
                if let Some(x) = as_f64(item) {
                    out.insert((leaf.to_string(), doc_id, 0), x);
                }
            }
            None => {}
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{results_json, write};

    #[test]
    fn newest_results_by_name_stamp_not_listing_order() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let d = t.path();
        // Written newest first, so mtime and creation order disagree with the name.
        write(&d.join("results_2026-11-22T10-00-00.json"), "{}");
        write(&d.join("results_2026-11-22T09-59-59.999999.json"), "{}");
        write(&d.join("results_2026-01-01T00-00-00.json"), "{}");
        write(
            &d.join(".sparkbench-tmp-results_2027-01-01T00-00-00.json"),
            "{}",
        );
        let (p, stamp) = newest_results_file(d)?;
        assert!(p.ends_with("results_2026-11-22T10-00-00.json"));
        assert_eq!(stamp.as_deref(), Some("2026-11-22T10-00-00"));
        Ok(())
    }

    #[test]
    fn empty_folder_says_no_results() {
        let Ok(t) = tempfile::tempdir() else { return };
        let err = newest_results_file(t.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("no results_*.json"), "{err}");
    }

    #[test]
    fn samples_file_prefers_the_results_stamp_and_never_a_longer_task() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let d = t.path();
        write(
            &d.join("samples_mmlu_anatomy_2026-11-22T10-00-00.jsonl"),
            "",
        );
        write(&d.join("samples_mmlu_2026-11-22T09-00-00.jsonl"), "");
        write(&d.join("samples_mmlu_2026-11-22T08-00-00.jsonl"), "");
        let p = samples_file(d, "mmlu", Some("2026-11-22T08-00-00"))?;
        assert!(p.is_some_and(|p| p.ends_with("samples_mmlu_2026-11-22T08-00-00.jsonl")));
        let p = samples_file(d, "mmlu", None)?;
        assert!(p.is_some_and(|p| p.ends_with("samples_mmlu_2026-11-22T09-00-00.jsonl")));
        assert!(samples_file(d, "gsm8k", None)?.is_none());
        Ok(())
    }

    #[test]
    fn parses_metrics_settings_groups_and_partial_flag() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let run_dir = t.path().join("benchmarks/base");
        let mut doc = results_json(&[("gsm8k", "exact_match,strict-match", 0.25)]);
        doc["results"]["gsm8k"]["exact_match,flexible-extract"] = serde_json::json!(0.5);
        doc["results"]["gsm8k"]["exact_match_stderr,flexible-extract"] = serde_json::json!("N/A");
        doc["configs"] = serde_json::json!({"gsm8k": {"generation_kwargs": {"max_gen_toks": 256}}});
        doc["config"]["gen_kwargs"] = serde_json::json!("temperature=0,max_gen_toks=640");
        doc["chat_template"] = serde_json::json!("{{ x }}");
        doc["chat_template_sha"] = serde_json::json!("abc");
        doc["results"]["mmlu"] = serde_json::json!({"alias": "mmlu", "acc,none": 0.4});
        doc["results"]["mmlu_stem"] = serde_json::json!({"alias": " - stem", "acc,none": 0.3});
        doc["results"]["mmlu_anatomy"] =
            serde_json::json!({"alias": "  - anatomy", "acc,none": 0.2});
        doc["group_subtasks"] =
            serde_json::json!({"mmlu": ["mmlu_stem"], "mmlu_stem": ["mmlu_anatomy"]});
        doc["sparkbench"] = serde_json::json!({"partial": true, "counts": {"gsm8k": {"done": 3, "total": 5}}, "data_hashes": {"gsm8k": "d1"}});
        write(
            &run_dir.join("lm-eval/results_2026-11-22T10-00-00.json"),
            &doc.to_string(),
        );
        let run = load_run_dir(&run_dir)?;
        let g = run
            .task("gsm8k")
            .ok_or_else(|| RunsError::NoRun("gsm8k".into()))?;
        assert_eq!(g.metrics.len(), 2);
        assert_eq!(
            g.metric("exact_match,strict-match")
                .map(|m| (m.value, m.stderr)),
            Some((0.25, Some(0.01)))
        );
        assert_eq!(
            g.metric("exact_match,flexible-extract").map(|m| m.stderr),
            Some(None)
        );
        assert_eq!(run.top_level, vec!["gsm8k", "mmlu"]);
        assert_eq!(run.leaves("mmlu"), vec!["mmlu_anatomy"]);
        assert_eq!(
            run.task("mmlu_anatomy").map(|t| t.alias.clone()),
            Some(Some("anatomy".into()))
        );
        assert!(run.partial);
        assert_eq!(
            run.counts.get("gsm8k"),
            Some(&DocCount { done: 3, total: 5 })
        );
        let s = &run.settings.tasks["gsm8k"];
        assert_eq!(
            (s.max_gen_toks, s.n_shot, s.data_hash.as_deref()),
            (Some(640), Some(5), Some("d1"))
        );
        assert!(run.settings.chat_template);
        assert_eq!(run.date, "2026-11-22 10:00");
        assert_eq!(run.status_label(), "partial");
        Ok(())
    }

    #[test]
    fn doc_scores_read_bools_lists_and_filters() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let run_dir = t.path().join("benchmarks/base");
        let lm = run_dir.join("lm-eval");
        write(
            &lm.join("results_2026-11-22T10-00-00.json"),
            &results_json(&[("ifeval", "prompt_level_strict_acc,none", 0.5)]).to_string(),
        );
        write(
            &lm.join("samples_ifeval_2026-11-22T10-00-00.jsonl"),
            "{\"doc_id\": 0, \"filter\": \"none\", \"prompt_level_strict_acc\": true, \"inst_level_strict_acc\": [true, false]}\n\
             {\"doc_id\": 1, \"filter\": \"none\", \"prompt_level_strict_acc\": false, \"inst_level_strict_acc\": [false]}\n\
             {\"doc_id\": 1, \"filter\": \"other\", \"prompt_level_strict_acc\": true}\n",
        );
        let run = load_run_dir(&run_dir)?;
        let p = doc_scores(&run, "ifeval", "prompt_level_strict_acc", "none")?.unwrap_or_default();
        assert_eq!(p.values().copied().collect::<Vec<_>>(), vec![1.0, 0.0]);
        let i = doc_scores(&run, "ifeval", "inst_level_strict_acc", "none")?.unwrap_or_default();
        assert_eq!(i.len(), 3);
        assert!(doc_scores(&run, "gsm8k", "exact_match", "strict-match")?.is_none());
        Ok(())
    }
}
