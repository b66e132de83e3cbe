//! AVX-512 weighted sums of value rows, for decoding: `out[r] += Σ_j p[r, j] · vals[j]` for
//! the few query rows of one key-value head (the attention output of a new token).
//!
//! The portable version in [`crate::fastmath`] adds one value row into one output row at a
//! time, so each key costs a load and a store of every output row it touches besides its
//! arithmetic. Here the output rows of up to six queries stay in registers (64 values of each
//! at a time) while every value row is read once for all of them, and the value rows a few keys
//! ahead are prefetched.
//!
//! The sums are the portable version's, bit for bit: per output value, `p[r, j] · vals[j]` is
//! multiplied, then added, in increasing `j`, and weights that are exactly 0 (keys a query does
//! not see) are skipped.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    _MM_HINT_T0, _mm_prefetch, _mm512_add_ps, _mm512_loadu_ps, _mm512_mul_ps, _mm512_set1_ps,
    _mm512_setzero_ps, _mm512_storeu_ps,
};

/// Values per vector.
#[cfg(target_arch = "x86_64")]
const W: usize = 16;

/// Vectors of one output row held in registers per pass (64 values).
#[cfg(target_arch = "x86_64")]
const CHUNK_VECTORS: usize = 4;

/// Query rows per pass: rows × vectors accumulators, at most 24 of the 32 registers.
#[cfg(target_arch = "x86_64")]
const MAX_ROWS: usize = 6;

/// Value rows ahead of the one being added that are prefetched.
#[cfg(target_arch = "x86_64")]
const PREFETCH_KEYS: usize = 32;

/// `out[r·hd + d] += Σ_j p[r·n + j] · vals[j][d]` for the `hd`-long rows of `out` (`n` =
/// `vals.len()`), when this CPU and these operands suit the kernel (AVX-512F, `hd` a multiple
/// of 16, every value row at least `hd` long, `p` at least `rows × n`); returns false, with
/// nothing written, otherwise.
pub fn try_weighted_sum(p: &[f32], vals: &[&[f32]], hd: usize, out: &mut [f32]) -> bool {
    if !crate::dots_avx512::applies(hd) {
        return false;
    }
    let rows = out.len() / hd;
    if p.len() < rows * vals.len() || vals.iter().any(|v| v.len() < hd) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let mut r0 = 0;
        while r0 < rows {
            let n_rows = MAX_ROWS.min(rows - r0);
            let mut d0 = 0;
            while d0 < hd {
                let vectors = if d0 + CHUNK_VECTORS * W <= hd {
                    CHUNK_VECTORS
                } else {
                    1
                };
                let at = Pass { r0, d0, hd };
                // SAFETY: AVX-512F is present (`dots_avx512::applies`); rows r0..r0 + n_rows are within
                // out and p, and d0 + vectors·16 <= hd <= every value row's length (checked
                // above).
                unsafe { pass_any(n_rows, vectors, at, p, vals, out) };
                d0 += vectors * W;
            }
            r0 += n_rows;
        }
    }
    true
}

/// One pass: output rows from `r0`, values `d0..` of each, rows `hd` long.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Pass {
    r0: usize,
    d0: usize,
    hd: usize,
}

/// [`pass`] for a run-time row and vector count.
///
/// # Safety
/// As [`pass`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn pass_any(
    rows: usize,
    vectors: usize,
    at: Pass,
    p: &[f32],
    vals: &[&[f32]],
    out: &mut [f32],
) {
    // SAFETY: as the caller promises.
    unsafe {
        match (rows, vectors) {
            (1, CHUNK_VECTORS) => pass::<1, CHUNK_VECTORS>(at, p, vals, out),
            (2, CHUNK_VECTORS) => pass::<2, CHUNK_VECTORS>(at, p, vals, out),
            (3, CHUNK_VECTORS) => pass::<3, CHUNK_VECTORS>(at, p, vals, out),
            (4, CHUNK_VECTORS) => pass::<4, CHUNK_VECTORS>(at, p, vals, out),
            (5, CHUNK_VECTORS) => pass::<5, CHUNK_VECTORS>(at, p, vals, out),
            (_, CHUNK_VECTORS) => pass::<6, CHUNK_VECTORS>(at, p, vals, out),
            (1, _) => pass::<1, 1>(at, p, vals, out),
            (2, _) => pass::<2, 1>(at, p, vals, out),
            (3, _) => pass::<3, 1>(at, p, vals, out),
            (4, _) => pass::<4, 1>(at, p, vals, out),
            (5, _) => pass::<5, 1>(at, p, vals, out),
            _ => pass::<6, 1>(at, p, vals, out),
        }
    }
}

