//! Matmuls `x · Wᵀ` on the CPU in f32 that candle's general matmul does slowly here:
//! - [`matmul_transposed`]: the weight stored transposed, `(in, out)`, once at load. The matmul
//!   then reads the weight along its rows while packing it (about 15% faster than candle's
//!   matmul on the model's `(out, in)` layout, measured on the decoder's shapes), and writes its
//!   output without first zero-filling it. A few rows (decoding) skip the packing altogether
//!   ([`few_rows`]): each weight value is read once and added, scaled, into every output row,
//!   in register tiles on AVX-512 ([`crate::few_rows_avx512`]), else four weight rows per pass
//!   over the outputs in memory (the same sums in the same order either way).
//! - [`small_matmul`]: a few rows against a weight in the model's `(out, in)` layout (the tied
//!   output head while decoding): every weight row is read once and dotted with each input row
//!   while it is in cache, instead of packing the whole matrix for 8 rows.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

/// Inputs of at most this many rows take the no-packing paths.
pub const MAX_SMALL_ROWS: usize = 16;

/// Output columns (transposed weight) or weight rows (model layout) per task on those paths.
const BLOCK: usize = 256;

/// A contiguous f32 input `(.., k)` and a contiguous 2-d f32 weight: their values, the weight's
/// two dims, and the input's row count given which weight dim is `k`.
struct Operands<'a> {
    x: &'a [f32],
    w: &'a [f32],
    dims: (usize, usize),
    rows: usize,
}

impl<'a> Operands<'a> {
    fn new(
        name: &str,
        (xs, xl): (&'a CpuStorage, &Layout),
        (ws, wl): (&'a CpuStorage, &Layout),
        k_is_first: bool,
    ) -> candle_core::Result<Self> {
        let (CpuStorage::F32(x), CpuStorage::F32(w)) = (xs, ws) else {
            candle_core::bail!("{name}: operands must be f32");
        };
        let (Some((x1, x2)), Some((w1, w2))) = (xl.contiguous_offsets(), wl.contiguous_offsets())
        else {
            candle_core::bail!("{name}: operands must be contiguous");
        };
        let &[d0, d1] = wl.dims() else {
            candle_core::bail!("{name}: weight must be 2-d, got {:?}", wl.dims());
        };
        let k = if k_is_first { d0 } else { d1 };
        if k == 0 || d0 * d1 == 0 || xl.dims().last() != Some(&k) {
            candle_core::bail!("{name}: input {:?} against weight {d0}×{d1}", xl.dims());
        }
        let x = &x[x1..x2];
        Ok(Self {
            rows: x.len() / k,
            x,
            w: &w[w1..w2],
            dims: (d0, d1),
        })
    }
}

/// The input's shape with its last dim replaced by `n`.
fn out_shape(xl: &Layout, n: usize) -> Shape {
    let mut dims = xl.dims().to_vec();
    if let Some(last) = dims.last_mut() {
        *last = n;
    }
    Shape::from(dims)
}

/// Copy per-task column blocks `(m × width)` into the `m × n` output.
fn assemble(blocks: &[(usize, Vec<f32>)], m: usize, n: usize) -> Vec<f32> {
    let mut out = vec![0f32; m * n];
    for (j0, block) in blocks {
        let width = block.len() / m.max(1);
        for r in 0..m {
            out[r * n + j0..r * n + j0 + width].copy_from_slice(&block[r * width..(r + 1) * width]);
        }
    }
    out
}

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
        let o = Operands::new("transposed-matmul", (xs, xl), (ws, wl), true)?;
        let (k, n) = o.dims;
        let out = if o.rows <= MAX_SMALL_ROWS {
            few_rows(o.x, o.w, (o.rows, k, n), FewRows::Dispatched)
        } else {
            many_rows(o.x, o.w, o.rows, k, n)
        };
        Ok((CpuStorage::F32(out), out_shape(xl, n)))
    }
}

