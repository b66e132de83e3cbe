//! The headline metric of a task: the one number tables, verdicts and the significance test use.
//!
//! Conventional lm-eval choices (as the Open LLM Leaderboard reports them): gsm8k
//! `exact_match,strict-match` (the seed looked for `exact_match,none` and found nothing), ifeval
//! `prompt_level_strict_acc`, hellaswag and ARC `acc_norm`, mmlu (the group) and every other
//! multiple-choice task `acc` (truthfulqa_mc2's `acc` is its mc2 score). Tasks not listed take
//! the seed's priority list, then their first metric.

use crate::results::{Metric, TaskResult};

pub use sparkbench_protocol::headline::headline_key;

/// The headline metric of a loaded task.
pub fn headline(task: &TaskResult) -> Option<&Metric> {
    let key = headline_key(&task.name, task.metrics.iter().map(|m| m.key.as_str()))?;
    task.metric(&key)
}

/// The headline key shared by two runs of a task (the first preferred key both have).
pub fn shared_headline_key(task: &str, a: &TaskResult, b: &TaskResult) -> Option<String> {
    let both: Vec<&str> = a
        .metrics
        .iter()
        .map(|m| m.key.as_str())
        .filter(|k| b.metric(k).is_some())
        .collect();
    headline_key(task, both.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventional_choices() {
        let k = |task: &str, keys: &[&str]| headline_key(task, keys.iter().copied());
        assert_eq!(
            k(
                "gsm8k",
                &["exact_match,flexible-extract", "exact_match,strict-match"]
            )
            .as_deref(),
            Some("exact_match,strict-match")
        );
        assert_eq!(
            k(
                "ifeval",
                &["inst_level_strict_acc,none", "prompt_level_strict_acc,none"]
            )
            .as_deref(),
            Some("prompt_level_strict_acc,none")
        );
        assert_eq!(
            k("hellaswag", &["acc,none", "acc_norm,none"]).as_deref(),
            Some("acc_norm,none")
        );
        assert_eq!(
            k("arc_challenge", &["acc,none", "acc_norm,none"]).as_deref(),
            Some("acc_norm,none")
        );
        assert_eq!(
            k("piqa", &["acc,none", "acc_norm,none"]).as_deref(),
            Some("acc,none")
        );
        assert_eq!(k("mmlu", &["acc,none"]).as_deref(), Some("acc,none"));
        assert_eq!(
            k("my_task", &["bleu,none", "chrf,none"]).as_deref(),
            Some("bleu,none")
        );
        assert_eq!(k("my_task", &[]), None);
    }
}
