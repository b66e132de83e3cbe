//! What the wizard produces ([`WizardAnswers`], [`WizardOutcome`]) and what it needs from the
//! CLI ([`WizardSource`]: models, backends, suites, tasks, defaults, the timeout parser, paths).

use std::path::PathBuf;
use std::time::Duration;

use crate::view::{BackendChoice, ModelChoice, SuiteChoice, TaskChoice};

/// Everything the wizard asked, as plain data; the CLI turns it into a `RunSpec`.
#[derive(Debug, Clone, PartialEq)]
pub struct WizardAnswers {
    /// The model.
    pub model: ModelChoice,
    /// Compare with the base model (also benchmarks the base unless a result is reused).
    pub compare_base: bool,
    /// The backend.
    pub backend: BackendChoice,
    /// The suite's name, or None for a custom task list.
    pub suite: Option<String>,
    /// The tasks to run.
    pub tasks: Vec<String>,
    /// Batch size.
    pub batch_size: usize,
    /// Watchdog timeout; None is off.
    pub timeout: Option<Duration>,
}

/// How the wizard ended.
#[derive(Debug, Clone, PartialEq)]
#[expect(clippy::large_enum_variant, reason = "made once per wizard run")]
pub enum WizardOutcome {
    /// The user confirmed: run this.
    Run(WizardAnswers),
    /// No model was found and the user asked for the demo model (`sparkbench demo`).
    CreateDemo,
    /// The user chose Quit, or pressed Esc on the first question.
    Cancelled,
    /// The user pressed Ctrl-C.
    Interrupted,
}

/// What the wizard needs from the CLI. The CLI implements it over the runs crate and the probes.
pub trait WizardSource {
    /// Models found under `outputs/`, sorted.
    fn models(&self) -> Vec<ModelChoice>;
    /// Backends for this model, usable or not (with the reason).
    fn backends(&self, model: &ModelChoice) -> Vec<BackendChoice>;
    /// Suites (without Custom, which the wizard adds), with estimates for this model and backend.
    fn suites(&self, model: &ModelChoice, backend: &BackendChoice) -> Vec<SuiteChoice>;
    /// Tasks offered by the Custom suite.
    fn tasks(&self) -> Vec<TaskChoice>;
    /// The suggested batch size (from model size and free memory).
    fn suggested_batch_size(&self, model: &ModelChoice, backend: &BackendChoice) -> usize;
    /// Parse a custom watchdog timeout (`30min`, `10m`, `600s`, `600`, `1h`); the error in words.
    fn parse_timeout(&self, text: &str) -> Result<Duration, String>;
    /// The real output paths of this run, labelled (`results`, `base results`, `summary`).
    fn output_paths(&self, answers: &WizardAnswers) -> Vec<(String, PathBuf)>;
}
