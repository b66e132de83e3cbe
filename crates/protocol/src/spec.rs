//! [`RunSpec`]: everything one evaluation run needs, and the fingerprint that decides whether
//! two runs are comparable and whether a journal may be resumed.
//!
//! The wizard and the CLI flags both produce a `RunSpec`; the supervisor writes it to a file and
//! starts `sparkbench worker --spec FILE`, which reads it back. Fields that cannot change a score
//! (batch size, output folder, timeout, concurrency, display label) are left out of the fingerprint.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where the model comes from and which backend serves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelSource {
    /// A Hugging Face folder (config.json, safetensors, tokenizer files), run natively.
    Hf {
        /// The folder.
        path: PathBuf,
    },
    /// A PEFT LoRA adapter applied at load on top of its base folder (no merge step).
    Lora {
        /// The adapter folder (adapter_config.json, adapter_model.safetensors).
        adapter: PathBuf,
        /// The base model folder.
        base: PathBuf,
    },
    /// A GGUF file, run natively.
    Gguf {
        /// The .gguf file.
        path: PathBuf,
        /// A tokenizer.json or a folder holding one, when none sits beside the file.
        tokenizer: Option<PathBuf>,
    },
    /// An Ollama server (`/api/generate`, raw mode).
    Ollama {
        /// Base URL, e.g. `http://localhost:11434`.
        endpoint: String,
        /// The Ollama model name.
        model: String,
    },
    /// An OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp server).
    #[serde(rename = "openai")]
    OpenAi {
        /// Base URL, e.g. `http://localhost:8000/v1`.
        endpoint: String,
        /// The served model name.
        model: String,
        /// A local tokenizer for truncation and token counts.
        tokenizer: Option<PathBuf>,
        /// Name of the environment variable holding the API key (never the key itself).
        api_key_env: Option<String>,
        /// Use `/v1/chat/completions` for generation instead of `/v1/completions`.
        #[serde(default)]
        chat: bool,
    },
    /// A scripted model for tests and demos (fixed answers, latency, hangs, crashes).
    Scripted {
        /// The script, as JSON understood by `sparkbench-scripted`.
        script: serde_json::Value,
    },
}

/// The backend families, used in folder names and in the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Native candle, merged safetensors.
    Safetensors,
    /// Native candle, LoRA applied at load.
    Lora,
    /// Native candle, GGUF.
    Gguf,
    /// Ollama.
    Ollama,
    /// OpenAI-compatible HTTP.
    #[serde(rename = "openai")]
    OpenAi,
    /// The scripted test model.
    Scripted,
}

impl Backend {
    /// Short id used in folder names and `run.json`.
    pub fn id(self) -> &'static str {
        match self {
            Backend::Safetensors => "safetensors",
            Backend::Lora => "lora",
            Backend::Gguf => "gguf",
            Backend::Ollama => "ollama",
            Backend::OpenAi => "openai",
            Backend::Scripted => "scripted",
        }
    }
}

impl ModelSource {
    /// The backend family serving this source.
    pub fn backend(&self) -> Backend {
        match self {
            ModelSource::Hf { .. } => Backend::Safetensors,
            ModelSource::Lora { .. } => Backend::Lora,
            ModelSource::Gguf { .. } => Backend::Gguf,
            ModelSource::Ollama { .. } => Backend::Ollama,
            ModelSource::OpenAi { .. } => Backend::OpenAi,
            ModelSource::Scripted { .. } => Backend::Scripted,
        }
    }
}

/// One task of a run, with its per-task overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSelection {
    /// lm-eval task or group name (`gsm8k`, `mmlu`, `mmlu_anatomy`, ...).
    pub name: String,
    /// Per-task `--limit` (lm-eval semantics: < 1.0 is a fraction, else a count).
    #[serde(default)]
    pub limit: Option<f64>,
    /// Per-task `--num-fewshot`.
    #[serde(default)]
    pub num_fewshot: Option<usize>,
}

impl TaskSelection {
    /// A task with no overrides.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            limit: None,
            num_fewshot: None,
        }
    }
}

fn default_fewshot_seed() -> u64 {
    1234
}

fn default_batch_size() -> usize {
    1
}

