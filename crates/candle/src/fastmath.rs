//! `exp` over slices, vectorized: the softmax in attention, SwiGLU's sigmoid and the output
//! head's log-sum-exp call `exp` hundreds of millions of times per run, and libm's scalar
//! `expf` was a tenth of all CPU time. This is Cephes' `expf` (range reduction by `ln 2`, a
//! degree-6 polynomial, the exponent put in by bit arithmetic), written branch-free so the
//! compiler vectorizes it, and compiled three times on x86-64 (AVX-512, AVX2+FMA, baseline)
//! with the widest one the CPU has picked at run time. Its relative error is within 2 ulp of
//! the true value (checked against `f32::exp` in the tests); inputs below -87.3 give about
//! 1e-38 instead of 0, which no sum of probabilities can tell apart.

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
const MAX_IN: f32 = 88.3;
const MIN_IN: f32 = -87.3;
/// 1.5 · 2²³: adding and subtracting it rounds to the nearest integer.
const ROUND: f32 = 12_582_912.0;
/// Independent partial sums (lets the sum vectorize).
const LANES: usize = 16;

#[inline(always)]
fn exp1(x: f32) -> f32 {
    // Selects, not `clamp`/`as i32` (their NaN and saturation rules keep them scalar).
    let x = if x < MIN_IN { MIN_IN } else { x };
    let x = if x > MAX_IN { MAX_IN } else { x };
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    // `t` is ROUND + n exactly, so its low bits are n.
    let ni = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let bits = (ni.wrapping_add(127) as u32) << 23;
    y * f32::from_bits(bits)
}

#[inline(always)]
fn exp_sub_sum_body(xs: &mut [f32], sub: f32) -> f32 {
    // A select, not a branch: `-inf` (a masked score) gives exactly 0, not exp1's floor.
    let e = |x: f32| {
        if x == f32::NEG_INFINITY {
            0.0
        } else {
            exp1(x - sub)
        }
    };
    let mut acc = [0f32; LANES];
    let mut chunks = xs.chunks_exact_mut(LANES);
    for c in &mut chunks {
        for (a, x) in acc.iter_mut().zip(c.iter_mut()) {
            *x = e(*x);
            *a += *x;
        }
    }
    let mut tail = 0f32;
    for x in chunks.into_remainder() {
        *x = e(*x);
        tail += *x;
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn scaled_exp_sum_body(xs: &mut [f32], scale: f32, sub: f32) -> f32 {
    // `x * scale` is rounded before `sub` is taken, as scaling first and then [`exp_sub_sum`] does.
    let e = |x: f32| {
        let x = x * scale;
        if x == f32::NEG_INFINITY {
            0.0
        } else {
            exp1(x - sub)
        }
    };
    let mut acc = [0f32; LANES];
    let mut chunks = xs.chunks_exact_mut(LANES);
    for c in &mut chunks {
        for (a, x) in acc.iter_mut().zip(c.iter_mut()) {
            *x = e(*x);
            *a += *x;
        }
    }
    let mut tail = 0f32;
    for x in chunks.into_remainder() {
        *x = e(*x);
        tail += *x;
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn max_body(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for (m, &x) in acc.iter_mut().zip(c) {
            *m = if x > *m { x } else { *m };
        }
    }
    chunks
        .remainder()
        .iter()
        .chain(&acc)
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a })
}

#[inline(always)]
fn sum_exp_sub_body(xs: &[f32], sub: f32) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|&x| exp1(x - sub)).sum();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += exp1(x - sub);
        }
    }
    acc.iter().sum::<f32>() + tail
}

fn max_first_body(xs: &[f32]) -> (f32, usize) {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for (m, &x) in acc.iter_mut().zip(c) {
            *m = if x > *m { x } else { *m };
        }
    }
    let max = chunks
        .remainder()
        .iter()
        .chain(&acc)
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    if max == f32::NEG_INFINITY {
        return (max, 0);
    }
    (max, xs.iter().position(|&x| x == max).unwrap_or(0))
}

#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for ((s, &x), &y) in acc.iter_mut().zip(x).zip(y) {
            *s += x * y;
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn dots_body(lhs: &[f32], hd: usize, keys: &[&[f32]], out: &mut [f32]) {
    let n = keys.len();
    for (j, k) in keys.iter().enumerate() {
        for (r, q) in lhs.chunks_exact(hd).enumerate() {
            out[r * n + j] = dot(q, k);
        }
    }
}

#[inline(always)]
fn weighted_sum_body(p: &[f32], vals: &[&[f32]], hd: usize, out: &mut [f32]) {
    let n = vals.len();
    for (j, v) in vals.iter().enumerate() {
        for (r, o) in out.chunks_exact_mut(hd).enumerate() {
            let w = p[r * n + j];
            if w != 0.0 {
                for (o, &x) in o.iter_mut().zip(v.iter()) {
                    *o += w * x;
                }
            }
        }
    }
}

