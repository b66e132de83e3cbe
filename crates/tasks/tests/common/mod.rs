//! Helpers shared by the integration tests: the real data folder (`SPARKBENCH_TEST_DATA`),
//! raw JSONL rows, default prepare options, and a transparent chat template.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value};
use sparkbench_protocol::{ChatMessage, ChatTemplate, ChatTemplateError, Request, Role};
use sparkbench_tasks::{DataSource, PrepareOptions};

/// The real data folder, or `None` (with the reason printed) when it is absent.
pub fn real_data() -> Option<PathBuf> {
    let dir = std::env::var_os("SPARKBENCH_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    if dir.join("gsm8k").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: no benchmark data at {} (set SPARKBENCH_TEST_DATA)",
            dir.display()
        );
        None
    }
}

/// A local-only data source over `dir`.
pub fn source(dir: &std::path::Path) -> DataSource {
    DataSource::local(dir)
}

/// Raw rows of `<dataset>/<split>.jsonl`.
pub fn rows(dir: &std::path::Path, dataset: &str, split: &str) -> Vec<Map<String, Value>> {
    let text = std::fs::read_to_string(dir.join(dataset).join(format!("{split}.jsonl")))
        .expect("read data");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

/// String field of a row.
pub fn s<'a>(row: &'a Map<String, Value>, field: &str) -> &'a str {
    row[field].as_str().expect("string field")
}

/// An empty gen-kwargs map.
pub fn no_kwargs() -> &'static BTreeMap<String, Value> {
    static EMPTY: std::sync::OnceLock<BTreeMap<String, Value>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(BTreeMap::new)
}

/// Plain-text options with `limit` and a few-shot override.
pub fn opts(limit: usize, num_fewshot: Option<usize>) -> PrepareOptions<'static> {
    PrepareOptions {
        limit: Some(limit),
        num_fewshot,
        fewshot_seed: 1234,
        chat_template: None,
        fewshot_as_multiturn: false,
        system_instruction: None,
        gen_kwargs: no_kwargs(),
    }
}

/// (context, continuation) of a loglikelihood request.
pub fn ll(r: &Request) -> (&str, &str) {
    match r {
        Request::Loglikelihood(l) => (&l.context, &l.continuation),
        Request::Generate(_) => panic!("expected a loglikelihood request"),
    }
}

/// `<role>content</role>` per message, `<assistant>` for the generation prompt; rejects
/// system messages when `no_system`.
pub struct TagTemplate {
    pub no_system: bool,
}

impl ChatTemplate for TagTemplate {
    fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
        _c: bool,
    ) -> Result<String, ChatTemplateError> {
        let mut out = String::new();
        for m in messages {
            let role = match m.role {
                Role::System if self.no_system => {
                    return Err(ChatTemplateError::Render(
                        "System role not supported".into(),
                    ));
                }
                Role::System => "system",
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            out.push_str(&format!("<{role}>{}</{role}>", m.content));
        }
        if add_generation_prompt {
            out.push_str("<assistant>");
        }
        Ok(out)
    }
    fn source(&self) -> Option<String> {
        None
    }
}
