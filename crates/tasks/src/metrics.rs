//! Aggregation and standard errors as lm-eval computes them (spec section 3.4): `mean` with
//! `mean_stderr` (sample stddev with n-1, over sqrt(n); "N/A" for n <= 1), IFEval's
//! instruction-level micro average (stderr "N/A"), size-weighted group values and
//! `pooled_sample_stderr`; plus the per-document multiple-choice metrics.

use crate::python;
use crate::task::{Aggregation, MetricSpec, MetricValue};

/// A task's value and stderr for one metric. `None` stderr is lm-eval's `"N/A"`.
pub fn aggregate(spec: &MetricSpec, values: &[MetricValue]) -> (f64, Option<f64>) {
    match spec.aggregation {
        Aggregation::Mean => {
            let xs: Vec<f64> = values.iter().map(as_float).collect();
            (mean(&xs), mean_stderr(&xs))
        }
        Aggregation::InstLevel => {
            let flat: Vec<bool> = values
                .iter()
                .flat_map(|v| match v {
                    MetricValue::BoolList(b) => b.clone(),
                    MetricValue::Bool(b) => vec![*b],
                    MetricValue::Float(x) => vec![*x != 0.0],
                })
                .collect();
            let total: f64 = flat.iter().map(|&b| if b { 1.0 } else { 0.0 }).sum();
            let v = if flat.is_empty() {
                f64::NAN
            } else {
                total / flat.len() as f64
            };
            (v, None)
        }
    }
}

fn as_float(v: &MetricValue) -> f64 {
    match v {
        MetricValue::Float(x) => *x,
        MetricValue::Bool(b) => f64::from(u8::from(*b)),
        MetricValue::BoolList(b) => {
            if b.iter().all(|&x| x) {
                1.0
            } else {
                0.0
            }
        }
    }
}

/// Python's `sum(arr) / len(arr)` (left-to-right sum); NaN when empty.
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut s = 0.0;
    for &x in xs {
        s += x;
    }
    s / xs.len() as f64
}

/// lm-eval's `mean_stderr`: `sample_stddev(arr) / sqrt(len(arr))`, with
/// `sample_stddev = sqrt(sum((x - mu)^2) / (n - 1))`. `None` ("N/A") for n <= 1.
pub fn mean_stderr(xs: &[f64]) -> Option<f64> {
    let n = xs.len();
    if n <= 1 {
        return None;
    }
    let mu = mean(xs);
    let mut ss = 0.0;
    for &x in xs {
        ss += (x - mu).powi(2);
    }
    let sd = (ss / (n - 1) as f64).sqrt();
    Some(sd / (n as f64).sqrt())
}

/// A group's value: `sum(v_i * n_i) / sum(n_i)` over its leaf tasks.
pub fn weighted_mean(values: &[f64], sizes: &[usize]) -> f64 {
    let mut num = 0.0;
    let mut den = 0.0;
    for (v, &n) in values.iter().zip(sizes) {
        num += v * n as f64;
        den += n as f64;
    }
    num / den
}

/// lm-eval's `pooled_sample_stderr(stderrs, sizes)`; `None` ("N/A") when any leaf stderr is
/// "N/A" or the pooled degrees of freedom are not positive.
pub fn pooled_sample_stderr(stderrs: &[Option<f64>], sizes: &[usize]) -> Option<f64> {
    let k = sizes.len();
    let mut pooled = 0.0;
    let mut total = 0.0;
    for (se, &n) in stderrs.iter().zip(sizes) {
        let se = (*se)?;
        let n = n as f64;
        pooled += (n - 1.0) * se * se * n;
        total += n;
    }
    let dof = total - k as f64;
    if dof <= 0.0 {
        return None;
    }
    Some(((pooled / dof) / total).sqrt())
}

/// `numpy.argmax`: the first index of the maximum (NaN counts as the maximum, as in numpy).
pub fn argmax(xs: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if x.is_nan() {
            return i;
        }
        if x > xs[best] {
            best = i;
        }
    }
    best
}

/// `acc`: 1.0 when the highest log-likelihood is the gold choice.
pub fn acc(lls: &[f64], gold: usize) -> f64 {
    if argmax(lls) == gold { 1.0 } else { 0.0 }
}

