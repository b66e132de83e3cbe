//! Task and group scores from per-document metric values (lm-eval spec section 3.4).
//!
//! The arithmetic (`mean`, `mean_stderr`, instruction-level micro average, size-weighted group
//! values, `pooled_sample_stderr`) is `sparkbench_tasks::metrics`; this file picks the values
//! out of journal records and hands them over.

use sparkbench_protocol::TaskScore;
use sparkbench_tasks::metrics::{aggregate, pooled_sample_stderr, weighted_mean};
use sparkbench_tasks::{MetricSpec, MetricValue};

use crate::journal::DocRecord;

/// The per-document values of `spec` over `records`, in doc order.
pub fn metric_values(spec: &MetricSpec, records: &[DocRecord]) -> Vec<MetricValue> {
    records
        .iter()
        .filter_map(|r| {
            r.outcomes
                .iter()
                .find(|o| o.filter == spec.filter)
                .and_then(|o| o.metrics.iter().find(|(name, _)| *name == spec.name))
                .map(|(_, v)| v.clone())
        })
        .collect()
}

/// Every metric of a task over `records`, in the task's metric order.
pub fn task_scores(specs: &[MetricSpec], records: &[DocRecord]) -> Vec<TaskScore> {
    specs
        .iter()
        .map(|spec| {
            let (value, stderr) = aggregate(spec, &metric_values(spec, records));
            TaskScore {
                metric: spec.name.clone(),
                filter: spec.filter.clone(),
                value,
                stderr,
            }
        })
        .collect()
}

/// A group's value and pooled stderr from its leaves' `(value, stderr, size)`.
pub fn group_score(leaves: &[(f64, Option<f64>, usize)]) -> (f64, Option<f64>) {
    let values: Vec<f64> = leaves.iter().map(|l| l.0).collect();
    let stderrs: Vec<Option<f64>> = leaves.iter().map(|l| l.1).collect();
    let sizes: Vec<usize> = leaves.iter().map(|l| l.2).collect();
    (
        weighted_mean(&values, &sizes),
        pooled_sample_stderr(&stderrs, &sizes),
    )
}

#[cfg(test)]
mod tests {
    use sparkbench_tasks::Aggregation;

    use super::*;

    #[test]
    fn numbers_match_lm_eval_runs() {
        let spec = MetricSpec {
            name: "acc".into(),
            filter: "none".into(),
            aggregation: Aggregation::Mean,
            higher_is_better: true,
        };
        let vals = [1.0, 1.0, 0.0].map(MetricValue::Float);
        let (v, se) = aggregate(&spec, &vals);
        assert_eq!(v, 2.0 / 3.0);
        assert_eq!(se, Some(0.33333333333333337));
        let (_, se) = group_score(&[(0.5, Some(0.3333), 3), (0.5, Some(0.25), 4)]);
        let se = se.expect("pooled");
        assert!((se - 0.20118695404073914).abs() < 1e-4, "{se}");
        assert_eq!(group_score(&[(1.0, None, 3), (0.0, Some(0.1), 4)]).1, None);
    }
}
