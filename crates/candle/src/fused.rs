//! Fused CPU kernels for the decoder's elementwise work, which otherwise costs several full
//! passes over memory per layer: the attention softmax (scale, optional soft-cap, the
//! causal/sliding/padding mask computed from positions, softmax, in one pass per row, with no mask
//! tensor), SwiGLU's `silu(gate) * up`, and the residual add. They compute what the unfused
//! candle ops compute, element by element, except that SwiGLU's `exp` is the vectorized one of
//! [`crate::fastmath`] (within 2 ulp) and the order of the softmax sum may differ
//! (f32 noise). They run on rayon, whose work stealing lets the calling thread do all the work
//! when the other workers are busy elsewhere (candle's elementwise barrier pool instead waits,
//! spinning, for every worker: costly on a shared machine).

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

/// Which keys each query row may see: query positions `(b, t)`, key positions `(b, s)`
/// (`-1` = padding), an optional sliding window.
#[derive(Debug, Clone)]
pub struct Visibility {
    /// Query positions, row-major `b × t`.
    pub q_pos: Arc<Vec<i64>>,
    /// Key positions, row-major `b × s`.
    pub k_pos: Arc<Vec<i64>>,
    /// Rows.
    pub b: usize,
    /// Queries per row.
    pub t: usize,
    /// Keys per row.
    pub s: usize,
    /// Branch of every key, row-major `b × s`, when a row holds several continuations of one
    /// trunk: branch 0 (the trunk) is seen by every later key of its row, branch `n > 0` only
    /// by keys of branch `n`. `None`: one sequence per row.
    pub k_branch: Option<Arc<Vec<u32>>>,
}

impl Visibility {
    /// Whether query `i` of row `r` sees key `j` under `window`.
    #[inline]
    pub fn sees(&self, r: usize, i: usize, j: usize, window: Option<usize>) -> bool {
        let p = self.q_pos[r * self.t + i];
        let k = self.k_pos[r * self.s + j];
        p >= 0
            && k >= 0
            && k <= p
            && window.is_none_or(|w| k > p - w as i64)
            // A key of this very call that comes later in the row is never visible.
            && j < self.s - self.t + i + 1
            && self.k_branch.as_ref().is_none_or(|br| {
                let kb = br[r * self.s + j];
                kb == 0 || kb == br[r * self.s + self.s - self.t + i]
            })
    }
}

/// `softmax(mask(softcap(scores * scale)))` over the last dim of scores `(b, heads, t, s)`
/// (any contiguous layout whose rows are `b`-major then head then query).
pub struct AttnSoftmax<'a> {
    /// Who sees whom.
    pub vis: &'a Visibility,
    /// Sliding window of this layer.
    pub window: Option<usize>,
    /// Score multiplier.
    pub scale: f64,
    /// Gemma-2 attention soft-cap.
    pub softcap: Option<f64>,
    /// Heads per row.
    pub heads: usize,
}

impl CustomOp1 for AttnSoftmax<'_> {
    fn name(&self) -> &'static str {
        "attn-softmax"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let src = f32_contiguous("attn-softmax", storage, layout)?;
        let v = self.vis;
        if src.len() != v.b * self.heads * v.t * v.s {
            candle_core::bail!(
                "attn-softmax: {} scores for {} rows × {} heads × {} × {}",
                src.len(),
                v.b,
                self.heads,
                v.t,
                v.s
            );
        }
        let scale = self.scale as f32;
        let cap = self.softcap;
        let mut dst = vec![0f32; src.len()];
        src.par_chunks(v.s)
            .zip(dst.par_chunks_mut(v.s))
            .enumerate()
            .for_each(|(row, (x, y))| {
                let r = row / (self.heads * v.t);
                let i = row % v.t;
                let mut max = f32::NEG_INFINITY;
                for (j, (xj, yj)) in x.iter().zip(y.iter_mut()).enumerate() {
                    if v.sees(r, i, j, self.window) {
                        let mut a = xj * scale;
                        if let Some(c) = cap {
                            // As candle's `(x / c).tanh() * c`: two affine maps in f32.
                            a = (a * (1.0 / c) as f32).tanh() * c as f32;
                        }
                        *yj = a;
                        max = max.max(a);
                    } else {
                        *yj = f32::NEG_INFINITY;
                    }
                }
                if max == f32::NEG_INFINITY {
                    // A padding query sees nothing: zeros, so no NaN reaches later layers.
                    y.iter_mut().for_each(|e| *e = 0.0);
                    return;
                }
                let mut sum = 0f32;
                for e in y.iter_mut() {
                    *e = (*e - max).exp();
                    sum += *e;
                }
                for e in y.iter_mut() {
                    *e /= sum;
                }
            });
        Ok((CpuStorage::F32(dst), layout.shape().clone()))
    }
}

/// `silu(gate) * up` in one pass (f32, contiguous operands of the same shape).
pub struct SiluMul;

