//! lm-eval's tasks, rebuilt so that every prompt, few-shot pick, filter and metric is the one
//! lm-evaluation-harness (v0.4.12 and later) produces.
//!
//! A [`Task`] turns documents into [`PreparedDoc`]s (the exact requests lm-eval builds) and
//! scores the responses into per-filter metric values; tasks never see a model. The engine
//! plans, batches and aggregates. Names resolve with [`resolve`] (groups such as `mmlu`) and
//! load with [`load`]; data comes from a [`DataSource`].

pub mod data;
pub mod demo;

pub mod fewshot;
pub mod filters;
pub mod gen_kwargs;
pub mod metrics;
pub mod prompt;
pub mod python;
mod registry;
pub mod suites;
pub mod task;
pub mod tasks;

pub use data::{DataSource, HubSettings};
pub use registry::{TaskTree, known_tasks, load, resolve, resolve_limit};
pub use task::{
    Aggregation, FilterOutcome, MetricSpec, MetricValue, OutputType, PrepareOptions, PreparedDoc,
    Task, TaskError,
};
