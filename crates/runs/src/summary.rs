//! `benchmarks/benchmark.json`: the seed's schema (`model_name`, `model_path`,
//! `base_model_name`, `timestamp`, `base_model`, `fine_tuned_model`, `comparison`), so its README
//! generator keeps reading it, plus `comparison_all` (every metric of every task), `warnings`
//! (rendered by the seed's generator too) and a `sparkbench` block with the full
//! [`Comparison`], both runs' settings and the headline. Also [`find_reusable_base`]: the base
//! runs once, not once per fine-tune.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sparkbench_protocol::{ModelSource, RunSpec};

use crate::atomic::write_json_atomic;
use crate::base_model::detect_base;
use crate::compare::{CompareOptions, Comparison, compare_runs};
use crate::error::{Result, RunsError};
use crate::headline::headline;
use crate::layout::{RunKind, benchmark_json_path, list_runs};
use crate::record::RunStatus;
use crate::results::{LoadedRun, load_run};

/// The headline number of a model: the first top-level task's headline metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    /// Task.
    pub task: String,
    /// Metric key.
    pub metric: String,
    /// The fine-tuned score (or the base score when only the base ran).
    pub score: f64,
    /// Fine-tuned minus base, when both ran.
    pub delta: Option<f64>,
    /// The run's date.
    pub date: String,
}

/// The `sparkbench` block of `benchmark.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SparkbenchBlock {
    /// The sparkbench version that wrote the file.
    pub version: String,
    /// The headline.
    pub headline: Option<Headline>,
    /// The full comparison, when both runs exist.
    pub comparison: Option<Comparison>,
}

/// The content of `benchmark.json`. Field order is the seed's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkSummary {
    /// The model's folder name under `outputs/`.
    pub model_name: String,
    /// The model folder as given.
    pub model_path: String,
    /// The detected base model name.
    pub base_model_name: Option<String>,
    /// When this file was built (local ISO time, like Python's `isoformat`).
    pub timestamp: String,
    /// `{}` or `{results, benchmark_dir, timestamp, status, partial, backend, results_file}`.
    pub base_model: Value,
    /// Same shape as `base_model`.
    pub fine_tuned_model: Value,
    /// The seed's per-task headline comparison.
    pub comparison: Map<String, Value>,
    /// Every metric of every shared task: `{task: {metric_key: {base, finetuned, delta, delta_percent, higher_is_better, arrow}}}`.
    pub comparison_all: Map<String, Value>,
    /// Settings mismatches and notes, one line each.
    pub warnings: Vec<String>,
    /// sparkbench's additions.
    pub sparkbench: SparkbenchBlock,
}

fn run_block(run: Option<&LoadedRun>) -> Value {
    let Some(run) = run else { return json!({}) };
    let mtime = std::fs::metadata(&run.folder.dir)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64());
    json!({
        "results": run.raw_results,
        "benchmark_dir": run.folder.lm_eval_dir().to_string_lossy(),
        "timestamp": mtime,
        "results_file": run.results_file.to_string_lossy(),
        "backend": run.folder.backend.map(|b| b.id()),
        "status": run.status_label(),
        "partial": run.partial,
        "date": run.date,
        "settings": run.settings,
        "top_level": run.top_level,
    })
}

/// The seed's `comparison` entry metric name: `acc,none` -> `acc`; other filters kept whole.
fn seed_metric_name(key: &str) -> String {
    key.strip_suffix(",none").unwrap_or(key).to_string()
}

fn headline_of(cmp: Option<&Comparison>, single: Option<&LoadedRun>) -> Option<Headline> {
    if let Some(c) = cmp {
        let t = c.top_level().find(|t| t.headline.is_some())?;
        let h = t.headline.as_ref()?;
        return Some(Headline {
            task: t.task.clone(),
            metric: h.key.clone(),
            score: h.finetuned,
            delta: Some(h.delta),
            date: c.finetuned.date.clone(),
        });
    }
    let run = single?;
    run.top_level.iter().find_map(|name| {
        let m = headline(run.task(name)?)?;
        Some(Headline {
            task: name.clone(),
            metric: m.key.clone(),
            score: m.value,
            delta: None,
            date: run.date.clone(),
        })
    })
}

