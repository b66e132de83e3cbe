//! Turns the runs crate's comparison into the TUI's view model (the UI never sees the runs crate).

use std::path::Path;

use sparkbench_runs::compare::{Arrow as RunsArrow, Comparison};
use sparkbench_runs::headline::headline;
use sparkbench_runs::summary::{BenchmarkSummary, latest_finetuned, load_all_runs};
use sparkbench_tui::{Arrow, ComparisonRow, ComparisonView};

fn arrow(a: RunsArrow) -> Arrow {
    match a {
        RunsArrow::Better => Arrow::Up,
        RunsArrow::Worse => Arrow::Down,
        RunsArrow::Same => Arrow::Same,
    }
}

fn rows_of(c: &Comparison) -> Vec<ComparisonRow> {
    c.top_level()
        .filter_map(|t| {
            let h = t.headline.as_ref()?;
            Some(ComparisonRow {
                task: t.alias.clone().unwrap_or_else(|| t.task.clone()),
                metric: sparkbench_runs::render::metric_label(&h.metric, &h.filter),
                base: Some(h.base),
                finetuned: Some(h.finetuned),
                delta: Some(h.delta),
                delta_percent: h.delta_percent,
                arrow: arrow(h.arrow),
                verdict: sparkbench_runs::render::verdict_label(t),
                flagged: t.verdict.is_some_and(|v| v.is_flagged()),
                significant: t.significance.as_ref().map(|s| !s.within_noise),
            })
        })
        .collect()
}

/// The view of a model's benchmark summary: the comparison when both runs exist, else the
/// fine-tuned (or base) scores alone.
pub fn comparison_view(summary: &BenchmarkSummary, model_dir: &Path) -> ComparisonView {
    let mut view = ComparisonView {
        model: summary.model_name.clone(),
        base: summary.base_model_name.clone(),
        rows: Vec::new(),
        warnings: summary.warnings.clone(),
        partial: false,
        benchmark_file: None,
    };
    if let Some(c) = &summary.sparkbench.comparison {
        view.rows = rows_of(c);
        view.partial = c.base.partial || c.finetuned.partial;
        return view;
    }
    if let Ok((runs, _)) = load_all_runs(model_dir) {
        let run = latest_finetuned(&runs).or_else(|| runs.first());
        if let Some(run) = run {
            view.partial = run.partial;
            for name in &run.top_level {
                let Some(task) = run.task(name) else { continue };
                let Some(m) = headline(task) else { continue };
                view.rows.push(ComparisonRow {
                    task: task.alias.clone().unwrap_or_else(|| task.name.clone()),
                    metric: sparkbench_runs::render::metric_label(&m.metric, &m.filter),
                    base: None,
                    finetuned: Some(m.value),
                    delta: None,
                    delta_percent: None,
                    arrow: Arrow::None,
                    verdict: String::new(),
                    flagged: false,
                    significant: None,
                });
            }
        }
    }
    view
}
