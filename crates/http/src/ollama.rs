//! Ollama through its native API: `/api/tags` to check and list, `/api/generate` in raw mode.
//!
//! Ollama returns no prompt log-probabilities (no echo), so loglikelihood tasks are refused
//! before a run starts, unless the user asks for the top-logprob approximation for single-token
//! multiple choice. That approximation reads the 20 most likely next tokens; a choice outside
//! them gets -inf. Results computed this way are labelled approximate everywhere.

use std::time::Duration;

use serde_json::{Value, json};
use sparkbench_protocol::{
    CallCtx, Capabilities, ChatTemplate, GenerateRequest, Generation, LanguageModel, Loglikelihood,
    LoglikelihoodRequest, ModelError, ModelInfo, StopReason,
};
use sparkbench_tokenizer::HfTokenizer;

use crate::HttpOptions;
use crate::error::HttpError;
use crate::parallel::run_ordered;
use crate::stops::cut_at_stops;
use crate::transport::{Client, RetryPolicy};

/// Check that an Ollama server answers at `endpoint`, with the seed's messages on failure.
pub fn check(endpoint: &str) -> Result<(), HttpError> {
    tags(endpoint).map(|_| ())
}

/// The model names an Ollama server has pulled.
pub fn list_models(endpoint: &str) -> Result<Vec<String>, HttpError> {
    let tags = tags(endpoint)?;
    let models = tags
        .get("models")
        .and_then(Value::as_array)
        .ok_or_else(|| HttpError::BadResponse {
            url: format!("{endpoint}/api/tags"),
            what: "no `models` list".into(),
        })?;
    Ok(models
        .iter()
        .filter_map(|m| m.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect())
}

fn tags(endpoint: &str) -> Result<Value, HttpError> {
    let policy = RetryPolicy {
        attempts: 1,
        backoff: Duration::ZERO,
        timeout: Duration::from_secs(5),
    };
    let client = Client::new(endpoint, None, policy)?;
    client
        .get("api/tags", &sparkbench_protocol::Cancel::new())
        .map_err(|e| match e {
            HttpError::Unreachable { url, cause } => HttpError::Unreachable {
                url,
                cause: format!(
                    "Ollama connection failed: {cause}. Make sure Ollama is running: ollama serve"
                ),
            },
            HttpError::Status { url, status, body } => HttpError::Status {
                url,
                status,
                body: format!("Ollama not responding at {endpoint} ({body})"),
            },
            other => other,
        })
}

/// A model served by Ollama.
pub struct OllamaModel {
    client: Client,
    model: String,
    opts: HttpOptions,
    tokenizer: Option<HfTokenizer>,
}

impl OllamaModel {
    /// Connect to `model` on `endpoint`; checks that the server answers and has the model.
    pub fn connect(
        endpoint: &str,
        model: &str,
        opts: HttpOptions,
        tokenizer: Option<HfTokenizer>,
    ) -> Result<Self, HttpError> {
        let names = list_models(endpoint)?;
        let wanted = model.to_string();
        let found = names
            .iter()
            .any(|n| *n == wanted || n.strip_suffix(":latest") == Some(model));
        if !found {
            return Err(HttpError::Config(format!(
                "Ollama at {endpoint} has no model `{model}` (it has: {}). Pull it with `ollama pull {model}` or create it from your GGUF with `ollama create`.",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )));
        }
        let client = Client::new(endpoint, None, opts.retry.clone())?;
        Ok(Self {
            client,
            model: model.to_string(),
            opts,
            tokenizer,
        })
    }

    fn options(&self, num_predict: usize, stop: &[String]) -> Value {
        json!({
            "temperature": 0.0,
            "top_k": 1,
            "seed": self.opts.seed,
            "num_predict": num_predict,
            "stop": stop,
            "num_ctx": self.opts.max_length,
        })
    }

    fn generate_one(
        &self,
        req: &GenerateRequest,
        cx: &CallCtx<'_>,
    ) -> Result<Generation, HttpError> {
        let mut until = req.until.clone();
        if let Some(eos) = self.tokenizer.as_ref().and_then(|t| t.eos_text())
            && !until.iter().any(|u| u == eos)
        {
            until.push(eos.to_string());
        }
        let body = json!({
            "model": self.model,
            "prompt": req.context,
            "raw": true,
            "stream": false,
            "options": self.options(req.max_gen_toks, &until),
        });
        let url = format!("{}/api/generate", self.client.base());
        let answer = self.client.post("api/generate", &body, cx.cancel)?;
        let text = answer
            .get("response")
            .and_then(Value::as_str)
            .ok_or_else(|| HttpError::BadResponse {
                url: url.clone(),
                what: "no `response` text".into(),
            })?;
        let n_tokens = answer
            .get("eval_count")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        let (text, cut) = cut_at_stops(text, &until);
        let stop = if cut {
            StopReason::StopString
        } else if answer.get("done_reason").and_then(Value::as_str) == Some("length") {
            StopReason::MaxTokens
        } else {
            StopReason::Eos
        };
        Ok(Generation {
            text,
            n_tokens,
            stop,
        })
    }

    fn approximate_one(
        &self,
        req: &LoglikelihoodRequest,
        cx: &CallCtx<'_>,
    ) -> Result<Loglikelihood, HttpError> {
        // lm-eval's trailing-whitespace move, so " A" is looked up as one token after "Answer:".
        let trimmed = req.context.trim_end();
        let moved = &req.context[trimmed.len()..];
        let target = format!("{moved}{}", req.continuation);
        let body = json!({
            "model": self.model,
            "prompt": trimmed,
            "raw": true,
            "stream": false,
            "logprobs": true,
            "top_logprobs": 20,
            "options": self.options(1, &[]),
        });
        let url = format!("{}/api/generate", self.client.base());
        let answer = self.client.post("api/generate", &body, cx.cancel)?;
        let first = answer
            .get("logprobs")
            .and_then(Value::as_array)
            .and_then(|l| l.first())
            .ok_or_else(|| HttpError::BadResponse {
                url: url.clone(),
                what: "no `logprobs` in the answer (Ollama 0.12.11 or later is needed for the approximation)".into(),
            })?;
        let top = first
            .get("top_logprobs")
            .and_then(Value::as_array)
            .ok_or_else(|| HttpError::BadResponse {
                url: url.clone(),
                what: "no `top_logprobs` in the answer".into(),
            })?;
        let mut best: Option<(&str, f64)> = None;
        let mut found = None;
        for entry in top {
            let (Some(tok), Some(lp)) = (
                entry.get("token").and_then(Value::as_str),
                entry.get("logprob").and_then(Value::as_f64),
            ) else {
                return Err(HttpError::BadResponse {
                    url,
                    what: "a top_logprobs entry lacks `token` or `logprob`".into(),
                });
            };
            if best.is_none_or(|(_, b)| lp > b) {
                best = Some((tok, lp));
            }
            if tok == target && found.is_none() {
                found = Some(lp);
            }
        }
        Ok(Loglikelihood {
            logprob: found.unwrap_or(f64::NEG_INFINITY),
            is_greedy: best.is_some_and(|(t, _)| t == target),
            n_tokens: 1,
        })
    }
}

impl LanguageModel for OllamaModel {
    fn info(&self) -> ModelInfo {
        crate::server_info(
            &self.model,
            "ollama",
            self.client.base(),
            self.opts.max_length,
            self.tokenizer.as_ref(),
        )
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            loglikelihood: false,
            loglikelihood_approximate: self.opts.approximate_loglikelihood,
            generate: true,
        }
    }

    fn loglikelihood(
        &mut self,
        requests: &[LoglikelihoodRequest],
        cx: &CallCtx<'_>,
    ) -> Result<Vec<Loglikelihood>, ModelError> {
        if !self.opts.approximate_loglikelihood {
            return Err(ModelError::Unsupported(
                crate::OLLAMA_NO_LOGLIKELIHOOD.into(),
            ));
        }
        Ok(run_ordered(
            requests,
            self.opts.concurrency,
            cx,
            |r| self.approximate_one(r, cx),
            |_| 1,
        )?)
    }

    fn generate(
        &mut self,
        requests: &[GenerateRequest],
        cx: &CallCtx<'_>,
    ) -> Result<Vec<Generation>, ModelError> {
        Ok(run_ordered(
            requests,
            self.opts.concurrency,
            cx,
            |r| self.generate_one(r, cx),
            |g| g.n_tokens as u64,
        )?)
    }

    fn chat_template(&self) -> Option<&dyn ChatTemplate> {
        crate::local_chat_template(self.tokenizer.as_ref())
    }
}
