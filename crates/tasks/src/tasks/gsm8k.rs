//! `gsm8k` (version 3.0): `openai/gsm8k` `main`, 5-shot from train (random, exactly k),
//! `Question: ...\nAnswer:`, the full solution as target; filters `strict-match` and
//! `flexible-extract`, each scored with `exact_match`.

use serde_json::{Map, Value, json};

use super::common::{Config, Loaded, keep_all};
use super::generation::{self, GenDoc};
use crate::TaskError;
use crate::data::{DataSource, Doc, Fields};
use crate::fewshot::Sampler;
use crate::filters::{ExactMatch, RegexFilter};
use crate::task::{
    Aggregation, FilterOutcome, MetricSpec, MetricValue, OutputType, PrepareOptions, PreparedDoc,
    Task,
};
use sparkbench_protocol::Response;

/// `strict-match`'s pattern.
pub const STRICT: &str = r"#### (\-?[0-9\.\,]+)";
/// `flexible-extract`'s pattern.
pub const FLEXIBLE: &str = r"(-?[$0-9.,]{2,})|(-?[0-9]+)";

/// The gsm8k task.
pub struct Gsm8k {
    loaded: Loaded,
    filters: Vec<(&'static str, RegexFilter)>,
    em: ExactMatch,
    yaml_kwargs: Map<String, Value>,
}

fn read(doc: &Doc, loc: &dyn Fn() -> String) -> Result<GenDoc, TaskError> {
    let f = Fields::new(doc, loc);
    Ok(GenDoc {
        text: format!("Question: {}\nAnswer:", f.str("question")?),
        target: f.str("answer")?.to_string(),
    })
}

fn yaml_kwargs() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("until".into(), json!(["Question:", "</s>", "<|im_end|>"]));
    m.insert("do_sample".into(), json!(false));
    m.insert("temperature".into(), json!(0.0));
    m
}

/// Load `gsm8k`.
pub fn load(data: &DataSource) -> Result<Gsm8k, TaskError> {
    let re_err = |e: regex::Error| TaskError::Other(e.to_string());
    let filter_list = json!([
        {"name": "strict-match", "filter": [{"function": "regex", "regex_pattern": STRICT}, {"function": "take_first"}]},
        {"name": "flexible-extract", "filter": [{"function": "regex", "group_select": -1, "regex_pattern": FLEXIBLE}, {"function": "take_first"}]}
    ]);
    let config = Config {
        name: "gsm8k".into(),
        alias: "gsm8k".into(),
        version: 3.0,
        dataset: "gsm8k",
        dataset_path: "openai/gsm8k",
        dataset_name: Some("main".into()),
        training_split: Some("train"),
        validation_split: None,
        test_split: Some("test"),
        fewshot_split: Some("train"),
        sampler: Sampler::Random,
        yaml_fewshot: Some(5),
        description: String::new(),
        output_type: "generate_until",
        templates: [
            (
                "doc_to_text",
                Value::from("Question: {{question}}\nAnswer:"),
            ),
            ("doc_to_target", Value::from("{{answer}}")),
            ("doc_to_choice", Value::Null),
        ],
        metric_list: json!([{
            "metric": "exact_match", "aggregation": "mean", "higher_is_better": true,
            "ignore_case": true, "ignore_punctuation": false,
            "regexes_to_ignore": [",", "\\$", "(?s).*#### ", "\\.$"]
        }]),
        generation_kwargs: Some(Value::Object(yaml_kwargs())),
        filter_list: Some(filter_list),
    };
    Ok(Gsm8k {
        loaded: Loaded::new(config, data, keep_all())?,
        filters: vec![
            ("strict-match", RegexFilter::new(STRICT, 0).map_err(re_err)?),
            (
                "flexible-extract",
                RegexFilter::new(FLEXIBLE, -1).map_err(re_err)?,
            ),
        ],
        em: ExactMatch::gsm8k().map_err(re_err)?,
        yaml_kwargs: yaml_kwargs(),
    })
}

impl Task for Gsm8k {
    fn name(&self) -> &str {
        "gsm8k"
    }
    fn alias(&self) -> &str {
        "gsm8k"
    }
    fn version(&self) -> f64 {
        3.0
    }
    fn output_type(&self) -> OutputType {
        OutputType::GenerateUntil
    }
    fn num_docs(&self) -> usize {
        self.loaded.eval.docs.len()
    }
    fn num_fewshot(&self, over: Option<usize>) -> usize {
        self.loaded.config.num_fewshot(over)
    }
    fn metrics(&self) -> Vec<MetricSpec> {
        self.filters
            .iter()
            .map(|(name, _)| MetricSpec {
                name: "exact_match".into(),
                filter: (*name).into(),
                aggregation: Aggregation::Mean,
                higher_is_better: true,
            })
            .collect()
    }
    fn config(&self, opts: &PrepareOptions<'_>) -> Value {
        self.loaded.config.to_json(opts)
    }
    fn data_hashes(&self) -> Vec<(String, String)> {
        self.loaded.data_hashes()
    }
    fn prepare(&self, opts: &PrepareOptions<'_>) -> Result<Vec<PreparedDoc>, TaskError> {
        generation::prepare(&self.loaded, opts, &self.yaml_kwargs, &read)
    }
    fn score(
        &self,
        doc: &PreparedDoc,
        responses: &[Response],
    ) -> Result<Vec<FilterOutcome>, TaskError> {
        let text = generation::single_text(self.name(), doc, responses)?;
        Ok(self
            .filters
            .iter()
            .map(|(name, filter)| {
                let extracted = filter.apply(text);
                let em = self.em.score(&extracted, &doc.target);
                FilterOutcome {
                    filter: (*name).into(),
                    filtered_resps: json!([extracted]),
                    metrics: vec![("exact_match".into(), MetricValue::Float(em))],
                }
            })
            .collect())
    }
}
