//! The output of one joined q/k/v projection (packed rows, `(rows, (heads + 2·kv_heads)·hd)`)
//! spread onto the layouts attention reads, on the CPU in f32, in one parallel pass per
//! output: queries `(b, heads, t, hd)` and keys and values straight into the key-value cache
//! buffers `(b, kv_heads, capacity, hd)`, each head optionally RMS-normed (Qwen3, Gemma 3) and
//! rotated (RoPE, halves layout). The general path does the same with seven tensor ops, most
//! of them single-threaded copies (split, unpack onto the grid, transpose, norm, rope, cache
//! write): a tenth of a forward's time on scoring batches.
//!
//! Every value is computed as candle's `rms_norm` and `rope` compute it (same operations, same
//! order), and padding slots get zeros, as the unpacked grid has.

use candle_core::{CpuStorage, InplaceOp1, Layout};
use rayon::prelude::*;

/// Which part of the projection a cache buffer receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// Keys: normed (when the model norms them) and rotated.
    Keys,
    /// Values: copied.
    Values,
}

/// One layer's projection output and what spreading it needs.
pub(crate) struct Spread<'a> {
    /// The projection, `rows × width` row-major.
    pub qkv: &'a [f32],
    /// Packed row of each grid slot (`b·t`); a value `>= rows` is a padding slot. `None`: the
    /// grid has no padding and slot `i` is row `i`.
    pub row_of_slot: Option<&'a [u32]>,
    /// Grid rows.
    pub b: usize,
    /// Grid columns (this call's tokens per row).
    pub t: usize,
    /// Query heads.
    pub heads: usize,
    /// Key-value heads.
    pub kv_heads: usize,
    /// Head dim.
    pub hd: usize,
    /// RoPE tables per grid slot, `(b·t, hd/2)`.
    pub cos: &'a [f32],
    /// See `cos`.
    pub sin: &'a [f32],
    /// Per-head RMS-norm weights of queries and keys (`hd`), when the model has them.
    pub q_norm: Option<&'a [f32]>,
    /// See `q_norm`.
    pub k_norm: Option<&'a [f32]>,
    /// RMS-norm epsilon.
    pub eps: f32,
}

impl Spread<'_> {
    fn width(&self) -> usize {
        (self.heads + 2 * self.kv_heads) * self.hd
    }

    /// Check the sizes once, so the passes can index without failing.
    pub(crate) fn check(&self) -> candle_core::Result<()> {
        let slots = self.b * self.t;
        let rows = self.qkv.len() / self.width().max(1);
        let half = self.hd / 2;
        let ok = self.hd.is_multiple_of(2)
            && self.qkv.len() == rows * self.width()
            && self.cos.len() == slots * half
            && self.sin.len() == slots * half
            && self.q_norm.is_none_or(|w| w.len() == self.hd)
            && self.k_norm.is_none_or(|w| w.len() == self.hd)
            && match self.row_of_slot {
                Some(m) => m.len() == slots,
                None => rows == slots,
            };
        if !ok {
            candle_core::bail!(
                "qkv spread: {} values for {} heads + 2×{} kv heads of {} on a {}×{} grid",
                self.qkv.len(),
                self.heads,
                self.kv_heads,
                self.hd,
                self.b,
                self.t
            );
        }
        Ok(())
    }

    /// Packed row of grid slot `slot`, `None` for padding.
    fn row(&self, slot: usize) -> Option<usize> {
        let rows = self.qkv.len() / self.width();
        match self.row_of_slot {
            Some(m) => Some(m[slot] as usize).filter(|&r| r < rows),
            None => Some(slot),
        }
    }

    /// The head whose values start at column `col` of slot `slot`, normed and rotated as
    /// asked, into `dst` (`hd` values).
    fn head_into(
        &self,
        slot: usize,
        col: usize,
        norm: Option<&[f32]>,
        rotate: bool,
        dst: &mut [f32],
    ) {
        let Some(r) = self.row(slot) else {
            dst.fill(0.0);
            return;
        };
        let hd = self.hd;
        let src = &self.qkv[r * self.width() + col..][..hd];
        let mut normed = [0f32; MAX_HEAD_DIM];
        let x: &[f32] = match norm {
            Some(w) => {
                let sum2 = src.iter().map(|&v| v * v).sum::<f32>();
                let m = (sum2 / hd as f32 + self.eps).sqrt();
                for ((d, &s), &a) in normed.iter_mut().zip(src).zip(w) {
                    *d = s / m * a;
                }
                &normed[..hd]
            }
            None => src,
        };
        if !rotate {
            dst.copy_from_slice(x);
            return;
        }
        let half = hd / 2;
        let cos = &self.cos[slot * half..][..half];
        let sin = &self.sin[slot * half..][..half];
        let (lo, hi) = dst.split_at_mut(half);
        for i in 0..half {
            let (x1, x2) = (x[i], x[i + half]);
            lo[i] = x1 * cos[i] - x2 * sin[i];
            hi[i] = x1 * sin[i] + x2 * cos[i];
        }
    }

    /// Queries `(b, heads, t, hd)`, normed and rotated.
    pub(crate) fn queries(&self) -> Vec<f32> {
        let (t, hd) = (self.t, self.hd);
        let mut out = vec![0f32; self.b * self.heads * t * hd];
        out.par_chunks_mut(t * hd)
            .enumerate()
            .for_each(|(rh, block)| {
                let (r, h) = (rh / self.heads, rh % self.heads);
                for (i, dst) in block.chunks_exact_mut(hd).enumerate() {
                    self.head_into(r * t + i, h * hd, self.q_norm, true, dst);
                }
            });
        out
    }

    /// Write this call's keys or values into a cache buffer `(b, kv_heads, capacity, hd)` at
    /// slots `old..old + t`.
    fn write(&self, buf: &mut [f32], capacity: usize, old: usize, part: Part) {
        let (t, hd) = (self.t, self.hd);
        let first = match part {
            Part::Keys => self.heads * hd,
            Part::Values => (self.heads + self.kv_heads) * hd,
        };
        let (norm, rotate) = match part {
            Part::Keys => (self.k_norm, true),
            Part::Values => (None, false),
        };
        buf.par_chunks_mut(capacity * hd)
            .enumerate()
            .for_each(|(rh, block)| {
                let (r, h) = (rh / self.kv_heads, rh % self.kv_heads);
                let dst = &mut block[old * hd..(old + t) * hd];
                for (i, d) in dst.chunks_exact_mut(hd).enumerate() {
                    self.head_into(r * t + i, first + h * hd, norm, rotate, d);
                }
            });
    }
}

