//! Shared test helpers: fake tasks (multiple choice and generation) that check every response
//! against the scripted model's answer for its own request, a recording model, an event sink.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Value, json};
use sparkbench_engine::{EventSink, LoadedTask, Plan, TaskNode};
use sparkbench_protocol::{
    CallCtx, Cancel, Capabilities, ChatTemplate, GenerateRequest, Generation, LanguageModel,
    Loglikelihood, LoglikelihoodRequest, ModelError, ModelInfo, ModelSource, Request, Response,
    RunEvent, RunSpec, TaskSelection,
};
use sparkbench_scripted::ScriptedModel;
use sparkbench_tasks::{
    Aggregation, FilterOutcome, MetricSpec, MetricValue, OutputType, PrepareOptions, PreparedDoc,
    Task, TaskError,
};

/// The reference answers: a fresh default scripted model (answers depend only on the request).
fn reference() -> ScriptedModel {
    ScriptedModel::from_json(&json!({})).expect("default script")
}

/// A multiple-choice task over `n` documents; documents `i` and `i + 3` ask the same question, so
/// their requests are identical (dedupe).
pub struct FakeMc {
    pub name: String,
    pub n: usize,
}

impl FakeMc {
    fn doc(&self, i: usize) -> Value {
        let q = i % 3;
        json!({"question": format!("{} question {q}: café «{q}»?", self.name), "choices": ["alpha", "beta", "gamma", "delta"], "gold": i % 4, "weight": 0.5 + i as f64})
    }
}

impl Task for FakeMc {
    fn name(&self) -> &str {
        &self.name
    }
    fn alias(&self) -> &str {
        &self.name
    }
    fn version(&self) -> f64 {
        1.0
    }
    fn output_type(&self) -> OutputType {
        OutputType::MultipleChoice
    }
    fn num_docs(&self) -> usize {
        self.n
    }
    fn num_fewshot(&self, o: Option<usize>) -> usize {
        o.unwrap_or(0)
    }
    fn metrics(&self) -> Vec<MetricSpec> {
        vec![
            MetricSpec {
                name: "acc".into(),
                filter: "none".into(),
                aggregation: Aggregation::Mean,
                higher_is_better: true,
            },
            MetricSpec {
                name: "acc_norm".into(),
                filter: "none".into(),
                aggregation: Aggregation::Mean,
                higher_is_better: true,
            },
        ]
    }
    fn config(&self, _opts: &PrepareOptions<'_>) -> Value {
        json!({"task": self.name, "output_type": "multiple_choice", "metadata": {"version": 1.0}})
    }
    fn data_hashes(&self) -> Vec<(String, String)> {
        vec![(format!("{}/test", self.name), "00ff".into())]
    }
    fn prepare(&self, opts: &PrepareOptions<'_>) -> Result<Vec<PreparedDoc>, TaskError> {
        let n = opts.limit.unwrap_or(self.n).min(self.n);
        Ok((0..n)
            .map(|i| {
                let doc = self.doc(i);
                let ctx = format!(
                    "Question: {}\nAnswer:",
                    doc["question"].as_str().unwrap_or_default()
                );
                let requests = ["alpha", "beta", "gamma", "delta"]
                    .iter()
                    .map(|c| {
                        Request::Loglikelihood(LoglikelihoodRequest {
                            context: ctx.clone(),
                            continuation: format!(" {c}"),
                        })
                    })
                    .collect();
                PreparedDoc {
                    doc_id: i,
                    target: (i % 4).to_string(),
                    doc,
                    requests,
                    gen_kwargs: None,
                }
            })
            .collect())
    }
    fn score(
        &self,
        doc: &PreparedDoc,
        responses: &[Response],
    ) -> Result<Vec<FilterOutcome>, TaskError> {
        check_responses(&self.name, doc, responses)?;
        let lls: Vec<f64> = responses
            .iter()
            .map(|r| match r {
                Response::Loglikelihood(l) => l.logprob,
                Response::Generation(_) => f64::NAN,
            })
            .collect();
        let gold = doc.doc["gold"].as_u64().unwrap_or(0) as usize;
        let argmax = |xs: &[f64]| {
            xs.iter()
                .enumerate()
                .fold(0, |b, (i, &x)| if x > xs[b] { i } else { b })
        };
        let lens = [5.0, 4.0, 5.0, 5.0];
        let norm: Vec<f64> = lls.iter().zip(lens).map(|(l, n)| l / n).collect();
        let resps = responses
            .iter()
            .map(|r| match r {
                Response::Loglikelihood(l) => json!([
                    sparkbench_tasks::python::float_repr(l.logprob),
                    if l.is_greedy { "True" } else { "False" }
                ]),
                Response::Generation(_) => Value::Null,
            })
            .collect();
        Ok(vec![FilterOutcome {
            filter: "none".into(),
            filtered_resps: Value::Array(resps),
            metrics: vec![
                (
                    "acc".into(),
                    MetricValue::Float(f64::from(u8::from(argmax(&lls) == gold))),
                ),
                (
                    "acc_norm".into(),
                    MetricValue::Float(f64::from(u8::from(argmax(&norm) == gold))),
                ),
            ],
        }])
    }
}

