//! `samples_<task>_<date_id>.jsonl` lines (lm-eval spec section 6.3) from journal records, and
//! the `task_hashes` entry computed over them.

use serde_json::{Map, Value, json};
use sparkbench_protocol::{Request, Response};
use sparkbench_tasks::{MetricValue, python};

use crate::journal::DocRecord;
use crate::pyjson::{dumps_indent2, sha256_hex};
use crate::results::TaskRecords;

fn metric_json(v: &MetricValue) -> Value {
    match v {
        MetricValue::Bool(b) => Value::Bool(*b),
        MetricValue::Float(x) => json!(x),
        MetricValue::BoolList(b) => json!(b),
    }
}

/// The samples-file lines of one task: filter-major (every document under the first filter,
/// then the next), as lm-eval logs them.
pub fn sample_lines(task: &TaskRecords) -> Vec<Value> {
    let mut filters: Vec<String> = Vec::new();
    for m in &task.meta.metrics {
        if !filters.contains(&m.filter) {
            filters.push(m.filter.clone());
        }
    }
    let mut lines = Vec::new();
    for filter in &filters {
        for rec in &task.records {
            if let Some(line) = sample_line(rec, filter) {
                lines.push(line);
            }
        }
    }
    lines
}

fn sample_line(rec: &DocRecord, filter: &str) -> Option<Value> {
    let outcome = rec.outcomes.iter().find(|o| o.filter == filter)?;
    let mut arguments = Map::new();
    for (i, req) in rec.requests.iter().enumerate() {
        let args = match req {
            Request::Loglikelihood(r) => json!({"arg_0": r.context, "arg_1": r.continuation}),
            Request::Generate(r) => {
                let kwargs = rec
                    .gen_kwargs
                    .clone()
                    .unwrap_or_else(|| json!({"until": r.until, "max_gen_toks": r.max_gen_toks}));
                json!({"arg_0": r.context, "arg_1": kwargs})
            }
        };
        arguments.insert(format!("gen_args_{i}"), args);
    }
    let resps: Vec<Value> = rec
        .responses
        .iter()
        .map(|r| match r {
            Response::Loglikelihood(l) => {
                json!([[python::float_repr(l.logprob), python::bool_str(l.is_greedy)]])
            }
            Response::Generation(g) => json!([g.text]),
        })
        .collect();
    let prompt = match rec.requests.first() {
        Some(Request::Loglikelihood(r)) => r.context.as_str(),
        Some(Request::Generate(r)) => r.context.as_str(),
        None => "",
    };
    let mut line = Map::new();
    line.insert("doc_id".into(), json!(rec.doc_id));
    line.insert("doc".into(), rec.doc.clone());
    line.insert("target".into(), json!(rec.target));
    line.insert("arguments".into(), Value::Object(arguments));
    line.insert("resps".into(), Value::Array(resps));
    line.insert("filtered_resps".into(), outcome.filtered_resps.clone());
    line.insert("filter".into(), json!(filter));
    line.insert(
        "metrics".into(),
        json!(outcome.metrics.iter().map(|(n, _)| n).collect::<Vec<_>>()),
    );
    line.insert(
        "doc_hash".into(),
        json!(sha256_hex(&dumps_indent2(&rec.doc))),
    );
    line.insert("prompt_hash".into(), json!(sha256_hex(prompt)));
    line.insert("target_hash".into(), json!(sha256_hex(&rec.target)));
    for (name, v) in &outcome.metrics {
        line.insert(name.clone(), metric_json(v));
    }
    Some(Value::Object(line))
}

/// `task_hashes[task]`: sha256 over `doc_hash + prompt_hash + target_hash` of every line.
pub fn task_hash(lines: &[Value]) -> String {
    let mut joined = String::new();
    for l in lines {
        for key in ["doc_hash", "prompt_hash", "target_hash"] {
            joined.push_str(l.get(key).and_then(Value::as_str).unwrap_or(""));
        }
    }
    sha256_hex(&joined)
}
