//! Batched greedy generation on token ids: left-padded prefill with per-row positions (in
//! column chunks of about [`PREFILL_TOKENS`] tokens, padding-free inside), a KV cache, the
//! output head on the last position only, transformers' greedy logits processors from
//! `generation_config.json`, EOS ids, a per-row stop callback (stop strings), and rows that
//! finish leave the batch at once so they stop costing work. Prompts run longest first; a row
//! that finishes while others still run hands its slot to the next waiting prompt (continuous
//! batching: the prompt is prefilled alone and its keys placed at the end of the batch's key
//! range, so every row keeps its own positions), and key slots that no row sees any more are
//! dropped from the front of the cache. Each row's tokens are the same whichever rows share
//! its batch.

use candle_core::Tensor;
use serde_json::Value;

use crate::decoder::{Decoder, KvCache, RunError};

/// Prompt tokens (all rows together) per prefill forward.
const PREFILL_TOKENS: usize = 2048;

/// Why a row stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStop {
    /// An EOS id was produced (it is not part of the output).
    Eos,
    /// The stop callback said so.
    Stop,
    /// The token limit was reached.
    MaxTokens,
}

/// The logits processors transformers applies under greedy decoding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Processors {
    /// `repetition_penalty` (1.0 = off).
    pub repetition_penalty: Option<f32>,
    /// `no_repeat_ngram_size`.
    pub no_repeat_ngram_size: Option<usize>,
    /// `min_new_tokens`: EOS suppressed before this many new tokens.
    pub min_new_tokens: usize,
    /// `suppress_tokens`.
    pub suppress_tokens: Vec<u32>,
    /// `begin_suppress_tokens` (first new token only).
    pub begin_suppress_tokens: Vec<u32>,
    /// `bad_words_ids`.
    pub bad_words_ids: Vec<Vec<u32>>,
}