/// `acc_norm`: log-likelihoods divided by the choice's length in code points.
pub fn acc_norm(lls: &[f64], choices: &[String], gold: usize) -> f64 {
    let normed: Vec<f64> = lls
        .iter()
        .zip(choices)
        .map(|(ll, c)| ll / python::len(c) as f64)
        .collect();
    if argmax(&normed) == gold { 1.0 } else { 0.0 }
}

/// TruthfulQA `mc2` (version 3.0): the normalised probability mass of the true answers,
/// with numpy's summation.
pub fn mc2(lls: &[f64], labels: &[i64]) -> f64 {
    let probs: Vec<f64> = lls.iter().map(|ll| ll.exp()).collect();
    let total = python::numpy_sum(&probs);
    let true_mass: Vec<f64> = probs
        .iter()
        .zip(labels)
        .filter(|(_, l)| **l == 1)
        .map(|(p, _)| p / total)
        .collect();
    python::numpy_sum(&true_mass)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(aggregation: Aggregation) -> MetricSpec {
        MetricSpec {
            name: "acc".into(),
            filter: "none".into(),
            aggregation,
            higher_is_better: true,
        }
    }

    #[test]
    fn mean_stderr_matches_lm_eval() {
        let vals = [
            MetricValue::Float(1.0),
            MetricValue::Float(1.0),
            MetricValue::Float(0.0),
        ];
        let (v, se) = aggregate(&spec(Aggregation::Mean), &vals);
        assert_eq!(v, 2.0 / 3.0);
        assert_eq!(se, Some(0.33333333333333337));
        let (_, se) = aggregate(&spec(Aggregation::Mean), &[MetricValue::Float(1.0)]);
        assert_eq!(se, None);
    }

    #[test]
    fn bools_count_as_numbers_in_mean() {
        let vals = [MetricValue::Bool(true), MetricValue::Bool(false)];
        assert_eq!(aggregate(&spec(Aggregation::Mean), &vals).0, 0.5);
    }

    #[test]
    fn inst_level_is_micro_average_without_stderr() {
        let vals = [
            MetricValue::BoolList(vec![true, false, true]),
            MetricValue::BoolList(vec![true]),
        ];
        let (v, se) = aggregate(&spec(Aggregation::InstLevel), &vals);
        assert_eq!(v, 0.75);
        assert_eq!(se, None);
    }

    #[test]
    fn pooled_stderr_matches_lm_eval() {
        let a = mean_stderr(&[1.0, 1.0, 0.0]).expect("se");
        let b = mean_stderr(&[1.0, 0.0, 0.0, 0.0]).expect("se");
        assert_eq!(b, 0.25);
        assert_eq!(
            pooled_sample_stderr(&[Some(a), Some(b)], &[3, 4]),
            Some(0.20118695404073914)
        );
        assert_eq!(pooled_sample_stderr(&[Some(a), None], &[3, 4]), None);
        assert_eq!(
            weighted_mean(&[2.0 / 3.0, 0.25], &[3, 4]),
            (2.0 + 1.0) / 7.0
        );
    }

    #[test]
    fn acc_norm_divides_by_code_points() {
        // "é" is 2 bytes but 1 code point: -2/2 = -1 vs -1.5/3 = -0.5 (bytes would give -2/3 vs -0.5).
        let choices = vec!["éé".to_string(), "abc".to_string()];
        assert_eq!(acc_norm(&[-2.0, -1.5], &choices, 1), 1.0);
        let choices = vec!["aaaa".to_string(), "b".to_string()];
        // -2/4 = -0.5 beats -1/1 although -1 > -2.
        assert_eq!(acc(&[-2.0, -1.0], 0), 0.0);
        assert_eq!(acc_norm(&[-2.0, -1.0], &choices, 0), 1.0);
    }

    #[test]
    fn argmax_takes_first_tie() {
        assert_eq!(argmax(&[-1.0, -1.0, -2.0]), 0);
        assert_eq!(argmax(&[-3.0, -1.0, -1.0]), 1);
    }

    #[test]
    fn mc2_normalises_probability_mass() {
        let lls = [(0.5f64).ln(), (0.25f64).ln(), (0.25f64).ln()];
        let v = mc2(&lls, &[1, 0, 0]);
        assert!((v - 0.5).abs() < 1e-15, "{v}");
        let v = mc2(&[-1.0, -1.0, -1.0, -1.0], &[1, 1, 0, 0]);
        assert!((v - 0.5).abs() < 1e-15, "{v}");
        assert_eq!(mc2(&[-1.0, -2.0], &[0, 0]), 0.0);
    }
}