/// Build the summary from chosen runs (either may be missing).
pub fn build_summary(
    model_dir: &Path,
    base: Option<&LoadedRun>,
    finetuned: Option<&LoadedRun>,
    opts: &CompareOptions,
) -> Result<BenchmarkSummary> {
    let outputs = model_dir.parent().unwrap_or(Path::new("."));
    let base_model_name = detect_base(
        model_dir,
        outputs,
        std::env::var(crate::base_model::BASE_ENV).ok().as_deref(),
    )?
    .map(|b| b.name);
    let cmp = match (base, finetuned) {
        (Some(b), Some(f)) => Some(compare_runs(b, f, opts)),
        _ => None,
    };
    let mut comparison = Map::new();
    let mut comparison_all = Map::new();
    if let Some(c) = &cmp {
        for t in &c.tasks {
            if let Some(h) = &t.headline {
                comparison.insert(
                    t.task.clone(),
                    json!({
                        "metric": seed_metric_name(&h.key),
                        "base_accuracy": h.base,
                        "finetuned_accuracy": h.finetuned,
                        "delta": h.delta,
                        "delta_percent": h.delta_percent,
                    }),
                );
            }
            let mut all = Map::new();
            for m in &t.metrics {
                all.insert(
                    m.key.clone(),
                    json!({
                        "base": m.base, "finetuned": m.finetuned,
                        "base_stderr": m.base_stderr, "finetuned_stderr": m.finetuned_stderr,
                        "delta": m.delta, "delta_percent": m.delta_percent,
                        "higher_is_better": m.higher_is_better, "arrow": m.arrow,
                    }),
                );
            }
            comparison_all.insert(t.task.clone(), Value::Object(all));
        }
    }
    let single = finetuned.or(base);
    Ok(BenchmarkSummary {
        model_name: model_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        model_path: model_dir.to_string_lossy().into_owned(),
        base_model_name,
        timestamp: chrono::Local::now()
            .naive_local()
            .format("%Y-%m-%dT%H:%M:%S%.6f")
            .to_string(),
        base_model: run_block(base),
        fine_tuned_model: run_block(finetuned),
        comparison,
        comparison_all,
        warnings: cmp
            .as_ref()
            .map(Comparison::warning_lines)
            .unwrap_or_default(),
        sparkbench: SparkbenchBlock {
            version: crate::record::SPARKBENCH_VERSION.to_string(),
            headline: headline_of(cmp.as_ref(), single),
            comparison: cmp,
        },
    })
}

/// Run folders that failed to load, with why.
pub type Unreadable = Vec<(PathBuf, RunsError)>;

/// Every run of a model that loads, in [`list_runs`] order, with the errors of those that did not.
pub fn load_all_runs(model_dir: &Path) -> Result<(Vec<LoadedRun>, Unreadable)> {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for folder in list_runs(model_dir)? {
        match load_run(&folder) {
            Ok(r) => ok.push(r),
            Err(e) => bad.push((folder.dir.clone(), e)),
        }
    }
    Ok((ok, bad))
}

/// The newest fine-tuned run that loads (by folder timestamp).
pub fn latest_finetuned(runs: &[LoadedRun]) -> Option<&LoadedRun> {
    runs.iter()
        .filter(|r| r.folder.kind == RunKind::FineTuned)
        .max_by(|a, b| a.folder.stamp.cmp(&b.folder.stamp))
}

/// The base run to compare a fine-tuned run with: one whose settings match, native first;
/// else the native base, else any.
pub fn choose_base<'a>(
    runs: &'a [LoadedRun],
    ft: Option<&LoadedRun>,
    opts: &CompareOptions,
) -> Option<&'a LoadedRun> {
    let bases: Vec<&LoadedRun> = runs
        .iter()
        .filter(|r| r.folder.kind == RunKind::Base)
        .collect();
    if let Some(f) = ft {
        let quick = CompareOptions {
            significance: false,
            ..*opts
        };
        if let Some(b) = bases
            .iter()
            .find(|b| compare_runs(b, f, &quick).settings_match)
        {
            return Some(b);
        }
    }
    bases.first().copied()
}

