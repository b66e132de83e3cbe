//! [`finalize_partial`]: results and samples files from the journals alone, marked partial, for
//! the supervisor to call after an abort, a timeout or a crash (no model, no data needed).

use std::path::PathBuf;

use sparkbench_protocol::RunSpec;

use crate::error::EngineError;
use crate::execute::existing_journal;
use crate::journal::read_meta;
use crate::results::{ResultsInput, TaskRecords, write_all};

/// What [`finalize_partial`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct PartialOutcome {
    /// The results file (`sparkbench.partial` is true).
    pub results_file: PathBuf,
    /// The samples files of tasks with finished documents.
    pub samples_files: Vec<PathBuf>,
    /// Documents finished per task (every planned task, zeros included).
    pub counts: Vec<(String, usize)>,
}

/// Write partial results from `spec.output_dir`'s journals. `None` when no run started there
/// or no document finished.
pub fn finalize_partial(spec: &RunSpec) -> Result<Option<PartialOutcome>, EngineError> {
    let Some(meta) = read_meta(&spec.output_dir)? else {
        return Ok(None);
    };
    if meta.fingerprint != spec.fingerprint() {
        return Err(EngineError::FingerprintMismatch {
            dir: spec.output_dir.clone(),
            found: meta.fingerprint,
            expected: spec.fingerprint(),
        });
    }
    let mut counts = Vec::new();
    let mut tasks = Vec::new();
    for name in &meta.tasks {
        let Some(j) = existing_journal(spec, name)? else {
            counts.push((name.clone(), 0));
            continue;
        };
        counts.push((name.clone(), j.records.len()));
        if !j.records.is_empty() {
            tasks.push(TaskRecords {
                meta: j.header.task,
                records: j.records,
            });
        }
    }
    if tasks.is_empty() {
        return Ok(None);
    }
    let elapsed = (crate::execute::now_unix() - meta.started_at).max(0.0);
    let input = ResultsInput {
        spec,
        meta: &meta,
        tasks: &tasks,
        partial: true,
        elapsed_seconds: elapsed,
    };
    let files = write_all(&spec.output_dir, &input)?;
    Ok(Some(PartialOutcome {
        results_file: files.results_file,
        samples_files: files.samples_files,
        counts,
    }))
}
