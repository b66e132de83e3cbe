//! `piqa` (version 1.0, `baber/piqa`) and `boolq` (SuperGLUE, version 2.0, `aps/super_glue`):
//! both evaluated on validation, few-shot from train drawing k+1.

use serde_json::Value;

use super::common::{Config, Loaded, keep_all};
use super::mc::{Ask, McDoc, McFormat, McMetrics, McTask, checked_gold, metric_list};
use crate::TaskError;
use crate::data::{DataSource, Doc, Fields};
use crate::fewshot::Sampler;

struct Piqa;

impl McFormat for Piqa {
    fn build(&self, doc: &Doc, loc: &dyn Fn() -> String) -> Result<McDoc, TaskError> {
        let f = Fields::new(doc, loc);
        let choices = vec![f.str("sol1")?.to_string(), f.str("sol2")?.to_string()];
        let gold = checked_gold(f.int("label")?, 2, "label", loc)?;
        Ok(McDoc {
            ask: Ask::Query(format!("Question: {}\nAnswer:", f.str("goal")?)),
            choices,
            gold,
            labels: None,
        })
    }
}

struct Boolq;

impl McFormat for Boolq {
    fn build(&self, doc: &Doc, loc: &dyn Fn() -> String) -> Result<McDoc, TaskError> {
        let f = Fields::new(doc, loc);
        let gold = checked_gold(f.int("label")?, 2, "label", loc)?;
        let q = format!(
            "{}\nQuestion: {}?\nAnswer:",
            f.str("passage")?,
            f.str("question")?
        );
        Ok(McDoc {
            ask: Ask::Query(q),
            choices: vec!["no".into(), "yes".into()],
            gold,
            labels: None,
        })
    }
}

fn config(
    name: &str,
    version: f64,
    dataset: &'static str,
    path: &'static str,
    ds_name: Option<&str>,
    templates: [(&'static str, Value); 3],
    m: McMetrics,
) -> Config {
    Config {
        name: name.into(),
        alias: name.into(),
        version,
        dataset,
        dataset_path: path,
        dataset_name: ds_name.map(String::from),
        training_split: Some("train"),
        validation_split: Some("validation"),
        test_split: None,
        fewshot_split: None,
        sampler: Sampler::Random,
        yaml_fewshot: None,
        description: String::new(),
        output_type: "multiple_choice",
        templates,
        metric_list: metric_list(m),
        generation_kwargs: None,
        filter_list: None,
    }
}

/// Load `piqa`.
pub fn load_piqa(data: &DataSource) -> Result<McTask, TaskError> {
    let templates = [
        ("doc_to_text", Value::from("Question: {{goal}}\nAnswer:")),
        ("doc_to_target", Value::from("label")),
        ("doc_to_choice", Value::from("{{[sol1, sol2]}}")),
    ];
    let cfg = config(
        "piqa",
        1.0,
        "piqa",
        "baber/piqa",
        None,
        templates,
        McMetrics::AccNorm,
    );
    Ok(McTask {
        loaded: Loaded::new(cfg, data, keep_all())?,
        format: Box::new(Piqa),
        metrics: McMetrics::AccNorm,
    })
}

/// Load `boolq`.
pub fn load_boolq(data: &DataSource) -> Result<McTask, TaskError> {
    let templates = [
        (
            "doc_to_text",
            Value::from("{{passage}}\nQuestion: {{question}}?\nAnswer:"),
        ),
        ("doc_to_target", Value::from("label")),
        ("doc_to_choice", serde_json::json!(["no", "yes"])),
    ];
    let cfg = config(
        "boolq",
        2.0,
        "boolq",
        "aps/super_glue",
        Some("boolq"),
        templates,
        McMetrics::Acc,
    );
    Ok(McTask {
        loaded: Loaded::new(cfg, data, keep_all())?,
        format: Box::new(Boolq),
        metrics: McMetrics::Acc,
    })
}
