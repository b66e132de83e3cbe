//! Paired significance tests on per-document scores: base and fine-tuned score the same
//! documents, so the pairing removes the documents' own difficulty from the comparison.
//!
//! - 0/1 metrics (accuracy, exact match, IFEval levels): McNemar's exact test on the discordant
//!   pairs, with the mid-p variant (less conservative, recommended by Fagerland et al. 2013);
//!   the decision uses the mid-p.
//! - Continuous metrics (truthfulqa mc2): a paired sign-flip permutation test on the
//!   differences, exact up to 20 non-zero differences, else 20 000 random flips from a fixed
//!   seed (so results are reproducible).

use serde::{Deserialize, Serialize};

use crate::results::DocScores;

/// Which test was run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// McNemar's exact test (0/1 scores).
    Mcnemar,
    /// Paired sign-flip permutation test (continuous scores).
    SignFlip,
}

/// The outcome of a paired test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Significance {
    /// The test.
    pub test: TestKind,
    /// Documents (or instruction slots) present in both runs.
    pub pairs: usize,
    /// McNemar: base right, fine-tuned wrong.
    pub base_only: Option<usize>,
    /// McNemar: fine-tuned right, base wrong.
    pub finetuned_only: Option<usize>,
    /// Two-sided p-value (McNemar: exact; sign-flip: permutation).
    pub p_value: f64,
    /// McNemar's two-sided mid-p value.
    pub mid_p: Option<f64>,
    /// The p-value the decision uses (mid-p for McNemar).
    pub decision_p: f64,
    /// The threshold used.
    pub alpha: f64,
    /// `decision_p >= alpha`: the difference is within noise.
    pub within_noise: bool,
}

