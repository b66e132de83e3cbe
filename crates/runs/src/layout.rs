//! Run folders under `outputs/<model>/benchmarks/`, in the seed's layout so its readers keep
//! working, with one rule added: two backends never share a folder.
//!
//! ```text
//! benchmarks/base/lm-eval/                       base model, native safetensors (the seed's folder)
//! benchmarks/base-<backend>/lm-eval/             base model on any other backend (gguf, ollama, ...)
//! benchmarks/fine-tuned/<YYYY-MM-DDTHH-MM-SS>/lm-eval/            fine-tuned, native safetensors
//! benchmarks/fine-tuned/<YYYY-MM-DDTHH-MM-SS>-<backend>/lm-eval/  fine-tuned, any other backend
//! ```
//! `run.json` sits beside `lm-eval/` in each run folder.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{Duration, Local, NaiveDateTime};
use serde::{Deserialize, Serialize};
use sparkbench_protocol::Backend;

use crate::error::{Result, RunsError};

/// The folder format of a fine-tuned run's timestamp (the seed's).
pub const STAMP_FORMAT: &str = "%Y-%m-%dT%H-%M-%S";

/// Base model run or fine-tuned run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// The base model.
    Base,
    /// The fine-tuned model.
    FineTuned,
}

impl RunKind {
    /// In words, for tables.
    pub fn label(self) -> &'static str {
        match self {
            RunKind::Base => "base",
            RunKind::FineTuned => "fine-tuned",
        }
    }
}

/// One run folder found on disk (it may or may not hold results yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFolder {
    /// Base or fine-tuned.
    pub kind: RunKind,
    /// The run folder (holds `lm-eval/` and `run.json`).
    pub dir: PathBuf,
    /// The backend named by the folder (`base`/no suffix means native safetensors); `None` when
    /// the suffix is not a backend we know.
    pub backend: Option<Backend>,
    /// The fine-tuned run's timestamp (`YYYY-MM-DDTHH-MM-SS`), from the folder name.
    pub stamp: Option<String>,
}

impl RunFolder {
    /// The `lm-eval/` folder with `results_*.json` and `samples_*.jsonl`.
    pub fn lm_eval_dir(&self) -> PathBuf {
        lm_eval_dir(&self.dir)
    }
    /// The `run.json` path.
    pub fn run_json(&self) -> PathBuf {
        run_json_path(&self.dir)
    }
    /// A short label: `base`, `base (gguf)`, `2026-11-22T06-39-24 (lora)`.
    pub fn label(&self) -> String {
        let name = match (&self.kind, &self.stamp) {
            (RunKind::FineTuned, Some(stamp)) => stamp.clone(),
            _ => self.kind.label().to_string(),
        };
        match self.backend {
            Some(Backend::Safetensors) => name,
            Some(b) => format!("{name} ({})", b.id()),
            None => format!("{name} (?)"),
        }
    }
}

/// `outputs/<model>/benchmarks`.
pub fn benchmarks_dir(model_dir: &Path) -> PathBuf {
    model_dir.join("benchmarks")
}

/// `run_dir/lm-eval`.
pub fn lm_eval_dir(run_dir: &Path) -> PathBuf {
    run_dir.join("lm-eval")
}

/// `run_dir/run.json`.
pub fn run_json_path(run_dir: &Path) -> PathBuf {
    run_dir.join("run.json")
}

/// `outputs/<model>/benchmarks/benchmark.json`.
pub fn benchmark_json_path(model_dir: &Path) -> PathBuf {
    benchmarks_dir(model_dir).join("benchmark.json")
}

/// The base run folder for a backend: `base` for native safetensors, `base-<backend>` otherwise.
pub fn base_run_dir(model_dir: &Path, backend: Backend) -> PathBuf {
    let b = benchmarks_dir(model_dir);
    match backend {
        Backend::Safetensors => b.join("base"),
        other => b.join(format!("base-{}", other.id())),
    }
}

/// The fine-tuned run folder for a timestamp and backend.
pub fn fine_tuned_run_dir(model_dir: &Path, stamp: &str, backend: Backend) -> PathBuf {
    let f = benchmarks_dir(model_dir).join("fine-tuned");
    match backend {
        Backend::Safetensors => f.join(stamp),
        other => f.join(format!("{stamp}-{}", other.id())),
    }
}

/// A fresh fine-tuned run folder for `now` (local time, as the seed names them): when the name
/// is taken (two runs in the same second), the next free second is used. The folder is not
/// created.
pub fn new_fine_tuned_run_dir(model_dir: &Path, now: NaiveDateTime, backend: Backend) -> PathBuf {
    let mut t = now;
    loop {
        let dir = fine_tuned_run_dir(model_dir, &t.format(STAMP_FORMAT).to_string(), backend);
        if !dir.exists() {
            return dir;
        }
        t += Duration::seconds(1);
    }
}

/// The folder a new run should use (not created): the backend's base folder (a rerun of the
/// base adds newer results there; the newest by name wins), or a fresh fine-tuned folder for
/// now. Point `RunSpec::output_dir` at its [`RunFolder::lm_eval_dir`] and write `run.json`
/// with [`crate::record::write_run_record`] into [`RunFolder::dir`].
pub fn plan_run(model_dir: &Path, kind: RunKind, backend: Backend) -> RunFolder {
    match kind {
        RunKind::Base => RunFolder {
            kind,
            dir: base_run_dir(model_dir, backend),
            backend: Some(backend),
            stamp: None,
        },
        RunKind::FineTuned => {
            let dir = new_fine_tuned_run_dir(model_dir, local_now(), backend);
            let stamp = dir
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.get(..19))
                .map(str::to_string);
            RunFolder {
                kind,
                dir,
                backend: Some(backend),
                stamp,
            }
        }
    }
}

