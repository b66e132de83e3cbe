//! AVX-512 matmul of a few input rows against a weight stored transposed, `(in, out)`, for
//! decoding: `out[r, j] = Σ_kk x[r, kk] · w[kk, j]` over a block of output columns.
//!
//! The portable path in [`crate::cpu_matmul`] adds four weight rows at a time into each output
//! row held in memory: every product costs a load and a store of the output besides its own
//! arithmetic, and with eight rows it reads the weights at 5-12 GB/s where the machine streams
//! 25 (measured on the decoder's shapes, 2 threads). Here a tile of output columns for up to
//! eight rows stays in registers while it adds a band of weight rows, and each weight vector is
//! loaded once for all of them. Consecutive weight rows of one tile are a whole matrix row
//! apart, which the hardware prefetcher does not follow: each tile prefetches its columns one
//! band ahead.
//!
//! The sums are the portable path's, bit for bit: each output starts at 0 and gets
//! `x[r, kk] · w[kk, j]` added in increasing `kk`, a multiply then an add (no fused
//! multiply-add), so decoding gives the same tokens whichever path runs.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    _MM_HINT_T1, _mm_prefetch, _mm512_add_ps, _mm512_loadu_ps, _mm512_mul_ps, _mm512_set1_ps,
    _mm512_setzero_ps, _mm512_storeu_ps,
};

/// Values per vector.
#[cfg(target_arch = "x86_64")]
const W: usize = 16;

/// Input rows per register tile.
#[cfg(target_arch = "x86_64")]
const MAX_TILE_ROWS: usize = 8;

/// Weight rows per band (see `Ops::block`).
#[cfg(target_arch = "x86_64")]
const K_BLOCK: usize = 32;

/// Whether this CPU has AVX-512F.
pub fn applies() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The columns `c0..c0 + width` of `x (m × k) · w (k × n)` into `out` (`m × width`, row-major),
/// when the CPU has AVX-512F and the operands are whole (`x` holds `m·k` values, `w` `k·n`,
/// the columns lie within `n`, `out` holds `m·width`); returns false, with nothing written,
/// otherwise.
pub fn try_block(
    x: &[f32],
    w: &[f32],
    (m, k, n): (usize, usize, usize),
    c0: usize,
    width: usize,
    out: &mut [f32],
) -> bool {
    if !applies()
        || x.len() < m * k
        || w.len() < k * n
        || c0 + width > n
        || out.len() < m * width
        || k == 0
    {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    // SAFETY: AVX-512F is present (`applies`); the operands' sizes are checked above.
    unsafe {
        Ops { x, w, k, n }.block(m, c0, width, out)
    };
    true
}

/// The operands of one product.
#[cfg(target_arch = "x86_64")]
struct Ops<'a> {
    x: &'a [f32],
    w: &'a [f32],
    k: usize,
    n: usize,
}

/// One register tile's place: input rows `r0..r0 + R`, weight columns `col..col + V·16`,
/// stored at column `oj` of the output (row stride `ow`), summing weight rows `kk0..kk1`.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Place {
    r0: usize,
    col: usize,
    oj: usize,
    ow: usize,
    kk0: usize,
    kk1: usize,
}

