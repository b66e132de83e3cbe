//! `run.json`: what sparkbench records beside each run's `lm-eval/` folder — the [`RunSpec`] and
//! its fingerprint, the status (complete, partial, failed, running), backend, version, times,
//! throughput and per-task document counts. lm-eval's own files stay untouched by it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sparkbench_protocol::{Backend, RunSpec};

use crate::atomic::write_json_atomic;
use crate::error::{Result, RunsError};
use crate::layout::run_json_path;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every document of every task was scored.
    Complete,
    /// Stopped early (abort, timeout, crash); results were finalised from the journals.
    Partial,
    /// Failed before any result could be written.
    Failed,
    /// Still running (or died without anyone updating this file).
    Running,
}

impl RunStatus {
    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            RunStatus::Complete => "complete",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
            RunStatus::Running => "running",
        }
    }
}

/// Wall-clock durations of the phases, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Loading the model.
    #[serde(default)]
    pub load_model_s: Option<f64>,
    /// Reading data and building requests.
    #[serde(default)]
    pub prepare_s: Option<f64>,
    /// Running the model and scoring.
    #[serde(default)]
    pub evaluate_s: Option<f64>,
    /// Start to finish.
    #[serde(default)]
    pub total_s: Option<f64>,
}

/// Average speed over the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Documents per second.
    #[serde(default)]
    pub docs_per_s: Option<f64>,
    /// Tokens (prompt + generated) per second.
    #[serde(default)]
    pub tokens_per_s: Option<f64>,
}

/// Documents of one task.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocCount {
    /// Scored.
    pub done: usize,
    /// Planned.
    pub total: usize,
}

/// The content of `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The spec the run was started with.
    pub spec: RunSpec,
    /// `spec.fingerprint()` at the time of the run.
    pub fingerprint: String,
    /// Where the run stands.
    pub status: RunStatus,
    /// The backend family.
    pub backend: Backend,
    /// The sparkbench version that ran it.
    pub sparkbench_version: String,
    /// RFC 3339 start time.
    pub started_at: String,
    /// RFC 3339 end time, when finished.
    #[serde(default)]
    pub finished_at: Option<String>,
    /// Phase durations.
    #[serde(default)]
    pub timings: Timings,
    /// Average speed.
    #[serde(default)]
    pub throughput: Throughput,
    /// Per-task document counts.
    #[serde(default)]
    pub doc_counts: BTreeMap<String, DocCount>,
    /// The error, for failed (and some partial) runs.
    #[serde(default)]
    pub error: Option<String>,
}

/// The sparkbench version (all crates share the workspace version).
pub const SPARKBENCH_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The current time as RFC 3339 (UTC, seconds).
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl RunRecord {
    /// A record for a run starting now, status `running`.
    pub fn start(spec: &RunSpec) -> Self {
        RunRecord {
            fingerprint: spec.fingerprint(),
            backend: spec.model.backend(),
            spec: spec.clone(),
            status: RunStatus::Running,
            sparkbench_version: SPARKBENCH_VERSION.to_string(),
            started_at: now_rfc3339(),
            finished_at: None,
            timings: Timings::default(),
            throughput: Throughput::default(),
            doc_counts: BTreeMap::new(),
            error: None,
        }
    }

    /// Mark finished now with a status.
    pub fn finish(&mut self, status: RunStatus, error: Option<String>) {
        self.status = status;
        self.error = error;
        self.finished_at = Some(now_rfc3339());
    }
}

/// Write `run_dir/run.json` atomically.
pub fn write_run_record(run_dir: &Path, record: &RunRecord) -> Result<()> {
    write_json_atomic(&run_json_path(run_dir), record, "run.json")
}

/// Read `run_dir/run.json` (or, failing that, `run_dir/lm-eval/run.json`, where a writer that
/// only knows `RunSpec::output_dir` may have put it); `Ok(None)` when there is none (seed runs
/// have none).
pub fn read_run_record(run_dir: &Path) -> Result<Option<RunRecord>> {
    let mut found = None;
    for path in [
        run_json_path(run_dir),
        crate::layout::lm_eval_dir(run_dir).join("run.json"),
    ] {
        match std::fs::read_to_string(&path) {
            Ok(t) => {
                found = Some((path, t));
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(RunsError::io("reading", &path, e)),
        }
    }
    let Some((path, text)) = found else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| RunsError::Json {
            path,
            what: "run.json",
            source,
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use sparkbench_protocol::{ModelSource, TaskSelection};

    pub(crate) fn spec(model: &str, tasks: &[&str]) -> RunSpec {
        RunSpec {
            label: "m".into(),
            model: ModelSource::Hf { path: model.into() },
            tasks: tasks.iter().map(|t| TaskSelection::named(*t)).collect(),
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
            output_dir: "/out".into(),
            concurrency: None,
            approximate_loglikelihood: false,
        }
    }

    #[test]
    fn record_round_trips_and_missing_is_none() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        assert!(read_run_record(t.path())?.is_none());
        let mut r = RunRecord::start(&spec("/base", &["gsm8k"]));
        r.doc_counts
            .insert("gsm8k".into(), DocCount { done: 3, total: 5 });
        r.finish(RunStatus::Partial, Some("timeout".into()));
        write_run_record(t.path(), &r)?;
        assert_eq!(read_run_record(t.path())?, Some(r));
        Ok(())
    }

    #[test]
    fn a_broken_run_json_names_the_file() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        std::fs::write(t.path().join("run.json"), "{")
            .map_err(|e| RunsError::io("w", t.path(), e))?;
        let err = read_run_record(t.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("run.json") && err.contains("is not a valid"),
            "{err}"
        );
        Ok(())
    }
}
