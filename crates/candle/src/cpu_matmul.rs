//! `x · W` on the CPU in f32 with the weight stored transposed, `(in, out)`, once at load: the
//! matmul then reads the weight along its rows while packing it (about 15% faster than
//! candle's matmul on the model's `(out, in)` layout, measured on the decoder's shapes), and
//! writes its output without first zero-filling it. A few rows (decoding) skip the matmul's
//! packing altogether: each weight row is read once and added, scaled, into every output row.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

/// Inputs of at most this many rows take the no-packing path.
const MAX_SMALL_ROWS: usize = 16;

/// Output columns per task on that path.
const BLOCK: usize = 256;

/// `x (.., k) · wt (k, n)`.
struct TransposedMatmul;

impl CustomOp2 for TransposedMatmul {
    fn name(&self) -> &'static str {
        "transposed-matmul"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ws: &CpuStorage,
        wl: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(x), CpuStorage::F32(w)) = (xs, ws) else {
            candle_core::bail!("transposed-matmul: operands must be f32");
        };
        let (Some((x1, x2)), Some((w1, w2))) = (xl.contiguous_offsets(), wl.contiguous_offsets())
        else {
            candle_core::bail!("transposed-matmul: operands must be contiguous");
        };
        let &[k, n] = wl.dims() else {
            candle_core::bail!("transposed-matmul: weight must be 2-d, got {:?}", wl.dims());
        };
        let (x, w) = (&x[x1..x2], &w[w1..w2]);
        if k == 0 || n == 0 || xl.dims().last() != Some(&k) {
            candle_core::bail!(
                "transposed-matmul: input {:?} against weight {k}×{n}",
                xl.dims()
            );
        }
        let m = x.len() / k;
        let out = if m <= MAX_SMALL_ROWS {
            few_rows(x, w, m, k, n)
        } else {
            many_rows(x, w, m, k, n)
        };
        let mut dims = xl.dims().to_vec();
        if let Some(last) = dims.last_mut() {
            *last = n;
        }
        Ok((CpuStorage::F32(out), Shape::from(dims)))
    }
}

fn many_rows(x: &[f32], w: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
    let threads = candle_core::utils::get_num_threads();
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    let mut out: Vec<f32> = Vec::with_capacity(m * n);
    // SAFETY: x is m × k and w is k × n, both row-major and fully in their slices (checked by
    // the caller: x.len() = m·k, w.len() = k·n from its 2-d contiguous layout); the destination
    // is the m × n spare capacity of `out`, which gemm writes entirely (read_dst = false), so
    // `set_len` afterwards exposes only initialized values.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.spare_capacity_mut().as_mut_ptr().cast::<f32>(),
            1,
            n as isize,
            false,
            x.as_ptr(),
            1,
            k as isize,
            w.as_ptr(),
            1,
            n as isize,
            0f32,
            1f32,
            false,
            false,
            false,
            parallelism,
        );
        out.set_len(m * n);
    }
    out
}

fn few_rows(x: &[f32], w: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
    let starts: Vec<usize> = (0..n).step_by(BLOCK).collect();
    let blocks: Vec<Vec<f32>> = starts
        .par_iter()
        .map(|&j0| {
            let width = BLOCK.min(n - j0);
            let mut acc = vec![0f32; m * width];
            for (kk, wrow) in w.chunks_exact(n).enumerate() {
                let wrow = &wrow[j0..j0 + width];
                for (r, o) in acc.chunks_exact_mut(width).enumerate() {
                    crate::fastmath::axpy(x[r * k + kk], wrow, o);
                }
            }
            acc
        })
        .collect();
    let mut out = vec![0f32; m * n];
    for (&j0, block) in starts.iter().zip(&blocks) {
        let width = BLOCK.min(n - j0);
        for r in 0..m {
            out[r * n + j0..r * n + j0 + width].copy_from_slice(&block[r * width..(r + 1) * width]);
        }
    }
    out
}

/// `x · wt` for f32 CPU tensors, `wt` being `(in, out)`.
pub fn matmul_transposed(x: &Tensor, wt: &Tensor) -> candle_core::Result<Tensor> {
    x.contiguous()?.apply_op2_no_bwd(wt, &TransposedMatmul)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn matches_candle_matmul_for_few_and_many_rows() {
        let dev = Device::Cpu;
        for (m, n, k) in [
            (1, 300, 70),
            (8, 513, 64),
            (16, 64, 33),
            (17, 100, 40),
            (200, 96, 80),
        ] {
            let x = Tensor::randn(0f32, 1.0, (m, k), &dev).expect("x");
            let w = Tensor::randn(0f32, 1.0, (n, k), &dev).expect("w");
            let wt = w.t().expect("t").contiguous().expect("c");
            let got: Vec<Vec<f32>> = matmul_transposed(&x, &wt)
                .expect("op")
                .to_vec2()
                .expect("vec");
            let want: Vec<Vec<f32>> = x
                .matmul(&w.t().expect("t"))
                .expect("mm")
                .to_vec2()
                .expect("vec");
            for (a, b) in got.iter().flatten().zip(want.iter().flatten()) {
                assert!(
                    (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                    "{m}×{k}×{n}: {a} vs {b}"
                );
            }
        }
    }
}