/// A generation task with two filters (gsm8k-like `#### n` extraction).
pub struct FakeGen {
    pub n: usize,
}

impl Task for FakeGen {
    fn name(&self) -> &str {
        "fake_gen"
    }
    fn alias(&self) -> &str {
        "fake_gen"
    }
    fn version(&self) -> f64 {
        3.0
    }
    fn output_type(&self) -> OutputType {
        OutputType::GenerateUntil
    }
    fn num_docs(&self) -> usize {
        self.n
    }
    fn num_fewshot(&self, o: Option<usize>) -> usize {
        o.unwrap_or(5)
    }
    fn metrics(&self) -> Vec<MetricSpec> {
        ["strict-match", "flexible-extract"]
            .iter()
            .map(|f| MetricSpec {
                name: "exact_match".into(),
                filter: (*f).into(),
                aggregation: Aggregation::Mean,
                higher_is_better: true,
            })
            .collect()
    }
    fn config(&self, _opts: &PrepareOptions<'_>) -> Value {
        json!({"task": "fake_gen", "output_type": "generate_until"})
    }
    fn data_hashes(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn prepare(&self, opts: &PrepareOptions<'_>) -> Result<Vec<PreparedDoc>, TaskError> {
        let n = opts.limit.unwrap_or(self.n).min(self.n);
        let kwargs = json!({"until": ["Question:"], "do_sample": false});
        (0..n)
            .map(|i| {
                let question = format!("Question: what is {i} + {i}?\nAnswer:");
                let context = match opts.chat_template {
                    Some(t) => t.render(
                        &[sparkbench_protocol::ChatMessage::new(
                            sparkbench_protocol::Role::User,
                            question.clone(),
                        )],
                        true,
                        false,
                    )?,
                    None => question.clone(),
                };
                Ok(PreparedDoc {
                    doc_id: i,
                    doc: json!({"question": question, "answer": format!("#### {}", (i * 2) % 100)}),
                    target: format!("#### {}", (i * 2) % 100),
                    requests: vec![Request::Generate(GenerateRequest {
                        context,
                        until: vec!["Question:".into()],
                        max_gen_toks: 256,
                    })],
                    gen_kwargs: Some(kwargs.clone()),
                })
            })
            .collect()
    }
    fn score(
        &self,
        doc: &PreparedDoc,
        responses: &[Response],
    ) -> Result<Vec<FilterOutcome>, TaskError> {
        check_responses("fake_gen", doc, responses)?;
        let text = match &responses[0] {
            Response::Generation(g) => g.text.clone(),
            Response::Loglikelihood(_) => String::new(),
        };
        let want = doc.target.trim_start_matches("#### ").to_string();
        let strict = text
            .split("#### ")
            .nth(1)
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| "[invalid]".into());
        let flexible = text
            .split(|c: char| !c.is_ascii_digit())
            .rfind(|s| !s.is_empty())
            .unwrap_or("[invalid]")
            .to_string();
        Ok([("strict-match", strict), ("flexible-extract", flexible)]
            .into_iter()
            .map(|(f, got)| FilterOutcome {
                filter: f.into(),
                filtered_resps: json!([got]),
                metrics: vec![(
                    "exact_match".into(),
                    MetricValue::Float(f64::from(u8::from(got == want))),
                )],
            })
            .collect())
    }
}

/// Fail scoring when a response is not the reference answer to its own request: this is how
/// the tests see that answers come back in request order after batching and dedupe.
fn check_responses(task: &str, doc: &PreparedDoc, responses: &[Response]) -> Result<(), TaskError> {
    let bad = |message: String| TaskError::Responses {
        task: task.into(),
        doc: doc.doc_id,
        message,
    };
    if responses.len() != doc.requests.len() {
        return Err(bad(format!(
            "{} responses for {} requests",
            responses.len(),
            doc.requests.len()
        )));
    }
    let r = reference();
    for (q, a) in doc.requests.iter().zip(responses) {
        let ok = match (q, a) {
            (Request::Loglikelihood(q), Response::Loglikelihood(a)) => {
                r.answer_loglikelihood(q) == *a
            }
            (Request::Generate(q), Response::Generation(a)) => r.answer_generate(q) == *a,
            _ => false,
        };
        if !ok {
            return Err(bad(format!("response {a:?} does not answer {q:?}")));
        }
    }
    Ok(())
}