/// Everything one evaluation run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Display label (the model's folder name).
    pub label: String,
    /// The model.
    pub model: ModelSource,
    /// The tasks, in order.
    pub tasks: Vec<TaskSelection>,
    /// The suite these tasks came from, when one was chosen (display only).
    #[serde(default)]
    pub suite: Option<String>,
    /// lm-eval's `--limit`, applied to every task without its own.
    #[serde(default)]
    pub limit: Option<f64>,
    /// lm-eval's `--num_fewshot`, applied to every task without its own.
    #[serde(default)]
    pub num_fewshot: Option<usize>,
    /// lm-eval's fourth seed (few-shot sampler).
    #[serde(default = "default_fewshot_seed")]
    pub fewshot_seed: u64,
    /// `--apply-chat-template`.
    #[serde(default)]
    pub apply_chat_template: bool,
    /// `--fewshot-as-multiturn` (defaults to true with a chat template, as in lm-eval 0.4.10+).
    #[serde(default)]
    pub fewshot_as_multiturn: Option<bool>,
    /// `--system-instruction`.
    #[serde(default)]
    pub system_instruction: Option<String>,
    /// `--gen-kwargs`, merged into every generation task's kwargs.
    #[serde(default)]
    pub gen_kwargs: BTreeMap<String, serde_json::Value>,
    /// Requests per forward pass (or in flight, for HTTP backends).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Override of the model's max_length.
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Compute dtype override (`f32`, `bf16`, `f16`).
    #[serde(default)]
    pub dtype: Option<String>,
    /// Device request (`cpu`, `cuda`, `cuda:1`); default: CUDA when built with it and present.
    #[serde(default)]
    pub device: Option<String>,
    /// Local data folder (`<dataset>/<split>.jsonl|.parquet`); otherwise the Hub cache.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// Where results, samples journals and run.json go (the run's `lm-eval/` folder).
    pub output_dir: PathBuf,
    /// For HTTP backends: requests in flight.
    #[serde(default)]
    pub concurrency: Option<usize>,
    /// For backends without prompt logprobs: allow the labelled top-logprob approximation.
    #[serde(default)]
    pub approximate_loglikelihood: bool,
}

impl RunSpec {
    /// Hex sha256 over the fields that can change a score. Two runs with the same fingerprint
    /// are comparable, and a journal written under one fingerprint may be resumed only under it.
    pub fn fingerprint(&self) -> String {
        let relevant = serde_json::json!({
            "model": self.model,
            "tasks": self.tasks,
            "limit": self.limit,
            "num_fewshot": self.num_fewshot,
            "fewshot_seed": self.fewshot_seed,
            "apply_chat_template": self.apply_chat_template,
            "fewshot_as_multiturn": self.fewshot_as_multiturn,
            "system_instruction": self.system_instruction,
            "gen_kwargs": self.gen_kwargs,
            "max_length": self.max_length,
            "dtype": self.dtype,
            "approximate_loglikelihood": self.approximate_loglikelihood,
        });
        let mut hasher = Sha256::new();
        hasher.update(relevant.to_string().as_bytes());
        hex::encode(hasher.finalize())
    }

    /// Whether few-shot examples become chat turns (lm-eval 0.4.10+: on by default with a
    /// chat template).
    pub fn multiturn(&self) -> bool {
        self.apply_chat_template && self.fewshot_as_multiturn.unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> RunSpec {
        RunSpec {
            label: "m".into(),
            model: ModelSource::Hf { path: "/m".into() },
            tasks: vec![TaskSelection::named("gsm8k")],
            suite: None,
            limit: Some(5.0),
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
    fn fingerprint_ignores_batch_size_and_output() {
        let a = spec();
        let mut b = spec();
        b.batch_size = 1;
        b.output_dir = "/elsewhere".into();
        assert_eq!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn fingerprint_sees_limit_and_model() {
        let a = spec();
        let mut b = spec();
        b.limit = Some(6.0);
        assert_ne!(a.fingerprint(), b.fingerprint());
        let mut c = spec();
        c.model = ModelSource::Hf {
            path: "/other".into(),
        };
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    #[test]
    fn spec_round_trips_through_json() {
        let a = spec();
        let text = serde_json::to_string(&a).expect("serialize");
        let b: RunSpec = serde_json::from_str(&text).expect("parse");
        assert_eq!(a, b);
    }
}
