//! The two request kinds of lm-eval and their answers.
//!
//! Semantics follow lm-eval's HF backend (shared spec `lm-eval.md` section 4): a loglikelihood
//! request is scored with the trailing-whitespace move and the whole-minus-context split; a
//! generation is greedy, stops at the model's EOS ids and at the `until` strings, and its text is
//! cut at the first stop string.

use serde::{Deserialize, Serialize};

/// `loglikelihood(context, continuation)`: how likely the model finds `continuation` after `context`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LoglikelihoodRequest {
    /// The prompt, exactly as the task built it (trailing whitespace included).
    pub context: String,
    /// The text to score, usually starting with the target delimiter (`" A"`).
    pub continuation: String,
}

/// The answer to a [`LoglikelihoodRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Loglikelihood {
    /// Sum of the log-probabilities of the continuation tokens (natural log).
    pub logprob: f64,
    /// Whether every continuation token was the argmax at its position.
    pub is_greedy: bool,
    /// Number of continuation tokens scored.
    pub n_tokens: usize,
}

/// `generate_until(context, until, max_gen_toks)`, greedy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GenerateRequest {
    /// The prompt, exactly as the task built it.
    pub context: String,
    /// Stop strings (the task's `until`); the backend adds the tokenizer's EOS text itself.
    pub until: Vec<String>,
    /// Maximum number of new tokens.
    pub max_gen_toks: usize,
}

/// Why a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model produced one of its EOS ids.
    Eos,
    /// One of the `until` strings appeared; the text is cut before it.
    StopString,
    /// `max_gen_toks` new tokens were produced.
    MaxTokens,
}

/// The answer to a [`GenerateRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    /// Decoded text, cut at the first stop string (lm-eval's post-processing).
    pub text: String,
    /// Number of tokens generated (before cutting).
    pub n_tokens: usize,
    /// Why generation ended.
    pub stop: StopReason,
}

/// One model call of either kind, as tasks build them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Request {
    /// A loglikelihood request.
    Loglikelihood(LoglikelihoodRequest),
    /// A generation request.
    Generate(GenerateRequest),
}

/// The answer to a [`Request`], of the matching kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Response {
    /// Answer to a loglikelihood request.
    Loglikelihood(Loglikelihood),
    /// Answer to a generation request.
    Generation(Generation),
}