impl CustomOp2 for SiluMul {
    fn name(&self) -> &'static str {
        "silu-mul"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (g, u) = f32_pair("silu-mul", s1, l1, s2, l2)?;
        let mut dst = vec![0f32; g.len()];
        dst.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK).zip(u.par_chunks(CHUNK)))
            .for_each(|(d, (g, u))| crate::fastmath::silu_mul(g, u, d));
        Ok((CpuStorage::F32(dst), l1.shape().clone()))
    }
}

/// `silu(y[.., :n]) · y[.., n:]` for `y (rows, 2n)`: SwiGLU straight from a joined gate/up
/// projection, without copying its two halves out first.
pub struct SiluMulHalves {
    /// Width of each half.
    pub n: usize,
}

impl CustomOp1 for SiluMulHalves {
    fn name(&self) -> &'static str {
        "silu-mul-halves"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let src = f32_contiguous("silu-mul-halves", storage, layout)?;
        let n = self.n;
        let dims = layout.dims();
        if n == 0 || dims.last() != Some(&(2 * n)) {
            candle_core::bail!("silu-mul-halves: last dim of {dims:?} is not 2 × {n}");
        }
        let mut dst = vec![0f32; src.len() / 2];
        dst.par_chunks_mut(n)
            .zip(src.par_chunks(2 * n))
            .for_each(|(d, y)| crate::fastmath::silu_mul(&y[..n], &y[n..], d));
        let mut out_dims = dims.to_vec();
        if let Some(last) = out_dims.last_mut() {
            *last = n;
        }
        Ok((CpuStorage::F32(dst), Shape::from(out_dims)))
    }
}

/// `silu(y[.., :n]) · y[.., n:]` on the CPU in f32; `None` elsewhere (the caller splits).
pub fn silu_mul_halves(y: &Tensor, n: usize) -> candle_core::Result<Option<Tensor>> {
    if !y.device().is_cpu() || y.dtype() != candle_core::DType::F32 {
        return Ok(None);
    }
    Ok(Some(
        y.contiguous()?.apply_op1_no_bwd(&SiluMulHalves { n })?,
    ))
}

/// `a + b` (f32, contiguous, same shape) on rayon.
pub struct Add;

impl CustomOp2 for Add {
    fn name(&self) -> &'static str {
        "add"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (a, b) = f32_pair("add", s1, l1, s2, l2)?;
        let mut dst = vec![0f32; a.len()];
        dst.par_chunks_mut(CHUNK)
            .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
            .for_each(|(d, (a, b))| {
                for ((d, &a), &b) in d.iter_mut().zip(a).zip(b) {
                    *d = a + b;
                }
            });
        Ok((CpuStorage::F32(dst), l1.shape().clone()))
    }
}

const CHUNK: usize = 16 * 1024;

/// Read access to the values of a contiguous f32 tensor on the CPU (held while borrowed).
pub(crate) struct F32View<'a> {
    guard: Box<dyn std::ops::Deref<Target = candle_core::Storage> + 'a>,
    range: (usize, usize),
}

impl F32View<'_> {
    /// The tensor's values, in order.
    pub(crate) fn slice(&self) -> &[f32] {
        match &**self.guard {
            candle_core::Storage::Cpu(CpuStorage::F32(v)) => &v[self.range.0..self.range.1],
            // `f32_view` admits f32 CPU storage only.
            _ => &[],
        }
    }
}

/// A read view of `t`'s values; an error names `name` unless `t` is contiguous f32 on the CPU.
pub(crate) fn f32_view<'a>(
    t: &'a candle_core::Tensor,
    name: &str,
) -> candle_core::Result<F32View<'a>> {
    let (guard, layout) = t.storage_and_layout();
    let candle_core::Storage::Cpu(storage) = &*guard else {
        candle_core::bail!("{name}: must be on the CPU");
    };
    // The same checks as the ops' operands.
    f32_contiguous(name, storage, layout)?;
    let range = layout.contiguous_offsets().unwrap_or((0, 0));
    Ok(F32View {
        range,
        guard: Box::new(guard),
    })
}

/// The f32 values of a contiguous operand.
fn f32_contiguous<'a>(name: &str, s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(a) = s else {
        candle_core::bail!("{name}: operands must be f32");
    };
    let Some((a1, a2)) = l.contiguous_offsets() else {
        candle_core::bail!("{name}: operands must be contiguous");
    };
    Ok(&a[a1..a2])
}

fn f32_pair<'a>(
    name: &str,
    s1: &'a CpuStorage,
    l1: &Layout,
    s2: &'a CpuStorage,
    l2: &Layout,
) -> candle_core::Result<(&'a [f32], &'a [f32])> {
    let (a, b) = (f32_contiguous(name, s1, l1)?, f32_contiguous(name, s2, l2)?);
    if l1.shape() != l2.shape() {
        candle_core::bail!(
            "{name}: shapes {:?} and {:?} differ",
            l1.shape(),
            l2.shape()
        );
    }
    Ok((a, b))
}

fn cpu_f32(a: &Tensor, b: &Tensor) -> bool {
    a.device().is_cpu()
        && a.dtype() == candle_core::DType::F32
        && b.dtype() == candle_core::DType::F32
        && a.shape() == b.shape()
}

