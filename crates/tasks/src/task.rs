//! The [`Task`] trait: the contract between the task definitions and the engine.
//!
//! Preparation is one pass over the documents in `doc_id` order, because lm-eval's few-shot
//! sampler draws from one RNG per task and doc i's examples depend on every earlier draw.
//! Scoring is per document and pure.

use sparkbench_protocol::{ChatTemplate, Request, Response};

/// lm-eval's `output_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputType {
    /// One loglikelihood request per choice.
    MultipleChoice,
    /// One generation request per document.
    GenerateUntil,
}

/// How a metric's per-document values become the task's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Plain mean; stderr = sample stddev / sqrt(n).
    Mean,
    /// IFEval's instruction-level micro average over flattened bool lists; stderr "N/A".
    InstLevel,
}

/// A metric a task reports, under one filter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MetricSpec {
    /// Metric name (`acc`, `acc_norm`, `exact_match`, `prompt_level_strict_acc`, ...).
    pub name: String,
    /// Filter pipeline name (`none`, `strict-match`, `flexible-extract`).
    pub filter: String,
    /// Aggregation.
    pub aggregation: Aggregation,
    /// lm-eval's `higher_is_better`.
    pub higher_is_better: bool,
}

/// One document's value for one metric.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum MetricValue {
    /// IFEval prompt-level values are bools in lm-eval's samples files.
    Bool(bool),
    /// Most metrics.
    Float(f64),
    /// IFEval instruction-level values.
    BoolList(Vec<bool>),
}

/// The result of one filter pipeline on one document: one samples-file line.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FilterOutcome {
    /// Filter name.
    pub filter: String,
    /// `filtered_resps` exactly as lm-eval writes it in samples files.
    pub filtered_resps: serde_json::Value,
    /// Metric values, in the task's metric order.
    pub metrics: Vec<(String, MetricValue)>,
}

/// One document with the exact requests lm-eval builds for it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PreparedDoc {
    /// Index in the evaluation split.
    pub doc_id: usize,
    /// The processed document as lm-eval logs it (`doc` in samples files), keys in dataset
    /// order, processed fields (hellaswag's `query`, `choices`, `gold`) included.
    pub doc: serde_json::Value,
    /// `str(doc_to_target(doc))` (`target` in samples files).
    pub target: String,
    /// The requests, in lm-eval's order.
    pub requests: Vec<Request>,
    /// For generation tasks, the task's generation kwargs as lm-eval logs them in `arguments`.
    pub gen_kwargs: Option<serde_json::Value>,
}

/// What a task needs to build prompts.
pub struct PrepareOptions<'a> {
    /// Evaluate at most this many documents (lm-eval `--limit` semantics, already resolved to
    /// a count by the caller).
    pub limit: Option<usize>,
    /// `--num-fewshot` override (ignored by tasks whose config fixes 0).
    pub num_fewshot: Option<usize>,
    /// The few-shot sampler's seed (1234 by default).
    pub fewshot_seed: u64,
    /// Render prompts with this chat template (`--apply-chat-template`).
    pub chat_template: Option<&'a dyn ChatTemplate>,
    /// Few-shot examples as chat turns.
    pub fewshot_as_multiturn: bool,
    /// `--system-instruction`.
    pub system_instruction: Option<&'a str>,
    /// `--gen-kwargs` merged into generation kwargs (`max_gen_toks`, `until`, ...).
    pub gen_kwargs: &'a std::collections::BTreeMap<String, serde_json::Value>,
}

/// Why a task could not be loaded, prepared or scored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// A data file is missing, malformed or has the wrong shape. `location` names the file and,
    /// where it applies, line and field.
    #[error("{location}: {message}")]
    Data {
        /// File, line and field.
        location: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// No data source has the files; `message` lists them and how to provide them.
    #[error("{0}")]
    MissingData(String),
    /// Unknown task or group name.
    #[error("unknown task `{name}`; known tasks: {known}")]
    UnknownTask {
        /// The name given.
        name: String,
        /// The names we know, comma-separated.
        known: String,
    },
    /// The chat template failed.
    #[error(transparent)]
    Chat(#[from] sparkbench_protocol::ChatTemplateError),
    /// Responses do not match the requests (a bug in a backend).
    #[error("task {task}, doc {doc}: {message}")]
    Responses {
        /// Task name.
        task: String,
        /// Document index.
        doc: usize,
        /// What is wrong.
        message: String,
    },
    /// Any other problem, in words.
    #[error("{0}")]
    Other(String),
}

/// One lm-eval task (a leaf; groups such as `mmlu` are resolved by the registry).
pub trait Task: Send + Sync {
    /// lm-eval task name (`gsm8k`, `mmlu_anatomy`).
    fn name(&self) -> &str;
    /// `task_alias` or the name.
    fn alias(&self) -> &str;
    /// `metadata.version`.
    fn version(&self) -> f64;
    /// Output type.
    fn output_type(&self) -> OutputType;
    /// Number of documents in the evaluation split (lm-eval's `n-samples.original`).
    fn num_docs(&self) -> usize;
    /// The number of few-shot examples used under `num_fewshot_override`.
    fn num_fewshot(&self, num_fewshot_override: Option<usize>) -> usize;
    /// The metrics reported, per filter, in lm-eval's order.
    fn metrics(&self) -> Vec<MetricSpec>;
    /// The task config as lm-eval writes it under `configs[task]` in results files.
    fn config(&self, opts: &PrepareOptions<'_>) -> serde_json::Value;
    /// Content hashes (sha256 hex) of the data splits used, keyed `<dataset>/<split>`.
    fn data_hashes(&self) -> Vec<(String, String)>;
    /// Build the first `limit` documents' requests, in `doc_id` order.
    fn prepare(&self, opts: &PrepareOptions<'_>) -> Result<Vec<PreparedDoc>, TaskError>;
    /// Score one document's responses (one per request, in request order): one outcome per
    /// filter pipeline.
    fn score(
        &self,
        doc: &PreparedDoc,
        responses: &[Response],
    ) -> Result<Vec<FilterOutcome>, TaskError>;
}
