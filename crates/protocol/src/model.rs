//! The [`LanguageModel`] trait every backend implements, and what it reports about itself.
//!
//! Calls are batch-in, batch-out and synchronous: the backend sorts and batches internally (its
//! batch size is a load-time setting) and returns answers in request order. Long calls beat the
//! heartbeat at least once a second so the watchdog knows the worker is alive, and return
//! [`ModelError::Cancelled`] promptly once the cancel flag is set.

use serde::{Deserialize, Serialize};

use crate::Cancel;
use crate::chat::ChatTemplate;
use crate::request::{GenerateRequest, Generation, Loglikelihood, LoglikelihoodRequest};

/// Which request kinds a backend can serve, and how faithfully.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Exact loglikelihood (prompt-token log-probs), as lm-eval's HF backend computes it.
    pub loglikelihood: bool,
    /// Loglikelihood only approximated (top-k logprobs of one generated token). Results computed
    /// this way are labelled approximate and never compared with exact ones.
    pub loglikelihood_approximate: bool,
    /// Greedy generation with stop strings.
    pub generate: bool,
}

/// What a loaded model says about itself; recorded in `run.json` and shown in the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Display name (folder name, served model name).
    pub name: String,
    /// Backend id: `candle`, `ollama`, `openai`, `scripted`.
    pub backend: String,
    /// Device in words: `cpu`, `cuda:0`, a URL for HTTP backends.
    pub device: String,
    /// Compute dtype (`f32`, `bf16`, `q8_0`, ...).
    pub dtype: String,
    /// Maximum sequence length used for truncation (lm-eval's `max_length`).
    pub max_length: usize,
    /// Number of parameters, when known.
    pub num_parameters: Option<u64>,
    /// The tokenizer's EOS text, added to every `until` list as lm-eval does.
    pub eos_text: Option<String>,
    /// The tokenizer's BOS text, when it has one.
    pub bos_text: Option<String>,
    /// The tokenizer's pad text, when it has one.
    pub pad_text: Option<String>,
    /// lm-eval's `eot_token_id`.
    pub eot_token_id: Option<u32>,
    /// Content hash of the weights (and adapter), for fingerprints.
    pub weights_sha256: Option<String>,
}

/// What a model call receives besides its requests.
pub struct CallCtx<'a> {
    /// Set when the run is being aborted.
    pub cancel: &'a Cancel,
    /// Called with the number of tokens processed since the previous beat. Beat at least once a
    /// second during long calls.
    pub heartbeat: &'a (dyn Fn(u64) + Sync),
}

impl<'a> CallCtx<'a> {
    /// A context with the given cancel flag and heartbeat.
    pub fn new(cancel: &'a Cancel, heartbeat: &'a (dyn Fn(u64) + Sync)) -> Self {
        Self { cancel, heartbeat }
    }

    /// Report `tokens` processed and check the cancel flag.
    pub fn beat(&self, tokens: u64) -> Result<(), ModelError> {
        (self.heartbeat)(tokens);
        if self.cancel.is_set() {
            Err(ModelError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Why a model call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The cancel flag was set.
    #[error("cancelled")]
    Cancelled,
    /// The backend cannot serve this request kind (named) at all.
    #[error("{0}")]
    Unsupported(String),
    /// A request is unusable as given (for example a continuation longer than max_length).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Any other backend failure, with its cause in words.
    #[error("{0}")]
    Backend(String),
}

/// A model that answers lm-eval's requests.
pub trait LanguageModel: Send {
    /// Name, device, dtype and limits.
    fn info(&self) -> ModelInfo;

    /// Which request kinds this backend can serve.
    fn capabilities(&self) -> Capabilities;

    /// Score each `(context, continuation)`; answers in request order.
    fn loglikelihood(
        &mut self,
        requests: &[LoglikelihoodRequest],
        cx: &CallCtx<'_>,
    ) -> Result<Vec<Loglikelihood>, ModelError>;

    /// Generate greedily for each request; answers in request order.
    fn generate(
        &mut self,
        requests: &[GenerateRequest],
        cx: &CallCtx<'_>,
    ) -> Result<Vec<Generation>, ModelError>;

    /// The model's chat template, when it has one.
    fn chat_template(&self) -> Option<&dyn ChatTemplate>;

    /// How many loglikelihood requests to hand over per call, in units of the run's batch
    /// size. A backend that packs many requests into each forward and shares their common
    /// prefixes works better with more than a few batches at once. The engine journals after
    /// every call, so this is also the most finished work a crash can cost.
    fn loglikelihood_batches_per_call(&self) -> usize {
        4
    }
}