/// A scripted model that records every request it is sent and how many per call.
pub struct Recording {
    pub inner: ScriptedModel,
    pub seen: Vec<Request>,
    pub calls: Vec<usize>,
}

impl Recording {
    pub fn new(script: Value) -> Self {
        Self {
            inner: ScriptedModel::from_json(&script).expect("script"),
            seen: Vec::new(),
            calls: Vec::new(),
        }
    }
}

impl LanguageModel for Recording {
    fn info(&self) -> ModelInfo {
        self.inner.info()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn loglikelihood(
        &mut self,
        requests: &[LoglikelihoodRequest],
        cx: &CallCtx<'_>,
    ) -> Result<Vec<Loglikelihood>, ModelError> {
        self.calls.push(requests.len());
        self.seen
            .extend(requests.iter().cloned().map(Request::Loglikelihood));
        self.inner.loglikelihood(requests, cx)
    }
    fn generate(
        &mut self,
        requests: &[GenerateRequest],
        cx: &CallCtx<'_>,
    ) -> Result<Vec<Generation>, ModelError> {
        self.calls.push(requests.len());
        self.seen
            .extend(requests.iter().cloned().map(Request::Generate));
        self.inner.generate(requests, cx)
    }
    fn chat_template(&self) -> Option<&dyn ChatTemplate> {
        self.inner.chat_template()
    }
}

/// Collects events; optionally sets `cancel` after the `cancel_after`-th progress event.
pub struct Sink {
    pub events: Mutex<Vec<RunEvent>>,
    pub cancel: Cancel,
    pub cancel_after: Option<usize>,
}

impl Sink {
    pub fn new() -> Self {
        Self {
            events: Mutex::new(Vec::new()),
            cancel: Cancel::new(),
            cancel_after: None,
        }
    }
    pub fn cancelling_after(n: usize) -> Self {
        Self {
            cancel_after: Some(n),
            ..Self::new()
        }
    }
    pub fn events(&self) -> Vec<RunEvent> {
        self.events.lock().expect("lock").clone()
    }
}

impl EventSink for Sink {
    fn emit(&self, event: RunEvent) {
        let mut ev = self.events.lock().expect("lock");
        ev.push(event);
        let progress = ev
            .iter()
            .filter(|e| matches!(e, RunEvent::Progress { .. }))
            .count();
        if self.cancel_after.is_some_and(|n| progress >= n) {
            self.cancel.set();
        }
    }
}

pub fn spec(out: &Path, batch_size: usize) -> RunSpec {
    RunSpec {
        label: "fake".into(),
        model: ModelSource::Scripted { script: json!({}) },
        tasks: vec![
            TaskSelection::named("mc_a"),
            TaskSelection::named("fake_gen"),
        ],
        suite: None,
        limit: None,
        num_fewshot: None,
        fewshot_seed: 1234,
        apply_chat_template: false,
        fewshot_as_multiturn: None,
        system_instruction: None,
        gen_kwargs: BTreeMap::new(),
        batch_size,
        max_length: None,
        dtype: None,
        device: None,
        data_dir: None,
        output_dir: out.to_path_buf(),
        concurrency: None,
        approximate_loglikelihood: false,
    }
}

/// Group `fake_group` over two multiple-choice tasks, plus the generation task.
pub fn plan() -> Plan {
    let leaf = |n: &str| TaskNode::Leaf { name: n.into() };
    Plan {
        tasks: vec![
            LoadedTask {
                task: Box::new(FakeMc {
                    name: "mc_a".into(),
                    n: 10,
                }),
                limit: None,
                num_fewshot: None,
            },
            LoadedTask {
                task: Box::new(FakeMc {
                    name: "mc_b".into(),
                    n: 7,
                }),
                limit: None,
                num_fewshot: None,
            },
            LoadedTask {
                task: Box::new(FakeGen { n: 9 }),
                limit: None,
                num_fewshot: None,
            },
        ],
        tree: vec![
            TaskNode::Group {
                name: "fake_group".into(),
                alias: "fake_group".into(),
                version: "2".into(),
                children: vec![leaf("mc_a"), leaf("mc_b")],
            },
            leaf("fake_gen"),
        ],
    }
}

/// Files in `dir` whose name starts with `prefix`.
pub fn files_with_prefix(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("ls")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    v.sort();
    v
}

/// The results JSON without the fields that legitimately differ between runs.
pub fn comparable_results(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("read results");
    let mut v: Value = serde_json::from_str(&text).expect("results json");
    let o = v.as_object_mut().expect("object");
    o.remove("date");
    o.remove("total_evaluation_time_seconds");
    if let Some(c) = o.get_mut("config").and_then(Value::as_object_mut) {
        c.remove("batch_size");
    }
    v
}
