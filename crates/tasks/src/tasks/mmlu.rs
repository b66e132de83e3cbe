//! MMLU (default variant): 57 subject tasks `mmlu_<subject>` (version 1.0) over `cais/mmlu`,
//! evaluated on test, 0-shot by default, `first_n` few-shot from dev; and the groups
//! `mmlu` -> `mmlu_stem`, `mmlu_other`, `mmlu_social_sciences`, `mmlu_humanities`.

use serde_json::{Value, json};

use super::common::{Config, Loaded};
use super::mc::{Ask, McDoc, McFormat, McMetrics, McTask, checked_gold, metric_list};
use crate::data::{DataSource, Doc, Fields};
use crate::fewshot::Sampler;
use crate::{TaskError, python};

/// The four categories: (group suffix, alias, subjects).
pub const CATEGORIES: [(&str, &str, &[&str]); 4] = [
    (
        "stem",
        "stem",
        &[
            "abstract_algebra",
            "anatomy",
            "astronomy",
            "college_biology",
            "college_chemistry",
            "college_computer_science",
            "college_mathematics",
            "college_physics",
            "computer_security",
            "conceptual_physics",
            "electrical_engineering",
            "elementary_mathematics",
            "high_school_biology",
            "high_school_chemistry",
            "high_school_computer_science",
            "high_school_mathematics",
            "high_school_physics",
            "high_school_statistics",
            "machine_learning",
        ],
    ),
    (
        "other",
        "other",
        &[
            "business_ethics",
            "clinical_knowledge",
            "college_medicine",
            "global_facts",
            "human_aging",
            "management",
            "marketing",
            "medical_genetics",
            "miscellaneous",
            "nutrition",
            "professional_accounting",
            "professional_medicine",
            "virology",
        ],
    ),
    (
        "social_sciences",
        "social sciences",
        &[
            "econometrics",
            "high_school_geography",
            "high_school_government_and_politics",
            "high_school_macroeconomics",
            "high_school_microeconomics",
            "high_school_psychology",
            "human_sexuality",
            "professional_psychology",
            "public_relations",
            "security_studies",
            "sociology",
            "us_foreign_policy",
        ],
    ),
    (
        "humanities",
        "humanities",
        &[
            "formal_logic",
            "high_school_european_history",
            "high_school_us_history",
            "high_school_world_history",
            "international_law",
            "jurisprudence",
            "logical_fallacies",
            "moral_disputes",
            "moral_scenarios",
            "philosophy",
            "prehistory",
            "professional_law",
            "world_religions",
        ],
    ),
];

/// Whether `subject` is one of the 57.
pub fn is_subject(subject: &str) -> bool {
    CATEGORIES
        .iter()
        .any(|(_, _, subs)| subs.contains(&subject))
}

/// The `description` of a subject.
pub fn description(subject: &str) -> String {
    format!(
        "The following are multiple choice questions (with answers) about {}.\n\n",
        subject.replace('_', " ")
    )
}

const LETTERS: [&str; 4] = ["A", "B", "C", "D"];

struct Format;

impl McFormat for Format {
    fn build(&self, doc: &Doc, loc: &dyn Fn() -> String) -> Result<McDoc, TaskError> {
        let f = Fields::new(doc, loc);
        let choices = f.str_list("choices")?;
        if choices.len() < 4 {
            return Err(f.invalid(
                "choices",
                format!("expected 4 choices, found {}", choices.len()),
            ));
        }
        let q = format!(
            "{}\nA. {}\nB. {}\nC. {}\nD. {}\nAnswer:",
            python::strip(f.str("question")?),
            choices[0],
            choices[1],
            choices[2],
            choices[3]
        );
        let gold = checked_gold(f.int("answer")?, 4, "answer", loc)?;
        Ok(McDoc {
            ask: Ask::Query(q),
            choices: LETTERS.iter().map(|s| s.to_string()).collect(),
            gold,
            labels: None,
        })
    }
}

/// Load `mmlu_<subject>`. Our `mmlu/` folder holds every subject (the Hub's `all` config);
/// rows are picked by their `subject` field.
pub fn load(data: &DataSource, subject: &str) -> Result<McTask, TaskError> {
    let config = Config {
        name: format!("mmlu_{subject}"),
        alias: subject.to_string(),
        version: 1.0,
        dataset: "mmlu",
        dataset_path: "cais/mmlu",
        dataset_name: Some(subject.to_string()),
        training_split: None,
        validation_split: Some("validation"),
        test_split: Some("test"),
        fewshot_split: Some("dev"),
        sampler: Sampler::FirstN,
        yaml_fewshot: None,
        description: description(subject),
        output_type: "multiple_choice",
        templates: [
            (
                "doc_to_text",
                Value::from(
                    "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. {{choices[3]}}\nAnswer:",
                ),
            ),
            ("doc_to_target", Value::from("answer")),
            ("doc_to_choice", json!(LETTERS)),
        ],
        metric_list: metric_list(McMetrics::Acc),
        generation_kwargs: None,
        filter_list: None,
    };
    let subject_owned = subject.to_string();
    let processor = Box::new(move |d: &Doc, loc: &dyn Fn() -> String| {
        let f = Fields::new(d, loc);
        Ok((f.str("subject")? == subject_owned).then(|| d.clone()))
    });
    Ok(McTask {
        loaded: Loaded::new(config, data, processor)?,
        format: Box::new(Format),
        metrics: McMetrics::Acc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifty_seven_subjects() {
        let n: usize = CATEGORIES.iter().map(|(_, _, s)| s.len()).sum();
        assert_eq!(n, 57);
        assert_eq!(
            description("high_school_us_history"),
            "The following are multiple choice questions (with answers) about high school us history.\n\n"
        );
    }
}