impl Processors {
    /// Read them from a `generation_config.json` value.
    pub fn from_generation_config(v: &Value) -> Self {
        let ids = |k: &str| -> Vec<u32> {
            v.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_u64)
                        .map(|x| x as u32)
                        .collect()
                })
                .unwrap_or_default()
        };
        Self {
            repetition_penalty: v
                .get("repetition_penalty")
                .and_then(Value::as_f64)
                .map(|x| x as f32)
                .filter(|&p| p != 1.0),
            no_repeat_ngram_size: v
                .get("no_repeat_ngram_size")
                .and_then(Value::as_u64)
                .map(|x| x as usize)
                .filter(|&n| n > 0),
            min_new_tokens: v.get("min_new_tokens").and_then(Value::as_u64).unwrap_or(0) as usize,
            suppress_tokens: ids("suppress_tokens"),
            begin_suppress_tokens: ids("begin_suppress_tokens"),
            bad_words_ids: v
                .get("bad_words_ids")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_array)
                        .map(|w| {
                            w.iter()
                                .filter_map(Value::as_u64)
                                .map(|x| x as u32)
                                .collect()
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Apply to one row's logits given the whole sequence so far and the count of new tokens.
    pub fn apply(&self, logits: &mut [f32], seq: &[u32], n_new: usize, eos: &[u32]) {
        let ban = |l: &mut [f32], t: u32| {
            if let Some(x) = l.get_mut(t as usize) {
                *x = f32::NEG_INFINITY;
            }
        };
        if let Some(p) = self.repetition_penalty {
            let mut seen = std::collections::HashSet::new();
            for &t in seq {
                if seen.insert(t)
                    && let Some(x) = logits.get_mut(t as usize)
                {
                    *x = if *x < 0.0 { *x * p } else { *x / p };
                }
            }
        }
        if let Some(n) = self.no_repeat_ngram_size.filter(|&n| seq.len() + 1 >= n) {
            let prefix = &seq[seq.len() + 1 - n..];
            for w in seq.windows(n) {
                if w[..n - 1] == *prefix {
                    ban(logits, w[n - 1]);
                }
            }
        }
        for w in &self.bad_words_ids {
            if let Some((&last, head)) = w.split_last()
                && seq.ends_with(head)
            {
                ban(logits, last);
            }
        }
        if n_new < self.min_new_tokens {
            for &e in eos {
                ban(logits, e);
            }
        }
        for &t in &self.suppress_tokens {
            ban(logits, t);
        }
        if n_new == 0 {
            for &t in &self.begin_suppress_tokens {
                ban(logits, t);
            }
        }
    }
}

/// The per-row stop check: `(job index, new ids) -> stop?`.
pub type StopFn<'a> = dyn FnMut(usize, &[u32]) -> Result<bool, RunError> + 'a;

/// One generation job.
#[derive(Debug, Clone)]
pub struct GenJob {
    /// Prompt ids (already truncated).
    pub prompt: Vec<u32>,
    /// Maximum new tokens.
    pub max_new: usize,
}

/// Greedy argmax (first maximum, as torch).
fn argmax(v: &[f32]) -> u32 {
    let mut best = 0usize;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best as u32
}

/// Generate for every job; `stop(job_index, new_ids)` returns true to end that row.
/// Returns new ids (EOS excluded) and why each row stopped, in job order.
pub fn generate(
    dec: &Decoder,
    jobs: &[GenJob],
    eos: &[u32],
    processors: &Processors,
    batch_size: usize,
    stop: &mut StopFn<'_>,
    tick: &mut dyn FnMut(u64) -> Result<(), RunError>,
) -> Result<Vec<(Vec<u32>, RowStop)>, RunError> {
    generate_with_prefill(
        dec,
        jobs,
        eos,
        processors,
        batch_size,
        PREFILL_TOKENS,
        stop,
        tick,
    )
}

/// [`generate`] with prompts run `prefill_tokens` tokens (all rows together) per forward.
#[allow(clippy::too_many_arguments)]
pub fn generate_with_prefill(
    dec: &Decoder,
    jobs: &[GenJob],
    eos: &[u32],
    processors: &Processors,
    batch_size: usize,
    prefill_tokens: usize,
    stop: &mut StopFn<'_>,
    tick: &mut dyn FnMut(u64) -> Result<(), RunError>,
) -> Result<Vec<(Vec<u32>, RowStop)>, RunError> {
    let mut out: Vec<Option<(Vec<u32>, RowStop)>> = vec![None; jobs.len()];
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by(|&a, &b| {
        jobs[b]
            .prompt
            .len()
            .cmp(&jobs[a].prompt.len())
            .then(jobs[a].prompt.cmp(&jobs[b].prompt))
    });
    for &j in &order {
        if jobs[j].max_new == 0 {
            out[j] = Some((Vec::new(), RowStop::MaxTokens));
        }
    }
    let todo: Vec<usize> = order.into_iter().filter(|&j| jobs[j].max_new > 0).collect();
    let run = Run {
        dec,
        jobs,
        eos,
        processors,
        prefill_tokens,
    };
    let mut waiting = todo.into_iter();
    let mut io = Io {
        stop,
        tick,
        out: &mut out,
    };
    // A batch runs until every row in it is done; a row that finishes early hands its slot to
    // the next waiting prompt at once (continuous batching), so the batch stays full while
    // prompts wait. When a whole batch finishes together, the next one starts from scratch.
    loop {
        let first: Vec<usize> = waiting.by_ref().take(batch_size.max(1)).collect();
        if first.is_empty() {
            break;
        }
        run.batch(&first, &mut waiting, &mut io)?;
    }
    Ok(out
        .into_iter()
        .map(|o| o.unwrap_or((Vec::new(), RowStop::MaxTokens)))
        .collect())
}

/// What a generation run holds fixed.
struct Run<'a> {
    dec: &'a Decoder,
    jobs: &'a [GenJob],
    eos: &'a [u32],
    processors: &'a Processors,
    prefill_tokens: usize,
}

