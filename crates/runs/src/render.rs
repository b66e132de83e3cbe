//! Plain-text renderers for the terminal: the comparison table the CLI prints after a run (so
//! it stays in the scrollback), and number formats shared with the README section. No ANSI
//! codes: colour is the TUI's job, and it draws the same serde types its own way.

use crate::compare::{Arrow, Comparison, MetricComparison, TaskComparison};
use crate::stats::Significance;
use crate::table::{Align, render};

/// A score: `45.20%` for 0..1 metrics, else 4 decimals.
pub fn format_score(v: f64) -> String {
    if (0.0..=1.0).contains(&v) {
        format!("{:.2}%", v * 100.0)
    } else {
        format!("{v:.4}")
    }
}

/// A delta with its arrow: `↗ +20.00 pts (+50.0%)`, `↘ -3.00 pts (-6.0%)`, `→ +0.05 pts`;
/// non-0..1 metrics show the raw difference (`↗ -2.0000 (-16.7%)`).
pub fn format_delta(m: &MetricComparison) -> String {
    let unit_scale = (0.0..=1.0).contains(&m.base) && (0.0..=1.0).contains(&m.finetuned);
    let abs = if unit_scale {
        format!("{:+.2} pts", m.delta * 100.0)
    } else {
        format!("{:+.4}", m.delta)
    };
    let rel = m
        .delta_percent
        .map(|p| format!(" ({p:+.1}%)"))
        .unwrap_or_default();
    if m.arrow == Arrow::Same && m.delta == 0.0 {
        return "→ no change".to_string();
    }
    format!("{} {abs}{rel}", m.arrow.glyph())
}

/// `p = 0.012`, `p < 0.001`, `p = 0.620, within noise`, or empty when no test ran.
pub fn format_significance(s: Option<&Significance>) -> String {
    match s {
        None => String::new(),
        Some(s) if s.within_noise => format!("p {}, within noise", format_p(s.decision_p)),
        Some(s) => format!("p {}", format_p(s.decision_p)),
    }
}

fn format_p(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".to_string()
    } else {
        format!("= {p:.3}")
    }
}

/// `acc_norm` or `exact_match (strict-match)`.
pub fn metric_label(metric: &str, filter: &str) -> String {
    if filter == "none" {
        metric.to_string()
    } else {
        format!("{metric} ({filter})")
    }
}

/// The task label with a partial marker: `gsm8k (partial: base 3/5)`.
pub fn task_label(t: &TaskComparison) -> String {
    let mut parts = Vec::new();
    if let Some(c) = t.base_partial {
        parts.push(format!("base {}/{}", c.done, c.total));
    }
    if let Some(c) = t.finetuned_partial {
        parts.push(format!("fine-tuned {}/{}", c.done, c.total));
    }
    if parts.is_empty() {
        t.task.clone()
    } else {
        format!("{} (partial: {})", t.task, parts.join(", "))
    }
}

/// The verdict cell: `excellent`, `possible forgetting ⚠`.
pub fn verdict_label(t: &TaskComparison) -> String {
    match t.verdict {
        Some(v) if v.is_flagged() => format!("{} ⚠", v.label()),
        Some(v) => v.label().to_string(),
        None => String::new(),
    }
}

