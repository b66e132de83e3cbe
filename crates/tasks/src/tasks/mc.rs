//! The multiple-choice task shape shared by hellaswag, mmlu, arc, winogrande, truthfulqa, piqa
//! and boolq: one loglikelihood request per choice, `acc` (and `acc_norm`, or TruthfulQA's
//! `mc2`), `filtered_resps` as lm-eval writes them (`[["-1.23", "False"], ...]`).

use serde_json::{Value, json};
use sparkbench_protocol::{LoglikelihoodRequest, Request, Response};

use super::common::Loaded;
use crate::data::Doc;
use crate::prompt::{DEFAULT_DELIMITERS, Shot};
use crate::task::{
    Aggregation, FilterOutcome, MetricSpec, MetricValue, OutputType, PrepareOptions, PreparedDoc,
    Task,
};
use crate::{TaskError, metrics, python};

/// What a document asks.
pub enum Ask {
    /// `doc_to_text` is a string: context = prompt + query, continuation = delimiter + choice.
    Query(String),
    /// `doc_to_text` is the gold index (Winogrande): context = prompt + choice,
    /// continuation = delimiter + this shared target.
    MultipleInput(String),
}

/// One document in multiple-choice terms.
pub struct McDoc {
    /// What is asked.
    pub ask: Ask,
    /// `doc_to_choice`.
    pub choices: Vec<String>,
    /// The gold index.
    pub gold: usize,
    /// TruthfulQA mc2 labels.
    pub labels: Option<Vec<i64>>,
}

impl McDoc {
    /// `str(doc_to_target(doc))`.
    pub fn target(&self) -> String {
        match &self.ask {
            Ask::Query(_) => self.gold.to_string(),
            Ask::MultipleInput(t) => t.clone(),
        }
    }

    /// The document as a few-shot example.
    pub fn shot(&self) -> Shot {
        let gold = self.choices.get(self.gold).cloned().unwrap_or_default();
        match &self.ask {
            Ask::Query(q) => Shot {
                q: q.clone(),
                a: gold,
            },
            Ask::MultipleInput(t) => Shot {
                q: gold,
                a: t.clone(),
            },
        }
    }
}

/// Per-task document formatting.
pub trait McFormat: Send + Sync {
    /// Read a processed document (`loc` names it in errors).
    fn build(&self, doc: &Doc, loc: &dyn Fn() -> String) -> Result<McDoc, TaskError>;
}

/// Which metrics a multiple-choice task reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McMetrics {
    /// `acc`.
    Acc,
    /// `acc`, `acc_norm`.
    AccNorm,
    /// TruthfulQA mc2: `acc` is the normalised true mass.
    Mc2,
}

/// A multiple-choice task.
pub struct McTask {
    /// Config and data.
    pub loaded: Loaded,
    /// Formatting.
    pub format: Box<dyn McFormat>,
    /// Metrics.
    pub metrics: McMetrics,
}

/// Check that `gold` indexes `choices`.
pub fn checked_gold(
    gold: i64,
    n: usize,
    field: &str,
    loc: &dyn Fn() -> String,
) -> Result<usize, TaskError> {
    if gold < 0 || gold as usize >= n {
        return Err(TaskError::Data {
            location: format!("{}, field `{field}`", loc()),
            message: format!("gold index {gold} is out of range for {n} choices"),
        });
    }
    Ok(gold as usize)
}

/// `metric_list` for `configs`.
pub fn metric_list(m: McMetrics) -> Value {
    let one = |name: &str| json!({"metric": name, "aggregation": "mean", "higher_is_better": true});
    match m {
        McMetrics::Acc | McMetrics::Mc2 => json!([one("acc")]),
        McMetrics::AccNorm => json!([one("acc"), one("acc_norm")]),
    }
}

impl Task for McTask {
    fn name(&self) -> &str {
        &self.loaded.config.name
    }
    fn alias(&self) -> &str {
        &self.loaded.config.alias
    }
    fn version(&self) -> f64 {
        self.loaded.config.version
    }
    fn output_type(&self) -> OutputType {
        OutputType::MultipleChoice
    }
    fn num_docs(&self) -> usize {
        self.loaded.eval.docs.len()
    }
    fn num_fewshot(&self, over: Option<usize>) -> usize {
        self.loaded.config.num_fewshot(over)
    }
    fn metrics(&self) -> Vec<MetricSpec> {
        let spec = |name: &str| MetricSpec {
            name: name.into(),
            filter: "none".into(),
            aggregation: Aggregation::Mean,
            higher_is_better: true,
        };
        match self.metrics {
            McMetrics::Acc | McMetrics::Mc2 => vec![spec("acc")],
            McMetrics::AccNorm => vec![spec("acc"), spec("acc_norm")],
        }
    }
    fn config(&self, opts: &PrepareOptions<'_>) -> Value {
        self.loaded.config.to_json(opts)
    }
    fn data_hashes(&self) -> Vec<(String, String)> {
        self.loaded.data_hashes()
    }