#[inline(always)]
fn axpy_body(a: f32, x: &[f32], y: &mut [f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

#[inline(always)]
fn axpy4_body(a: [f32; 4], x: [&[f32]; 4], y: &mut [f32]) {
    let n = y.len();
    let (x0, x1, x2, x3) = (&x[0][..n], &x[1][..n], &x[2][..n], &x[3][..n]);
    for j in 0..n {
        y[j] = (((y[j] + a[0] * x0[j]) + a[1] * x1[j]) + a[2] * x2[j]) + a[3] * x3[j];
    }
}

#[inline(always)]
fn silu_mul_body(gate: &[f32], up: &[f32], out: &mut [f32]) {
    for ((o, &g), &u) in out.iter_mut().zip(gate).zip(up) {
        *o = g / (1.0 + exp1(-g)) * u;
    }
}

/// `pub fn $name(args) -> ret` running `$body` compiled for AVX-512F, for AVX2+FMA or for the
/// baseline, whichever is the widest this CPU has (checked at run time; cached by std).
macro_rules! dispatch {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? => $body:ident) => {
        $(#[$doc])*
        pub fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn wide($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn mid($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F (checked just above).
                    return unsafe { wide($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has AVX2 and FMA (checked just above).
                    return unsafe { mid($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

dispatch!(
    /// `xs[i] = exp(xs[i] - sub)` in place (0 where `xs[i]` is `-inf`); returns their sum.
    exp_sub_sum(xs: &mut [f32], sub: f32) -> f32 => exp_sub_sum_body
);

dispatch!(
    /// `Σ exp(xs[i] - sub)`, leaving `xs` as it is.
    sum_exp_sub(xs: &[f32], sub: f32) -> f32 => sum_exp_sub_body
);

dispatch!(
    /// `xs[i] = exp(xs[i]·scale - sub)` in place (0 where `xs[i]·scale` is `-inf`); returns
    /// their sum. The same values bit for bit as scaling `xs` first and then [`exp_sub_sum`],
    /// in one pass instead of two.
    scaled_exp_sum(xs: &mut [f32], scale: f32, sub: f32) -> f32 => scaled_exp_sum_body
);

dispatch!(
    /// The largest value (`-inf` for none; NaNs are never the largest). For `scale > 0`,
    /// `max(xs)·scale` is exactly the largest `xs[i]·scale` (rounding is monotonic), so the
    /// softmax finds its maximum without writing the scaled scores.
    max(xs: &[f32]) -> f32 => max_body
);

dispatch!(
    /// The largest value and the index of its first occurrence (`(-inf, 0)` when nothing is
    /// larger than `-inf`; NaNs are never the largest).
    max_first(xs: &[f32]) -> (f32, usize) => max_first_body
);

/// `out[r·n + j] = lhs[r] · keys[j]` for the `hd`-long rows of `lhs` (a few rows against
/// many: attention and matmuls while decoding, where a matmul would spend more on packing
/// than on arithmetic): [`crate::dots_avx512`] where it applies, else [`dots_portable`].
pub fn dots(lhs: &[f32], hd: usize, keys: &[&[f32]], out: &mut [f32]) {
    if !crate::dots_avx512::try_dots(lhs, hd, keys, out) {
        dots_portable(lhs, hd, keys, out);
    }
}

dispatch!(
    /// [`dots`] with lane-wise partial sums and the compiler's vectors.
    dots_portable(lhs: &[f32], hd: usize, keys: &[&[f32]], out: &mut [f32]) => dots_body
);

/// `out[r] += Σ_j p[r·n + j] · vals[j]` for the `hd`-long rows of `out` (the attention output
/// of a few queries while decoding): [`crate::weighted_sum_avx512`] where it applies, else
/// [`weighted_sum_portable`]; the same sums bit for bit.
pub fn weighted_sum(p: &[f32], vals: &[&[f32]], hd: usize, out: &mut [f32]) {
    if !crate::weighted_sum_avx512::try_weighted_sum(p, vals, hd, out) {
        weighted_sum_portable(p, vals, hd, out);
    }
}

dispatch!(
    /// [`weighted_sum`] one value row into one output row at a time, with the compiler's
    /// vectors.
    weighted_sum_portable(p: &[f32], vals: &[&[f32]], hd: usize, out: &mut [f32]) => weighted_sum_body
);

dispatch!(
    /// `y[i] += a · x[i]`.
    axpy(a: f32, x: &[f32], y: &mut [f32]) => axpy_body
);

dispatch!(
    /// Four [`axpy`]s in a row, `y[i] += a[0]·x[0][i]`, then `a[1]`, `a[2]`, `a[3]` (the same
    /// sums in the same order), reading and writing `y` once instead of four times. Every
    /// `x[j]` must be at least as long as `y`.
    axpy4(a: [f32; 4], x: [&[f32]; 4], y: &mut [f32]) => axpy4_body
);

dispatch!(
    /// `out[i] = silu(gate[i]) · up[i]` (the three slices have one length).
    silu_mul(gate: &[f32], up: &[f32], out: &mut [f32]) => silu_mul_body
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_two_ulp_of_libm() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = f64::from(x.exp());
            let got = f64::from(exp1(x));
            worst = worst.max(((got - want) / want).abs());
            x += 0.013;
        }
        assert!(worst < 2.5e-7, "worst relative error {worst:e}");
        assert!(exp1(-1e4) < 2e-38 && exp1(-1e4) >= 0.0);
        assert!(exp1(1e4).is_finite());
    }

    #[test]
    fn dispatched_versions_match_the_scalar_body() {
        let xs: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.37).sin() * 30.0).collect();
        let mut a = xs.clone();
        let sa = exp_sub_sum(&mut a, 3.0);
        let mut b = xs.clone();
        let sb: f32 = b
            .iter_mut()
            .map(|x| {
                *x = exp1(*x - 3.0);
                *x
            })
            .sum();
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() <= 1e-6 * q.abs());
        }
        assert!((sa - sb).abs() <= 1e-5 * sb);
        assert!((sum_exp_sub(&xs, 3.0) - sb).abs() <= 1e-5 * sb);
        // Two query rows of 20 against three keys, and back through three values.
        let lhs: Vec<f32> = xs[..40].to_vec();
        let keys: Vec<&[f32]> = vec![&xs[100..120], &xs[200..220], &xs[300..320]];
        let mut sc = vec![0f32; 6];
        dots(&lhs, 20, &keys, &mut sc);
        for r in 0..2 {
            for j in 0..3 {
                let want: f32 = lhs[r * 20..r * 20 + 20]
                    .iter()
                    .zip(keys[j])
                    .map(|(a, b)| a * b)
                    .sum();
                assert!((sc[r * 3 + j] - want).abs() <= 1e-4 * (1.0 + want.abs()));
            }
        }
        let mut ws = vec![1f32; 40];
        weighted_sum(&sc, &keys, 20, &mut ws);
        for r in 0..2 {
            for d in 0..20 {
                let want = 1.0 + (0..3).map(|j| sc[r * 3 + j] * keys[j][d]).sum::<f32>();
                assert!((ws[r * 20 + d] - want).abs() <= 1e-3 * (1.0 + want.abs()));
            }
        }
        let mut y4 = xs[..100].to_vec();
        let mut y1 = y4.clone();
        let a = [0.5, -1.25, 3.0, 0.125];
        let rows = [&xs[100..200], &xs[200..300], &xs[300..400], &xs[400..500]];
        axpy4(a, rows, &mut y4);
        for (a, x) in a.iter().zip(rows) {
            axpy(*a, x, &mut y1);
        }
        assert_eq!(y4, y1);
        let mut ties = xs.clone();
        ties[700] = 30.0;
        ties[301] = 30.0;
        ties[999] = f32::NAN;
        assert_eq!(max_first(&ties), (30.0, 301));
        assert_eq!(max_first(&[f32::NEG_INFINITY; 3]), (f32::NEG_INFINITY, 0));
        assert_eq!(max_first(&[1.0, 2.0, 2.0]), (2.0, 1));
        // The softmax's two passes: the largest raw score times the scale is the largest
        // scaled score, and one pass of scale-then-exp gives the bits of scaling first.
        for scale in [0.125f32, 0.37, 3.0] {
            let m = max(&xs) * scale;
            assert_eq!(
                m,
                xs.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b * scale))
            );
            let mut scaled: Vec<f32> = xs.iter().map(|x| x * scale).collect();
            scaled[7] = f32::NEG_INFINITY;
            let want = exp_sub_sum(&mut scaled, m);
            let mut c = xs.clone();
            c[7] = f32::NEG_INFINITY;
            let got = scaled_exp_sum(&mut c, scale, m);
            assert_eq!(got.to_bits(), want.to_bits());
            assert!(
                c.iter()
                    .zip(&scaled)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
            assert_eq!(c[7], 0.0);
        }
        assert_eq!(max(&[f32::NEG_INFINITY; 3]), f32::NEG_INFINITY);
        assert_eq!(max(&[]), f32::NEG_INFINITY);
        assert_eq!(max(&[1.0, f32::NAN, 2.0]), 2.0);
        let g: Vec<f32> = xs.iter().map(|x| x * 0.5).collect();
        let u: Vec<f32> = xs.iter().map(|x| x.cos()).collect();
        let mut o = vec![0f32; g.len()];
        silu_mul(&g, &u, &mut o);
        for ((o, g), u) in o.iter().zip(&g).zip(&u) {
            let want = g / (1.0 + (-g).exp()) * u;
            assert!(
                (o - want).abs() <= 1e-6 * (1.0 + want.abs()),
                "{o} vs {want}"
            );
        }
    }
}
