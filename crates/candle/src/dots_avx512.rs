//! AVX-512 dot products of a few query rows against many key rows, for decoding (the attention
//! scores of one new token, and the tied output head of a few rows). The portable version in
//! [`crate::fastmath`] sums each product chain into one 16-lane accumulator and then adds the
//! sixteen lanes one after another: a chain of dependent scalar adds that costs more than the
//! products when rows are short (64 values per attention head). Here four keys are summed side
//! by side with fused multiply-adds, and their four lane sums are reduced together, three
//! shuffle-and-add steps for all four. Each key's result depends only on its own values (the
//! reduction never mixes keys), whichever block or position it falls in. Short keys (attention
//! heads) are prefetched a few blocks ahead of the one being summed.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m512, _MM_HINT_T0, _mm_prefetch, _mm_storeu_ps, _mm512_add_ps, _mm512_castps512_ps128,
    _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_permute_ps, _mm512_permutexvar_ps, _mm512_set_epi32,
    _mm512_setzero_ps, _mm512_shuffle_f32x4,
};

/// Values per vector.
#[cfg(target_arch = "x86_64")]
const W: usize = 16;

/// Keys ahead of the block being summed that are prefetched.
#[cfg(target_arch = "x86_64")]
const PREFETCH_KEYS: usize = 32;

/// The longest keys that are prefetched.
#[cfg(target_arch = "x86_64")]
const PREFETCH_MAX_HD: usize = 128;

/// Whether the CPU has AVX-512F and `hd` is a whole number of vectors (also the condition of
/// [`crate::weighted_sum_avx512`]).
pub(crate) fn applies(hd: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        hd > 0 && hd.is_multiple_of(W) && std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = hd;
        false
    }
}

/// `out[r·n + j] = lhs[r] · keys[j]` for the `hd`-long rows of `lhs`, when this CPU and these
/// operands suit the kernel (AVX-512F, `hd` a multiple of 16, every key at least `hd` long,
/// `out` at least `rows × n`); returns false, with nothing written, otherwise.
pub fn try_dots(lhs: &[f32], hd: usize, keys: &[&[f32]], out: &mut [f32]) -> bool {
    if !applies(hd) {
        return false;
    }
    let n = keys.len();
    let rows = lhs.len() / hd;
    if out.len() < rows * n || keys.iter().any(|k| k.len() < hd) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    for (j0, block) in keys.chunks(4).enumerate().map(|(b, k)| (b * 4, k)) {
        // Short keys (attention heads) a few blocks on, into the cache while this block is
        // summed: the hardware prefetcher does not run that far ahead of 256-byte rows. Long
        // ones (a tied head's 576 values) it follows by itself, and prefetching them measured
        // slower.
        let ahead = if hd <= PREFETCH_MAX_HD { 4 } else { 0 };
        for key in keys.iter().skip(j0 + PREFETCH_KEYS).take(ahead) {
            for line in key[..hd].chunks(W) {
                // SAFETY: AVX-512F (so SSE) is present; a prefetch only hints an address,
                // here one inside the key.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast::<i8>()) };
            }
        }
        // A short last block repeats its last key; only its own results are kept.
        let last = block[block.len() - 1];
        let ks: [&[f32]; 4] = std::array::from_fn(|i| block.get(i).copied().unwrap_or(last));
        for (r, q) in lhs.chunks_exact(hd).enumerate() {
            // SAFETY: AVX-512F is present (`applies`); q and every key hold hd values, a
            // multiple of W (checked above).
            let sums = unsafe { four(q, ks, hd) };
            out[r * n + j0..r * n + j0 + block.len()].copy_from_slice(&sums[..block.len()]);
        }
    }
    true
}

/// `q · k[i]` for the four keys.
///
/// # Safety
/// The CPU has AVX-512F; `q` and every `k[i]` hold at least `hd` values; `hd % W == 0`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn four(q: &[f32], k: [&[f32]; 4], hd: usize) -> [f32; 4] {
    let (mut a0, mut a1, mut a2, mut a3) = (
        _mm512_setzero_ps(),
        _mm512_setzero_ps(),
        _mm512_setzero_ps(),
        _mm512_setzero_ps(),
    );
    let mut c = 0;
    while c < hd {
        // SAFETY: c + W <= hd <= every slice's length (the caller's promise).
        unsafe {
            let x = _mm512_loadu_ps(q.as_ptr().add(c));
            a0 = _mm512_fmadd_ps(x, _mm512_loadu_ps(k[0].as_ptr().add(c)), a0);
            a1 = _mm512_fmadd_ps(x, _mm512_loadu_ps(k[1].as_ptr().add(c)), a1);
            a2 = _mm512_fmadd_ps(x, _mm512_loadu_ps(k[2].as_ptr().add(c)), a2);
            a3 = _mm512_fmadd_ps(x, _mm512_loadu_ps(k[3].as_ptr().add(c)), a3);
        }
        c += W;
    }
    lane_sums(a0, a1, a2, a3)
}