/// Longest head dim the norm's stack buffer holds (larger heads take the general path).
pub(crate) const MAX_HEAD_DIM: usize = 512;

/// In-place op writing one part of a [`Spread`] into a contiguous cache buffer.
pub(crate) struct WriteCache<'a> {
    /// The projection.
    pub spread: &'a Spread<'a>,
    /// Keys or values.
    pub part: Part,
    /// Slots already cached per row (the write starts there).
    pub old: usize,
}

impl InplaceOp1 for WriteCache<'_> {
    fn name(&self) -> &'static str {
        "qkv-write-cache"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> candle_core::Result<()> {
        let CpuStorage::F32(data) = storage else {
            candle_core::bail!("qkv-write-cache: the cache must be f32");
        };
        let s = self.spread;
        let (Some((o1, o2)), &[b, kvh, capacity, hd]) =
            (layout.contiguous_offsets(), layout.dims())
        else {
            candle_core::bail!(
                "qkv-write-cache: the cache buffer must be contiguous (b, kv_heads, capacity, hd)"
            );
        };
        if b != s.b || kvh != s.kv_heads || hd != s.hd || self.old + s.t > capacity {
            candle_core::bail!(
                "qkv-write-cache: buffer {b}×{kvh}×{capacity}×{hd} cannot take {} tokens after {} for a {}×{} grid",
                s.t,
                self.old,
                s.b,
                s.kv_heads
            );
        }
        s.write(&mut data[o1..o2], capacity, self.old, self.part);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    /// Reference: split, spread onto the grid (zeros at padding), per-head norm, candle's rope.
    fn reference(
        s: &Spread<'_>,
        col: usize,
        heads: usize,
        norm: Option<&[f32]>,
        rotate: bool,
    ) -> Vec<f32> {
        let dev = Device::Cpu;
        let (b, t, hd) = (s.b, s.t, s.hd);
        let rows = s.qkv.len() / s.width();
        let y = Tensor::from_slice(s.qkv, (rows, s.width()), &dev).expect("y");
        let part = y.narrow(1, col, heads * hd).expect("narrow");
        let zero = Tensor::zeros((1, heads * hd), candle_core::DType::F32, &dev).expect("z");
        let with_zero = Tensor::cat(&[&part, &zero], 0).expect("cat");
        let idx: Vec<u32> = (0..b * t)
            .map(|slot| s.row(slot).map_or(rows as u32, |r| r as u32))
            .collect();
        let idx = Tensor::from_vec(idx, b * t, &dev).expect("idx");
        let mut g = with_zero
            .index_select(&idx, 0)
            .expect("sel")
            .reshape((b, t, heads, hd))
            .expect("r");
        if let Some(w) = norm {
            let w = Tensor::from_slice(w, hd, &dev).expect("w");
            g = candle_nn::ops::rms_norm(&g.contiguous().expect("c"), &w, s.eps).expect("n");
        }
        let g = g.transpose(1, 2).expect("t").contiguous().expect("c");
        let g = if rotate {
            let cos = Tensor::from_slice(s.cos, (b, t, hd / 2), &dev).expect("cos");
            let sin = Tensor::from_slice(s.sin, (b, t, hd / 2), &dev).expect("sin");
            candle_nn::rotary_emb::rope(&g, &cos, &sin).expect("rope")
        } else {
            g
        };
        g.flatten_all().expect("f").to_vec1().expect("v")
    }

    #[test]
    fn spreads_as_the_tensor_ops_do_with_and_without_padding_and_norms() {
        let (b, t, heads, kv_heads, hd) = (2, 3, 4, 2, 8);
        let width = (heads + 2 * kv_heads) * hd;
        let slots_real = [true, true, false, false, true, true];
        let rows = slots_real.iter().filter(|&&r| r).count();
        let mut next = 0u32;
        let row_of_slot: Vec<u32> = slots_real
            .iter()
            .map(|&real| {
                if real {
                    next += 1;
                    next - 1
                } else {
                    rows as u32
                }
            })
            .collect();
        let qkv: Vec<f32> = (0..rows * width)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
            .collect();
        let full: Vec<f32> = (0..b * t * width)
            .map(|i| ((i * 53 % 89) as f32 - 44.0) / 30.0)
            .collect();
        let cos: Vec<f32> = (0..b * t * hd / 2)
            .map(|i| (i as f32 * 0.3).cos())
            .collect();
        let sin: Vec<f32> = (0..b * t * hd / 2)
            .map(|i| (i as f32 * 0.3).sin())
            .collect();
        let qn: Vec<f32> = (0..hd).map(|i| 0.5 + i as f32 * 0.1).collect();
        let kn: Vec<f32> = (0..hd).map(|i| 1.5 - i as f32 * 0.1).collect();
        for padded in [true, false] {
            for norms in [false, true] {
                let s = Spread {
                    qkv: if padded { &qkv } else { &full },
                    row_of_slot: padded.then_some(row_of_slot.as_slice()),
                    b,
                    t,
                    heads,
                    kv_heads,
                    hd,
                    cos: &cos,
                    sin: &sin,
                    q_norm: norms.then_some(qn.as_slice()),
                    k_norm: norms.then_some(kn.as_slice()),
                    eps: 1e-6,
                };
                s.check().expect("sizes");
                assert_eq!(
                    s.queries(),
                    reference(&s, 0, heads, s.q_norm, true),
                    "queries, padded {padded}, norms {norms}"
                );
                let old = 2;
                let capacity = old + t + 1;
                for part in [Part::Keys, Part::Values] {
                    let buf =
                        Tensor::full(7f32, (b, kv_heads, capacity, hd), &Device::Cpu).expect("buf");
                    buf.inplace_op1(&WriteCache {
                        spread: &s,
                        part,
                        old,
                    })
                    .expect("write");
                    let (col, norm, rotate) = match part {
                        Part::Keys => (heads * hd, s.k_norm, true),
                        Part::Values => ((heads + kv_heads) * hd, None, false),
                    };
                    let want = reference(&s, col, kv_heads, norm, rotate);
                    let got: Vec<f32> = buf
                        .narrow(2, old, t)
                        .expect("n")
                        .contiguous()
                        .expect("c")
                        .flatten_all()
                        .expect("f")
                        .to_vec1()
                        .expect("v");
                    assert_eq!(got, want, "{part:?}, padded {padded}, norms {norms}");
                    // Slots outside this call's are untouched.
                    let before: Vec<f32> = buf
                        .narrow(2, 0, old)
                        .expect("n")
                        .flatten_all()
                        .expect("f")
                        .to_vec1()
                        .expect("v");
                    assert!(before.iter().all(|&x| x == 7.0));
                    let after: Vec<f32> = buf
                        .narrow(2, old + t, 1)
                        .expect("n")
                        .flatten_all()
                        .expect("f")
                        .to_vec1()
                        .expect("v");
                    assert!(after.iter().all(|&x| x == 7.0));
                }
            }
        }
    }

    #[test]
    fn a_wrong_buffer_or_sizes_are_errors() {
        let qkv = vec![0f32; 3 * 16];
        let cos = vec![1f32; 3];
        let sin = vec![0f32; 3];
        let s = Spread {
            qkv: &qkv,
            row_of_slot: None,
            b: 1,
            t: 3,
            heads: 2,
            kv_heads: 1,
            hd: 4,
            cos: &cos,
            sin: &sin,
            q_norm: None,
            k_norm: None,
            eps: 1e-6,
        };
        // cos/sin need (b·t, hd/2) = 6 values each.
        assert!(s.check().is_err());
        let cos = vec![1f32; 6];
        let sin = vec![0f32; 6];
        let s = Spread {
            cos: &cos,
            sin: &sin,
            ..s
        };
        s.check().expect("sizes");
        // Capacity 2 cannot take 3 tokens.
        let buf = Tensor::zeros((1, 1, 2, 4), candle_core::DType::F32, &Device::Cpu).expect("b");
        let op = WriteCache {
            spread: &s,
            part: Part::Keys,
            old: 0,
        };
        assert!(buf.inplace_op1(&op).is_err());
    }
}