fn many_rows(x: &[f32], w: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
    let threads = rayon::current_num_threads();
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: x is m × k and w is k × n, both row-major and fully in their slices (checked by
    // the caller: x.len() = m·k, w.len() = k·n from its 2-d contiguous layout).
    unsafe {
        new_product(
            (m, n, k),
            (x.as_ptr(), k, 1),
            (w.as_ptr(), n, 1),
            parallelism,
        )
    }
}

/// The inner loop of [`few_rows`]. Both give the same values, bit for bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FewRows {
    /// Register tiles on AVX-512 ([`crate::few_rows_avx512`]) where the CPU has it, else
    /// [`FewRows::Portable`].
    Dispatched,
    /// Four weight rows added into each output row in memory, per pass.
    Portable,
}

/// `x (m × k) · w (k × n)`, both row-major, for a few rows `m` (decoding): the weight is read
/// once, in column blocks spread over the thread pool, with no packing.
///
/// # Panics
/// When `x` holds fewer than `m·k` values or `w` fewer than `k·n`.
pub fn few_rows(
    x: &[f32],
    w: &[f32],
    (m, k, n): (usize, usize, usize),
    kernel: FewRows,
) -> Vec<f32> {
    assert!(
        x.len() >= m * k && w.len() >= k * n,
        "few_rows: operands smaller than {m}×{k}, {k}×{n}"
    );
    let tiled = kernel == FewRows::Dispatched && crate::few_rows_avx512::applies();
    let block = if tiled {
        // Two blocks per thread, whole vectors wide.
        let threads = rayon::current_num_threads().max(1);
        n.div_ceil(2 * threads).next_multiple_of(16).max(16)
    } else {
        BLOCK
    };
    let blocks: Vec<(usize, Vec<f32>)> = (0..n)
        .step_by(block)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|j0| {
            let width = block.min(n - j0);
            let mut acc = vec![0f32; m * width];
            if tiled && crate::few_rows_avx512::try_block(x, w, (m, k, n), j0, width, &mut acc) {
                return (j0, acc);
            }
            let wrow = |kk: usize| &w[kk * n + j0..kk * n + j0 + width];
            // Four weight rows at a time: each output row is read and written once per four.
            let mut kk = 0;
            while kk + 4 <= k {
                let rows = [wrow(kk), wrow(kk + 1), wrow(kk + 2), wrow(kk + 3)];
                for (r, o) in acc.chunks_exact_mut(width).enumerate() {
                    let a = &x[r * k + kk..r * k + kk + 4];
                    crate::fastmath::axpy4([a[0], a[1], a[2], a[3]], rows, o);
                }
                kk += 4;
            }
            for kk in kk..k {
                for (r, o) in acc.chunks_exact_mut(width).enumerate() {
                    crate::fastmath::axpy(x[r * k + kk], wrow(kk), o);
                }
            }
            (j0, acc)
        })
        .collect();
    assemble(&blocks, m, n)
}

/// A new `m × n` row-major buffer `= lhs (m × k) · rhs (k × n)`, single-threaded (for callers
/// that run many in parallel: attention tiles, vocabulary blocks); each operand is
/// `(pointer, row stride, column stride)`. The buffer is written by the matmul alone (no
/// zero-fill first: the score tiles of long prompts are megabytes each).
///
/// # Safety
/// `lhs` and `rhs` must address `m × k` and `k × n` readable f32 values with those strides.
pub(crate) unsafe fn matmul_new(
    mnk: (usize, usize, usize),
    lhs: (*const f32, usize, usize),
    rhs: (*const f32, usize, usize),
) -> Vec<f32> {
    // SAFETY: as the caller promises.
    unsafe { new_product(mnk, lhs, rhs, gemm::Parallelism::None) }
}

/// [`matmul_new`] on `parallelism`'s threads.
///
/// # Safety
/// As [`matmul_new`].
unsafe fn new_product(
    (m, n, k): (usize, usize, usize),
    lhs: (*const f32, usize, usize),
    rhs: (*const f32, usize, usize),
    parallelism: gemm::Parallelism,
) -> Vec<f32> {
    let mut dst: Vec<f32> = Vec::with_capacity(m * n);
    // SAFETY: as the caller promises for lhs and rhs; dst is the m × n spare capacity of the
    // new vector (row stride n, column stride 1), which gemm writes entirely (read_dst =
    // false), so `set_len` exposes only written values.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.spare_capacity_mut().as_mut_ptr().cast::<f32>(),
            1,
            n as isize,
            false,
            lhs.0,
            lhs.2 as isize,
            lhs.1 as isize,
            rhs.0,
            rhs.2 as isize,
            rhs.1 as isize,
            0f32,
            1f32,
            false,
            false,
            false,
            parallelism,
        );
        dst.set_len(m * n);
    }
    dst
}

