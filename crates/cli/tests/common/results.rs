//! Reading a run's output folder: results files (complete or partial), their samples files,
//! the journals, and results JSON with timestamps and timings removed for comparison.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One `results_<stamp>.json`.
#[derive(Debug, Clone)]
pub struct ResultsFile {
    /// Its path.
    pub path: PathBuf,
    /// The `<stamp>` of its name (shared with its samples files).
    pub stamp: String,
    /// Its content.
    pub json: Value,
}

impl ResultsFile {
    /// Whether it is marked `"sparkbench": {"partial": true}`.
    pub fn partial(&self) -> bool {
        self.json
            .pointer("/sparkbench/partial")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// `sparkbench.counts`: documents finished per task (partial results).
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.json
            .pointer("/sparkbench/counts")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), usize::try_from(v.as_u64()?).ok()?)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Every results file in `dir`, oldest stamp first. Panics on one that is not valid JSON.
pub fn results_files(dir: &Path) -> Vec<ResultsFile> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(stamp) = name
            .strip_prefix("results_")
            .and_then(|s| s.strip_suffix(".json"))
        else {
            continue;
        };
        let text = std::fs::read_to_string(e.path()).expect("a results file is readable");
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|err| panic!("{name} is not valid JSON ({err}):\n{text}"));
        out.push(ResultsFile {
            path: e.path(),
            stamp: stamp.to_string(),
            json,
        });
    }
    out.sort_by(|a, b| a.stamp.cmp(&b.stamp));
    out
}

/// The newest complete (not partial) results file in `dir`.
pub fn final_results(dir: &Path) -> Option<ResultsFile> {
    results_files(dir).into_iter().rev().find(|r| !r.partial())
}

/// The newest partial results file in `dir`.
pub fn partial_results(dir: &Path) -> Option<ResultsFile> {
    results_files(dir)
        .into_iter()
        .rev()
        .find(ResultsFile::partial)
}

/// The bytes of each `samples_<task>_<stamp>.jsonl` in `dir`, by task.
pub fn samples_files(dir: &Path, stamp: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let suffix = format!("_{stamp}.jsonl");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(task) = name
            .strip_prefix("samples_")
            .and_then(|s| s.strip_suffix(&suffix))
        {
            let bytes = std::fs::read(e.path()).expect("a samples file is readable");
            out.insert(task.to_string(), bytes);
        }
    }
    out
}

/// Fields that differ between two runs of the same spec: when and how long.
const TIME_FIELDS: &[&str] = &[
    "date",
    "total_evaluation_time_seconds",
    "start_time",
    "end_time",
    "started_at",
    "finished_at",
];

/// `json` without timestamps and timings, for comparing two runs of one spec.
pub fn without_times(json: &Value) -> Value {
    match json {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !TIME_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), without_times(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_times).collect()),
        other => other.clone(),
    }
}

/// The documents of `dir/journal/<task>.jsonl` (its lines after the header), each parsed. A
/// final line without a newline (a write cut short) is left out; any other bad line panics.
pub fn journal_docs(dir: &Path, task: &str) -> Vec<Value> {
    let path = dir.join("journal").join(format!("{task}.jsonl"));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    complete
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| {
                panic!("{}: a journal line is not JSON ({e}): {l}", path.display())
            })
        })
        .collect()
}

/// The `doc_id`s of a task's journal.
pub fn journal_doc_ids(dir: &Path, task: &str) -> Vec<u64> {
    journal_docs(dir, task)
        .iter()
        .filter_map(|d| d.get("doc_id").and_then(Value::as_u64))
        .collect()
}

/// Lines of a samples file.
pub fn line_count(bytes: &[u8]) -> usize {
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count()
}