/// The current local time, for [`new_fine_tuned_run_dir`].
pub fn local_now() -> NaiveDateTime {
    Local::now().naive_local()
}

/// A backend from its folder id.
pub fn backend_from_id(id: &str) -> Option<Backend> {
    [
        Backend::Safetensors,
        Backend::Lora,
        Backend::Gguf,
        Backend::Ollama,
        Backend::OpenAi,
        Backend::Scripted,
    ]
    .into_iter()
    .find(|b| b.id() == id)
}

/// Parse a fine-tuned folder name into its timestamp and backend.
fn parse_fine_tuned_name(name: &str) -> Option<(String, Option<Backend>)> {
    let stamp = name.get(..19)?;
    NaiveDateTime::parse_from_str(stamp, STAMP_FORMAT).ok()?;
    let rest = &name[19..];
    if rest.is_empty() {
        return Some((stamp.to_string(), Some(Backend::Safetensors)));
    }
    let id = rest.strip_prefix('-')?;
    Some((stamp.to_string(), backend_from_id(id)))
}

fn list_dir(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(RunsError::io("listing", dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| RunsError::io("listing", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        out.push((name, entry.path()));
    }
    out.sort();
    Ok(out)
}

/// Every run folder of a model that has an `lm-eval/` folder: base runs first (native first),
/// then fine-tuned runs oldest to newest.
pub fn list_runs(model_dir: &Path) -> Result<Vec<RunFolder>> {
    let mut runs = Vec::new();
    for (name, path) in list_dir(&benchmarks_dir(model_dir))? {
        if !lm_eval_dir(&path).is_dir() {
            continue;
        }
        let backend = if name == "base" {
            Some(Backend::Safetensors)
        } else if let Some(id) = name.strip_prefix("base-") {
            backend_from_id(id)
        } else {
            continue;
        };
        runs.push(RunFolder {
            kind: RunKind::Base,
            dir: path,
            backend,
            stamp: None,
        });
    }
    runs.sort_by_key(|r| r.backend != Some(Backend::Safetensors));
    for (name, path) in list_dir(&benchmarks_dir(model_dir).join("fine-tuned"))? {
        if !lm_eval_dir(&path).is_dir() {
            continue;
        }
        let Some((stamp, backend)) = parse_fine_tuned_name(&name) else {
            continue;
        };
        runs.push(RunFolder {
            kind: RunKind::FineTuned,
            dir: path,
            backend,
            stamp: Some(stamp),
        });
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_follow_the_seed_and_separate_backends() {
        let m = Path::new("/o/m");
        assert_eq!(
            base_run_dir(m, Backend::Safetensors),
            Path::new("/o/m/benchmarks/base")
        );
        assert_eq!(
            base_run_dir(m, Backend::Gguf),
            Path::new("/o/m/benchmarks/base-gguf")
        );
        assert_eq!(
            fine_tuned_run_dir(m, "2026-11-22T06-39-24", Backend::Safetensors),
            Path::new("/o/m/benchmarks/fine-tuned/2026-11-22T06-39-24")
        );
        assert_eq!(
            fine_tuned_run_dir(m, "2026-11-22T06-39-24", Backend::OpenAi),
            Path::new("/o/m/benchmarks/fine-tuned/2026-11-22T06-39-24-openai")
        );
    }

    #[test]
    fn lists_runs_in_order_and_skips_strangers() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let m = t.path();
        for d in [
            "benchmarks/base-gguf/lm-eval",
            "benchmarks/base/lm-eval",
            "benchmarks/fine-tuned/2026-11-22T06-39-24-lora/lm-eval",
            "benchmarks/fine-tuned/2026-11-21T01-00-00/lm-eval",
            "benchmarks/fine-tuned/notes/lm-eval",
            "benchmarks/fine-tuned/2026-11-23T00-00-00",
        ] {
            fs::create_dir_all(m.join(d)).map_err(|e| RunsError::io("mkdir", m, e))?;
        }
        let runs = list_runs(m)?;
        let labels: Vec<_> = runs.iter().map(|r| r.label()).collect();
        assert_eq!(
            labels,
            vec![
                "base",
                "base (gguf)",
                "2026-11-21T01-00-00",
                "2026-11-22T06-39-24 (lora)"
            ]
        );
        Ok(())
    }

    #[test]
    fn a_taken_second_moves_to_the_next() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let now = NaiveDateTime::parse_from_str("2026-11-22T06-39-24", STAMP_FORMAT)
            .map_err(|e| RunsError::NoRun(e.to_string()))?;
        let first = new_fine_tuned_run_dir(t.path(), now, Backend::Gguf);
        fs::create_dir_all(&first).map_err(|e| RunsError::io("mkdir", &first, e))?;
        let second = new_fine_tuned_run_dir(t.path(), now, Backend::Gguf);
        assert!(second.ends_with("fine-tuned/2026-11-22T06-39-25-gguf"));
        let planned = plan_run(t.path(), RunKind::FineTuned, Backend::Lora);
        assert!(
            planned
                .stamp
                .as_ref()
                .is_some_and(|s| planned.dir.ends_with(format!("{s}-lora")))
        );
        assert_eq!(
            plan_run(t.path(), RunKind::Base, Backend::Safetensors).lm_eval_dir(),
            t.path().join("benchmarks/base/lm-eval")
        );
        Ok(())
    }
}
