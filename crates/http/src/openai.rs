//! OpenAI-compatible servers (vLLM, SGLang, TGI, llama.cpp's server).
//!
//! Loglikelihood goes through `/v1/completions` with `echo: true, logprobs: 1, max_tokens: 1`
//! on the token ids of context + continuation (lm-eval's `local-completions` recipe); the
//! continuation's log-probs are the echoed prompt entries after the context. A probe at start
//! checks that the server really echoes prompt log-probs; servers that do not (llama.cpp's server,
//! chat-only APIs) can still run generation tasks, and loglikelihood tasks are refused before the
//! run starts instead of scoring at chance.

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
use crate::transport::Client;

/// What the start-up probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EchoSupport {
    /// Prompt log-probs come back for every prompt token.
    Yes,
    /// They do not; the reason in words.
    No(String),
}

/// A model behind an OpenAI-compatible API.
pub struct OpenAiModel {
    client: Client,
    model: String,
    opts: HttpOptions,
    tokenizer: Option<HfTokenizer>,
    chat: bool,
    echo: EchoSupport,
}

impl OpenAiModel {
    /// Connect and probe. `tokenizer` serves truncation and token counts; without it the
    /// server's `/tokenize` endpoint is used when it has one.
    pub fn connect(
        endpoint: &str,
        model: &str,
        api_key: Option<String>,
        opts: HttpOptions,
        tokenizer: Option<HfTokenizer>,
        chat: bool,
    ) -> Result<Self, HttpError> {
        let client = Client::new(endpoint, api_key, opts.retry.clone())?;
        let mut me = Self {
            client,
            model: model.to_string(),
            opts,
            tokenizer,
            chat,
            echo: EchoSupport::No("not probed".into()),
        };
        me.echo = me.probe()?;
        Ok(me)
    }

    /// What the probe found about prompt log-probs.
    pub fn echo_support(&self) -> &EchoSupport {
        &self.echo
    }

    fn probe(&self) -> Result<EchoSupport, HttpError> {
        let cancel = sparkbench_protocol::Cancel::new();
        let text = "The capital of France is Paris";
        // Exact loglikelihood sends token ids, so the probe does too when it can.
        let prompt = match &self.tokenizer {
            Some(tok) => json!(
                tok.encode(text)
                    .map_err(|e| HttpError::Config(format!("local tokenizer: {e}")))?
            ),
            None => json!(text),
        };
        let body = json!({
            "model": self.model, "prompt": prompt, "max_tokens": 1, "temperature": 0.0,
            "echo": true, "logprobs": 1,
        });
        match self.client.post("completions", &body, &cancel) {
            Ok(answer) => Ok(match echoed_logprobs(&answer) {
                Ok(lp) if lp.token_logprobs.len() >= 3 => EchoSupport::Yes,
                Ok(lp) => EchoSupport::No(format!(
                    "the server echoed only {} log-prob entries for a 6-word prompt, so it does not return prompt log-probs",
                    lp.token_logprobs.len()
                )),
                Err(what) => EchoSupport::No(format!("the server's echo answer has {what}")),
            }),
            Err(HttpError::Status { status, body, .. }) if status != 429 => {
                Ok(EchoSupport::No(format!(
                    "the server refused a token-id prompt with echo and logprobs (HTTP {status}: {body})"
                )))
            }
            Err(e) => Err(e),
        }
    }

    fn tokenize(
        &self,
        text: &str,
        cancel: &sparkbench_protocol::Cancel,
    ) -> Result<Vec<u32>, HttpError> {
        if let Some(tok) = &self.tokenizer {
            return tok
                .encode(text)
                .map_err(|e| HttpError::Config(format!("local tokenizer: {e}")));
        }
        // vLLM serves POST /tokenize beside /v1.
        let base = self.client.base().trim_end_matches("/v1").to_string();
        let server = Client::new(&base, None, self.client.policy().clone())?;
        let answer = server.post("tokenize", &json!({"model": self.model, "prompt": text}), cancel).map_err(|e| {
            HttpError::Config(format!(
                "no local tokenizer was given and the server's tokenize endpoint failed ({e}); pass --tokenizer DIR|tokenizer.json"
            ))
        })?;
        let tokens = answer
            .get("tokens")
            .and_then(Value::as_array)
            .ok_or_else(|| HttpError::BadResponse {
                url: format!("{base}/tokenize"),
                what: "no `tokens` list".into(),
            })?;
        tokens
            .iter()
            .map(|t| t.as_u64().map(|v| v as u32))
            .collect::<Option<Vec<u32>>>()
            .ok_or_else(|| HttpError::BadResponse {
                url: format!("{base}/tokenize"),
                what: "a token id is not an integer".into(),
            })
    }

