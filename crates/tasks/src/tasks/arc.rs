//! `arc_easy` and `arc_challenge` (version 1.0): `allenai/ai2_arc`, evaluated on test, few-shot
//! from train (random, exactly k), gold = `choices.label.index(answerKey)`.

use serde_json::Value;

use super::common::{Config, Loaded, keep_all};
use super::mc::{Ask, McDoc, McFormat, McMetrics, McTask, metric_list};
use crate::TaskError;
use crate::data::{DataSource, Doc, Fields};
use crate::fewshot::Sampler;

struct Format;

impl McFormat for Format {
    fn build(&self, doc: &Doc, loc: &dyn Fn() -> String) -> Result<McDoc, TaskError> {
        let f = Fields::new(doc, loc);
        let choices_obj = f.object("choices")?;
        let c = Fields::new(choices_obj, loc);
        let texts: Vec<String> = c.str_list("text")?.into_iter().map(String::from).collect();
        let labels = c.str_list("label")?;
        let key = f.str("answerKey")?;
        let gold = labels.iter().position(|l| *l == key).ok_or_else(|| {
            f.invalid(
                "answerKey",
                format!("{key:?} is not one of the choice labels {labels:?}"),
            )
        })?;
        if gold >= texts.len() {
            return Err(f.invalid(
                "choices",
                format!("{} labels but {} texts", labels.len(), texts.len()),
            ));
        }
        Ok(McDoc {
            ask: Ask::Query(format!("Question: {}\nAnswer:", f.str("question")?)),
            choices: texts,
            gold,
            labels: None,
        })
    }
}

/// Load `arc_easy` (`challenge` false) or `arc_challenge`.
pub fn load(data: &DataSource, challenge: bool) -> Result<McTask, TaskError> {
    let (name, dataset, config_name) = if challenge {
        ("arc_challenge", "arc_challenge", "ARC-Challenge")
    } else {
        ("arc_easy", "arc_easy", "ARC-Easy")
    };
    let config = Config {
        name: name.into(),
        alias: name.into(),
        version: 1.0,
        dataset,
        dataset_path: "allenai/ai2_arc",
        dataset_name: Some(config_name.into()),
        training_split: Some("train"),
        validation_split: Some("validation"),
        test_split: Some("test"),
        fewshot_split: None,
        sampler: Sampler::Random,
        yaml_fewshot: None,
        description: String::new(),
        output_type: "multiple_choice",
        templates: [
            (
                "doc_to_text",
                Value::from("Question: {{question}}\nAnswer:"),
            ),
            (
                "doc_to_target",
                Value::from("{{choices.label.index(answerKey)}}"),
            ),
            ("doc_to_choice", Value::from("{{choices.text}}")),
        ],
        metric_list: metric_list(McMetrics::AccNorm),
        generation_kwargs: None,
        filter_list: None,
    };
    Ok(McTask {
        loaded: Loaded::new(config, data, keep_all())?,
        format: Box::new(Format),
        metrics: McMetrics::AccNorm,
    })
}
