//! Every run of a model side by side (`sparkbench history`): columns are runs (base runs first,
//! then fine-tuned runs oldest to newest) with date, backend and status; rows are task/metric
//! pairs (headline metrics of top-level tasks, or every metric).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, RunsError};
use crate::headline::headline;
use crate::layout::RunKind;
use crate::render::{format_score, metric_label};
use crate::summary::load_all_runs;
use crate::table::{Align, render};

/// One run (a column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryColumn {
    /// `base`, `2026-11-22T06-39-24 (gguf)`.
    pub label: String,
    /// Base or fine-tuned.
    pub kind: RunKind,
    /// The run's date.
    pub date: String,
    /// Backend id, when known.
    pub backend: Option<String>,
    /// `complete`, `partial`, `failed`, `running`.
    pub status: String,
    /// The run folder.
    pub dir: PathBuf,
}

/// One task/metric (a row), with a value per column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    /// Task.
    pub task: String,
    /// Metric key (`metric,filter`).
    pub metric: String,
    /// Whether this is the task's headline metric.
    pub headline: bool,
    /// One value per column (`None`: not run there).
    pub values: Vec<Option<f64>>,
}

/// A model's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The model folder name.
    pub model: String,
    /// The runs.
    pub columns: Vec<HistoryColumn>,
    /// The task/metric rows, in first-seen order.
    pub rows: Vec<HistoryRow>,
    /// Run folders that could not be read, with why.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Build the history; `all_metrics` adds every metric of each top-level task, not only the
/// headline.
pub fn build_history(model_dir: &Path, all_metrics: bool) -> Result<History> {
    let (runs, bad) = load_all_runs(model_dir)?;
    if runs.is_empty() && bad.is_empty() {
        return Err(RunsError::NoRun(format!(
            "no runs under {}; run `sparkbench run --model {}` first",
            crate::layout::benchmarks_dir(model_dir).display(),
            model_dir.display()
        )));
    }
    let columns = runs
        .iter()
        .map(|r| HistoryColumn {
            label: r.folder.label(),
            kind: r.folder.kind,
            date: r.date.clone(),
            backend: r.folder.backend.map(|b| b.id().to_string()),
            status: r.status_label().to_string(),
            dir: r.folder.dir.clone(),
        })
        .collect();
    let mut rows: Vec<HistoryRow> = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        for name in &run.top_level {
            let Some(task) = run.task(name) else { continue };
            let head = headline(task).map(|m| m.key.clone());
            for m in &task.metrics {
                let is_head = head.as_deref() == Some(m.key.as_str());
                if !all_metrics && !is_head {
                    continue;
                }
                let pos = match rows
                    .iter()
                    .position(|r| r.task == *name && r.metric == m.key)
                {
                    Some(p) => p,
                    None => {
                        rows.push(HistoryRow {
                            task: name.clone(),
                            metric: m.key.clone(),
                            headline: is_head,
                            values: vec![None; runs.len()],
                        });
                        rows.len() - 1
                    }
                };
                rows[pos].values[i] = Some(m.value);
                rows[pos].headline |= is_head;
            }
        }
    }
    Ok(History {
        model: model_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        columns,
        rows,
        unreadable: bad.into_iter().map(|(p, e)| (p, e.to_string())).collect(),
    })
}

/// The history as a plain-text table: a header block naming each column, then the values.
pub fn render_history(h: &History) -> String {
    let mut out = format!("History of {}\n", h.model);
    for (i, c) in h.columns.iter().enumerate() {
        out.push_str(&format!(
            "  [{}] {} — {}, {}, {}\n",
            i + 1,
            c.label,
            c.kind.label(),
            c.date,
            c.status
        ));
    }
    out.push('\n');
    let mut header = vec!["Task".to_string(), "Metric".to_string()];
    header.extend((1..=h.columns.len()).map(|i| format!("[{i}]")));
    let mut rows = vec![header];
    for r in &h.rows {
        let (metric, filter) = r.metric.split_once(',').unwrap_or((&r.metric, "none"));
        let mut row = vec![r.task.clone(), metric_label(metric, filter)];
        row.extend(
            r.values
                .iter()
                .map(|v| v.map(format_score).unwrap_or_else(|| "-".into())),
        );
        rows.push(row);
    }
    let mut align = vec![Align::Left, Align::Left];
    align.extend(h.columns.iter().map(|_| Align::Right));
    out.push_str(&render(&rows, &align));
    for (p, e) in &h.unreadable {
        out.push_str(&format!("  ! skipped {}: {e}\n", p.display()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{results_json, write};

    #[test]
    fn runs_side_by_side() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let m = t.path().join("m");
        let put = |dir: &str, tasks: &[(&str, &str, f64)]| {
            write(
                &m.join(dir).join("lm-eval/results_2026-11-22T10-00-00.json"),
                &results_json(tasks).to_string(),
            );
        };
        put(
            "benchmarks/base",
            &[
                ("gsm8k", "exact_match,strict-match", 0.1),
                ("ifeval", "prompt_level_strict_acc,none", 0.4),
            ],
        );
        put(
            "benchmarks/fine-tuned/2026-11-22T11-00-00-gguf",
            &[("gsm8k", "exact_match,strict-match", 0.3)],
        );
        put(
            "benchmarks/fine-tuned/2026-11-21T11-00-00",
            &[
                ("ifeval", "prompt_level_strict_acc,none", 0.5),
                ("ifeval", "inst_level_strict_acc,none", 0.6),
            ],
        );
        write(&m.join("benchmarks/fine-tuned/2026-11-23T11-00-00/lm-eval/results_2026-11-23T11-00-00.json"), "{broken");
        let h = build_history(&m, false)?;
        let text = render_history(&h);
        let expected = "\
History of m
  [1] base — base, 2026-11-22 10:00, complete
  [2] 2026-11-21T11-00-00 — fine-tuned, 2026-11-22 10:00, complete
  [3] 2026-11-22T11-00-00 (gguf) — fine-tuned, 2026-11-22 10:00, complete

Task    Metric                         [1]     [2]     [3]
----------------------------------------------------------
gsm8k   exact_match (strict-match)  10.00%       -  30.00%
ifeval  prompt_level_strict_acc     40.00%  50.00%       -
";
        assert!(text.starts_with(expected), "{text}");
        assert!(
            text.contains("! skipped") && text.contains("2026-11-23T11-00-00"),
            "{text}"
        );
        let all = build_history(&m, true)?;
        assert_eq!(all.rows.len(), 3);
        assert!(!all.rows[2].headline);
        Ok(())
    }
}
