//! HTTP backends: Ollama and OpenAI-compatible servers.
//!
//! Both answer the same [`LanguageModel`] calls as the native backend, honestly: a server that
//! cannot return prompt log-probabilities never produces loglikelihood scores (they would land at
//! chance with no error); it says so before the run starts. Requests run with a bounded number in
//! flight, each retried with backoff on 429, 5xx and connection errors, each bounded by a timeout.
//! The API key is read from an environment variable and is never written to a file or a log.

pub mod error;
pub mod ollama;
pub mod openai;
pub mod parallel;
pub mod stops;
pub mod transport;

use std::path::Path;

pub use error::HttpError;
use sparkbench_protocol::{LanguageModel, ModelSource};
use sparkbench_tokenizer::HfTokenizer;
pub use transport::RetryPolicy;

/// Why Ollama cannot run loglikelihood tasks, in words for the user.
pub const OLLAMA_NO_LOGLIKELIHOOD: &str = "Ollama cannot score loglikelihood tasks (HellaSwag, MMLU, ARC, ...): it returns no prompt log-probabilities. Run generation tasks (IFEval, GSM8K), use the native backend on the GGUF or safetensors, or pass --approximate-loglikelihood for a labelled top-20 approximation of single-token multiple choice";

/// Settings shared by the HTTP backends.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Requests in flight.
    pub concurrency: usize,
    /// Retries and per-request timeout.
    pub retry: RetryPolicy,
    /// lm-eval's max_length for truncation (and Ollama's num_ctx).
    pub max_length: usize,
    /// Seed sent with every request.
    pub seed: u64,
    /// Allow Ollama's top-logprob approximation for single-token multiple choice.
    pub approximate_loglikelihood: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            concurrency: 4,
            retry: RetryPolicy::default(),
            max_length: 4096,
            seed: 1234,
            approximate_loglikelihood: false,
        }
    }
}

/// What a served model says about itself: the server's name and URL, the local tokenizer's
/// special tokens when one was given.
pub(crate) fn server_info(
    name: &str,
    backend: &str,
    url: &str,
    max_length: usize,
    tokenizer: Option<&HfTokenizer>,
) -> sparkbench_protocol::ModelInfo {
    sparkbench_protocol::ModelInfo {
        name: name.to_string(),
        backend: backend.into(),
        device: url.to_string(),
        dtype: "server".into(),
        max_length,
        num_parameters: None,
        eos_text: tokenizer.and_then(|t| t.eos_text()).map(str::to_string),
        bos_text: tokenizer.and_then(|t| t.bos_text()).map(str::to_string),
        pad_text: tokenizer.and_then(|t| t.pad_text()).map(str::to_string),
        eot_token_id: tokenizer.and_then(|t| t.eos_token_id()),
        weights_sha256: None,
    }
}

/// The local tokenizer's chat template, which HTTP backends render prompts with.
pub(crate) fn local_chat_template(
    tokenizer: Option<&HfTokenizer>,
) -> Option<&dyn sparkbench_protocol::ChatTemplate> {
    tokenizer
        .and_then(|t| t.chat_template())
        .map(|t| t as &dyn sparkbench_protocol::ChatTemplate)
}

/// Load a local tokenizer from a folder or a tokenizer.json file.
pub fn load_tokenizer(path: &Path) -> Result<HfTokenizer, HttpError> {
    let result = if path.is_dir() {
        HfTokenizer::from_dir(path)
    } else {
        HfTokenizer::from_files(path, path.parent())
    };
    result.map_err(|e| HttpError::Config(format!("tokenizer {}: {e}", path.display())))
}

/// Connect to the server a [`ModelSource::Ollama`] or [`ModelSource::OpenAi`] names.
pub fn connect(
    source: &ModelSource,
    opts: &HttpOptions,
) -> Result<Box<dyn LanguageModel>, HttpError> {
    match source {
        ModelSource::Ollama { endpoint, model } => Ok(Box::new(ollama::OllamaModel::connect(
            endpoint,
            model,
            opts.clone(),
            None,
        )?)),
        ModelSource::OpenAi {
            endpoint,
            model,
            tokenizer,
            api_key_env,
            chat,
        } => {
            let api_key = match api_key_env {
                Some(var) => Some(std::env::var(var).map_err(|_| {
                    HttpError::Config(format!("the API key variable {var} is not set; export {var}=... or drop --api-key-env"))
                })?),
                None => None,
            };
            let tokenizer = tokenizer.as_deref().map(load_tokenizer).transpose()?;
            // lm-eval takes max_length from the model; with no explicit --max-length the local
            // tokenizer's model_max_length says it (the server refuses longer prompts anyway).
            let mut opts = opts.clone();
            if opts.max_length == HttpOptions::default().max_length
                && let Some(m) = tokenizer.as_ref().and_then(|t| t.model_max_length())
                && m < 1 << 24
            {
                opts.max_length = m as usize;
            }
            Ok(Box::new(openai::OpenAiModel::connect(
                endpoint,
                model,
                api_key,
                opts.clone(),
                tokenizer,
                *chat,
            )?))
        }
        other => Err(HttpError::Config(format!(
            "the HTTP backends serve Ollama and OpenAI-compatible sources, not {:?}",
            other.backend()
        ))),
    }
}