/// Rebuild the summary from the files on disk (`sparkbench summary`): the newest fine-tuned
/// run against the best-matching base run.
pub fn summarize(model_dir: &Path, opts: &CompareOptions) -> Result<BenchmarkSummary> {
    let (runs, bad) = load_all_runs(model_dir)?;
    if runs.is_empty() {
        let why = bad
            .first()
            .map(|(_, e)| format!(" ({e})"))
            .unwrap_or_default();
        return Err(RunsError::NoRun(format!(
            "no finished run under {}{why}; run `sparkbench run --model {}` first",
            crate::layout::benchmarks_dir(model_dir).display(),
            model_dir.display()
        )));
    }
    let ft = latest_finetuned(&runs);
    let base = choose_base(&runs, ft, opts);
    build_summary(model_dir, base, ft, opts)
}

/// Write `benchmarks/benchmark.json` atomically.
pub fn write_benchmark_json(model_dir: &Path, summary: &BenchmarkSummary) -> Result<PathBuf> {
    let path = benchmark_json_path(model_dir);
    write_json_atomic(&path, summary, "benchmark.json")?;
    Ok(path)
}

/// Read `benchmarks/benchmark.json` generically (seed files included); `Ok(None)` when absent.
pub fn read_benchmark_json(model_dir: &Path) -> Result<Option<Value>> {
    let path = benchmark_json_path(model_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(RunsError::io("reading", &path, e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| RunsError::Json {
            path,
            what: "benchmark.json",
            source,
        })
}

/// Paths in a model source made absolute where they exist, so `./m` and `/abs/m` compare equal.
fn canonical_source(s: &ModelSource) -> ModelSource {
    let c = |p: &PathBuf| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
    match s {
        ModelSource::Hf { path } => ModelSource::Hf { path: c(path) },
        ModelSource::Lora { adapter, base } => ModelSource::Lora {
            adapter: c(adapter),
            base: c(base),
        },
        ModelSource::Gguf { path, tokenizer } => ModelSource::Gguf {
            path: c(path),
            tokenizer: tokenizer.as_ref().map(c),
        },
        other => other.clone(),
    }
}

/// Whether a recorded run's spec covers `wanted`: same model and score-relevant settings, and
/// every wanted task ran with the same effective limit and few-shot count.
pub fn spec_covers(recorded: &RunSpec, wanted: &RunSpec) -> bool {
    let same_globals = canonical_source(&recorded.model) == canonical_source(&wanted.model)
        && recorded.fewshot_seed == wanted.fewshot_seed
        && recorded.apply_chat_template == wanted.apply_chat_template
        && recorded.multiturn() == wanted.multiturn()
        && recorded.system_instruction == wanted.system_instruction
        && recorded.gen_kwargs == wanted.gen_kwargs
        && recorded.max_length == wanted.max_length
        && recorded.dtype == wanted.dtype
        && recorded.approximate_loglikelihood == wanted.approximate_loglikelihood;
    same_globals
        && wanted.tasks.iter().all(|w| {
            let eff = |s: &RunSpec, t: &sparkbench_protocol::TaskSelection| {
                (t.limit.or(s.limit), t.num_fewshot.or(s.num_fewshot))
            };
            recorded
                .tasks
                .iter()
                .any(|r| r.name == w.name && eff(recorded, r) == eff(wanted, w))
        })
}

/// A finished (complete, not partial) base run whose recorded spec covers `wanted`, newest
/// first. Seed runs have no `run.json`, so their settings are unknown and they are not reused.
pub fn find_reusable_base(model_dir: &Path, wanted: &RunSpec) -> Option<LoadedRun> {
    let (runs, _) = load_all_runs(model_dir).ok()?;
    runs.into_iter()
        .filter(|r| r.folder.kind == RunKind::Base && !r.partial)
        .filter(|r| {
            r.record.as_ref().is_some_and(|rec| {
                rec.status == RunStatus::Complete && spec_covers(&rec.spec, wanted)
            })
        })
        .filter(|r| wanted.tasks.iter().all(|t| r.task(&t.name).is_some()))
        .max_by(|a, b| {
            let start = |r: &LoadedRun| r.record.as_ref().map(|x| x.started_at.clone());
            start(a).cmp(&start(b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::base_run_dir;
    use crate::record::{RunRecord, tests::spec, write_run_record};
    use crate::testutil::{results_json, write};
    use sparkbench_protocol::Backend;

    fn setup(t: &Path) -> PathBuf {
        let m = t.join("outputs/qwen-lima");
        write(
            &m.join("lora/training_metrics.json"),
            r#"{"model_name": "unsloth/Qwen3-1.7B"}"#,
        );
        let base = results_json(&[
            ("gsm8k", "exact_match,strict-match", 0.0),
            ("ifeval", "prompt_level_strict_acc,none", 0.4),
        ]);
        write(
            &m.join("benchmarks/base/lm-eval/results_2026-11-22T10-00-00.json"),
            &base.to_string(),
        );
        let mut ft = results_json(&[
            ("gsm8k", "exact_match,strict-match", 0.25),
            ("ifeval", "prompt_level_strict_acc,none", 0.6),
        ]);
        ft["config"]["limit"] = json!(5.0);
        write(&m.join("benchmarks/fine-tuned/2026-11-22T11-00-00/lm-eval/results_2026-11-22T11-00-00.json"), &ft.to_string());
        write(&m.join("benchmarks/fine-tuned/2026-11-21T11-00-00/lm-eval/results_2026-11-21T11-00-00.json"), "{}");
        m
    }

    #[test]
    fn summary_has_the_seed_fields_and_the_additions() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let m = setup(t.path());
        let s = summarize(&m, &CompareOptions::default())?;
        let path = write_benchmark_json(&m, &s)?;
        let v = read_benchmark_json(&m)?.unwrap_or_default();
        let keys: Vec<&str> = v
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "model_name",
                "model_path",
                "base_model_name",
                "timestamp",
                "base_model",
                "fine_tuned_model",
                "comparison",
                "comparison_all",
                "warnings",
                "sparkbench"
            ]
        );
        assert_eq!(v["model_name"], "qwen-lima");
        assert_eq!(v["base_model_name"], "unsloth/Qwen3-1.7B");
        assert_eq!(
            v["comparison"]["gsm8k"]["metric"],
            "exact_match,strict-match"
        );
        assert_eq!(v["comparison"]["gsm8k"]["delta_percent"], Value::Null);
        assert_eq!(
            v["comparison"]["ifeval"]["metric"],
            "prompt_level_strict_acc"
        );
        let dp = v["comparison"]["ifeval"]["delta_percent"]
            .as_f64()
            .unwrap_or_default();
        assert!((dp - 50.0).abs() < 1e-9, "{dp}");
        assert!(v["base_model"]["results"]["ifeval"].is_object());
        assert!(v["base_model"]["timestamp"].is_f64());
        assert_eq!(
            v["comparison_all"]["ifeval"]["prompt_level_strict_acc,none"]["arrow"],
            "better"
        );
        assert_eq!(v["warnings"][0], "limit differs: base unset, fine-tuned 5");
        assert_eq!(v["sparkbench"]["headline"]["task"], "gsm8k");
        assert!(path.ends_with("benchmarks/benchmark.json"));
        Ok(())
    }

    #[test]
    fn no_runs_is_a_clear_error() {
        let Ok(t) = tempfile::tempdir() else { return };
        let err = summarize(t.path(), &CompareOptions::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("no finished run") && err.contains("sparkbench run"),
            "{err}"
        );
    }

    #[test]
    fn base_is_reused_only_when_settings_match() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let m = setup(t.path());
        let wanted = spec("/base-model", &["gsm8k"]);
        // The seed's base has no run.json: unknown settings, not reused.
        assert!(find_reusable_base(&m, &wanted).is_none());
        let mut rec = RunRecord::start(&spec("/base-model", &["gsm8k", "ifeval"]));
        rec.finish(RunStatus::Complete, None);
        write_run_record(&base_run_dir(&m, Backend::Safetensors), &rec)?;
        assert!(find_reusable_base(&m, &wanted).is_some());
        let mut other = wanted.clone();
        other.limit = Some(5.0);
        assert!(find_reusable_base(&m, &other).is_none());
        let mut other = wanted.clone();
        other.apply_chat_template = true;
        assert!(find_reusable_base(&m, &other).is_none());
        let other = spec("/base-model", &["hellaswag"]);
        assert!(find_reusable_base(&m, &other).is_none());
        // A partial base is never reused.
        rec.finish(RunStatus::Partial, None);
        write_run_record(&base_run_dir(&m, Backend::Safetensors), &rec)?;
        assert!(find_reusable_base(&m, &wanted).is_none());
        Ok(())
    }
}
