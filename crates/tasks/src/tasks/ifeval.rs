//! `ifeval` (version 4.0): `google/IFEval` `train` (541 prompts), the raw prompt, 0-shot
//! always, `until: []` (the backend adds EOS), `max_gen_toks: 1280`; four metrics from
//! `sparkbench-ifeval`: prompt-level strict/loose (mean) and instruction-level strict/loose
//! (micro average, stderr "N/A").

use serde_json::{Map, Value, json};
use sparkbench_protocol::Response;

use super::common::{Config, Loaded, keep_all};
use super::generation::{self, GenDoc};
use crate::TaskError;
use crate::data::{DataSource, Doc, Fields};
use crate::fewshot::Sampler;
use crate::task::{
    Aggregation, FilterOutcome, MetricSpec, MetricValue, OutputType, PrepareOptions, PreparedDoc,
    Task,
};

/// The ifeval task.
pub struct Ifeval {
    loaded: Loaded,
    yaml_kwargs: Map<String, Value>,
}

fn yaml_kwargs() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("until".into(), json!([]));
    m.insert("do_sample".into(), json!(false));
    m.insert("temperature".into(), json!(0.0));
    m.insert("max_gen_toks".into(), json!(1280));
    m
}

fn read(doc: &Doc, loc: &dyn Fn() -> String) -> Result<GenDoc, TaskError> {
    let f = Fields::new(doc, loc);
    Ok(GenDoc {
        text: f.str("prompt")?.to_string(),
        target: "0".into(),
    })
}

/// `instruction_id_list` and the matching `kwargs` maps.
type Instructions = (Vec<String>, Vec<Map<String, Value>>);

/// `instruction_id_list` and `kwargs` of a document.
fn instructions(doc: &Doc, loc: &dyn Fn() -> String) -> Result<Instructions, TaskError> {
    let f = Fields::new(doc, loc);
    let ids: Vec<String> = f
        .str_list("instruction_id_list")?
        .into_iter()
        .map(String::from)
        .collect();
    let kwargs = f.get("kwargs")?;
    let list = kwargs
        .as_array()
        .ok_or_else(|| f.invalid("kwargs", "expected a list of objects"))?;
    let kwargs = list
        .iter()
        .map(|k| match k {
            Value::Object(m) => Ok(m.clone()),
            Value::Null => Ok(Map::new()),
            other => Err(f.invalid(
                "kwargs",
                format!("expected a list of objects, found an element {other}"),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((ids, kwargs))
}

/// Load `ifeval`.
pub fn load(data: &DataSource) -> Result<Ifeval, TaskError> {
    let metric = |name: &str, agg: &str| json!({"metric": name, "aggregation": agg, "higher_is_better": true});
    let config = Config {
        name: "ifeval".into(),
        alias: "ifeval".into(),
        version: 4.0,
        dataset: "ifeval",
        dataset_path: "google/IFEval",
        dataset_name: None,
        training_split: None,
        validation_split: None,
        test_split: Some("train"),
        fewshot_split: None,
        sampler: Sampler::Random,
        yaml_fewshot: Some(0),
        description: String::new(),
        output_type: "generate_until",
        templates: [
            ("doc_to_text", Value::from("prompt")),
            ("doc_to_target", Value::from(0)),
            ("doc_to_choice", Value::Null),
        ],
        metric_list: json!([
            metric("prompt_level_strict_acc", "mean"),
            metric(
                "inst_level_strict_acc",
                "def agg_inst_level_acc(items):\n    flat_items = [item for sublist in items for item in sublist]\n    inst_level_acc = sum(flat_items) / len(flat_items)\n    return inst_level_acc\n"
            ),
            metric("prompt_level_loose_acc", "mean"),
            metric(
                "inst_level_loose_acc",
                "def agg_inst_level_acc(items):\n    flat_items = [item for sublist in items for item in sublist]\n    inst_level_acc = sum(flat_items) / len(flat_items)\n    return inst_level_acc\n"
            ),
        ]),
        generation_kwargs: Some(Value::Object(yaml_kwargs())),
        filter_list: None,
    };
    let loaded = Loaded::new(config, data, keep_all())?;
    // Check every record's instruction fields up front, so a bad record fails at load with its line.
    for (i, doc) in loaded.eval.docs.iter().enumerate() {
        let loc = || loaded.eval.location(i);
        read(doc, &loc)?;
        instructions(doc, &loc)?;
    }
    Ok(Ifeval {
        loaded,
        yaml_kwargs: yaml_kwargs(),
    })
}

impl Task for Ifeval {
    fn name(&self) -> &str {
        "ifeval"
    }
    fn alias(&self) -> &str {
        "ifeval"
    }
    fn version(&self) -> f64 {
        4.0
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
        [
            ("prompt_level_strict_acc", Aggregation::Mean),
            ("inst_level_strict_acc", Aggregation::InstLevel),
            ("prompt_level_loose_acc", Aggregation::Mean),
            ("inst_level_loose_acc", Aggregation::InstLevel),
        ]
        .into_iter()
        .map(|(name, aggregation)| MetricSpec {
            name: name.into(),
            filter: "none".into(),
            aggregation,
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
        let map = doc.doc.as_object().ok_or_else(|| TaskError::Responses {
            task: "ifeval".into(),
            doc: doc.doc_id,
            message: "the prepared document is not an object".into(),
        })?;
        let loc = || format!("ifeval doc {}", doc.doc_id);
        let (ids, kwargs) = instructions(map, &loc)?;
        let outcome =
            sparkbench_ifeval::evaluate(text, &ids, &kwargs).map_err(|e| TaskError::Data {
                location: loc(),
                message: e.to_string(),
            })?;
        let all = |v: &[bool]| v.iter().all(|&b| b);
        Ok(vec![FilterOutcome {
            filter: "none".into(),
            filtered_resps: json!([text]),
            metrics: vec![
                (
                    "prompt_level_strict_acc".into(),
                    MetricValue::Bool(all(&outcome.strict)),
                ),
                (
                    "inst_level_strict_acc".into(),
                    MetricValue::BoolList(outcome.strict.clone()),
                ),
                (
                    "prompt_level_loose_acc".into(),
                    MetricValue::Bool(all(&outcome.loose)),
                ),
                (
                    "inst_level_loose_acc".into(),
                    MetricValue::BoolList(outcome.loose),
                ),
            ],
        }])
    }
}