    fn prepare(&self, opts: &PrepareOptions<'_>) -> Result<Vec<PreparedDoc>, TaskError> {
        let fmt = &*self.format;
        let shots = self
            .loaded
            .shots_per_doc(opts, &|d, loc| Ok(fmt.build(d, loc)?.shot()))?;
        // Under a chat template HEAD's continuation delimiter is "" (no task here has a gen_prefix).
        let delim = if opts.chat_template.is_some() {
            ""
        } else {
            DEFAULT_DELIMITERS.target
        };
        let mut out = Vec::with_capacity(shots.len());
        for (i, shots) in shots.iter().enumerate() {
            let doc = &self.loaded.eval.docs[i];
            let mc = fmt.build(doc, &|| self.loaded.eval.location(i))?;
            let requests = match &mc.ask {
                Ask::Query(q) => {
                    let context = self.loaded.context(opts, shots, q)?;
                    mc.choices
                        .iter()
                        .map(|c| {
                            Request::Loglikelihood(LoglikelihoodRequest {
                                context: context.clone(),
                                continuation: format!("{delim}{c}"),
                            })
                        })
                        .collect()
                }
                Ask::MultipleInput(target) => mc
                    .choices
                    .iter()
                    .map(|c| {
                        Ok(Request::Loglikelihood(LoglikelihoodRequest {
                            context: self.loaded.context(opts, shots, c)?,
                            continuation: format!("{delim}{target}"),
                        }))
                    })
                    .collect::<Result<Vec<_>, TaskError>>()?,
            };
            out.push(PreparedDoc {
                doc_id: i,
                doc: Value::Object(doc.clone()),
                target: mc.target(),
                requests,
                gen_kwargs: None,
            });
        }
        Ok(out)
    }

    fn score(
        &self,
        doc: &PreparedDoc,
        responses: &[Response],
    ) -> Result<Vec<FilterOutcome>, TaskError> {
        let bad = |message: String| TaskError::Responses {
            task: self.name().to_string(),
            doc: doc.doc_id,
            message,
        };
        let map = doc
            .doc
            .as_object()
            .ok_or_else(|| bad("the prepared document is not an object".into()))?;
        let mc = self
            .format
            .build(map, &|| format!("{} doc {}", self.name(), doc.doc_id))?;
        if responses.len() != mc.choices.len() {
            return Err(bad(format!(
                "{} responses for {} choices",
                responses.len(),
                mc.choices.len()
            )));
        }
        let mut lls = Vec::with_capacity(responses.len());
        let mut resps = Vec::with_capacity(responses.len());
        for r in responses {
            let Response::Loglikelihood(ll) = r else {
                return Err(bad("a generation answered a loglikelihood request".into()));
            };
            lls.push(ll.logprob);
            resps.push(json!([
                python::float_repr(ll.logprob),
                python::bool_str(ll.is_greedy)
            ]));
        }
        let metrics = match self.metrics {
            McMetrics::Acc => vec![(
                "acc".to_string(),
                MetricValue::Float(metrics::acc(&lls, mc.gold)),
            )],
            McMetrics::AccNorm => vec![
                (
                    "acc".to_string(),
                    MetricValue::Float(metrics::acc(&lls, mc.gold)),
                ),
                (
                    "acc_norm".to_string(),
                    MetricValue::Float(metrics::acc_norm(&lls, &mc.choices, mc.gold)),
                ),
            ],
            McMetrics::Mc2 => {
                let labels = mc.labels.as_deref().unwrap_or(&[]);
                vec![(
                    "acc".to_string(),
                    MetricValue::Float(metrics::mc2(&lls, labels)),
                )]
            }
        };
        Ok(vec![FilterOutcome {
            filter: "none".into(),
            filtered_resps: Value::Array(resps),
            metrics,
        }])
    }
}