    fn split(
        &self,
        req: &LoglikelihoodRequest,
        cancel: &sparkbench_protocol::Cancel,
    ) -> Result<(Vec<u32>, Vec<u32>), HttpError> {
        if let Some(tok) = &self.tokenizer {
            return tok
                .encode_pair(&req.context, &req.continuation)
                .map_err(|e| HttpError::Config(format!("local tokenizer: {e}")));
        }
        // lm-eval's split done with the server's tokenizer.
        let trimmed = req.context.trim_end();
        let moved = &req.context[trimmed.len()..];
        let cont = format!("{moved}{}", req.continuation);
        let whole = self.tokenize(&format!("{trimmed}{cont}"), cancel)?;
        let ctx = self.tokenize(trimmed, cancel)?;
        Ok((
            whole[..ctx.len().min(whole.len())].to_vec(),
            whole[ctx.len().min(whole.len())..].to_vec(),
        ))
    }

    fn loglikelihood_one(
        &self,
        req: &LoglikelihoodRequest,
        cx: &CallCtx<'_>,
    ) -> Result<Loglikelihood, HttpError> {
        let (ctx, cont) = self.split(req, cx.cancel)?;
        if cont.is_empty() {
            return Err(HttpError::Config(format!(
                "continuation {:?} has no tokens",
                req.continuation
            )));
        }
        let mut all: Vec<u32> = ctx.iter().chain(cont.iter()).copied().collect();
        let keep = self.opts.max_length + 1;
        if all.len() > keep {
            all.drain(..all.len() - keep);
        }
        let ctxlen = all.len() - cont.len();
        let body = json!({
            "model": self.model, "prompt": all, "max_tokens": 1, "temperature": 0.0,
            "echo": true, "logprobs": 1, "seed": self.opts.seed,
        });
        let url = format!("{}/completions", self.client.base());
        let answer = self.client.post("completions", &body, cx.cancel)?;
        let lp = echoed_logprobs(&answer).map_err(|what| HttpError::BadResponse {
            url: url.clone(),
            what,
        })?;
        if lp.token_logprobs.len() < all.len() {
            return Err(HttpError::BadResponse {
                url,
                what: format!(
                    "echo returned {} log-probs for a {}-token prompt",
                    lp.token_logprobs.len(),
                    all.len()
                ),
            });
        }
        let mut sum = 0.0;
        let mut greedy = true;
        for pos in ctxlen..all.len() {
            let Some(Some(tok_lp)) = lp.token_logprobs.get(pos) else {
                return Err(HttpError::BadResponse {
                    url,
                    what: format!("prompt position {pos} has no log-prob"),
                });
            };
            sum += tok_lp;
            match lp.top.get(pos).and_then(|t| t.as_ref()) {
                Some(top) if !top.is_empty() => {
                    let best = top.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    if *tok_lp < best {
                        greedy = false;
                    }
                }
                _ => {
                    return Err(HttpError::BadResponse {
                        url,
                        what: format!("prompt position {pos} has no top_logprobs"),
                    });
                }
            }
        }
        Ok(Loglikelihood {
            logprob: sum,
            is_greedy: greedy,
            n_tokens: cont.len(),
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
        // OpenAI allows at most 4 stop strings; the rest are applied here afterwards.
        let server_stops: Vec<&String> = until.iter().filter(|s| !s.is_empty()).take(4).collect();
        let (path, body) = if self.chat {
            (
                "chat/completions",
                json!({
                    "model": self.model, "messages": [{"role": "user", "content": req.context}],
                    "max_tokens": req.max_gen_toks, "temperature": 0.0, "stop": server_stops, "seed": self.opts.seed,
                }),
            )
        } else {
            let prompt = match &self.tokenizer {
                Some(tok) => {
                    // Text, not token ids: some servers (llama-cpp-python) accept only text
                    // prompts. A prompt too long for max_length loses its start, as lm-eval's
                    // left truncation does, and the kept tokens are sent as text.
                    let ids = tok
                        .encode(&req.context)
                        .map_err(|e| HttpError::Config(format!("local tokenizer: {e}")))?;
                    let room = self.opts.max_length.saturating_sub(req.max_gen_toks).max(1);
                    if ids.len() > room {
                        let kept = tok
                            .decode(&ids[ids.len() - room..], false)
                            .map_err(|e| HttpError::Config(format!("local tokenizer: {e}")))?;
                        json!(kept)
                    } else {
                        json!(req.context)
                    }
                }
                None => json!(req.context),
            };
            (
                "completions",
                json!({
                    "model": self.model, "prompt": prompt, "max_tokens": req.max_gen_toks,
                    "temperature": 0.0, "stop": server_stops, "seed": self.opts.seed,
                }),
            )
        };
        let url = format!("{}/{path}", self.client.base());
        let answer = self.client.post(path, &body, cx.cancel)?;
        let choice = answer
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
            .ok_or_else(|| HttpError::BadResponse {
                url: url.clone(),
                what: "no `choices`".into(),
            })?;
        let text = if self.chat {
            choice
                .get("message")
                .and_then(|m| m.get("content"))
                .and_then(Value::as_str)
        } else {
            choice.get("text").and_then(Value::as_str)
        }
        .ok_or_else(|| HttpError::BadResponse {
            url: url.clone(),
            what: "no generated text in choices[0]".into(),
        })?;
        let n_tokens = answer
            .pointer("/usage/completion_tokens")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        let (text, cut) = cut_at_stops(text, &until);
        let stop = if cut {
            StopReason::StopString
        } else if choice.get("finish_reason").and_then(Value::as_str) == Some("length") {
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
}

/// The echoed log-prob arrays of a completions answer.
struct Echoed {
    token_logprobs: Vec<Option<f64>>,
    top: Vec<Option<Vec<f64>>>,
}

fn echoed_logprobs(answer: &Value) -> Result<Echoed, String> {
    let lp = answer
        .pointer("/choices/0/logprobs")
        .ok_or("no choices[0].logprobs")?;
    let tl = lp
        .get("token_logprobs")
        .and_then(Value::as_array)
        .ok_or("no logprobs.token_logprobs list")?;
    let token_logprobs = tl
        .iter()
        .map(|v| {
            if v.is_null() {
                Ok(None)
            } else {
                v.as_f64()
                    .map(Some)
                    .ok_or("a token_logprobs entry is not a number")
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let top = match lp.get("top_logprobs").and_then(Value::as_array) {
        Some(list) => list
            .iter()
            .map(|v| match v {
                Value::Null => Ok(None),
                Value::Object(m) => m
                    .values()
                    .map(|x| x.as_f64().ok_or("a top_logprobs value is not a number"))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some),
                _ => Err("a top_logprobs entry is not an object"),
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => return Err("no logprobs.top_logprobs list".into()),
    };
    Ok(Echoed {
        token_logprobs,
        top,
    })
}

impl LanguageModel for OpenAiModel {
    fn info(&self) -> ModelInfo {
        crate::server_info(
            &self.model,
            "openai",
            self.client.base(),
            self.opts.max_length,
            self.tokenizer.as_ref(),
        )
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            loglikelihood: self.echo == EchoSupport::Yes && !self.chat,
            loglikelihood_approximate: false,
            generate: true,
        }
    }

    fn loglikelihood(
        &mut self,
        requests: &[LoglikelihoodRequest],
        cx: &CallCtx<'_>,
    ) -> Result<Vec<Loglikelihood>, ModelError> {
        if let EchoSupport::No(why) = &self.echo {
            return Err(ModelError::Unsupported(format!(
                "this server cannot score loglikelihood tasks: {why}. Scores would land at chance without an error (llama.cpp issue 27174); use generation tasks, the native backend, or vLLM"
            )));
        }
        Ok(run_ordered(
            requests,
            self.opts.concurrency,
            cx,
            |r| self.loglikelihood_one(r, cx),
            |l| l.n_tokens as u64,
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
