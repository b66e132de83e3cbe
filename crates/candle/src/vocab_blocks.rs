//! The output head on the CPU in f32, one block of the vocabulary at a time, for all the scored
//! rows of a batch at once: every task multiplies the rows by one block of the head's weight
//! and keeps per row only that block's maximum, first argmax, `Σ exp(x - max)` and the logits
//! of the tokens asked for; the blocks are then combined into each row's log-sum-exp.
//!
//! Against logits computed a hundred rows at a time over the whole vocabulary this reads the
//! head's weight (the largest matrix of a small model) once per batch instead of once per
//! hundred rows, keeps both cores busy on one kind of work, and never holds more than a few
//! hundred kilobytes of logits per core. The log-sum-exp is the same sum, grouped by block and
//! rescaled by `exp(block max - max)`: equal to the whole-row one up to f32 rounding.

use rayon::prelude::*;

use crate::head::RowScore;

/// Vocabulary entries per task (a `hidden × 512` f32 slice of the weight fits a core's L2).
const VOCAB_BLOCK: usize = 512;

/// Rows per matmul inside a task.
const ROW_BLOCK: usize = 256;

/// An f32 head weight on the CPU.
pub(crate) struct HeadWeight<'a> {
    /// The values: `(vocab, hidden)`, or `(hidden, vocab)` when `transposed`.
    pub w: &'a [f32],
    /// Stored `(hidden, vocab)`.
    pub transposed: bool,
    /// Vocabulary size.
    pub vocab: usize,
    /// Hidden size.
    pub hidden: usize,
}

/// One row over one vocabulary block.
#[derive(Clone, Copy)]
struct Partial {
    max: f32,
    argmax: u32,
    /// `Σ exp(x - max)` over the block.
    sum: f32,
}

/// What one vocabulary block gives: a partial per row, and `(row, wanted index, logit)` for
/// the wanted tokens inside the block.
type BlockResult = (Vec<Partial>, Vec<(usize, usize, f32)>);

/// For hidden rows `(n, hidden)` (`n = wanted.len()`), the argmax and the log-probabilities of
/// `wanted[i]` at row `i` (`-inf` for a token outside the vocabulary).
pub(crate) fn score(head: &HeadWeight<'_>, hidden: &[f32], wanted: &[Vec<u32>]) -> Vec<RowScore> {
    let (n, vocab, k) = (wanted.len(), head.vocab, head.hidden);
    debug_assert_eq!(hidden.len(), n * k);
    debug_assert_eq!(head.w.len(), vocab * k);
    let blocks: Vec<BlockResult> = (0..vocab.div_ceil(VOCAB_BLOCK))
        .into_par_iter()
        .map(|bi| block(head, hidden, wanted, bi * VOCAB_BLOCK))
        .collect();
    let mut out: Vec<RowScore> = wanted
        .iter()
        .map(|w| RowScore {
            argmax: 0,
            logprobs: vec![f32::NEG_INFINITY; w.len()],
        })
        .collect();
    // Blocks in vocabulary order and a strict `>`: the first maximum, as torch's argmax.
    let mut max = vec![f32::NEG_INFINITY; n];
    for (parts, _) in &blocks {
        for ((m, o), p) in max.iter_mut().zip(out.iter_mut()).zip(parts) {
            if p.max > *m {
                *m = p.max;
                o.argmax = p.argmax;
            }
        }
    }
    let mut sum = vec![0f32; n];
    for (parts, _) in &blocks {
        for ((s, &m), p) in sum.iter_mut().zip(&max).zip(parts) {
            if p.sum > 0.0 && p.max.is_finite() {
                *s += p.sum * (p.max - m).exp();
            }
        }
    }
    let log_sum: Vec<f32> = sum.iter().map(|s| s.ln()).collect();
    for (_, picks) in &blocks {
        for &(r, wi, x) in picks {
            out[r].logprobs[wi] = (x - max[r]) - log_sum[r];
        }
    }
    out
}

