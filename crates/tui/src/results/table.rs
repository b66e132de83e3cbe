//! The comparison as cells: one source for the results screen's table and the plain table
//! printed to the terminal afterwards.

use crate::format;
use crate::view::{ComparisonRow, ComparisonView};

/// Column headers.
pub const HEADERS: [&str; 7] = ["Task", "Metric", "Base", "Fine-tuned", "Δ", "Δ%", "Verdict"];

/// The cells of one row, in [`HEADERS`] order.
pub fn cells(row: &ComparisonRow) -> [String; 7] {
    let opt = |v: Option<f64>, f: fn(f64) -> String| v.map_or_else(|| "–".to_string(), f);
    let mut verdict = format!("{} {}", row.arrow.symbol(), row.verdict);
    if row.significant == Some(true) {
        verdict.push_str(" *");
    }
    if row.flagged {
        verdict.push_str(" !");
    }
    [
        row.task.clone(),
        row.metric.clone(),
        opt(row.base, format::score),
        opt(row.finetuned, format::score),
        opt(row.delta, format::signed),
        opt(row.delta_percent, format::signed_percent),
        verdict,
    ]
}

/// The title line: `Results: model vs base`.
pub fn title(view: &ComparisonView) -> String {
    match &view.base {
        Some(base) => format!("Results: {} vs {base}", view.model),
        None => format!("Results: {}", view.model),
    }
}

/// Warnings shown above the table: partial results first, then the view's own.
pub fn warnings(view: &ComparisonView) -> Vec<String> {
    let mut out = Vec::new();
    if view.partial {
        out.push("Some results are partial (the run was aborted, timed out or crashed): compare with care.".to_string());
    }
    out.extend(view.warnings.iter().map(|w| format::sanitize(w)));
    out
}

/// The legend under the table.
pub const LEGEND: &str = "▲ better  ▼ worse  = same  * significant  ! regression";

/// The comparison as plain text (no escape codes), for the scrollback.
pub fn comparison_text(view: &ComparisonView) -> String {
    let rows: Vec<[String; 7]> = view.rows.iter().map(cells).collect();
    let mut widths: Vec<usize> = HEADERS.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = w.saturating_sub(cell.chars().count());
            // Numbers right-aligned, words left-aligned.
            if (2..=5).contains(&i) {
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                if i + 1 < cells.len() {
                    out.push_str(&" ".repeat(pad));
                }
            }
            if i + 1 < cells.len() {
                out.push_str("  ");
            }
        }
        out.trim_end().to_string()
    };
    let mut out = String::new();
    out.push_str(&title(view));
    out.push('\n');
    for w in warnings(view) {
        out.push_str(&format!("warning: {w}\n"));
    }
    let headers: Vec<String> = HEADERS.iter().map(|h| h.to_string()).collect();
    out.push_str(&line(&headers));
    out.push('\n');
    let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
    out.push_str(&"-".repeat(total));
    out.push('\n');
    if rows.is_empty() {
        out.push_str("(no scores to compare)\n");
    }
    for row in &rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    out.push_str(LEGEND);
    out.push('\n');
    if let Some(file) = &view.benchmark_file {
        out.push_str(&format!("Summary: {}\n", file.display()));
    }
    out
}
