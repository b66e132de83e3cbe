//! `hellaswag` (version 1.0): `Rowan/hellaswag`, evaluated on validation, with lm-eval's
//! `process_docs` (`query`, `choices`, `gold` added after the original columns) and
//! `preprocess` (strip, " [title]" -> ". ", drop `[...]`, one pass of "  " -> " ").

use regex::Regex;
use serde_json::{Value, json};

use super::common::{Config, Loaded};
use super::mc::{Ask, McDoc, McFormat, McMetrics, McTask, checked_gold, metric_list};
use crate::data::{DataSource, Doc, Fields};
use crate::fewshot::Sampler;
use crate::{TaskError, python};

/// lm-eval's hellaswag `preprocess`.
pub fn preprocess(text: &str, brackets: &Regex) -> String {
    let t = python::strip(text).replace(" [title]", ". ");
    let t = brackets.replace_all(&t, "");
    t.replace("  ", " ")
}

fn process(doc: &Doc, loc: &dyn Fn() -> String, brackets: &Regex) -> Result<Doc, TaskError> {
    let f = Fields::new(doc, loc);
    let ctx = format!(
        "{} {}",
        f.str("ctx_a")?,
        python::capitalize(f.str("ctx_b")?)
    );
    let query = preprocess(&format!("{}: {ctx}", f.str("activity_label")?), brackets);
    let choices: Vec<String> = f
        .str_list("endings")?
        .into_iter()
        .map(|e| preprocess(e, brackets))
        .collect();
    let label = f.str("label")?;
    let gold: i64 = label.parse().map_err(|_| {
        f.invalid(
            "label",
            format!("expected a digit string such as \"3\", found {label:?}"),
        )
    })?;
    let mut out = doc.clone();
    out.insert("query".into(), json!(query));
    out.insert("choices".into(), json!(choices));
    out.insert("gold".into(), json!(gold));
    Ok(out)
}

struct Format;

impl McFormat for Format {
    fn build(&self, doc: &Doc, loc: &dyn Fn() -> String) -> Result<McDoc, TaskError> {
        let f = Fields::new(doc, loc);
        let choices: Vec<String> = f
            .str_list("choices")?
            .into_iter()
            .map(String::from)
            .collect();
        let label = f.str("label")?;
        let gold: i64 = label
            .parse()
            .map_err(|_| f.invalid("label", format!("expected a digit string, found {label:?}")))?;
        let gold = checked_gold(gold, choices.len(), "label", loc)?;
        Ok(McDoc {
            ask: Ask::Query(f.str("query")?.to_string()),
            choices,
            gold,
            labels: None,
        })
    }
}

/// Load `hellaswag`.
pub fn load(data: &DataSource) -> Result<McTask, TaskError> {
    let brackets = Regex::new(r"\[.*?\]").map_err(|e| TaskError::Other(e.to_string()))?;
    let config = Config {
        name: "hellaswag".into(),
        alias: "hellaswag".into(),
        version: 1.0,
        dataset: "hellaswag",
        dataset_path: "Rowan/hellaswag",
        dataset_name: None,
        training_split: Some("train"),
        validation_split: Some("validation"),
        test_split: None,
        fewshot_split: None,
        sampler: Sampler::Random,
        yaml_fewshot: None,
        description: String::new(),
        output_type: "multiple_choice",
        templates: [
            ("doc_to_text", Value::from("{{query}}")),
            ("doc_to_target", Value::from("{{label}}")),
            ("doc_to_choice", Value::from("choices")),
        ],
        metric_list: metric_list(McMetrics::AccNorm),
        generation_kwargs: None,
        filter_list: None,
    };
    let processor =
        Box::new(move |d: &Doc, loc: &dyn Fn() -> String| process(d, loc, &brackets).map(Some));
    Ok(McTask {
        loaded: Loaded::new(config, data, processor)?,
        format: Box::new(Format),
        metrics: McMetrics::AccNorm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preprocess_matches_lm_eval_example() {
        let re = Regex::new(r"\[.*?\]").expect("re");
        let q = preprocess(
            &format!(
                "Removing ice from car: Then, the man writes over the snow [title] covering the window 24. {}",
                python::capitalize("a person")
            ),
            &re,
        );
        assert_eq!(
            q,
            "Removing ice from car: Then, the man writes over the snow. covering the window 24. A person"
        );
        assert_eq!(preprocess(" a [x] b [header] c ", &re), "a b c");
        assert_eq!(preprocess("a   b", &re), "a  b");
    }
}