#[cfg(target_arch = "x86_64")]
impl Ops<'_> {
    /// The block's columns `c0..c0 + width` for all `m` rows into `out` (`m × width`).
    ///
    /// Weight rows are taken [`K_BLOCK`] at a time; within such a band every row group and
    /// every tile of the block runs, its sums carried in `out` from one band to the next. Each
    /// weight row is thus read from left to right (which the hardware prefetcher follows), and
    /// a tile asks for its columns of the next band while it adds this one. The last columns
    /// that fill no vector are summed one by one at the end.
    ///
    /// # Safety
    /// AVX-512F is present; `x` holds `m·k` values, `w` `k·n`, `c0 + width <= n`, `out` holds
    /// `m·width`.
    #[target_feature(enable = "avx512f")]
    unsafe fn block(&self, m: usize, c0: usize, width: usize, out: &mut [f32]) {
        let vec_cols = width / W * W;
        let mut kk0 = 0;
        while kk0 < self.k {
            let kk1 = (kk0 + K_BLOCK).min(self.k);
            let mut r0 = 0;
            while r0 < m {
                let rows = MAX_TILE_ROWS.min(m - r0);
                // Accumulators: rows × vectors <= 24, leaving registers for the weight vectors
                // and a broadcast input value.
                let vectors = match rows {
                    1 | 2 => 8,
                    3 | 4 => 6,
                    5 | 6 => 4,
                    _ => 3,
                };
                let mut j = 0;
                while j < vec_cols {
                    let v = if j + vectors * W <= vec_cols {
                        vectors
                    } else {
                        1
                    };
                    let at = Place {
                        r0,
                        col: c0 + j,
                        oj: j,
                        ow: width,
                        kk0,
                        kk1,
                    };
                    // SAFETY: the caller's promises; j + v·16 <= vec_cols <= width.
                    unsafe { self.tile_any(rows, v, at, out) };
                    j += v * W;
                }
                r0 += rows;
            }
            kk0 = kk1;
        }
        for r in 0..m {
            let xr = &self.x[r * self.k..(r + 1) * self.k];
            for jj in vec_cols..width {
                let mut acc = 0f32;
                for (kk, &a) in xr.iter().enumerate() {
                    acc += a * self.w[kk * self.n + c0 + jj];
                }
                out[r * width + jj] = acc;
            }
        }
    }

    /// [`Self::tile`] for a run-time row and vector count (the pairs [`Self::block`] picks).
    ///
    /// # Safety
    /// As [`Self::tile`].
    #[target_feature(enable = "avx512f")]
    unsafe fn tile_any(&self, rows: usize, vectors: usize, at: Place, out: &mut [f32]) {
        // SAFETY: as the caller promises.
        unsafe {
            match (rows, vectors) {
                (1, 8) => self.tile::<1, 8>(at, out),
                (2, 8) => self.tile::<2, 8>(at, out),
                (3, 6) => self.tile::<3, 6>(at, out),
                (4, 6) => self.tile::<4, 6>(at, out),
                (5, 4) => self.tile::<5, 4>(at, out),
                (6, 4) => self.tile::<6, 4>(at, out),
                (7, 3) => self.tile::<7, 3>(at, out),
                (8, 3) => self.tile::<8, 3>(at, out),
                (1, _) => self.tile::<1, 1>(at, out),
                (2, _) => self.tile::<2, 1>(at, out),
                (3, _) => self.tile::<3, 1>(at, out),
                (4, _) => self.tile::<4, 1>(at, out),
                (5, _) => self.tile::<5, 1>(at, out),
                (6, _) => self.tile::<6, 1>(at, out),
                (7, _) => self.tile::<7, 1>(at, out),
                _ => self.tile::<8, 1>(at, out),
            }
        }
    }

    /// `R` input rows times `V` weight vectors over the weight rows `at.kk0..at.kk1`, added
    /// to the sums in `out` (from 0 when `at.kk0` is the first row).
    ///
    /// # Safety
    /// AVX-512F is present; rows `at.r0..at.r0 + R` are within `x`; `at.col + V·16 <= n`;
    /// `at.kk1 <= k`; `out` holds `R` rows of `at.ow` values and `at.oj + V·16 <= at.ow`.
    #[target_feature(enable = "avx512f")]
    unsafe fn tile<const R: usize, const V: usize>(&self, at: Place, out: &mut [f32]) {
        let (k, n) = (self.k, self.n);
        let mut acc = [[_mm512_setzero_ps(); V]; R];
        let op = out.as_mut_ptr();
        if at.kk0 > 0 {
            for (r, acc_r) in acc.iter_mut().enumerate() {
                for (v, acc_rv) in acc_r.iter_mut().enumerate() {
                    // SAFETY: within out (the caller's promise).
                    *acc_rv =
                        unsafe { _mm512_loadu_ps(op.add((at.r0 + r) * at.ow + at.oj + v * W)) };
                }
            }
        }
        let xp = self.x.as_ptr();
        let wp = self.w.as_ptr();
        for kk in at.kk0..at.kk1 {
            // SAFETY: kk < k and col + V·16 <= n, so the weight vectors are within w; the
            // input value is within x (the caller's promises).
            unsafe {
                let row = wp.add(kk * n + at.col);
                if kk + K_BLOCK < k {
                    // The same columns one band down, for the band after this one.
                    let next = row.add(K_BLOCK * n);
                    for v in 0..V {
                        _mm_prefetch::<_MM_HINT_T1>(next.add(v * W).cast::<i8>());
                    }
                }
                let mut wv = [_mm512_setzero_ps(); V];
                for (v, wv) in wv.iter_mut().enumerate() {
                    *wv = _mm512_loadu_ps(row.add(v * W));
                }
                for (r, acc_r) in acc.iter_mut().enumerate() {
                    let a = _mm512_set1_ps(*xp.add((at.r0 + r) * k + kk));
                    for (acc_rv, wv) in acc_r.iter_mut().zip(&wv) {
                        *acc_rv = _mm512_add_ps(*acc_rv, _mm512_mul_ps(a, *wv));
                    }
                }
            }
        }
        for (r, acc_r) in acc.iter().enumerate() {
            for (v, acc_rv) in acc_r.iter().enumerate() {
                // SAFETY: within out (the caller's promise).
                unsafe { _mm512_storeu_ps(op.add((at.r0 + r) * at.ow + at.oj + v * W), *acc_rv) };
            }
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// The portable order: from 0, `x[r, kk] · w[kk, j]` added in increasing kk.
    fn reference(x: &[f32], w: &[f32], (m, k, n): (usize, usize, usize)) -> Vec<f32> {
        let mut out = vec![0f32; m * n];
        for r in 0..m {
            for j in 0..n {
                let mut acc = 0f32;
                for kk in 0..k {
                    acc += x[r * k + kk] * w[kk * n + j];
                }
                out[r * n + j] = acc;
            }
        }
        out
    }

    #[test]
    fn equals_the_portable_sums_bit_for_bit() {
        if !applies() {
            eprintln!("skipped: this CPU has no AVX-512F, so the kernel never runs here");
            return;
        }
        // Every row count up to two tiles, wide tiles, single vectors and loose columns.
        for (m, k, n) in [
            (1, 7, 150),
            (3, 33, 131),
            (8, 64, 200),
            (11, 20, 97),
            (16, 5, 48),
        ] {
            let x: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
            let w: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos() * 2.0).collect();
            let want = reference(&x, &w, (m, k, n));
            let mut out = vec![f32::NAN; m * n];
            assert!(try_block(&x, &w, (m, k, n), 0, n, &mut out));
            assert_eq!(out, want, "{m}×{k}×{n}");
            // A block of columns in the middle.
            let (c0, width) = (17, n - 40);
            let mut part = vec![f32::NAN; m * width];
            assert!(try_block(&x, &w, (m, k, n), c0, width, &mut part));
            for r in 0..m {
                assert_eq!(
                    part[r * width..(r + 1) * width],
                    want[r * n + c0..r * n + c0 + width],
                    "{m}×{k}×{n}, row {r}"
                );
            }
        }
    }

    #[test]
    fn refuses_operands_that_do_not_fit() {
        let x = vec![1f32; 8];
        let w = vec![1f32; 4 * 10];
        let mut out = vec![0f32; 20];
        // Columns past n, a short input, a short output, an empty inner dimension.
        assert!(!try_block(&x, &w, (2, 4, 10), 5, 6, &mut out));
        assert!(!try_block(&x, &w, (3, 4, 10), 0, 10, &mut out));
        assert!(!try_block(&x, &w, (2, 4, 10), 0, 10, &mut out[..19]));
        assert!(!try_block(&x, &w, (2, 0, 10), 0, 10, &mut out));
        assert!(out.iter().all(|&v| v == 0.0));
    }
}
