//! The output head at scored positions, chunk by chunk: logits for a few hundred rows at a
//! time, then per row only what scoring needs (the argmax and the log-probabilities of the
//! tokens asked for), never a full `(rows, vocab)` log-softmax. A whole batch of scored rows
//! at once cost `rows × vocab × 4` bytes twice over (logits and log-softmax: 400 MB for 1,000
//! rows of a 49k vocabulary); a chunk costs a fraction, and the per-row log-sum-exp runs on all
//! cores. A plain f32 head on the CPU goes further: all rows at once, block by block over the
//! vocabulary ([`crate::vocab_blocks`]).

use candle_core::{CpuStorage, D, Storage, Tensor};
use rayon::prelude::*;

use crate::decoder::Decoder;

/// Scored rows per head call.
const CHUNK: usize = 128;

/// What one scored row gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct RowScore {
    /// The first maximum (torch's argmax).
    pub argmax: u32,
    /// `log_softmax(logits)[token]` for each token asked for, in order.
    pub logprobs: Vec<f32>,
}

/// For hidden rows `(n, hidden)`, the argmax and the log-probabilities of `wanted[i]` at row `i`.
pub fn score_rows(
    dec: &Decoder,
    hidden: &Tensor,
    wanted: &[Vec<u32>],
) -> candle_core::Result<Vec<RowScore>> {
    let n = hidden.dim(0)?;
    if wanted.len() != n {
        candle_core::bail!("score_rows: {} token lists for {n} rows", wanted.len());
    }
    if let Some((w, transposed)) = dec.plain_cpu_head()
        && hidden.device().is_cpu()
        && hidden.dtype() == candle_core::DType::F32
    {
        let (vocab, k) = if transposed {
            (w.dim(1)?, w.dim(0)?)
        } else {
            w.dims2()?
        };
        if hidden.dim(1)? != k {
            candle_core::bail!(
                "score_rows: hidden rows of {} for a head of {k}",
                hidden.dim(1)?
            );
        }
        let hidden = hidden.contiguous()?;
        let (hv, wv) = (
            crate::fused::f32_view(&hidden, "score_rows hidden")?,
            crate::fused::f32_view(w, "score_rows head")?,
        );
        let head = crate::vocab_blocks::HeadWeight {
            w: wv.slice(),
            transposed,
            vocab,
            hidden: k,
        };
        return Ok(crate::vocab_blocks::score(&head, hv.slice(), wanted));
    }
    let mut out = Vec::with_capacity(n);
    for start in (0..n).step_by(CHUNK) {
        let len = CHUNK.min(n - start);
        let logits = dec.logits(&hidden.narrow(0, start, len)?.contiguous()?)?;
        let want = &wanted[start..start + len];
        if logits.device().is_cpu() {
            out.extend(cpu_rows(&logits, want)?);
        } else {
            out.extend(device_rows(&logits, want)?);
        }
    }
    Ok(out)
}

/// On the CPU: straight from the logits' storage, rows in parallel.
fn cpu_rows(logits: &Tensor, wanted: &[Vec<u32>]) -> candle_core::Result<Vec<RowScore>> {
    let logits = logits.contiguous()?;
    let vocab = logits.dim(D::Minus1)?;
    let (storage, layout) = logits.storage_and_layout();
    let Storage::Cpu(CpuStorage::F32(data)) = &*storage else {
        candle_core::bail!("score_rows: logits must be f32 on the CPU");
    };
    let Some((o1, o2)) = layout.contiguous_offsets() else {
        candle_core::bail!("score_rows: logits must be contiguous");
    };
    let data = &data[o1..o2];
    Ok(data
        .par_chunks(vocab)
        .zip(wanted.par_iter())
        .map(|(row, want)| row_score(row, want))
        .collect())
}

/// `log_softmax` as candle computes it: `(x - max) - ln(Σ exp(x - max))`.
fn row_score(row: &[f32], want: &[u32]) -> RowScore {
    let mut argmax = 0usize;
    let mut max = f32::NEG_INFINITY;
    for (i, &x) in row.iter().enumerate() {
        if x > max {
            max = x;
            argmax = i;
        }
    }
    let sum = crate::fastmath::sum_exp_sub(row, max);
    let log_sum = sum.ln();
    RowScore {
        argmax: argmax as u32,
        logprobs: want
            .iter()
            .map(|&t| {
                row.get(t as usize)
                    .map_or(f32::NEG_INFINITY, |&x| (x - max) - log_sum)
            })
            .collect(),
    }
}

/// Elsewhere: candle's log-softmax on the device, then the few values needed.
fn device_rows(logits: &Tensor, wanted: &[Vec<u32>]) -> candle_core::Result<Vec<RowScore>> {
    let lsm = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let argmax: Vec<u32> = lsm.argmax(D::Minus1)?.to_vec1()?;
    let rows: Vec<Vec<f32>> = lsm.to_vec2()?;
    Ok(rows
        .iter()
        .zip(argmax)
        .zip(wanted)
        .map(|((row, argmax), want)| RowScore {
            argmax,
            logprobs: want
                .iter()
                .map(|&t| row.get(t as usize).copied().unwrap_or(f32::NEG_INFINITY))
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_score_matches_candle_log_softmax() {
        let dev = candle_core::Device::Cpu;
        let x = Tensor::randn(0f32, 3.0, (3, 1000), &dev).expect("randn");
        let lsm: Vec<Vec<f32>> = candle_nn::ops::log_softmax(&x, D::Minus1)
            .expect("lsm")
            .to_vec2()
            .expect("vec");
        let rows: Vec<Vec<f32>> = x.to_vec2().expect("vec");
        for (row, want) in rows.iter().zip(&lsm) {
            let got = row_score(row, &[0, 17, 999, 5000]);
            for (k, &t) in [0usize, 17, 999].iter().enumerate() {
                assert!((got.logprobs[k] - want[t]).abs() < 1e-5);
            }
            assert_eq!(got.logprobs[3], f32::NEG_INFINITY);
            let best = want
                .iter()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                );
            assert_eq!(got.argmax as usize, best.0);
        }
    }
}
