//! [`CandleModel`]: the decoder plus its tokenizer behind [`LanguageModel`], with lm-eval HF
//! backend semantics: `encode_pair` + truncation for loglikelihood, lm-eval's context encoding,
//! left truncation and stop-string cut for generation, heartbeats and cancellation.

use std::cell::Cell;
use std::time::{Duration, Instant};

use sparkbench_protocol::{
    CallCtx, Capabilities, ChatTemplate, GenerateRequest, Generation, LanguageModel, Loglikelihood,
    LoglikelihoodRequest, ModelError, ModelInfo, StopReason,
};
use sparkbench_tokenizer::HfTokenizer;

use crate::decoder::{Decoder, RunError};
use crate::generate::{GenJob, Processors, RowStop};
use crate::scoring::ScoreError;

/// A loaded native model.
pub struct CandleModel {
    decoder: Decoder,
    tokenizer: HfTokenizer,
    info: ModelInfo,
    batch_size: usize,
    eos_ids: Vec<u32>,
    processors: Processors,
}

impl CandleModel {
    /// Assemble a model.
    pub fn new(
        decoder: Decoder,
        tokenizer: HfTokenizer,
        info: ModelInfo,
        batch_size: usize,
        eos_ids: Vec<u32>,
        processors: Processors,
    ) -> Self {
        Self {
            decoder,
            tokenizer,
            info,
            batch_size: batch_size.max(1),
            eos_ids,
            processors,
        }
    }

    /// Change the rows per forward pass (results do not depend on it beyond f32 noise).
    pub fn set_batch_size(&mut self, batch_size: usize) {
        self.batch_size = batch_size.max(1);
    }

    /// Take the decoder out (benchmarks).
    pub fn into_decoder(self) -> Decoder {
        self.decoder
    }

    /// The decoder (token-level API).
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &HfTokenizer {
        &self.tokenizer
    }

    /// EOS ids generation stops at.
    pub fn eos_ids(&self) -> &[u32] {
        &self.eos_ids
    }

    /// The generation-config logits processors in use.
    pub fn processors(&self) -> &Processors {
        &self.processors
    }
}

fn run_err(e: RunError) -> ModelError {
    match e {
        RunError::Cancelled => ModelError::Cancelled,
        RunError::Candle(e) => ModelError::Backend(format!("candle: {e}")),
    }
}

