//! `winogrande` (version 1.0): `allenai/winogrande` `winogrande_xl`, evaluated on validation.
//! A multiple-input task: the context is the sentence up to `_` with each option filled in,
//! the continuation the shared rest of the sentence.

use serde_json::Value;

use super::common::{Config, Loaded, keep_all};
use super::mc::{Ask, McDoc, McFormat, McMetrics, McTask, metric_list};
use crate::data::{DataSource, Doc, Fields};
use crate::fewshot::Sampler;
use crate::{TaskError, python};

struct Format;

impl McFormat for Format {
    fn build(&self, doc: &Doc, loc: &dyn Fn() -> String) -> Result<McDoc, TaskError> {
        let f = Fields::new(doc, loc);
        let sentence = f.str("sentence")?;
        let idx = sentence
            .find('_')
            .ok_or_else(|| f.invalid("sentence", "has no `_` blank"))?;
        let prefix = &sentence[..idx];
        let target = python::strip(&sentence[idx + 1..]).to_string();
        let choices = vec![
            format!("{prefix}{}", f.str("option1")?),
            format!("{prefix}{}", f.str("option2")?),
        ];
        let gold = match f.str("answer")? {
            "1" => 0,
            "2" => 1,
            other => {
                return Err(f.invalid(
                    "answer",
                    format!("expected \"1\" or \"2\", found {other:?}"),
                ));
            }
        };
        Ok(McDoc {
            ask: Ask::MultipleInput(target),
            choices,
            gold,
            labels: None,
        })
    }
}

/// Load `winogrande`.
pub fn load(data: &DataSource) -> Result<McTask, TaskError> {
    let config = Config {
        name: "winogrande".into(),
        alias: "winogrande".into(),
        version: 1.0,
        dataset: "winogrande",
        dataset_path: "allenai/winogrande",
        dataset_name: Some("winogrande_xl".into()),
        training_split: Some("train"),
        validation_split: Some("validation"),
        test_split: None,
        fewshot_split: None,
        sampler: Sampler::Random,
        yaml_fewshot: None,
        description: String::new(),
        output_type: "multiple_choice",
        templates: [
            (
                "doc_to_text",
                Value::from(
                    "def doc_to_text(doc):\n    answer_to_num = {\"1\": 0, \"2\": 1}\n    return answer_to_num[doc[\"answer\"]]\n",
                ),
            ),
            (
                "doc_to_target",
                Value::from(
                    "def doc_to_target(doc):\n    idx = doc[\"sentence\"].index(\"_\") + 1\n    return doc[\"sentence\"][idx:].strip()\n",
                ),
            ),
            (
                "doc_to_choice",
                Value::from(
                    "def doc_to_choice(doc):\n    idx = doc[\"sentence\"].index(\"_\")\n    options = [doc[\"option1\"], doc[\"option2\"]]\n    return [doc[\"sentence\"][:idx] + opt for opt in options]\n",
                ),
            ),
        ],
        metric_list: metric_list(McMetrics::Acc),
        generation_kwargs: None,
        filter_list: None,
    };
    Ok(McTask {
        loaded: Loaded::new(config, data, keep_all())?,
        format: Box::new(Format),
        metrics: McMetrics::Acc,
    })
}
