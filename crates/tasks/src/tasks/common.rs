//! What every task shares: its lm-eval config (splits, sampler, `num_fewshot`, description),
//! the evaluation documents after `process_docs`, the few-shot pool (read on first use), the
//! `num_fewshot` override rule, few-shot selection per document in `doc_id` order, and the
//! `configs[task]` entry of results files.

use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};

use crate::TaskError;
use crate::data::{DataSource, Doc, Split};
use crate::fewshot::{PyRandom, Sampler, select};
use crate::prompt::{ChatMode, DEFAULT_DELIMITERS, Shot};
use crate::task::PrepareOptions;

/// `process_docs` plus a filter (MMLU's subject): turns a raw document into the processed one,
/// or `None` to leave it out.
pub type Processor =
    dyn Fn(&Doc, &dyn Fn() -> String) -> Result<Option<Doc>, TaskError> + Send + Sync;

/// Builds a few-shot example from a pool document (`loc` names it in errors).
pub type ShotFn<'a> = dyn Fn(&Doc, &dyn Fn() -> String) -> Result<Shot, TaskError> + 'a;

/// Documents of one split after processing, with their positions in the file.
pub struct Docs {
    /// The split read.
    pub split: Arc<Split>,
    /// Processed documents.
    pub docs: Vec<Doc>,
    /// Index of each document in `split.docs`.
    pub rows: Vec<usize>,
}

impl Docs {
    /// Read and process.
    pub fn load(
        data: &DataSource,
        dataset: &str,
        split: &str,
        process: &Processor,
    ) -> Result<Self, TaskError> {
        let split = data.split(dataset, split)?;
        let mut docs = Vec::new();
        let mut rows = Vec::new();
        for (i, raw) in split.docs.iter().enumerate() {
            let loc = || split.location(i);
            if let Some(d) = process(raw, &loc)? {
                docs.push(d);
                rows.push(i);
            }
        }
        Ok(Self { split, docs, rows })
    }

    /// File and line of processed document `i`.
    pub fn location(&self, i: usize) -> String {
        self.split
            .location(self.rows.get(i).copied().unwrap_or(usize::MAX))
    }
}

/// The lm-eval config of one task.
pub struct Config {
    /// Task name.
    pub name: String,
    /// `task_alias` or the name.
    pub alias: String,
    /// `metadata.version`.
    pub version: f64,
    /// Our dataset folder name.
    pub dataset: &'static str,
    /// lm-eval `dataset_path`.
    pub dataset_path: &'static str,
    /// lm-eval `dataset_name`.
    pub dataset_name: Option<String>,
    /// `training_split`.
    pub training_split: Option<&'static str>,
    /// `validation_split`.
    pub validation_split: Option<&'static str>,
    /// `test_split`.
    pub test_split: Option<&'static str>,
    /// `fewshot_split`.
    pub fewshot_split: Option<&'static str>,
    /// `fewshot_config.sampler`.
    pub sampler: Sampler,
    /// `num_fewshot` in the YAML (`Some(0)` can never be overridden).
    pub yaml_fewshot: Option<usize>,
    /// `description`.
    pub description: String,
    /// `output_type` as lm-eval spells it.
    pub output_type: &'static str,
    /// `doc_to_text`, `doc_to_target`, `doc_to_choice` as the YAML has them (for `configs`).
    pub templates: [(&'static str, Value); 3],
    /// `metric_list` (for `configs`).
    pub metric_list: Value,
    /// `generation_kwargs` (for `configs`).
    pub generation_kwargs: Option<Value>,
    /// `filter_list` (for `configs`).
    pub filter_list: Option<Value>,
}

impl Config {
    /// lm-eval's evaluation split: `test_split`, else `validation_split`.
    pub fn eval_split(&self) -> &'static str {
        self.test_split.or(self.validation_split).unwrap_or("test")
    }

    /// The few-shot pool's split: `fewshot_split`, else train, else validation, else test.
    pub fn pool_split(&self) -> Option<&'static str> {
        self.fewshot_split
            .or(self.training_split)
            .or(self.validation_split)
            .or(self.test_split)
    }

    /// `num_fewshot` after the override rule (a YAML 0 is never overridden).
    pub fn num_fewshot(&self, over: Option<usize>) -> usize {
        match self.yaml_fewshot {
            Some(0) => 0,
            yaml => over.or(yaml).unwrap_or(0),
        }
    }