/// ln C(n, i) for i = 0..=k, cumulatively.
fn log_binom_pmf_half(n: usize, k: usize) -> Vec<f64> {
    let ln2 = std::f64::consts::LN_2;
    let mut out = Vec::with_capacity(k + 1);
    let mut log_c = 0.0f64;
    for i in 0..=k {
        if i > 0 {
            log_c += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        out.push(log_c - n as f64 * ln2);
    }
    out
}

fn log_sum_exp(xs: &[f64]) -> f64 {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// McNemar's exact two-sided p-value and mid-p from the discordant counts `b` and `c`.
pub fn mcnemar(b: usize, c: usize) -> (f64, f64) {
    let n = b + c;
    if n == 0 {
        return (1.0, 1.0);
    }
    let k = b.min(c);
    let logs = log_binom_pmf_half(n, k);
    let tail = log_sum_exp(&logs).exp();
    let point = logs[k].exp();
    let exact = (2.0 * tail).min(1.0);
    let mid = (2.0 * tail - point).min(1.0);
    (exact, mid)
}

/// SplitMix64: a tiny deterministic generator for the Monte Carlo flips.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Random flips used when there are more than [`EXACT_LIMIT`] non-zero differences.
pub const MONTE_CARLO_FLIPS: usize = 20_000;
/// Up to this many non-zero differences every sign pattern is enumerated.
pub const EXACT_LIMIT: usize = 20;

/// Two-sided paired sign-flip permutation p-value for differences `d`.
pub fn sign_flip(d: &[f64]) -> f64 {
    let nz: Vec<f64> = d.iter().copied().filter(|x| *x != 0.0).collect();
    if nz.is_empty() {
        return 1.0;
    }
    let observed = nz.iter().sum::<f64>().abs();
    // Tolerance for float round-off when a flipped sum equals the observed one.
    let eps = 1e-12 * nz.iter().map(|x| x.abs()).sum::<f64>().max(1.0);
    if nz.len() <= EXACT_LIMIT {
        let m = nz.len();
        let mut hits = 0u64;
        for mask in 0u64..(1u64 << m) {
            let s: f64 = nz
                .iter()
                .enumerate()
                .map(|(i, x)| if mask >> i & 1 == 1 { -x } else { *x })
                .sum();
            if s.abs() >= observed - eps {
                hits += 1;
            }
        }
        return hits as f64 / (1u64 << m) as f64;
    }
    let mut rng = SplitMix64(0x5EED_BE4C);
    let mut hits = 0usize;
    for _ in 0..MONTE_CARLO_FLIPS {
        let mut s = 0.0;
        let mut bits = 0u64;
        for (i, x) in nz.iter().enumerate() {
            if i % 64 == 0 {
                bits = rng.next();
            }
            s += if bits >> (i % 64) & 1 == 1 { -x } else { *x };
        }
        if s.abs() >= observed - eps {
            hits += 1;
        }
    }
    (hits + 1) as f64 / (MONTE_CARLO_FLIPS + 1) as f64
}

/// The paired test for two runs' per-document scores (only keys present in both count).
/// `None` when no document is shared.
pub fn paired_test(base: &DocScores, finetuned: &DocScores, alpha: f64) -> Option<Significance> {
    let pairs: Vec<(f64, f64)> = base
        .iter()
        .filter_map(|(k, b)| finetuned.get(k).map(|f| (*b, *f)))
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let binary = pairs
        .iter()
        .all(|(b, f)| (*b == 0.0 || *b == 1.0) && (*f == 0.0 || *f == 1.0));
    if binary {
        let b = pairs.iter().filter(|(x, y)| *x == 1.0 && *y == 0.0).count();
        let c = pairs.iter().filter(|(x, y)| *x == 0.0 && *y == 1.0).count();
        let (p, mid) = mcnemar(b, c);
        Some(Significance {
            test: TestKind::Mcnemar,
            pairs: pairs.len(),
            base_only: Some(b),
            finetuned_only: Some(c),
            p_value: p,
            mid_p: Some(mid),
            decision_p: mid,
            alpha,
            within_noise: mid >= alpha,
        })
    } else {
        let d: Vec<f64> = pairs.iter().map(|(b, f)| f - b).collect();
        let p = sign_flip(&d);
        Some(Significance {
            test: TestKind::SignFlip,
            pairs: pairs.len(),
            base_only: None,
            finetuned_only: None,
            p_value: p,
            mid_p: None,
            decision_p: p,
            alpha,
            within_noise: p >= alpha,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn mcnemar_hand_computed() {
        // b=0, c=5: P(X<=0) = 1/32, exact = 2/32, mid = 2/32 - 1/32.
        let (p, mid) = mcnemar(0, 5);
        assert!(close(p, 0.0625) && close(mid, 0.03125), "{p} {mid}");
        // b=1, c=9: P(X<=1) = 11/1024, exact = 22/1024, mid = 22/1024 - 10/1024.
        let (p, mid) = mcnemar(9, 1);
        assert!(
            close(p, 22.0 / 1024.0) && close(mid, 12.0 / 1024.0),
            "{p} {mid}"
        );
        // Balanced discordance: no evidence at all.
        assert_eq!(mcnemar(3, 3), (1.0, 1.0));
        assert_eq!(mcnemar(0, 0), (1.0, 1.0));
        // b=2, c=8: P(X<=2) = (1+10+45)/1024 = 56/1024; exact 112/1024; mid (112-45)/1024.
        let (p, mid) = mcnemar(2, 8);
        assert!(
            close(p, 112.0 / 1024.0) && close(mid, 67.0 / 1024.0),
            "{p} {mid}"
        );
    }

    #[test]
    fn mcnemar_large_n_does_not_underflow() {
        let (p, mid) = mcnemar(1000, 1100);
        assert!(p > 0.0 && p < 0.05 && mid < p, "{p} {mid}");
        let (p, _) = mcnemar(1000, 1000);
        assert!(close(p, 1.0));
    }

    #[test]
    fn sign_flip_hand_computed() {
        // ±1±2±3: |sum| >= 6 for 2 of 8 patterns.
        assert!(close(sign_flip(&[1.0, 2.0, 3.0]), 0.25));
        // Zeros do not count; ±1±1: |sum| >= 2 for 2 of 4.
        assert!(close(sign_flip(&[0.0, 1.0, 1.0]), 0.5));
        assert!(close(sign_flip(&[0.0, 0.0]), 1.0));
        // Many equal positive shifts: clearly significant through the Monte Carlo path.
        let d = vec![0.1; 40];
        assert!(sign_flip(&d) < 0.001);
    }

    #[test]
    fn paired_test_picks_the_test_and_pairs_only_shared_docs() {
        let key = |i: u64| ("t".to_string(), i, 0usize);
        let base: DocScores = (0..10)
            .map(|i| (key(i), if i == 0 { 1.0 } else { 0.0 }))
            .collect();
        let mut ft: DocScores = (0..10)
            .map(|i| (key(i), if i == 0 { 0.0 } else { 1.0 }))
            .collect();
        ft.insert(key(99), 1.0);
        let s = paired_test(&base, &ft, 0.05).unwrap_or_else(|| panic!("no pairs"));
        assert_eq!(
            (s.test, s.pairs, s.base_only, s.finetuned_only),
            (TestKind::Mcnemar, 10, Some(1), Some(9))
        );
        assert!(close(s.decision_p, 12.0 / 1024.0) && !s.within_noise);
        let cont_b: DocScores = (0..3).map(|i| (key(i), 0.5)).collect();
        let cont_f: DocScores = [(key(0), 1.5), (key(1), 2.5), (key(2), 3.5)]
            .into_iter()
            .collect();
        let s = paired_test(&cont_b, &cont_f, 0.05).unwrap_or_else(|| panic!("no pairs"));
        assert_eq!(s.test, TestKind::SignFlip);
        assert!(close(s.p_value, 0.25) && s.within_noise);
        assert!(paired_test(&DocScores::new(), &ft, 0.05).is_none());
    }
}
