//! Loglikelihood on token ids, as lm-eval's HF backend scores: input =
//! `(ctx+cont)[-(max_length+1):][:-1]`, log-softmax at the continuation positions, sum and
//! is_greedy. Faster than lm-eval without changing a score:
//! - requests sharing `ctx + cont[:-1]` run as one row (MMLU's single-token choices);
//! - the choices of one question (requests with the same context) share their longest common
//!   token prefix: a question is one row, the prefix once and then each choice's remaining
//!   tokens as a branch at its own positions that sees the prefix and itself only (same
//!   positions, same keys, so the same numbers up to f32 noise), all in one forward;
//! - batches are packed longest first up to a token budget on the padded grid (rows × the
//!   longest row; `batch_size` × the mean input length, at least [`MIN_BUDGET`]) instead of a
//!   fixed row count, so short rows do not pay for long ones and every matmul has enough rows
//!   to run near the machine's rate;
//! - tokens that every input of a batch starts with (a few-shot block, a task description) run
//!   once, in one row, and every family continues from those keys;
//! - the output head and log-softmax run only on the positions that are scored.

use std::collections::HashMap;

use candle_core::{D, Tensor};

use crate::decoder::{Decoder, KvCache, RunError};
use crate::head::score_rows;

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

/// How requests are batched (every setting gives the same scores up to f32 noise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreOptions {
    /// Rows per forward at the mean input length (sets the token budget).
    pub batch_size: usize,
    /// Run the common token prefix of requests with the same context once.
    pub share_prefix: bool,
    /// Padded tokens per batch; `None` = `batch_size` × the mean input length.
    pub token_budget: Option<usize>,
}

impl ScoreOptions {
    /// Defaults for `batch_size`: prefix sharing on, budget from the mean length.
    pub fn new(batch_size: usize) -> Self {
        Self {
            batch_size: batch_size.max(1),
            share_prefix: true,
            token_budget: None,
        }
    }
}

/// One distinct model input and the requests scored from it.
struct Group {
    input: Vec<u32>,
    members: Vec<(usize, Vec<u32>)>,
    /// Positions scored at the end of `input` (the longest member continuation).
    need: usize,
}

/// Groups whose inputs share the first `prefix` tokens (computed once).
struct Family {
    groups: Vec<usize>,
    prefix: usize,
    /// Longest input of the family.
    longest: usize,
}

impl Family {
    /// Tokens of the family's row: its prefix once, then every group's branch.
    fn row_len(&self, groups: &[Group]) -> usize {
        self.prefix
            + self
                .groups
                .iter()
                .map(|&g| groups[g].input.len() - self.prefix)
                .sum::<usize>()
    }
}

/// Score `(context, continuation)` token pairs with default batching; answers in request order.
pub fn score(
    dec: &Decoder,
    requests: &[(Vec<u32>, Vec<u32>)],
    max_length: usize,
    batch_size: usize,
    tick: &mut dyn FnMut(u64) -> Result<(), RunError>,
) -> Result<Vec<TokenScore>, ScoreError> {
    score_with(
        dec,
        requests,
        max_length,
        &ScoreOptions::new(batch_size),
        tick,
    )
}

fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Score `(context, continuation)` token pairs; answers in request order.
pub fn score_with(
    dec: &Decoder,
    requests: &[(Vec<u32>, Vec<u32>)],
    max_length: usize,
    opts: &ScoreOptions,
    tick: &mut dyn FnMut(u64) -> Result<(), RunError>,
) -> Result<Vec<TokenScore>, ScoreError> {
    let mut groups: Vec<Group> = Vec::new();
    let mut by_input: HashMap<Vec<u32>, usize> = HashMap::new();
    // Family of each group: keyed by the context tokens of its first request.
    let mut family_of_ctx: HashMap<&[u32], usize> = HashMap::new();
    let mut families: Vec<Family> = Vec::new();
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
        let g = match by_input.get(&input) {
            Some(&g) => g,
            None => {
                let g = groups.len();
                by_input.insert(input.clone(), g);
                groups.push(Group {
                    input,
                    members: Vec::new(),
                    need: 0,
                });
                let f = if opts.share_prefix {
                    *family_of_ctx.entry(ctx.as_slice()).or_insert_with(|| {
                        families.push(Family {
                            groups: Vec::new(),
                            prefix: 0,
                            longest: 0,
                        });
                        families.len() - 1
                    })
                } else {
                    families.push(Family {
                        groups: Vec::new(),
                        prefix: 0,
                        longest: 0,
                    });
                    families.len() - 1
                };
                families[f].groups.push(g);
                g
            }
        };
        let grp = &mut groups[g];
        grp.need = grp.need.max(cont.len()).min(grp.input.len());
        grp.members.push((index, cont.clone()));
    }
    for fam in &mut families {
        fam.longest = fam
            .groups
            .iter()
            .map(|&g| groups[g].input.len())
            .max()
            .unwrap_or(0);
        if fam.groups.len() < 2 {
            continue;
        }
        let first = &groups[fam.groups[0]].input;
        let mut p = fam
            .groups
            .iter()
            .map(|&g| common_prefix(first, &groups[g].input))
            .min()
            .unwrap_or(0);
        // Every scored position stays in its branch.
        for &g in &fam.groups {
            p = p.min(groups[g].input.len() - groups[g].need);
        }
        fam.prefix = p;
    }
    // Families whose inputs start alike (one few-shot block) are kept together, so a batch can
    // run their common tokens once; clusters go longest first, and families inside them too.
    let stem = |f: &Family| {
        let input = &groups[f.groups[0]].input;
        &input[..input.len().min(MIN_SHARED)]
    };
    let mut cluster_longest: HashMap<&[u32], usize> = HashMap::new();
    for f in &families {
        let e = cluster_longest.entry(stem(f)).or_insert(0);
        *e = (*e).max(f.longest);
    }
    let mut order: Vec<usize> = (0..families.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (&families[a], &families[b]);
        let (sa, sb) = (stem(fa), stem(fb));
        cluster_longest[sb]
            .cmp(&cluster_longest[sa])
            .then_with(|| sa.cmp(sb))
            .then_with(|| fb.longest.cmp(&fa.longest))
            .then_with(|| fb.prefix.cmp(&fa.prefix))
            .then_with(|| groups[fa.groups[0]].input.cmp(&groups[fb.groups[0]].input))
    });
    let budget = opts.token_budget.unwrap_or_else(|| {
        let total: usize = groups.iter().map(|g| g.input.len()).sum();
        (opts.batch_size.max(1) * total.div_ceil(groups.len().max(1)).max(1)).max(MIN_BUDGET)
    });
    let max_rows = budget
        .div_ceil(MIN_ROW_TOKENS)
        .max(4 * opts.batch_size.max(1));
    let mut out: Vec<Option<TokenScore>> = vec![None; requests.len()];
    let mut batch: Vec<usize> = Vec::new();
    // The longest row and the rows of the batch being filled: the padded grid (rows × the
    // longest row) is what attention and the key/value cache hold, and it bounds the real
    // tokens the matmuls see.
    let (mut widest, mut rows) = (0usize, 0usize);
    for &f in &order {
        let len = families[f].row_len(&groups);
        let (w2, r2) = (widest.max(len), rows + 1);
        if !batch.is_empty() && (r2 * w2 > budget || r2 > max_rows) {
            run_batch(dec, &groups, &families, &batch, &mut out, tick)?;
            batch.clear();
            (widest, rows) = (len, 1);
        } else {
            (widest, rows) = (w2, r2);
        }
        batch.push(f);
    }
    if !batch.is_empty() {
        run_batch(dec, &groups, &families, &batch, &mut out, tick)?;
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

fn run_batch(
    dec: &Decoder,
    groups: &[Group],
    families: &[Family],
    batch: &[usize],
    out: &mut [Option<TokenScore>],
    tick: &mut dyn FnMut(u64) -> Result<(), RunError>,
) -> Result<(), RunError> {
    let fams: Vec<&Family> = batch.iter().map(|&f| &families[f]).collect();
    // Tokens every row of the batch starts with (a few-shot block, a task description): they
    // run once, in one row, whose keys every family then continues from.
    let shared = batch_shared_prefix(groups, &fams);
    // One row per family: the rest of its prefix (branch 0, the trunk), then each group's
    // branch at its own positions; `spans` holds (group, first slot, length) per branch.
    let mut ids: Vec<Vec<u32>> = Vec::with_capacity(fams.len());
    let mut pos: Vec<Vec<i64>> = Vec::with_capacity(fams.len());
    let mut branches: Vec<Vec<u32>> = Vec::with_capacity(fams.len());
    let mut spans: Vec<Vec<(&Group, usize, usize)>> = Vec::with_capacity(fams.len());
    for fam in &fams {
        let p = fam.prefix.max(shared);
        let trunk = &groups[fam.groups[0]].input[shared..p];
        let mut row_ids = trunk.to_vec();
        let mut row_pos: Vec<i64> = (shared..p).map(|x| x as i64).collect();
        let mut row_br = vec![0u32; trunk.len()];
        let mut row_spans = Vec::with_capacity(fam.groups.len());
        for (k, &g) in fam.groups.iter().enumerate() {
            let input = &groups[g].input;
            row_spans.push((&groups[g], row_ids.len(), input.len() - p));
            row_ids.extend_from_slice(&input[p..]);
            row_pos.extend((p..input.len()).map(|x| x as i64));
            row_br.resize(row_ids.len(), k as u32 + 1);
        }
        ids.push(row_ids);
        pos.push(row_pos);
        branches.push(row_br);
        spans.push(row_spans);
    }
    let width = ids.iter().map(Vec::len).max().unwrap_or(0);
    for ((i, p), br) in ids.iter_mut().zip(&mut pos).zip(&mut branches) {
        i.resize(width, 0);
        p.resize(width, -1);
        br.resize(width, 0);
    }
    let mut cache: KvCache = if shared > 0 {
        let mut cache = dec.new_cache(1);
        // Room for the rows too, so the cache is allocated once, at its final size.
        cache.reserve(shared + width);
        let stem = &groups[fams[0].groups[0]].input[..shared];
        let stem_pos: Vec<i64> = (0..shared as i64).collect();
        dec.forward_kv(&[stem.to_vec()], &[stem_pos], &mut cache, &mut || tick(0))?;
        cache.select_rows(&vec![0; fams.len()])?;
        cache
    } else {
        dec.new_cache(fams.len())
    };
    let hidden = dec.forward_branched(&ids, &pos, Some(&branches), &mut cache, &mut || tick(0))?;
    drop(cache);
    let (b, tt, h) = hidden.dims3()?;
    // Rows of the flattened (b*t, h) hidden states that get scored: the last `need` positions
    // of each branch.
    let mut sel_rows: Vec<u32> = Vec::new();
    let mut scored_groups: Vec<(&Group, usize)> = Vec::new(); // (group, first gathered row)
    for (r, row) in spans.iter().enumerate() {
        for &(g, first, len) in row {
            scored_groups.push((g, sel_rows.len()));
            for q in first + len - g.need..first + len {
                sel_rows.push((r * tt + q) as u32);
            }
        }
    }
    let idx = Tensor::from_vec(sel_rows.clone(), sel_rows.len(), dec.device())?;
    let sel = hidden.reshape((b * tt, h))?.index_select(&idx, 0)?;
    // Tokens whose log-probability each gathered row must give: the next input token for every
    // row but a group's last, and each member's last continuation token at the last row.
    let mut wanted: Vec<Vec<u32>> = vec![Vec::new(); sel_rows.len()];
    for &(g, first) in &scored_groups {
        let (n, need) = (g.input.len(), g.need);
        for k in 0..need.saturating_sub(1) {
            wanted[first + k].push(g.input[n - need + k + 1]);
        }
        let last = &mut wanted[first + need - 1];
        for (_, cont) in &g.members {
            last.push(cont[cont.len() - 1]);
        }
    }
    let scored = score_rows(dec, &sel, &wanted)?;
    for &(g, first) in &scored_groups {
        let last_row = first + g.need - 1;
        for (member, (index, cont)) in g.members.iter().enumerate() {
            let m = cont.len();
            let mut lps = Vec::with_capacity(m);
            let mut greedy = true;
            for (k, &tok) in cont.iter().enumerate() {
                let row = last_row + 1 + k - m;
                let lp = if k + 1 == m {
                    scored[row].logprobs[member]
                } else {
                    scored[row].logprobs[0]
                };
                greedy &= scored[row].argmax == tok;
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
    tick(
        scored_groups
            .iter()
            .map(|(g, _)| g.input.len() as u64)
            .sum(),
    )?;
    Ok(())
}

/// The smallest default token budget: matmuls over fewer rows than this run well below the
/// machine's rate (the weights are re-packed for every call), while the memory a batch holds
/// (activations, the keys and values of its rows: 46 KB per slot for a 135M model) stays
/// around a hundred MB.
const MIN_BUDGET: usize = 1536;

/// Rows per batch are capped at the budget over this many tokens each (short rows, such as
/// MMLU's one-token-continuation groups, would otherwise be capped by the row count alone).
const MIN_ROW_TOKENS: usize = 16;

/// Shared tokens worth running once for a whole batch (fewer are not worth the extra pass).
const MIN_SHARED: usize = 16;

/// The longest token prefix of every input in the batch that leaves every scored position in
/// its own row; 0 when under [`MIN_SHARED`] or when the batch is one family.
fn batch_shared_prefix(groups: &[Group], fams: &[&Family]) -> usize {
    if fams.len() < 2 {
        return 0;
    }
    let first = &groups[fams[0].groups[0]].input;
    let mut p = first.len();
    for fam in fams {
        for &g in &fam.groups {
            let input = &groups[g].input;
            p = p
                .min(common_prefix(first, input))
                .min(input.len() - groups[g].need);
        }
    }
    if p < MIN_SHARED { 0 } else { p }
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
