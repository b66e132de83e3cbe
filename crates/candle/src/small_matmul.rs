//! `x · Wᵀ` for a handful of rows (decoding: one new token per sequence). A general matmul packs
//! the whole weight matrix into its own layout before multiplying, which for 8 rows costs more
//! memory traffic than the product itself; here every weight row is read once, straight from
//! the model's layout, and dotted with each input row while it is in cache. Rows of `W` are
//! split across threads.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

/// Inputs of at most this many rows take this path.
pub const MAX_ROWS: usize = 16;

/// Weight rows per task.
const BLOCK: usize = 64;

/// `x (.., k) · w (n, k)ᵀ` for f32 `x` of at most [`MAX_ROWS`] rows.
struct SmallMatmul;

impl CustomOp2 for SmallMatmul {
    fn name(&self) -> &'static str {
        "small-matmul"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ws: &CpuStorage,
        wl: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(x), CpuStorage::F32(w)) = (xs, ws) else {
            candle_core::bail!("small-matmul: operands must be f32");
        };
        let (Some((x1, x2)), Some((w1, w2))) = (xl.contiguous_offsets(), wl.contiguous_offsets())
        else {
            candle_core::bail!("small-matmul: operands must be contiguous");
        };
        let &[n, k] = wl.dims() else {
            candle_core::bail!("small-matmul: weight must be 2-d, got {:?}", wl.dims());
        };
        let (x, w) = (&x[x1..x2], &w[w1..w2]);
        if k == 0 || xl.dims().last() != Some(&k) {
            candle_core::bail!("small-matmul: input {:?} against weight {n}×{k}", xl.dims());
        }
        let m = x.len() / k;
        let blocks: Vec<Vec<f32>> = w
            .par_chunks(BLOCK * k)
            .map(|wb| {
                let rows: Vec<&[f32]> = wb.chunks_exact(k).collect();
                let mut out = vec![0f32; m * rows.len()];
                crate::fastmath::dots(x, k, &rows, &mut out);
                out
            })
            .collect();
        let mut out = vec![0f32; m * n];
        for (bi, block) in blocks.iter().enumerate() {
            let width = block.len() / m.max(1);
            for r in 0..m {
                let dst = r * n + bi * BLOCK;
                out[dst..dst + width].copy_from_slice(&block[r * width..(r + 1) * width]);
            }
        }
        let mut dims = xl.dims().to_vec();
        if let Some(last) = dims.last_mut() {
            *last = n;
        }
        Ok((CpuStorage::F32(out), Shape::from(dims)))
    }
}

/// `x · wᵀ` by dot products when `x` is a few f32 rows on the CPU; `None` otherwise.
pub fn small_matmul(x: &Tensor, w: &Tensor) -> candle_core::Result<Option<Tensor>> {
    let k = x.dims().last().copied().unwrap_or(0);
    let small = x.device().is_cpu()
        && x.dtype() == candle_core::DType::F32
        && w.dtype() == candle_core::DType::F32
        && w.rank() == 2
        && k > 0
        && x.elem_count() / k <= MAX_ROWS;
    if !small {
        return Ok(None);
    }
    Ok(Some(
        x.contiguous()?
            .apply_op2_no_bwd(&w.contiguous()?, &SmallMatmul)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn matches_candle_matmul() {
        let dev = Device::Cpu;
        for (m, n, k) in [(1, 200, 70), (8, 130, 64), (16, 64, 33)] {
            let x = Tensor::randn(0f32, 1.0, (m, k), &dev).expect("x");
            let w = Tensor::randn(0f32, 1.0, (n, k), &dev).expect("w");
            let got: Vec<Vec<f32>> = small_matmul(&x, &w)
                .expect("op")
                .expect("small")
                .to_vec2()
                .expect("vec");
            let want: Vec<Vec<f32>> = x
                .matmul(&w.t().expect("t"))
                .expect("mm")
                .to_vec2()
                .expect("vec");
            for (a, b) in got.iter().flatten().zip(want.iter().flatten()) {
                assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{a} vs {b}");
            }
        }
        let big = Tensor::zeros((17, 8), candle_core::DType::F32, &dev).expect("x");
        let w = Tensor::zeros((4, 8), candle_core::DType::F32, &dev).expect("w");
        assert!(small_matmul(&big, &w).expect("op").is_none());
    }
}
