//! Command-line flags. Every wizard step has a flag here, so `sparkbench run ... --yes` needs no
//! terminal; flag names follow lm-eval's where the meaning is the same.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Benchmark fine-tuned LLMs against their base model, with lm-eval-identical scores.
#[derive(Debug, Parser)]
#[command(name = "sparkbench", version, about, long_about = None)]
pub struct Cli {
    /// The folder holding your models (each `<name>/` with lora/, merged_16bit/, gguf/ ...).
    #[arg(
        long,
        global = true,
        env = "SPARKBENCH_OUTPUTS",
        default_value = "outputs"
    )]
    pub outputs: PathBuf,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands; none opens the wizard.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a benchmark (the wizard's flow without a terminal when given --yes).
    Run(Box<RunArgs>),
    /// Internal: the evaluation process the supervisor starts.
    #[command(hide = true)]
    Worker(WorkerArgs),
    /// Rebuild benchmarks/benchmark.json from the files on disk.
    Summary {
        /// The model folder (default: choose among outputs/).
        model_dir: Option<PathBuf>,
    },
    /// Rewrite the benchmark sections of the model's README files.
    Readme {
        /// The model folder (default: choose among outputs/).
        model_dir: Option<PathBuf>,
    },
    /// Every run of a model, side by side.
    History {
        /// The model folder.
        model_dir: PathBuf,
    },
    /// Make a small demo model (outputs/demo-tiny: a base, a LoRA fine-tune, its merge) so the
    /// whole flow runs offline.
    Demo {
        /// Recreate it even if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Model utilities.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Measure the native engine on this machine.
    Bench(BenchArgs),
}

/// `sparkbench model ...`.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Write a complete random-weight Hugging Face model folder.
    Init {
        /// tiny, smollm2-135m or qwen2.5-0.5b.
        #[arg(long, default_value = "tiny")]
        shape: String,
        /// The folder to create.
        #[arg(long)]
        out: PathBuf,
        /// Seed of the random weights.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

/// Which backend serves the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// Native candle on merged safetensors (merged_16bit/, merged_4bit/ or a HF folder).
    Safetensors,
    /// Native candle, the LoRA adapter applied on the base at load (no merge step).
    Lora,
    /// Native candle on a GGUF file.
    Gguf,
    /// An Ollama server.
    Ollama,
    /// An OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp server).
    Openai,
}

/// `sparkbench run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A model under outputs/ (lora/, merged_16bit/, gguf/ ...), a Hugging Face folder, or a .gguf file.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The backend (default: the best available for the model).
    #[arg(long, value_enum)]
    pub backend: Option<BackendArg>,
    /// Also benchmark the base model and compare (default when a base is known).
    #[arg(long, overrides_with = "no_compare_base")]
    pub compare_base: bool,
    /// Benchmark only the fine-tuned model.
    #[arg(long)]
    pub no_compare_base: bool,
    /// The base model folder (default: detected from INFERENCE_BASE_MODEL, lora/adapter_config.json, training_metrics.json).
    #[arg(long)]
    pub base: Option<PathBuf>,
    /// A suite: test, quick, core, full, or a suite file.
    #[arg(long, conflicts_with = "tasks")]
    pub suite: Option<String>,
    /// Comma-separated lm-eval task names (gsm8k,hellaswag,mmlu,...).
    #[arg(long, value_delimiter = ',')]
    pub tasks: Vec<String>,
    /// lm-eval's --limit: documents per task (a value below 1.0 is a fraction).
    #[arg(long)]
    pub limit: Option<f64>,
    /// lm-eval's --num_fewshot.
    #[arg(long)]
    pub num_fewshot: Option<usize>,
    /// Requests per forward pass.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Local data folder laid out <dataset>/<split>.jsonl (default: the Hugging Face cache).
    #[arg(long, env = "SPARKBENCH_DATA")]
    pub data_dir: Option<PathBuf>,
    /// Write lm-eval files into this folder instead of the model's benchmarks/ folder.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Render prompts with the model's chat template (lm-eval --apply_chat_template).
    #[arg(long)]
    pub apply_chat_template: bool,
    /// Few-shot examples as chat turns (default true with --apply-chat-template).
    #[arg(long)]
    pub fewshot_as_multiturn: Option<bool>,
    /// A system instruction (lm-eval --system_instruction).
    #[arg(long)]
    pub system_instruction: Option<String>,
    /// Generation kwargs, e.g. max_gen_toks=64,until=... (lm-eval --gen_kwargs).
    #[arg(long)]
    pub gen_kwargs: Option<String>,
    /// Compute dtype: f32 (CPU default), bf16 (CUDA default), f16.
    #[arg(long)]
    pub dtype: Option<String>,
    /// cpu, cuda or cuda:N.
    #[arg(long)]
    pub device: Option<String>,
    /// Watchdog: end the run after this long without progress (30min, 10m, 600s, 600, 1h).
    #[arg(long)]
    pub timeout: Option<String>,
    /// Resume an interrupted run from its lm-eval/ folder.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Do not ask; needed without a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Plain progress lines even on a terminal.
    #[arg(long)]
    pub plain: bool,
    /// Server URL for --backend ollama|openai.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// The model name on the server.
    #[arg(long)]
    pub served_model: Option<String>,
    /// A tokenizer folder or tokenizer.json (HTTP backends; a GGUF without one beside it).
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// Environment variable holding the API key of an OpenAI-compatible server.
    #[arg(long)]
    pub api_key_env: Option<String>,
    /// Use /v1/chat/completions for generation.
    #[arg(long)]
    pub chat_completions: bool,
    /// HTTP requests in flight.
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Ollama: score single-token multiple choice from the top-20 logprobs (labelled approximate).
    #[arg(long)]
    pub approximate_loglikelihood: bool,
    /// Testing: a JSON script for the scripted model (latency, hangs, crashes) instead of a real model.
    #[arg(long, hide = true)]
    pub scripted: Option<PathBuf>,
}

/// `sparkbench worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The RunSpec file.
    #[arg(long)]
    pub spec: PathBuf,
    /// Only compute partial results from the journals.
    #[arg(long)]
    pub finalize: bool,
}

/// `sparkbench bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A model folder to measure (default: a random smollm2-135m-shaped model made in memory).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Fewer repetitions, for a quick look.
    #[arg(long)]
    pub quick: bool,
}
