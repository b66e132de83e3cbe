//! sparkbench-runs: everything sparkbench keeps on disk about runs, read and written without the
//! engine — model discovery under `outputs/`, base-model detection, run folders and `run.json`,
//! loading lm-eval results generically, the base vs fine-tuned comparison (deltas, arrows,
//! verdicts, mismatch warnings, paired significance), `benchmark.json`, README sections,
//! history and the throughput store for time estimates. Every file it writes is written
//! atomically ([`atomic`]). Plain-text renderers live in [`render`] and [`history`]; all data
//! types are serde types so the TUI can draw them its own way.
//!
//! Which call for which job:
//! - wizard model list: [`discover::discover_models`]; base: [`base_model::detect_base_from_env`];
//!   base reuse: [`summary::find_reusable_base`]; time estimate: [`throughput::ThroughputStore`].
//! - before a run: [`layout::plan_run`] (folder; `RunSpec::output_dir` = its `lm_eval_dir()`),
//!   [`record::RunRecord::start`] + [`record::write_run_record`]; after: `finish` + write again,
//!   [`throughput::record_throughput`] per task.
//! - after a run, `sparkbench summary`, `sparkbench readme`: [`update::refresh_model`], then
//!   [`render::render_comparison`] on `summary.sparkbench.comparison`.
//! - `sparkbench history`: [`history::build_history`] + [`history::render_history`].

pub mod atomic;
pub mod base_model;
pub mod compare;
pub mod discover;
pub mod error;
pub mod headline;
pub mod history;
pub mod layout;
pub mod readme;
pub mod record;
pub mod render;
pub mod results;
pub mod stats;
pub mod summary;
mod table;
pub mod throughput;
pub mod update;

#[cfg(test)]
mod testutil;

pub use error::{Result, RunsError};