/// A tick that checks cancel on every call and beats at most every 200 ms (or when tokens are
/// reported).
fn ticker<'a>(cx: &'a CallCtx<'a>) -> impl FnMut(u64) -> Result<(), RunError> + 'a {
    let last = Cell::new(Instant::now());
    let pending = Cell::new(0u64);
    move |tokens| {
        pending.set(pending.get() + tokens);
        if tokens > 0 || last.get().elapsed() >= Duration::from_millis(200) {
            let n = pending.replace(0);
            last.set(Instant::now());
            cx.beat(n).map_err(|_| RunError::Cancelled)
        } else if cx.cancel.is_set() {
            Err(RunError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Text cut at the earliest occurrence of any stop string (lm-eval: `s.split(stop)[0]` per stop).
pub fn cut_at_stops(text: &str, stops: &[String]) -> (String, bool) {
    let mut cut = text.len();
    for s in stops.iter().filter(|s| !s.is_empty()) {
        if let Some(i) = text.find(s.as_str()) {
            cut = cut.min(i);
        }
    }
    (text[..cut].to_string(), cut < text.len())
}

impl LanguageModel for CandleModel {
    fn info(&self) -> ModelInfo {
        self.info.clone()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            loglikelihood: true,
            loglikelihood_approximate: false,
            generate: true,
        }
    }

    fn loglikelihood(
        &mut self,
        requests: &[LoglikelihoodRequest],
        cx: &CallCtx<'_>,
    ) -> Result<Vec<Loglikelihood>, ModelError> {
        let mut pairs = Vec::with_capacity(requests.len());
        for (i, r) in requests.iter().enumerate() {
            let pair = self
                .tokenizer
                .encode_pair(&r.context, &r.continuation)
                .map_err(|e| {
                    ModelError::InvalidRequest(format!("request {i}: tokenization failed: {e}"))
                })?;
            pairs.push(pair);
        }
        let scores = crate::device::in_pool(|| {
            crate::scoring::score(
                &self.decoder,
                &pairs,
                self.info.max_length,
                self.batch_size,
                &mut ticker(cx),
            )
        })
        .map_err(|e| match e {
            ScoreError::Invalid { .. } => ModelError::InvalidRequest(e.to_string()),
            ScoreError::Run(r) => run_err(r),
        })?;
        Ok(scores
            .into_iter()
            .map(|s| Loglikelihood {
                logprob: s.logprob,
                is_greedy: s.is_greedy,
                n_tokens: s.token_logprobs.len(),
            })
            .collect())
    }

    fn generate(
        &mut self,
        requests: &[GenerateRequest],
        cx: &CallCtx<'_>,
    ) -> Result<Vec<Generation>, ModelError> {
        let max_length = self.info.max_length;
        let mut jobs = Vec::with_capacity(requests.len());
        let mut stops: Vec<Vec<String>> = Vec::with_capacity(requests.len());
        for (i, r) in requests.iter().enumerate() {
            let special = self.tokenizer.generation_adds_special_tokens(&r.context);
            let mut ids = self
                .tokenizer
                .encode_with_special_tokens(&r.context, special)
                .map_err(|e| {
                    ModelError::InvalidRequest(format!("request {i}: tokenization failed: {e}"))
                })?;
            let keep = max_length.saturating_sub(r.max_gen_toks).max(1);
            if ids.len() > keep {
                ids.drain(..ids.len() - keep);
            }
            if ids.is_empty() {
                ids.push(self.tokenizer.prefix_token_id());
            }
            jobs.push(GenJob {
                prompt: ids,
                max_new: r.max_gen_toks,
            });
            let mut until = r.until.clone();
            if let Some(eos) = self.info.eos_text.clone()
                && !until.contains(&eos)
            {
                until.push(eos);
            }
            stops.push(until);
        }
        let longest_stop: Vec<usize> = stops
            .iter()
            .map(|s| s.iter().map(String::len).max().unwrap_or(0))
            .collect();
        let mut checked: Vec<usize> = vec![0; requests.len()];
        let tok = &self.tokenizer;
        let mut stop_fn = |j: usize, new: &[u32]| -> Result<bool, RunError> {
            if stops[j].iter().all(String::is_empty) {
                return Ok(false);
            }
            let text = tok
                .decode(new, false)
                .map_err(|e| RunError::Candle(candle_core::Error::Msg(e.to_string())))?;
            // Only the tail that can hold a new match is searched.
            let mut from = checked[j].saturating_sub(longest_stop[j]);
            while from > 0 && !text.is_char_boundary(from) {
                from -= 1;
            }
            checked[j] = text.len();
            let tail = text.get(from..).unwrap_or(&text);
            Ok(stops[j]
                .iter()
                .any(|s| !s.is_empty() && tail.contains(s.as_str())))
        };
        let results = crate::device::in_pool(|| {
            crate::generate::generate(
                &self.decoder,
                &jobs,
                &self.eos_ids,
                &self.processors,
                self.batch_size,
                &mut stop_fn,
                &mut ticker(cx),
            )
        })
        .map_err(run_err)?;
        let mut out = Vec::with_capacity(results.len());
        for ((ids, why), until) in results.into_iter().zip(&stops) {
            let text = self
                .tokenizer
                .decode(&ids, true)
                .map_err(|e| ModelError::Backend(format!("decode failed: {e}")))?;
            let (text, cut) = cut_at_stops(&text, until);
            let stop = match why {
                RowStop::Eos => StopReason::Eos,
                RowStop::Stop => StopReason::StopString,
                RowStop::MaxTokens if cut => StopReason::StopString,
                RowStop::MaxTokens => StopReason::MaxTokens,
            };
            out.push(Generation {
                text,
                n_tokens: ids.len(),
                stop,
            });
        }
        Ok(out)
    }

    fn chat_template(&self) -> Option<&dyn ChatTemplate> {
        self.tokenizer
            .chat_template()
            .map(|c| c as &dyn ChatTemplate)
    }

    fn loglikelihood_batches_per_call(&self) -> usize {
        // Token-budgeted batches with shared prefixes fill up only with a few hundred requests.
        16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_takes_earliest_stop() {
        let (t, cut) = cut_at_stops("a\n\nb Question: c", &["Question:".into(), "\n\n".into()]);
        assert_eq!(t, "a");
        assert!(cut);
        assert_eq!(cut_at_stops("abc", &["".into()]).0, "abc");
    }
}