/// `a + b`: on rayon on CPU in f32, candle's op elsewhere.
pub fn add(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    if cpu_f32(a, b) {
        a.contiguous()?.apply_op2_no_bwd(&b.contiguous()?, &Add)
    } else {
        a + b
    }
}

/// `silu(gate) * up`: fused on CPU in f32, candle's two ops elsewhere.
pub fn silu_mul(gate: &Tensor, up: &Tensor) -> candle_core::Result<Tensor> {
    if cpu_f32(gate, up) {
        gate.contiguous()?
            .apply_op2_no_bwd(&up.contiguous()?, &SiluMul)
    } else {
        candle_nn::ops::silu(gate)? * up
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{D, Device};

    #[test]
    fn silu_mul_matches_the_two_ops() {
        let dev = Device::Cpu;
        let g = Tensor::randn(0f32, 3.0, (3, 70_000), &dev).expect("randn");
        let u = Tensor::randn(0f32, 1.0, (3, 70_000), &dev).expect("randn");
        let fused: Vec<f32> = silu_mul(&g, &u)
            .expect("fused")
            .flatten_all()
            .expect("flat")
            .to_vec1()
            .expect("vec");
        let plain: Vec<f32> = (candle_nn::ops::silu(&g).expect("silu") * &u)
            .expect("mul")
            .flatten_all()
            .expect("flat")
            .to_vec1()
            .expect("vec");
        // The fused op's exp is vectorized (within 2 ulp of libm's).
        for (a, b) in fused.iter().zip(&plain) {
            assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }

    #[test]
    fn silu_mul_halves_matches_splitting() {
        let dev = Device::Cpu;
        let y = Tensor::randn(0f32, 3.0, (5, 2 * 300), &dev).expect("randn");
        let got: Vec<f32> = silu_mul_halves(&y, 300)
            .expect("op")
            .expect("cpu f32")
            .flatten_all()
            .expect("flat")
            .to_vec1()
            .expect("vec");
        let g = y.narrow(1, 0, 300).expect("n");
        let u = y.narrow(1, 300, 300).expect("n");
        let want: Vec<f32> = (candle_nn::ops::silu(&g).expect("silu") * &u)
            .expect("mul")
            .flatten_all()
            .expect("flat")
            .to_vec1()
            .expect("vec");
        assert_eq!(got.len(), want.len());
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }

    #[test]
    fn attn_softmax_matches_mask_plus_softmax() {
        let dev = Device::Cpu;
        let (b, h, t, s) = (2usize, 3usize, 4usize, 6usize);
        // Row 0: two cached keys then four new ones; row 1: one padded key, one padded query.
        let q_pos = vec![2, 3, 4, 5, 1, 2, 3, -1];
        let k_pos = vec![0, 1, 2, 3, 4, 5, -1, 0, 1, 2, 3, -1];
        let vis = Visibility {
            q_pos: Arc::new(q_pos.clone()),
            k_pos: Arc::new(k_pos.clone()),
            b,
            t,
            s,
            k_branch: None,
        };
        let scores = Tensor::randn(0f32, 2.0, (b, h, t, s), &dev).expect("randn");
        for (window, cap) in [(None, None), (Some(2), None), (None, Some(5.0))] {
            let op = AttnSoftmax {
                vis: &vis,
                window,
                scale: 0.125,
                softcap: cap,
                heads: h,
            };
            let fused: Vec<f32> = scores
                .apply_op1_no_bwd(&op)
                .expect("op")
                .flatten_all()
                .expect("f")
                .to_vec1()
                .expect("v");
            let mut mask = vec![0f32; b * t * s];
            for r in 0..b {
                for i in 0..t {
                    for j in 0..s {
                        if !vis.sees(r, i, j, window) {
                            mask[(r * t + i) * s + j] = -1e30;
                        }
                    }
                }
            }
            let mask = Tensor::from_vec(mask, (b, 1, t, s), &dev).expect("mask");
            let mut x = (&scores * 0.125).expect("scale");
            if let Some(c) = cap {
                x = ((x / c).expect("div").tanh().expect("tanh") * c).expect("mul");
            }
            let plain = candle_nn::ops::softmax_last_dim(&x.broadcast_add(&mask).expect("add"))
                .expect("sm");
            let plain: Vec<f32> = plain.flatten_all().expect("f").to_vec1().expect("v");
            for (k, (a, p)) in fused.iter().zip(&plain).enumerate() {
                let (r, i) = (k / (h * t * s), (k / s) % t);
                if q_pos[r * t + i] < 0 {
                    assert_eq!(*a, 0.0);
                } else {
                    assert!((a - p).abs() < 1e-6, "{k}: {a} vs {p}");
                }
            }
            let sums: Vec<f32> = scores
                .apply_op1_no_bwd(&op)
                .expect("op")
                .sum(D::Minus1)
                .expect("sum")
                .flatten_all()
                .expect("f")
                .to_vec1()
                .expect("v");
            assert!(sums.iter().all(|&x| x == 0.0 || (x - 1.0).abs() < 1e-5));
        }
    }
}
