//! The generation task shape shared by gsm8k and ifeval: one `generate_until` request per
//! document with the merged generation kwargs, and the checks on the answers.

use serde_json::{Map, Value};
use sparkbench_protocol::{GenerateRequest, Request, Response};

use super::common::Loaded;
use crate::TaskError;
use crate::data::Doc;
use crate::gen_kwargs;
use crate::prompt::Shot;
use crate::task::{PrepareOptions, PreparedDoc};

/// What a generation task says about one document.
pub struct GenDoc {
    /// `doc_to_text`.
    pub text: String,
    /// `doc_to_target` (the few-shot answer).
    pub target: String,
}

/// Reads a document as a generation task sees it (`loc` names it in errors).
pub type ReadFn<'a> = dyn Fn(&Doc, &dyn Fn() -> String) -> Result<GenDoc, TaskError> + 'a;

/// Build the requests of the first `limit` documents.
pub fn prepare(
    loaded: &Loaded,
    opts: &PrepareOptions<'_>,
    yaml_kwargs: &Map<String, Value>,
    read: &ReadFn<'_>,
) -> Result<Vec<PreparedDoc>, TaskError> {
    let kwargs = gen_kwargs::merge(yaml_kwargs, opts.gen_kwargs);
    let (until, max_gen_toks) = gen_kwargs::request_fields(&kwargs)?;
    let shots = loaded.shots_per_doc(opts, &|d, loc| {
        let g = read(d, loc)?;
        Ok(Shot {
            q: g.text,
            a: g.target,
        })
    })?;
    let mut out = Vec::with_capacity(shots.len());
    for (i, shots) in shots.iter().enumerate() {
        let doc = &loaded.eval.docs[i];
        let g = read(doc, &|| loaded.eval.location(i))?;
        let context = loaded.context(opts, shots, &g.text)?;
        out.push(PreparedDoc {
            doc_id: i,
            doc: Value::Object(doc.clone()),
            target: g.target,
            requests: vec![Request::Generate(GenerateRequest {
                context,
                until: until.clone(),
                max_gen_toks,
            })],
            gen_kwargs: Some(Value::Object(kwargs.clone())),
        });
    }
    Ok(out)
}

/// The one generated text of a document.
pub fn single_text<'a>(
    task: &str,
    doc: &PreparedDoc,
    responses: &'a [Response],
) -> Result<&'a str, TaskError> {
    let bad = |message: String| TaskError::Responses {
        task: task.to_string(),
        doc: doc.doc_id,
        message,
    };
    match responses {
        [Response::Generation(g)] => Ok(&g.text),
        [_] => Err(bad("a loglikelihood answered a generation request".into())),
        other => Err(bad(format!("expected 1 response, got {}", other.len()))),
    }
}
