//! The headline metric of a task: the one number tables, verdicts and the significance test use.
//!
//! Conventional lm-eval choices (as the Open LLM Leaderboard reports them): gsm8k
//! `exact_match,strict-match` (the seed looked for `exact_match,none` and found nothing), ifeval
//! `prompt_level_strict_acc`, hellaswag and ARC `acc_norm`, mmlu (the group) and every other
//! multiple-choice task `acc` (truthfulqa_mc2's `acc` is its mc2 score). Tasks not listed take
//! the seed's priority list, then their first metric.

/// Preferred keys for known tasks, most preferred first.
fn preferred(task: &str) -> &'static [&'static str] {
    match task {
        "gsm8k" | "gsm8k_cot" | "gsm8k_cot_self_consistency" => {
            &["exact_match,strict-match", "exact_match,flexible-extract"]
        }
        "ifeval" => &["prompt_level_strict_acc,none"],
        "hellaswag" | "arc_easy" | "arc_challenge" => &["acc_norm,none", "acc,none"],
        _ => &[],
    }
}

/// The seed's priority list (its `metric` search order), used for tasks not listed above.
const SEED_PRIORITY: &[&str] = &[
    "prompt_level_strict_acc,none",
    "inst_level_strict_acc,none",
    "accuracy,none",
    "exact_match,none",
    "acc,none",
];

/// The headline metric key of a task, given the keys it has.
pub fn headline_key<'a>(
    task: &str,
    keys: impl IntoIterator<Item = &'a str> + Clone,
) -> Option<String> {
    let has = |k: &str| keys.clone().into_iter().any(|x| x == k);
    preferred(task)
        .iter()
        .chain(SEED_PRIORITY)
        .find(|k| has(k))
        .map(|k| k.to_string())
        .or_else(|| keys.into_iter().next().map(str::to_string))
}
