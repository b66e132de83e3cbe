//! One call for "the files on disk changed, bring the summaries up to date": rebuild
//! `benchmark.json` from the runs, write it, and rewrite the README sections. This is what
//! `sparkbench summary`, `sparkbench readme` and the end of every run do.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::compare::CompareOptions;
use crate::error::Result;
use crate::readme::{ReadmeUpdate, render_section, update_readmes};
use crate::summary::{BenchmarkSummary, summarize, write_benchmark_json};

/// What [`refresh_model`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refreshed {
    /// The summary (its `sparkbench.comparison` is what the results screen shows).
    pub summary: BenchmarkSummary,
    /// The `benchmark.json` written.
    pub benchmark_json: PathBuf,
    /// The READMEs touched (empty when `readmes` was false).
    pub readmes: Vec<ReadmeUpdate>,
}

/// Rebuild and write `benchmark.json`, and (when `readmes`) the README sections.
pub fn refresh_model(model_dir: &Path, opts: &CompareOptions, readmes: bool) -> Result<Refreshed> {
    let summary = summarize(model_dir, opts)?;
    let benchmark_json = write_benchmark_json(model_dir, &summary)?;
    let readmes = if readmes {
        update_readmes(model_dir, &render_section(&summary))?
    } else {
        Vec::new()
    };
    Ok(Refreshed {
        summary,
        benchmark_json,
        readmes,
    })
}