/// The run's callbacks and its results, by job.
struct Io<'a, 'b> {
    stop: &'a mut StopFn<'b>,
    tick: &'a mut dyn FnMut(u64) -> Result<(), RunError>,
    out: &'a mut [Option<(Vec<u32>, RowStop)>],
}

/// A row in flight.
struct Row {
    job: usize,
    /// Prompt and new ids so far (the processors look at the whole sequence).
    seq: Vec<u32>,
    new: Vec<u32>,
    /// Position of the next token.
    pos: i64,
}

impl Row {
    fn new(job: usize, jobs: &[GenJob]) -> Self {
        Self {
            job,
            seq: jobs[job].prompt.clone(),
            new: Vec::new(),
            pos: jobs[job].prompt.len() as i64,
        }
    }
}

/// Leading key columns that every row sees none of, past which the cache is shifted left
/// (at least this many, and at least half the cache).
const MIN_DEAD_COLUMNS: usize = 16;

impl Run<'_> {
    /// Prefill `chunk` (left-padded to its longest prompt) into a new cache with room for
    /// `room` more tokens per row; returns the cache and each row's last-position logits.
    fn prefill(
        &self,
        chunk: &[usize],
        room: usize,
        tick: &mut dyn FnMut(u64) -> Result<(), RunError>,
    ) -> Result<(KvCache, Vec<Vec<f32>>), RunError> {
        let jobs = self.jobs;
        let t = chunk
            .iter()
            .map(|&j| jobs[j].prompt.len())
            .max()
            .unwrap_or(0);
        if t == 0 {
            return Err(
                candle_core::Error::Msg("a generation prompt encodes to no tokens".into()).into(),
            );
        }
        let mut ids = Vec::new();
        let mut pos = Vec::new();
        for &j in chunk {
            let p = &jobs[j].prompt;
            let pad = t - p.len();
            let mut row = vec![0u32; pad];
            row.extend_from_slice(p);
            ids.push(row);
            pos.push(
                (0..t)
                    .map(|i| if i < pad { -1 } else { (i - pad) as i64 })
                    .collect::<Vec<_>>(),
            );
        }
        let mut cache = self.dec.new_cache(chunk.len());
        cache.reserve(t + room);
        // The prompt runs in column chunks of about `prefill_tokens` tokens, so a long few-shot
        // prompt never holds more than that many tokens' activations at once.
        let step = (self.prefill_tokens / chunk.len()).max(1);
        let mut hidden = None;
        for c0 in (0..t).step_by(step) {
            let c1 = (c0 + step).min(t);
            let cids: Vec<Vec<u32>> = ids.iter().map(|r| r[c0..c1].to_vec()).collect();
            let cpos: Vec<Vec<i64>> = pos.iter().map(|r| r[c0..c1].to_vec()).collect();
            hidden = Some(
                self.dec
                    .forward(&cids, &cpos, &mut cache, &mut || tick(0))?,
            );
            tick((chunk.len() * (c1 - c0)) as u64)?;
        }
        let Some(hidden) = hidden else {
            return Err(candle_core::Error::Msg("empty prompt batch".into()).into());
        };
        Ok((cache, last_logits(self.dec, &hidden)?))
    }

    /// Pick `row`'s next token from its logits; `false` when the row is done (its result is
    /// then in `io.out`).
    fn pick(
        &self,
        row: &mut Row,
        logits: &mut [f32],
        io: &mut Io<'_, '_>,
    ) -> Result<bool, RunError> {
        self.processors
            .apply(logits, &row.seq, row.new.len(), self.eos);
        let tok = argmax(logits);
        let done = if self.eos.contains(&tok) {
            Some(RowStop::Eos)
        } else {
            row.new.push(tok);
            row.seq.push(tok);
            if (io.stop)(row.job, &row.new)? {
                Some(RowStop::Stop)
            } else if row.new.len() >= self.jobs[row.job].max_new {
                Some(RowStop::MaxTokens)
            } else {
                None
            }
        };
        match done {
            Some(why) => {
                io.out[row.job] = Some((std::mem::take(&mut row.new), why));
                Ok(false)
            }
            None => Ok(true),
        }
    }

    /// Run `first` as one batch, refilling the slots of rows that finish from `waiting` while
    /// other rows are still running.
    fn batch(
        &self,
        first: &[usize],
        waiting: &mut dyn Iterator<Item = usize>,
        io: &mut Io<'_, '_>,
    ) -> Result<(), RunError> {
        let longest_new = first
            .iter()
            .map(|&j| self.jobs[j].max_new)
            .max()
            .unwrap_or(0);
        let (mut cache, mut logits) = self.prefill(first, longest_new, io.tick)?;
        let mut slots: Vec<Option<Row>> = first
            .iter()
            .map(|&j| Some(Row::new(j, self.jobs)))
            .collect();
        loop {
            for (slot, l) in slots.iter_mut().zip(logits.iter_mut()) {
                if let Some(row) = slot
                    && !self.pick(row, l, io)?
                {
                    *slot = None;
                }
            }
            // Rows that finished hand their slots to waiting prompts while others still run
            // (when all finished together, the caller starts the next batch afresh).
            while slots.iter().any(Option::is_some) {
                let Some(free) = slots.iter().position(Option::is_none) else {
                    break;
                };
                let Some(j) = waiting.next() else { break };
                let (one, mut l) = self.prefill(&[j], 0, io.tick)?;
                cache.place_row(free, &one, 0, self.jobs[j].prompt.len())?;
                let mut row = Row::new(j, self.jobs);
                if self.pick(&mut row, &mut l[0], io)? {
                    slots[free] = Some(row);
                }
            }
            let keep: Vec<usize> = (0..slots.len()).filter(|&r| slots[r].is_some()).collect();
            if keep.is_empty() {
                return Ok(());
            }
            if keep.len() != slots.len() {
                cache.select_rows(&keep)?;
                slots.retain(Option::is_some);
            }
            let dead = cache.dead_columns();
            if dead >= MIN_DEAD_COLUMNS && dead * 2 >= cache.len() {
                cache.drop_front(dead)?;
            }
            let rows: Vec<&mut Row> = slots.iter_mut().flatten().collect();
            let step_ids: Vec<Vec<u32>> =
                rows.iter().map(|r| vec![r.seq[r.seq.len() - 1]]).collect();
            let step_pos: Vec<Vec<i64>> = rows.iter().map(|r| vec![r.pos]).collect();
            for row in rows {
                row.pos += 1;
            }
            let hidden = self
                .dec
                .forward(&step_ids, &step_pos, &mut cache, &mut || (io.tick)(0))?;
            (io.tick)(step_ids.len() as u64)?;
            logits = last_logits(self.dec, &hidden)?;
        }
    }
}

fn last_logits(dec: &Decoder, hidden: &Tensor) -> Result<Vec<Vec<f32>>, RunError> {
    let (_, t, _) = hidden.dims3()?;
    let last = hidden.narrow(1, t - 1, 1)?.squeeze(1)?.contiguous()?;
    Ok(dec.logits(&last)?.to_vec2()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetition_penalty_and_ngram_ban() {
        let p = Processors {
            repetition_penalty: Some(2.0),
            no_repeat_ngram_size: Some(2),
            ..Default::default()
        };
        let mut l = vec![1.0, -1.0, 3.0, 0.5];
        p.apply(&mut l, &[0, 1, 0], 1, &[]);
        assert_eq!(l[0], 0.5);
        assert_eq!(l[1], f32::NEG_INFINITY); // "0 1" seen, seq ends in 0
        assert_eq!(l[2], 3.0);
    }

    #[test]
    fn min_new_tokens_blocks_eos() {
        let p = Processors {
            min_new_tokens: 2,
            ..Default::default()
        };
        let mut l = vec![5.0, 1.0];
        p.apply(&mut l, &[1], 1, &[0]);
        assert_eq!(argmax(&l), 1);
    }
}