    /// The `configs[task]` entry of results files.
    pub fn to_json(&self, opts: &PrepareOptions<'_>) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("task".into(), json!(self.name));
        if self.alias != self.name {
            m.insert("task_alias".into(), json!(self.alias));
        }
        m.insert("dataset_path".into(), json!(self.dataset_path));
        if let Some(n) = &self.dataset_name {
            m.insert("dataset_name".into(), json!(n));
        }
        for (k, v) in [
            ("training_split", self.training_split),
            ("validation_split", self.validation_split),
            ("test_split", self.test_split),
            ("fewshot_split", self.fewshot_split),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        for (k, v) in &self.templates {
            if !v.is_null() {
                m.insert((*k).into(), v.clone());
            }
        }
        m.insert("description".into(), json!(self.description));
        m.insert("target_delimiter".into(), json!(DEFAULT_DELIMITERS.target));
        m.insert(
            "fewshot_delimiter".into(),
            json!(DEFAULT_DELIMITERS.fewshot),
        );
        let sampler = match self.sampler {
            Sampler::Random => "default",
            Sampler::FirstN => "first_n",
        };
        m.insert("fewshot_config".into(), json!({"sampler": sampler}));
        m.insert(
            "num_fewshot".into(),
            json!(self.num_fewshot(opts.num_fewshot)),
        );
        m.insert("metric_list".into(), self.metric_list.clone());
        m.insert("output_type".into(), json!(self.output_type));
        if let Some(g) = &self.generation_kwargs {
            m.insert("generation_kwargs".into(), g.clone());
        }
        m.insert("repeats".into(), json!(1));
        if let Some(f) = &self.filter_list {
            m.insert("filter_list".into(), f.clone());
        }
        m.insert("should_decontaminate".into(), json!(false));
        m.insert("metadata".into(), json!({"version": self.version}));
        Value::Object(m)
    }
}

/// A loaded task's data: config, evaluation documents, few-shot pool on demand.
pub struct Loaded {
    /// The config.
    pub config: Config,
    /// Where the data comes from.
    pub data: DataSource,
    /// Evaluation documents.
    pub eval: Docs,
    /// `process_docs` (+ filter), applied to the pool too.
    pub process: Box<Processor>,
    pool: OnceLock<Docs>,
}

impl Loaded {
    /// Read the evaluation split.
    pub fn new(
        config: Config,
        data: &DataSource,
        process: Box<Processor>,
    ) -> Result<Self, TaskError> {
        let eval = Docs::load(data, config.dataset, config.eval_split(), &*process)?;
        if eval.docs.is_empty() {
            return Err(TaskError::MissingData(format!(
                "task `{}` has no documents in {} (for MMLU: the `subject` field has no rows for this subject); provide the complete dataset",
                config.name, eval.split.source
            )));
        }
        Ok(Self {
            config,
            data: data.clone(),
            eval,
            process,
            pool: OnceLock::new(),
        })
    }

    /// The few-shot pool, read on first use.
    pub fn pool(&self) -> Result<&Docs, TaskError> {
        if let Some(p) = self.pool.get() {
            return Ok(p);
        }
        let split = self.config.pool_split().ok_or_else(|| {
            TaskError::Other(format!(
                "task `{}` has no split to draw few-shot examples from",
                self.config.name
            ))
        })?;
        let docs = Docs::load(&self.data, self.config.dataset, split, &*self.process)?;
        Ok(self.pool.get_or_init(|| docs))
    }

    /// Hashes of the splits read so far (the pool only once few-shot examples were drawn).
    pub fn data_hashes(&self) -> Vec<(String, String)> {
        let mut out = vec![(
            format!("{}/{}", self.eval.split.dataset, self.eval.split.split),
            self.eval.split.sha256.clone(),
        )];
        if let Some(p) = self.pool.get()
            && p.split.split != self.eval.split.split
        {
            out.push((
                format!("{}/{}", p.split.dataset, p.split.split),
                p.split.sha256.clone(),
            ));
        }
        out
    }

    /// How many documents `prepare` covers.
    pub fn count(&self, opts: &PrepareOptions<'_>) -> usize {
        opts.limit
            .map_or(self.eval.docs.len(), |l| l.min(self.eval.docs.len()))
    }

    /// For each document in `doc_id` order, up to the limit: the few-shot examples, built with
    /// `shot` from the pool documents in draw order.
    pub fn shots_per_doc(
        &self,
        opts: &PrepareOptions<'_>,
        shot: &ShotFn<'_>,
    ) -> Result<Vec<Vec<Shot>>, TaskError> {
        let n = self.count(opts);
        let k = self.config.num_fewshot(opts.num_fewshot);
        if k == 0 {
            return Ok(vec![Vec::new(); n]);
        }
        let pool = self.pool()?;
        let same = self.config.fewshot_split == self.config.test_split;
        let mut rng = PyRandom::new(opts.fewshot_seed);
        let mut out = Vec::with_capacity(n);
        for doc in &self.eval.docs[..n] {
            let picked = select(self.config.sampler, &mut rng, &pool.docs, doc, k, same)?;
            let shots = picked
                .into_iter()
                .map(|i| shot(&pool.docs[i], &|| pool.location(i)))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(shots);
        }
        Ok(out)
    }

    /// The system text (`--system-instruction` + description).
    pub fn system(&self, opts: &PrepareOptions<'_>) -> String {
        crate::prompt::system_text(
            opts.system_instruction,
            &self.config.description,
            DEFAULT_DELIMITERS,
        )
    }

    /// The context for final user text `q`: plain or through the chat template.
    pub fn context(
        &self,
        opts: &PrepareOptions<'_>,
        shots: &[Shot],
        q: &str,
    ) -> Result<String, TaskError> {
        let system = self.system(opts);
        match opts.chat_template {
            Some(template) => {
                let mode = ChatMode {
                    template,
                    multiturn: opts.fewshot_as_multiturn,
                };
                crate::prompt::chat(&mode, &system, shots, q, DEFAULT_DELIMITERS)
            }
            None => Ok(crate::prompt::plain(&system, shots, q, DEFAULT_DELIMITERS)),
        }
    }
}

/// No `process_docs`: keep every document as it is.
pub fn keep_all() -> Box<Processor> {
    Box::new(|d: &Doc, _loc: &dyn Fn() -> String| Ok(Some(d.clone())))
}