/// Every row against vocabulary entries `j0..j0 + VOCAB_BLOCK`.
fn block(head: &HeadWeight<'_>, hidden: &[f32], wanted: &[Vec<u32>], j0: usize) -> BlockResult {
    let (n, vocab, k) = (wanted.len(), head.vocab, head.hidden);
    let width = VOCAB_BLOCK.min(vocab - j0);
    // (pointer to entry (0, j0) of the `hidden × vocab` view, its row stride, column stride)
    let (rhs, rs, cs) = if head.transposed {
        (head.w[j0..].as_ptr(), vocab, 1)
    } else {
        (head.w[j0 * k..].as_ptr(), 1, k)
    };
    let mut parts = Vec::with_capacity(n);
    let mut picks = Vec::new();
    for r0 in (0..n).step_by(ROW_BLOCK) {
        let rows = ROW_BLOCK.min(n - r0);
        // SAFETY: the lhs is rows × k values of `hidden` from row r0 (n × k, checked by the
        // caller); the rhs addresses k × width values of the weight from (0, j0) with the
        // strides of its layout (vocab × k or k × vocab, j0 + width <= vocab).
        let tile = unsafe {
            crate::cpu_matmul::matmul_new(
                (rows, width, k),
                (hidden[r0 * k..].as_ptr(), k, 1),
                (rhs, rs, cs),
            )
        };
        for (i, row) in tile.chunks_exact(width).enumerate() {
            let (max, arg) = crate::fastmath::max_first(row);
            parts.push(Partial {
                max,
                argmax: (j0 + arg) as u32,
                sum: crate::fastmath::sum_exp_sub(row, max),
            });
            for (wi, &t) in wanted[r0 + i].iter().enumerate() {
                if let Some(j) = (t as usize).checked_sub(j0).filter(|&j| j < width) {
                    picks.push((r0 + i, wi, row[j]));
                }
            }
        }
    }
    (parts, picks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{D, Device, Tensor};

    #[test]
    fn matches_candle_log_softmax_over_the_whole_vocabulary_in_both_layouts() {
        let dev = Device::Cpu;
        // More rows than a row block, a vocabulary that does not end on a block edge.
        let (n, k, vocab) = (300, 24, 1300);
        let h = Tensor::randn(0f32, 1.0, (n, k), &dev).expect("h");
        let w = Tensor::randn(0f32, 1.0, (vocab, k), &dev).expect("w");
        let lsm: Vec<Vec<f32>> =
            candle_nn::ops::log_softmax(&h.matmul(&w.t().expect("t")).expect("mm"), D::Minus1)
                .expect("lsm")
                .to_vec2()
                .expect("v");
        let wanted: Vec<Vec<u32>> = (0..n as u32)
            .map(|r| vec![(r * 7) % vocab as u32, 1299, 511, 512, vocab as u32 + 3])
            .collect();
        let hv: Vec<f32> = h.flatten_all().expect("f").to_vec1().expect("v");
        for transposed in [false, true] {
            let wv: Vec<f32> = if transposed {
                w.t().expect("t").contiguous().expect("c")
            } else {
                w.clone()
            }
            .flatten_all()
            .expect("f")
            .to_vec1()
            .expect("v");
            let head = HeadWeight {
                w: &wv,
                transposed,
                vocab,
                hidden: k,
            };
            let got = score(&head, &hv, &wanted);
            for ((g, want), row) in got.iter().zip(&wanted).zip(&lsm) {
                for (&t, &lp) in want.iter().zip(&g.logprobs) {
                    match row.get(t as usize) {
                        Some(&x) => assert!((lp - x).abs() < 1e-5, "{lp} vs {x}"),
                        None => assert_eq!(lp, f32::NEG_INFINITY),
                    }
                }
                let best = row
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f32::NEG_INFINITY),
                        |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                    );
                assert_eq!(g.argmax as usize, best.0);
            }
        }
    }

    #[test]
    fn ties_give_the_first_maximum_across_blocks() {
        // Every logit equal: the argmax is token 0 (torch's first maximum), and every token
        // gets -ln(vocab).
        let (k, vocab) = (4, 1100);
        let w = vec![0.25f32; vocab * k];
        let h = vec![1f32; 2 * k];
        let head = HeadWeight {
            w: &w,
            transposed: false,
            vocab,
            hidden: k,
        };
        let got = score(&head, &h, &[vec![1099], vec![0, 600]]);
        for g in &got {
            assert_eq!(g.argmax, 0);
            for &lp in &g.logprobs {
                assert!((lp + (vocab as f32).ln()).abs() < 1e-5, "{lp}");
            }
        }
    }
}
