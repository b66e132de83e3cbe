//! The sparkbench evaluator.
//!
//! [`run`] resolves the spec's tasks (groups to leaves), loads and prepares them, asks the model
//! for every request not answered yet (identical requests once), scores each document, appends
//! it to its task's journal (synced before it is reported), and at the end writes lm-eval's
//! `results_<date_id>.json` and `samples_<task>_<date_id>.jsonl` from the journals. A run whose
//! output folder already holds journals of the same fingerprint resumes: journaled documents are
//! skipped and the final files equal an uninterrupted run's. [`finalize_partial`] writes the same
//! files, marked partial, from the journals alone (the supervisor calls it after an abort).
//!
//! [`run_plan`] is the same evaluation over tasks the caller loaded itself (tests, custom tasks).

mod aggregate;
mod ask;
mod error;
mod events;
mod execute;
mod journal;
mod partial;
mod plan;
pub mod pyjson;
mod registry;
mod results;
mod samples;
mod write;

use std::path::PathBuf;

use sparkbench_protocol::{Cancel, LanguageModel, RunEvent, RunSpec, TaskScore};

pub use error::EngineError;
pub use execute::run_plan;
pub use journal::{
    DocRecord, JournalHeader, RunMeta, TaskMeta, journal_dir, journal_path, meta_path,
};
pub use partial::{PartialOutcome, finalize_partial};
pub use plan::{LoadedTask, Plan, TaskNode};
pub use registry::load_plan;

/// Where the engine's events go (the worker writes them to stdout as JSON lines).
pub trait EventSink: Sync {
    /// Take one event.
    fn emit(&self, event: RunEvent);
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Every planned document was evaluated and the results file written.
    Complete,
    /// Stopped on request; finished documents are journaled, no results file was written.
    Cancelled,
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// Complete or cancelled.
    pub status: RunStatus,
    /// The results file (complete runs).
    pub results_file: Option<PathBuf>,
    /// The samples files (complete runs), in task order.
    pub samples_files: Vec<PathBuf>,
    /// Documents finished per task.
    pub counts: Vec<(String, usize)>,
    /// Final scores per task (complete runs).
    pub scores: Vec<(String, Vec<TaskScore>)>,
}

/// Evaluate `spec` with `model`: plan, execute (resuming from journals), write results.
pub fn run(
    spec: &RunSpec,
    model: &mut dyn LanguageModel,
    sink: &dyn EventSink,
    cancel: &Cancel,
) -> Result<RunOutcome, EngineError> {
    sink.emit(RunEvent::Phase {
        phase: sparkbench_protocol::Phase::LoadingData,
    });
    let plan = match load_plan(spec) {
        Ok(p) => p,
        Err(e) => {
            sink.emit(RunEvent::Failed {
                error: e.to_string(),
            });
            return Err(e);
        }
    };
    run_plan(spec, &plan, model, sink, cancel)
}
