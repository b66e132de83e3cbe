//! lm-eval's tasks, rebuilt so that every prompt, few-shot pick, filter and metric is the one
//! lm-evaluation-harness (v0.4.12 and later) produces.
//!
//! A [`Task`] turns documents into [`PreparedDoc`]s (the exact requests lm-eval builds) and
//! scores the responses into per-filter metric values; tasks never see a model. The engine
//! plans, batches and aggregates.

pub mod task;

pub use task::{
    Aggregation, FilterOutcome, MetricSpec, MetricValue, OutputType, PrepareOptions, PreparedDoc,
    Task, TaskError,
};