/// Output rows `at.r0..at.r0 + R`, values `at.d0..at.d0 + V·16` of each, summed over every
/// value row in order.
///
/// # Safety
/// AVX-512F is present; `out` and `p` hold rows `at.r0..at.r0 + R` (`out` of `at.hd` values,
/// `p` of `vals.len()`); `at.d0 + V·16 <= at.hd` and every value row holds `at.hd` values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn pass<const R: usize, const V: usize>(
    at: Pass,
    p: &[f32],
    vals: &[&[f32]],
    out: &mut [f32],
) {
    let n = vals.len();
    let op = out.as_mut_ptr();
    let mut acc = [[_mm512_setzero_ps(); V]; R];
    for (r, acc_r) in acc.iter_mut().enumerate() {
        for (v, acc_rv) in acc_r.iter_mut().enumerate() {
            // SAFETY: within out (the caller's promise).
            *acc_rv = unsafe { _mm512_loadu_ps(op.add((at.r0 + r) * at.hd + at.d0 + v * W)) };
        }
    }
    for (j, val) in vals.iter().enumerate() {
        if let Some(ahead) = vals.get(j + PREFETCH_KEYS) {
            for v in 0..V {
                // A prefetch only hints an address, here one inside a value row.
                _mm_prefetch::<_MM_HINT_T0>(ahead[at.d0 + v * W..].as_ptr().cast::<i8>());
            }
        }
        let mut x = [_mm512_setzero_ps(); V];
        for (v, x) in x.iter_mut().enumerate() {
            // SAFETY: d0 + v·16 + 16 <= hd <= val.len() (the caller's promise).
            *x = unsafe { _mm512_loadu_ps(val.as_ptr().add(at.d0 + v * W)) };
        }
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let w = p[(at.r0 + r) * n + j];
            if w != 0.0 {
                let a = _mm512_set1_ps(w);
                for (acc_rv, x) in acc_r.iter_mut().zip(&x) {
                    *acc_rv = _mm512_add_ps(*acc_rv, _mm512_mul_ps(a, *x));
                }
            }
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        for (v, acc_rv) in acc_r.iter().enumerate() {
            // SAFETY: within out (the caller's promise).
            unsafe { _mm512_storeu_ps(op.add((at.r0 + r) * at.hd + at.d0 + v * W), *acc_rv) };
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    #[test]
    fn equals_the_portable_sums_bit_for_bit() {
        if !crate::dots_avx512::applies(16) {
            eprintln!("skipped: this CPU has no AVX-512F, so the kernel never runs here");
            return;
        }
        // Head widths of one, four and five vectors and eight; 1 to 8 query rows (one and two
        // row groups); more keys than the prefetch distance.
        for (rows, hd, n) in [
            (1, 16, 3),
            (3, 64, 70),
            (6, 80, 40),
            (8, 128, 45),
            (4, 64, 1),
        ] {
            let data: Vec<f32> = (0..n * hd + 7)
                .map(|i| (i as f32 * 0.37).sin() * 2.0)
                .collect();
            // Value rows at an odd offset inside a larger buffer, as in a strided cache.
            let vals: Vec<&[f32]> = (0..n).map(|j| &data[7 + j * hd..7 + j * hd + hd]).collect();
            // Probabilities with exact zeros (unseen keys), including a -0.0.
            let p: Vec<f32> = (0..rows * n)
                .map(|i| match i % 5 {
                    0 => 0.0,
                    1 => -0.0,
                    _ => (i as f32 * 0.11).cos().abs(),
                })
                .collect();
            let start: Vec<f32> = (0..rows * hd).map(|i| i as f32 * 0.5 - 3.0).collect();
            let mut want = start.clone();
            crate::fastmath::weighted_sum_portable(&p, &vals, hd, &mut want);
            let mut got = start.clone();
            assert!(try_weighted_sum(&p, &vals, hd, &mut got));
            assert_eq!(
                got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "{rows} rows, hd {hd}, {n} keys"
            );
        }
    }

    #[test]
    fn refuses_operands_that_do_not_fit() {
        let data = vec![1f32; 64];
        let vals: Vec<&[f32]> = vec![&data[..32], &data[..16]];
        let p = vec![0.5f32; 4];
        let mut out = vec![0f32; 64];
        // A head width that is not whole vectors, a value row shorter than the head, too few
        // weights for the rows.
        assert!(!try_weighted_sum(&p, &vals, 24, &mut out[..48]));
        assert!(!try_weighted_sum(&p, &vals, 32, &mut out));
        assert!(!try_weighted_sum(&p[..3], &vals[..1], 16, &mut out));
        assert!(out.iter().all(|&v| v == 0.0));
    }
}
