//! Loglikelihood on token ids, as lm-eval's HF backend scores: input =
//! `(ctx+cont)[-(max_length+1):][:-1]`, log-softmax at the continuation positions, sum and
//! is_greedy. Requests sharing `ctx + cont[:-1]` run as one row (MMLU's single-token choices),
//! rows are sorted longest first and batched `batch_size` at a time (right-padded, masked), and
//! the output head runs only on the positions that are scored.

use std::collections::HashMap;

use candle_core::{D, Tensor};

use crate::decoder::{Decoder, RunError};

/// Why a scoring call failed.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// A request cannot be scored as given.
    #[error("request {index}: {message}")]
    Invalid {
        /// Index of the request.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// The model run failed or was cancelled.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// One scored continuation.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenScore {
    /// Sum of the continuation's log-probs.
    pub logprob: f64,
    /// Every continuation token was the argmax.
    pub is_greedy: bool,
    /// Per-token log-probs.
    pub token_logprobs: Vec<f32>,
}

struct Group {
    input: Vec<u32>,
    members: Vec<(usize, Vec<u32>)>,
}

/// Score `(context, continuation)` token pairs; answers in request order.
pub fn score(
    dec: &Decoder,
    requests: &[(Vec<u32>, Vec<u32>)],
    max_length: usize,
    batch_size: usize,
    tick: &mut dyn FnMut(u64) -> Result<(), RunError>,
) -> Result<Vec<TokenScore>, ScoreError> {
    let mut groups: Vec<Group> = Vec::new();
    let mut by_input: HashMap<Vec<u32>, usize> = HashMap::new();
    for (index, (ctx, cont)) in requests.iter().enumerate() {
        if cont.is_empty() {
            return Err(ScoreError::Invalid {
                index,
                message: "the continuation encodes to no tokens".into(),
            });
        }
        if cont.len() > max_length {
            return Err(ScoreError::Invalid {
                index,
                message: format!(
                    "continuation has {} tokens, more than max_length {max_length}",
                    cont.len()
                ),
            });
        }
        let whole: Vec<u32> = ctx.iter().chain(cont.iter()).copied().collect();
        let start = whole.len().saturating_sub(max_length + 1);
        let input = whole[start..whole.len() - 1].to_vec();
        if input.is_empty() {
            return Err(ScoreError::Invalid {
                index,
                message: "empty context and a one-token continuation leave nothing to condition on"
                    .into(),
            });
        }
        let g = *by_input.entry(input.clone()).or_insert_with(|| {
            groups.push(Group {
                input,
                members: Vec::new(),
            });
            groups.len() - 1
        });
        groups[g].members.push((index, cont.clone()));
    }
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| {
        groups[b]
            .input
            .len()
            .cmp(&groups[a].input.len())
            .then_with(|| groups[a].input.cmp(&groups[b].input))
    });
    let mut out: Vec<Option<TokenScore>> = vec![None; requests.len()];
    for chunk in order.chunks(batch_size.max(1)) {
        let batch: Vec<&Group> = chunk.iter().map(|&g| &groups[g]).collect();
        score_batch(dec, &batch, &mut out, tick)?;
        tick(batch.iter().map(|g| g.input.len() as u64).sum())?;
    }
    Ok(out
        .into_iter()
        .map(|s| {
            s.unwrap_or(TokenScore {
                logprob: 0.0,
                is_greedy: false,
                token_logprobs: Vec::new(),
            })
        })
        .collect())
}

fn score_batch(
    dec: &Decoder,
    batch: &[&Group],
    out: &mut [Option<TokenScore>],
    tick: &mut dyn FnMut(u64) -> Result<(), RunError>,
) -> Result<(), RunError> {
    let t = batch.iter().map(|g| g.input.len()).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(batch.len());
    let mut pos = Vec::with_capacity(batch.len());
    for g in batch {
        let n = g.input.len();
        let mut row = g.input.clone();
        row.resize(t, 0);
        ids.push(row);
        pos.push(
            (0..t as i64)
                .map(|p| if (p as usize) < n { p } else { -1 })
                .collect::<Vec<_>>(),
        );
    }
    let mut cache = dec.new_cache(batch.len());
    let hidden = dec.forward(&ids, &pos, &mut cache, &mut || tick(0))?;
    let (b, tt, h) = hidden.dims3()?;
    // Rows of the flattened (b*t, h) hidden states that get scored: the last max(cont) positions.
    let mut rows: Vec<u32> = Vec::new();
    let mut spans: Vec<(usize, usize)> = Vec::new(); // (first gathered row, count) per group
    for (r, g) in batch.iter().enumerate() {
        let n = g.input.len();
        let need = g
            .members
            .iter()
            .map(|(_, c)| c.len())
            .max()
            .unwrap_or(1)
            .min(n);
        spans.push((rows.len(), need));
        for p in n - need..n {
            rows.push((r * tt + p) as u32);
        }
    }
    let idx = Tensor::from_vec(rows.clone(), rows.len(), dec.device())?;
    let sel = hidden.reshape((b * tt, h))?.index_select(&idx, 0)?;
    let lsm = candle_nn::ops::log_softmax(&dec.logits(&sel)?, D::Minus1)?;
    let argmax: Vec<u32> = lsm.argmax(D::Minus1)?.to_vec1()?;
    // Targets for every gathered row except each group's last: the next input token.
    let mut targets = vec![0u32; rows.len()];
    for (g, &(first, need)) in batch.iter().zip(&spans) {
        let n = g.input.len();
        for k in 0..need.saturating_sub(1) {
            targets[first + k] = g.input[n - need + k + 1];
        }
    }
    let tgt = Tensor::from_vec(targets, (rows.len(), 1), dec.device())?;
    let gathered: Vec<f32> = lsm.gather(&tgt, 1)?.flatten_all()?.to_vec1()?;
    for (g, &(first, need)) in batch.iter().zip(&spans) {
        let last_row = first + need - 1;
        let last: Vec<f32> = lsm.get(last_row)?.to_vec1()?;
        for (index, cont) in &g.members {
            let m = cont.len();
            let mut lps = Vec::with_capacity(m);
            let mut greedy = true;
            for (k, &tok) in cont.iter().enumerate() {
                let row = last_row + 1 + k - m;
                let lp = if k + 1 == m {
                    last.get(tok as usize).copied().unwrap_or(f32::NEG_INFINITY)
                } else {
                    gathered[row]
                };
                greedy &= argmax[row] == tok;
                lps.push(lp);
            }
            let logprob = lps.iter().map(|&x| f64::from(x)).sum();
            out[*index] = Some(TokenScore {
                logprob,
                is_greedy: greedy,
                token_logprobs: lps,
            });
        }
    }
    Ok(())
}

/// The full log-softmax at every position of one sequence (for parity checks).
pub fn log_softmax_all(dec: &Decoder, ids: &[u32]) -> Result<Vec<Vec<f32>>, RunError> {
    let mut cache = dec.new_cache(1);
    let pos: Vec<i64> = (0..ids.len() as i64).collect();
    let hidden = dec.forward(&[ids.to_vec()], &[pos], &mut cache, &mut || Ok(()))?;
    let (_, t, h) = hidden.dims3()?;
    let lsm = candle_nn::ops::log_softmax(&dec.logits(&hidden.reshape((t, h))?)?, D::Minus1)?;
    Ok(lsm.to_vec2()?)
}
