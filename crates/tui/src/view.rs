//! Plain view models the CLI fills (from the runs crate and the protocol) and the UI shows.
//!
//! The UI never sees discovery, comparison or the engine: only these structs and
//! [`sparkbench_protocol::MonitorEvent`] streams.

use std::path::PathBuf;
use std::time::Duration;

/// Base model detected for a fine-tune.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseInfo {
    /// The base model's name (a Hub id or a folder).
    pub name: String,
    /// Where the name came from (`INFERENCE_BASE_MODEL`, `lora/adapter_config.json`, ...).
    pub source: Option<String>,
    /// A base result with the same settings exists and will be reused.
    pub reusable_result: bool,
}

/// The last benchmark of a model: when, and its headline score in words.
#[derive(Debug, Clone, PartialEq)]
pub struct LastBenchmark {
    /// Date in words (`2026-11-23`).
    pub date: String,
    /// Headline in words (`ifeval 0.41, gsm8k 0.32`).
    pub headline: String,
}

/// A model found under `outputs/`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelChoice {
    /// Folder name.
    pub name: String,
    /// The model folder.
    pub path: PathBuf,
    /// Formats present (`LoRA`, `16-bit`, `4-bit`, `GGUF`).
    pub formats: Vec<String>,
    /// Size on disk.
    pub size_bytes: u64,
    /// The last benchmark, when there is one.
    pub last_benchmark: Option<LastBenchmark>,
    /// The detected base model, when there is one.
    pub base: Option<BaseInfo>,
}

/// A backend the user may pick.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendChoice {
    /// Id (`safetensors`, `lora`, `gguf`, `ollama`, `openai`).
    pub id: String,
    /// Label in words.
    pub label: String,
    /// Usable, or the reason it is not (shown, and the choice refused).
    pub usable: Result<(), String>,
    /// Tasks this backend cannot score, named before the run starts.
    pub unsupported_tasks: Vec<String>,
}

/// A suite the user may pick.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteChoice {
    /// Name (`test`, `quick`, `core`, `full`).
    pub name: String,
    /// Label in words (`Core (IFEval + GSM8K + HellaSwag)`).
    pub label: String,
    /// Its tasks.
    pub tasks: Vec<String>,
    /// Estimated time from this machine's past throughput, when known.
    pub estimate: Option<Duration>,
}

/// A task offered by the Custom suite.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskChoice {
    /// lm-eval task name.
    pub name: String,
    /// Description in words, when there is one.
    pub description: Option<String>,
}

/// What the dashboard header shows before the worker reports its model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeaderInfo {
    /// Model label.
    pub model: String,
    /// Backend id or label.
    pub backend: String,
    /// Device, when known in advance.
    pub device: Option<String>,
    /// Dtype, when known in advance.
    pub dtype: Option<String>,
    /// Suite name, or `custom`.
    pub suite: String,
    /// The run's output folder.
    pub output_dir: Option<PathBuf>,
    /// The watchdog timeout, when set.
    pub timeout: Option<Duration>,
    /// Another run follows this one (the base before the fine-tuned run): Enter continues.
    pub continues: bool,
}

/// Direction of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrow {
    /// Better than the base.
    Up,
    /// Worse than the base.
    Down,
    /// No change within rounding.
    Same,
    /// Nothing to compare with.
    None,
}

impl Arrow {
    /// The arrow as one character.
    pub fn symbol(self) -> &'static str {
        match self {
            Arrow::Up => "▲",
            Arrow::Down => "▼",
            Arrow::Same => "=",
            Arrow::None => " ",
        }
    }
}

/// One metric of one task, base against fine-tuned.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    /// Task name.
    pub task: String,
    /// Metric (with its filter where it matters: `exact_match,strict-match`).
    pub metric: String,
    /// The base score.
    pub base: Option<f64>,
    /// The fine-tuned score.
    pub finetuned: Option<f64>,
    /// Fine-tuned minus base.
    pub delta: Option<f64>,
    /// Delta relative to the base, percent.
    pub delta_percent: Option<f64>,
    /// Direction.
    pub arrow: Arrow,
    /// Verdict in words (`improved`, `regressed`, `no change`).
    pub verdict: String,
    /// A regression worth flagging (shown in colour).
    pub flagged: bool,
    /// Paired significance, when computed.
    pub significant: Option<bool>,
}

/// The comparison shown on the results screen and printed on exit.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ComparisonView {
    /// The fine-tuned model's label.
    pub model: String,
    /// The base model's label, when compared.
    pub base: Option<String>,
    /// The rows.
    pub rows: Vec<ComparisonRow>,
    /// Mismatch and other warnings, in words.
    pub warnings: Vec<String>,
    /// Some results are partial (aborted, timed out or crashed runs).
    pub partial: bool,
    /// Where the summary was written.
    pub benchmark_file: Option<PathBuf>,
}