/// `x · wt` for f32 CPU tensors, `wt` being `(in, out)`.
pub fn matmul_transposed(x: &Tensor, wt: &Tensor) -> candle_core::Result<Tensor> {
    x.contiguous()?.apply_op2_no_bwd(wt, &TransposedMatmul)
}

/// Square tiles of the transpose below (64 × 64 f32 = 16 KB read and written per tile).
const TRANSPOSE_TILE: usize = 64;

/// `w (r, c)ᵀ` as a contiguous `(c, r)` f32 CPU tensor, in cache-sized tiles on all cores
/// (candle's strided copy walks the source column by column on one core: a tenth of loading a
/// model's weights).
pub fn transposed(w: &Tensor) -> candle_core::Result<Tensor> {
    let (r, c) = w.dims2()?;
    if !w.device().is_cpu() || w.dtype() != candle_core::DType::F32 || r == 0 || c == 0 {
        return w.t()?.contiguous();
    }
    let w = w.contiguous()?;
    let view = crate::fused::f32_view(&w, "transpose")?;
    let src = view.slice();
    let mut out = vec![0f32; r * c];
    out.par_chunks_mut(r * TRANSPOSE_TILE)
        .enumerate()
        .for_each(|(bi, dst)| {
            let j0 = bi * TRANSPOSE_TILE;
            let cols = dst.len() / r;
            for i0 in (0..r).step_by(TRANSPOSE_TILE) {
                for jj in 0..cols {
                    let drow = &mut dst[jj * r..(jj + 1) * r];
                    for i in i0..(i0 + TRANSPOSE_TILE).min(r) {
                        drow[i] = src[i * c + j0 + jj];
                    }
                }
            }
        });
    Tensor::from_vec(out, (c, r), w.device())
}

/// `x (.., k) · w (n, k)ᵀ` for f32 `x` of at most [`MAX_SMALL_ROWS`] rows.
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
        let o = Operands::new("small-matmul", (xs, xl), (ws, wl), false)?;
        let (n, k) = o.dims;
        let blocks: Vec<(usize, Vec<f32>)> =
            o.w.par_chunks(BLOCK * k)
                .enumerate()
                .map(|(bi, wb)| {
                    let rows: Vec<&[f32]> = wb.chunks_exact(k).collect();
                    let mut out = vec![0f32; o.rows * rows.len()];
                    crate::fastmath::dots(o.x, k, &rows, &mut out);
                    (bi * BLOCK, out)
                })
                .collect();
        Ok((
            CpuStorage::F32(assemble(&blocks, o.rows, n)),
            out_shape(xl, n),
        ))
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
        && x.elem_count() / k <= MAX_SMALL_ROWS;
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

    #[test]
    fn few_rows_kernels_agree_bit_for_bit() {
        // Decoder-like widths, every row count of a tile and two tiles, loose columns.
        for (m, k, n) in [
            (1, 576, 960),
            (2, 64, 200),
            (5, 100, 333),
            (8, 576, 577),
            (16, 37, 100),
        ] {
            let x: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.013).sin()).collect();
            let w: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.007).cos()).collect();
            let fast = few_rows(&x, &w, (m, k, n), FewRows::Dispatched);
            let plain = few_rows(&x, &w, (m, k, n), FewRows::Portable);
            assert_eq!(fast, plain, "{m}×{k}×{n}");
        }
    }

    #[test]
    fn transposed_matches_candle() {
        let dev = Device::Cpu;
        for (r, c) in [(1, 1), (3, 130), (129, 65), (64, 64)] {
            let w = Tensor::randn(0f32, 1.0, (r, c), &dev).expect("w");
            let got: Vec<Vec<f32>> = transposed(&w).expect("t").to_vec2().expect("v");
            let want: Vec<Vec<f32>> = w.t().expect("t").to_vec2().expect("v");
            assert_eq!(got, want, "{r}×{c}");
        }
    }

    #[test]
    fn small_matmul_matches_candle_matmul() {
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
