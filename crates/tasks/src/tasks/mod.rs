//! The task definitions under lm-eval's names, and the one place that maps a leaf name to
//! its loader.

pub mod arc;
pub mod common;
pub mod generation;
pub mod gsm8k;
pub mod hellaswag;
pub mod ifeval;
pub mod mc;
pub mod mmlu;
pub mod piqa_boolq;
pub mod truthfulqa;
pub mod winogrande;

use crate::TaskError;
use crate::data::DataSource;
use crate::task::Task;

/// The leaf tasks other than the MMLU subjects.
pub const LEAVES: [&str; 11] = [
    "ifeval",
    "gsm8k",
    "hellaswag",
    "arc_easy",
    "arc_challenge",
    "winogrande",
    "truthfulqa_mc1",
    "truthfulqa_mc2",
    "piqa",
    "boolq",
    "mmlu_<subject>",
];

/// Load a leaf task by name; `None` when the name is not a leaf.
pub fn load_leaf(name: &str, data: &DataSource) -> Option<Result<Box<dyn Task>, TaskError>> {
    fn boxed<T: Task + 'static>(r: Result<T, TaskError>) -> Result<Box<dyn Task>, TaskError> {
        r.map(|t| Box::new(t) as Box<dyn Task>)
    }
    Some(match name {
        "ifeval" => boxed(ifeval::load(data)),
        "gsm8k" => boxed(gsm8k::load(data)),
        "hellaswag" => boxed(hellaswag::load(data)),
        "arc_easy" => boxed(arc::load(data, false)),
        "arc_challenge" => boxed(arc::load(data, true)),
        "winogrande" => boxed(winogrande::load(data)),
        "truthfulqa_mc1" => boxed(truthfulqa::load(data, false)),
        "truthfulqa_mc2" => boxed(truthfulqa::load(data, true)),
        "piqa" => boxed(piqa_boolq::load_piqa(data)),
        "boolq" => boxed(piqa_boolq::load_boolq(data)),
        _ => match name.strip_prefix("mmlu_") {
            Some(subject) if mmlu::is_subject(subject) => boxed(mmlu::load(data, subject)),
            _ => return None,
        },
    })
}