/// The comparison as the CLI prints it after a run: top-level tasks, headline metric each.
pub fn render_comparison(c: &Comparison) -> String {
    let mut out = format!(
        "Base vs fine-tuned\n  base:       {} ({}, {})\n  fine-tuned: {} ({}, {})\n\n",
        c.base.label,
        c.base.date,
        c.base.status,
        c.finetuned.label,
        c.finetuned.date,
        c.finetuned.status
    );
    let mut rows = vec![
        [
            "Task",
            "Metric",
            "Base",
            "Fine-tuned",
            "Δ",
            "Verdict",
            "Significance",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for t in c.top_level() {
        let Some(h) = &t.headline else {
            rows.push(vec![task_label(t), "(no shared metric)".into()]);
            continue;
        };
        rows.push(vec![
            task_label(t),
            metric_label(&h.metric, &h.filter),
            format_score(h.base),
            format_score(h.finetuned),
            format_delta(h),
            verdict_label(t),
            format_significance(t.significance.as_ref()),
        ]);
    }
    let align = [
        Align::Left,
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Left,
        Align::Left,
        Align::Left,
    ];
    out.push_str(&render(&rows, &align));
    let lines = c.warning_lines();
    if !lines.is_empty() {
        out.push_str("\nWarnings:\n");
        for l in lines {
            out.push_str(&format!("  ! {l}\n"));
        }
    }
    out
}

/// Every metric of every shared task (groups' subtasks included), for `--all`.
pub fn render_comparison_all(c: &Comparison) -> String {
    let mut rows = vec![
        ["Task", "Metric", "Base", "Fine-tuned", "Δ"]
            .map(String::from)
            .to_vec(),
    ];
    for t in &c.tasks {
        for m in &t.metrics {
            rows.push(vec![
                task_label(t),
                metric_label(&m.metric, &m.filter),
                format_score(m.base),
                format_score(m.finetuned),
                format_delta(m),
            ]);
        }
    }
    render(
        &rows,
        &[
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Left,
        ],
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::compare::{CompareOptions, RunRef, SettingWarning, Verdict};
    use crate::record::DocCount;

    fn mc(base: f64, ft: f64, arrow: Arrow) -> MetricComparison {
        MetricComparison {
            key: "acc,none".into(),
            metric: "acc".into(),
            filter: "none".into(),
            base,
            finetuned: ft,
            base_stderr: None,
            finetuned_stderr: None,
            delta: ft - base,
            delta_percent: (base != 0.0).then(|| (ft - base) / base * 100.0),
            higher_is_better: true,
            arrow,
        }
    }

    pub(crate) fn sample_comparison() -> Comparison {
        let task = |name: &str, h: MetricComparison, v: Verdict| TaskComparison {
            task: name.into(),
            alias: None,
            is_group: false,
            parent: None,
            metrics: vec![h.clone()],
            headline: Some(h),
            significance: None,
            verdict: Some(v),
            base_partial: None,
            finetuned_partial: None,
        };
        let mut gsm = task("gsm8k", mc(0.4, 0.6, Arrow::Better), Verdict::Excellent);
        if let Some(h) = gsm.headline.as_mut() {
            h.metric = "exact_match".into();
            h.filter = "strict-match".into();
        }
        gsm.significance = Some(Significance {
            test: crate::stats::TestKind::Mcnemar,
            pairs: 10,
            base_only: Some(1),
            finetuned_only: Some(9),
            p_value: 0.021484375,
            mid_p: Some(0.01171875),
            decision_p: 0.01171875,
            alpha: 0.05,
            within_noise: false,
        });
        let mut hs = task(
            "hellaswag",
            mc(0.5, 0.44, Arrow::Worse),
            Verdict::Forgetting,
        );
        hs.finetuned_partial = Some(DocCount { done: 3, total: 5 });
        let run = |label: &str, date: &str| RunRef {
            dir: "/x".into(),
            label: label.into(),
            date: date.into(),
            status: "complete".into(),
            partial: false,
        };
        Comparison {
            base: run("base", "2026-11-22 10:00"),
            finetuned: run("2026-11-22T11-00-00", "2026-11-22 11:00"),
            tasks: vec![gsm, hs],
            warnings: vec![SettingWarning {
                setting: "limit".into(),
                tasks: vec![],
                base: "unset".into(),
                finetuned: "5".into(),
            }],
            notes: vec![],
            settings_match: false,
            options: CompareOptions::default(),
        }
    }

    #[test]
    fn formats_hand_checked() {
        assert_eq!(format_score(0.4), "40.00%");
        assert_eq!(format_score(12.5), "12.5000");
        assert_eq!(
            format_delta(&mc(0.4, 0.6, Arrow::Better)),
            "↗ +20.00 pts (+50.0%)"
        );
        assert_eq!(format_delta(&mc(0.0, 0.1, Arrow::Better)), "↗ +10.00 pts");
        assert_eq!(format_delta(&mc(0.5, 0.5, Arrow::Same)), "→ no change");
        assert_eq!(format_p(0.0001), "< 0.001");
    }

    #[test]
    fn comparison_table_is_plain_and_aligned() {
        let text = render_comparison(&sample_comparison());
        let expected = "\
Base vs fine-tuned
  base:       base (2026-11-22 10:00, complete)
  fine-tuned: 2026-11-22T11-00-00 (2026-11-22 11:00, complete)

Task                                 Metric                        Base  Fine-tuned  Δ                      Verdict                Significance
-----------------------------------------------------------------------------------------------------------------------------------------------
gsm8k                                exact_match (strict-match)  40.00%      60.00%  ↗ +20.00 pts (+50.0%)  excellent              p = 0.012
hellaswag (partial: fine-tuned 3/5)  acc                         50.00%      44.00%  ↘ -6.00 pts (-12.0%)   possible forgetting ⚠

Warnings:
  ! limit differs: base unset, fine-tuned 5
";
        assert_eq!(text, expected);
        assert!(!text.contains('\u{1b}'));
    }
}