/// The lane sums of four accumulators: halves, quarters, then pairs, per key.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn lane_sums(a0: __m512, a1: __m512, a2: __m512, a3: __m512) -> [f32; 4] {
    // [a0[i] + a0[i+8] for i < 8, a1[i] + a1[i+8] for i < 8], and the same for a2, a3.
    let h01 = _mm512_add_ps(
        _mm512_shuffle_f32x4::<0x44>(a0, a1),
        _mm512_shuffle_f32x4::<0xEE>(a0, a1),
    );
    let h23 = _mm512_add_ps(
        _mm512_shuffle_f32x4::<0x44>(a2, a3),
        _mm512_shuffle_f32x4::<0xEE>(a2, a3),
    );
    // One 128-bit lane per key: h[i] + h[i+4] for i < 4.
    let q = _mm512_add_ps(
        _mm512_shuffle_f32x4::<0x88>(h01, h23),
        _mm512_shuffle_f32x4::<0xDD>(h01, h23),
    );
    // (q0 + q2, q1 + q3, ..), then their sum in the first value of each lane.
    let p = _mm512_add_ps(q, _mm512_permute_ps::<0x4E>(q));
    let s = _mm512_add_ps(p, _mm512_permute_ps::<0xB1>(p));
    let first = _mm512_permutexvar_ps(
        _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 8, 4, 0),
        s,
    );
    let mut out = [0f32; 4];
    // SAFETY: `out` holds four f32.
    unsafe { _mm_storeu_ps(out.as_mut_ptr(), _mm512_castps512_ps128(first)) };
    out
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    #[test]
    fn matches_f64_sums_for_every_block_position() {
        if !applies(16) {
            eprintln!("skipped: this CPU has no AVX-512F, so the kernel never runs here");
            return;
        }
        let hd = 48;
        let vals: Vec<f32> = (0..hd * 11)
            .map(|i| (i as f32 * 0.77).sin() * 3.0)
            .collect();
        let lhs: Vec<f32> = (0..hd * 3).map(|i| (i as f32 * 0.31).cos()).collect();
        // Seven keys: one block of four and a short block of three.
        let keys: Vec<&[f32]> = (0..7).map(|j| &vals[j * hd..j * hd + hd]).collect();
        let mut out = vec![f32::NAN; 3 * 7];
        assert!(try_dots(&lhs, hd, &keys, &mut out));
        for r in 0..3 {
            for (j, k) in keys.iter().enumerate() {
                let want: f64 = lhs[r * hd..r * hd + hd]
                    .iter()
                    .zip(*k)
                    .map(|(a, b)| f64::from(*a) * f64::from(*b))
                    .sum();
                let got = f64::from(out[r * 7 + j]);
                assert!(
                    (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
                    "{got} vs {want}"
                );
            }
        }
        // A key gives the same bits wherever it sits in a block.
        let shifted: Vec<&[f32]> = keys[1..].to_vec();
        let mut out2 = vec![f32::NAN; 3 * 6];
        assert!(try_dots(&lhs, hd, &shifted, &mut out2));
        for r in 0..3 {
            for j in 0..6 {
                assert_eq!(out2[r * 6 + j].to_bits(), out[r * 7 + j + 1].to_bits());
            }
        }
        // Operands the kernel does not take are left to the portable code.
        let mut untouched = vec![f32::NAN; 3 * 7];
        assert!(!try_dots(&lhs[..40], 20, &keys, &mut untouched));
        assert!(!try_dots(&lhs, hd, &[&vals[..hd - 16]], &mut untouched));
        assert!(!try_dots(&lhs, hd, &keys, &mut untouched[..5]));
        assert!(untouched.iter().all(|x| x.is_nan()));
    }
}
