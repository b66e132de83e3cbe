//! Checks of what a run leaves on disk: run folders, lm-eval result and sample files, run.json.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The entries of `dir` whose names start with `prefix` and end with `suffix`, sorted.
pub fn matching(dir: &Path, prefix: &str, suffix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
        })
        .collect();
    found.sort();
    found
}

/// The only entry of `dir` matching `prefix`/`suffix`; panics naming the folder otherwise.
pub fn only(dir: &Path, prefix: &str, suffix: &str) -> PathBuf {
    let mut found = matching(dir, prefix, suffix);
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {prefix}*{suffix} in {}, found {found:?}",
        dir.display()
    );
    found.remove(0)
}

/// The one run folder under `benchmarks/fine-tuned/`.
pub fn fine_tuned_run(model_dir: &Path) -> PathBuf {
    let dir = model_dir.join("benchmarks").join("fine-tuned");
    let runs: Vec<PathBuf> = matching(&dir, "", "")
        .into_iter()
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(
        runs.len(),
        1,
        "expected one run folder in {}, found {runs:?}",
        dir.display()
    );
    runs[0].clone()
}

/// A JSON file, parsed.
pub fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The `status` of `<run>/run.json`.
pub fn run_status(run_dir: &Path) -> String {
    let path = run_dir.join("run.json");
    json(&path)["status"]
        .as_str()
        .unwrap_or_else(|| panic!("{} has no string `status`", path.display()))
        .to_string()
}

/// Non-empty lines of the journal files in `<lm-eval>/journal/`.
pub fn journal_lines(lm_eval: &Path) -> usize {
    matching(&lm_eval.join("journal"), "", ".jsonl")
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
                .lines()
                .filter(|l| !l.trim().is_empty())
                .count()
        })
        .sum()
}
