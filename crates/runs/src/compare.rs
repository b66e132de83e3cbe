//! Base vs fine-tuned: every metric of every shared task with absolute and relative deltas,
//! arrows that respect `higher_is_better` and a tolerance, a verdict per task in points, a
//! paired significance test on the headline metric, and warnings when the two runs were not
//! run under the same settings (they are still compared, never silently).
//!
//! Conventions: values are lm-eval's (0..1 for accuracies); a *point* is 0.01 of such a value;
//! `delta = finetuned - base`; `delta_percent = delta / base * 100`, `None` when base is 0.
//! Arrows: ↗ better, ↘ worse (so for a lower-is-better metric a falling value is ↗), → when
//! |delta| <= tolerance or, for the headline, when the paired test says "within noise".

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::headline::shared_headline_key;
use crate::record::DocCount;
use crate::results::{LeafCache, LoadedRun, Metric, RunSettings, TaskSettings, doc_scores_cached};
use crate::stats::{Significance, paired_test};

/// Knobs of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CompareOptions {
    /// Absolute change (in metric units) at or below which the arrow is →. Default 0.001 (0.1 point).
    pub tolerance: f64,
    /// Significance threshold. Default 0.05.
    pub alpha: f64,
    /// Run the paired test (reads samples files). Default true.
    pub significance: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            tolerance: 0.001,
            alpha: 0.05,
            significance: true,
        }
    }
}

/// Direction of a change, judged by `higher_is_better`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrow {
    /// Better.
    Better,
    /// Worse.
    Worse,
    /// Within tolerance (or within noise for the headline).
    Same,
}

impl Arrow {
    /// `↗`, `↘` or `→`.
    pub fn glyph(self) -> &'static str {
        match self {
            Arrow::Better => "↗",
            Arrow::Worse => "↘",
            Arrow::Same => "→",
        }
    }
}

/// The verdict bands (the seed's doc; its code never had them), on the gain in points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// +10 points or more.
    Excellent,
    /// +5 to +10.
    Good,
    /// +2 to +5.
    Marginal,
    /// Below +2, down to a 3-point drop (small regressions are acceptable).
    Weak,
    /// A drop of more than 3 points.
    Regression,
    /// A drop of more than 5 points: possible catastrophic forgetting.
    Forgetting,
}

impl Verdict {
    /// The band for a gain in points (positive = better).
    pub fn from_points(gain: f64) -> Verdict {
        // Band edges are exact in points; 0.47 - 0.50 must be -3, not -3.0000000000000027.
        let gain = (gain * 1e6).round() / 1e6;
        if gain >= 10.0 {
            Verdict::Excellent
        } else if gain >= 5.0 {
            Verdict::Good
        } else if gain >= 2.0 {
            Verdict::Marginal
        } else if gain >= -3.0 {
            Verdict::Weak
        } else if gain >= -5.0 {
            Verdict::Regression
        } else {
            Verdict::Forgetting
        }
    }
    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Excellent => "excellent",
            Verdict::Good => "good",
            Verdict::Marginal => "marginal",
            Verdict::Weak => "weak",
            Verdict::Regression => "regression",
            Verdict::Forgetting => "possible forgetting",
        }
    }
    /// Whether the band is a flagged drop.
    pub fn is_flagged(self) -> bool {
        matches!(self, Verdict::Regression | Verdict::Forgetting)
    }
}

/// One metric, base vs fine-tuned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricComparison {
    /// `metric,filter`.
    pub key: String,
    /// Metric name.
    pub metric: String,
    /// Filter name.
    pub filter: String,
    /// Base value.
    pub base: f64,
    /// Fine-tuned value.
    pub finetuned: f64,
    /// Base stderr.
    pub base_stderr: Option<f64>,
    /// Fine-tuned stderr.
    pub finetuned_stderr: Option<f64>,
    /// `finetuned - base`.
    pub delta: f64,
    /// `delta / base * 100`; `None` when base is 0.
    pub delta_percent: Option<f64>,
    /// lm-eval's `higher_is_better`.
    pub higher_is_better: bool,
    /// Direction, by tolerance (and significance for the headline).
    pub arrow: Arrow,
}

impl MetricComparison {
    /// Gain in points (positive = better), for 0..1 metrics.
    pub fn gain_points(&self) -> f64 {
        let sign = if self.higher_is_better { 1.0 } else { -1.0 };
        self.delta * 100.0 * sign
    }
}

/// One task (or group), base vs fine-tuned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskComparison {
    /// Task name.
    pub task: String,
    /// Display alias.
    pub alias: Option<String>,
    /// Whether it is a group.
    pub is_group: bool,
    /// Its group, when it belongs to one (tables show only top-level rows).
    pub parent: Option<String>,
    /// The headline metric (see `headline`).
    pub headline: Option<MetricComparison>,
    /// Every metric both runs have.
    pub metrics: Vec<MetricComparison>,
    /// The paired test on the headline metric, when both runs logged samples.
    pub significance: Option<Significance>,
    /// The verdict on the headline (0..1 metrics only).
    pub verdict: Option<Verdict>,
    /// Document counts when the base run is partial.
    pub base_partial: Option<DocCount>,
    /// Document counts when the fine-tuned run is partial.
    pub finetuned_partial: Option<DocCount>,
}

impl TaskComparison {
    /// Whether the paired test says the headline difference is noise.
    pub fn within_noise(&self) -> bool {
        self.significance.as_ref().is_some_and(|s| s.within_noise)
    }
}

/// A setting that differs between the two runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingWarning {
    /// The setting (`limit`, `n-shot`, `chat template`, `max_gen_toks`, ...).
    pub setting: String,
    /// The tasks concerned (empty for run-wide settings).
    pub tasks: Vec<String>,
    /// The base run's value, in words.
    pub base: String,
    /// The fine-tuned run's value, in words.
    pub finetuned: String,
}

impl SettingWarning {
    /// One line for terminals and READMEs.
    pub fn message(&self) -> String {
        let scope = match self.tasks.len() {
            0 => String::new(),
            1..=3 => format!(" for {}", self.tasks.join(", ")),
            n => format!(" for {} (+{} more)", self.tasks[..3].join(", "), n - 3),
        };
        format!(
            "{} differs{scope}: base {}, fine-tuned {}",
            self.setting, self.base, self.finetuned
        )
    }
}

/// Which run a comparison side is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRef {
    /// The run folder.
    pub dir: PathBuf,
    /// Its label (`base`, `2026-11-22T06-39-24 (gguf)`).
    pub label: String,
    /// Its date.
    pub date: String,
    /// Its status.
    pub status: String,
    /// Whether it is partial.
    pub partial: bool,
}

impl RunRef {
    fn of(run: &LoadedRun) -> Self {
        RunRef {
            dir: run.folder.dir.clone(),
            label: run.folder.label(),
            date: run.date.clone(),
            status: run.status_label().to_string(),
            partial: run.partial,
        }
    }
}

/// A whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The base run.
    pub base: RunRef,
    /// The fine-tuned run.
    pub finetuned: RunRef,
    /// Shared tasks in the base run's order (groups and their subtasks included).
    pub tasks: Vec<TaskComparison>,
    /// Settings that differ.
    pub warnings: Vec<SettingWarning>,
    /// Other notes (partial runs, tasks only one run has, unreadable samples).
    pub notes: Vec<String>,
    /// Whether every compared setting matches.
    pub settings_match: bool,
    /// The options used.
    pub options: CompareOptions,
}

impl Comparison {
    /// Tasks no group contains (what tables show).
    pub fn top_level(&self) -> impl Iterator<Item = &TaskComparison> {
        self.tasks.iter().filter(|t| t.parent.is_none())
    }
    /// Every warning and note as lines.
    pub fn warning_lines(&self) -> Vec<String> {
        self.warnings
            .iter()
            .map(SettingWarning::message)
            .chain(self.notes.iter().cloned())
            .collect()
    }
}

fn compare_metric(b: &Metric, f: &Metric, higher_is_better: bool, tol: f64) -> MetricComparison {
    let delta = f.value - b.value;
    let arrow = if delta.abs() <= tol {
        Arrow::Same
    } else if (delta > 0.0) == higher_is_better {
        Arrow::Better
    } else {
        Arrow::Worse
    };
    MetricComparison {
        key: b.key.clone(),
        metric: b.metric.clone(),
        filter: b.filter.clone(),
        base: b.value,
        finetuned: f.value,
        base_stderr: b.stderr,
        finetuned_stderr: f.stderr,
        delta,
        delta_percent: (b.value != 0.0).then(|| delta / b.value * 100.0),
        higher_is_better,
        arrow,
    }
}

fn show<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "unset".to_string(), |x| x.to_string())
}

/// Settings warnings between two runs, over the tasks both ran.
pub fn settings_warnings(
    base: &RunSettings,
    ft: &RunSettings,
    shared: &[String],
) -> Vec<SettingWarning> {
    let mut out = Vec::new();
    let mut global = |setting: &str, b: String, f: String| {
        if b != f {
            out.push(SettingWarning {
                setting: setting.into(),
                tasks: vec![],
                base: b,
                finetuned: f,
            });
        }
    };
    global("limit", show(&base.limit), show(&ft.limit));
    global(
        "chat template",
        if base.chat_template {
            "applied"
        } else {
            "not applied"
        }
        .into(),
        if ft.chat_template {
            "applied"
        } else {
            "not applied"
        }
        .into(),
    );
    if let (Some(b), Some(f)) = (&base.chat_template_sha, &ft.chat_template_sha) {
        global("chat template sha", short(b), short(f));
    }
    global(
        "fewshot_as_multiturn",
        show(&base.fewshot_as_multiturn),
        show(&ft.fewshot_as_multiturn),
    );
    global(
        "system instruction",
        show(&base.system_instruction_sha.as_deref().map(short)),
        show(&ft.system_instruction_sha.as_deref().map(short)),
    );
    global(
        "fewshot seed",
        show(&base.fewshot_seed),
        show(&ft.fewshot_seed),
    );
    let mut per_task: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    let empty = TaskSettings::default();
    for task in shared {
        let b = base.tasks.get(task).unwrap_or(&empty);
        let f = ft.tasks.get(task).unwrap_or(&empty);
        let mut check = |setting: &str, bv: String, fv: String| {
            if bv != fv {
                per_task
                    .entry((setting.to_string(), bv, fv))
                    .or_default()
                    .push(task.clone());
            }
        };
        check("n-shot", show(&b.n_shot), show(&f.n_shot));
        check(
            "documents evaluated",
            show(&b.docs_effective),
            show(&f.docs_effective),
        );
        check("max_gen_toks", show(&b.max_gen_toks), show(&f.max_gen_toks));
        check("task version", show(&b.version), show(&f.version));
        if let (Some(bh), Some(fh)) = (&b.data_hash, &f.data_hash) {
            check("data hash", short(bh), short(fh));
        }
    }
    for ((setting, b, f), tasks) in per_task {
        out.push(SettingWarning {
            setting,
            tasks,
            base: b,
            finetuned: f,
        });
    }
    out
}

fn short(s: &str) -> String {
    s.chars().take(12).collect()
}

fn record_warnings(base: &LoadedRun, ft: &LoadedRun) -> Vec<SettingWarning> {
    let (Some(b), Some(f)) = (&base.record, &ft.record) else {
        return vec![];
    };
    let mut out = Vec::new();
    let mut check = |setting: &str, bv: String, fv: String| {
        if bv != fv {
            out.push(SettingWarning {
                setting: setting.into(),
                tasks: vec![],
                base: bv,
                finetuned: fv,
            });
        }
    };
    check("dtype", show(&b.spec.dtype), show(&f.spec.dtype));
    check(
        "max_length",
        show(&b.spec.max_length),
        show(&f.spec.max_length),
    );
    check(
        "loglikelihood",
        if b.spec.approximate_loglikelihood {
            "approximate"
        } else {
            "exact"
        }
        .into(),
        if f.spec.approximate_loglikelihood {
            "approximate"
        } else {
            "exact"
        }
        .into(),
    );
    out
}

/// Counts of a task in a partial run (results' `sparkbench.counts`, else `run.json`'s
/// `doc_counts`; a group sums its leaves); `None` when the run is complete, when nothing is
/// known, or when every document of the task was done.
fn partial_count(run: &LoadedRun, task: &str) -> Option<DocCount> {
    if !run.partial {
        return None;
    }
    let lookup = |name: &str| {
        run.counts.get(name).copied().or_else(|| {
            run.record
                .as_ref()
                .and_then(|r| r.doc_counts.get(name).copied())
        })
    };
    let count = lookup(task).or_else(|| {
        let leaves: Vec<DocCount> = run.leaves(task).iter().filter_map(|l| lookup(l)).collect();
        (!leaves.is_empty()).then(|| DocCount {
            done: leaves.iter().map(|c| c.done).sum(),
            total: leaves.iter().map(|c| c.total).sum(),
        })
    })?;
    (count.done < count.total).then_some(count)
}

/// Compare a base run with a fine-tuned run.
pub fn compare_runs(base: &LoadedRun, ft: &LoadedRun, opts: &CompareOptions) -> Comparison {
    let mut notes = Vec::new();
    let mut tasks = Vec::new();
    let (mut base_cache, mut ft_cache) = (LeafCache::new(), LeafCache::new());
    let shared: Vec<String> = base
        .tasks
        .iter()
        .filter(|t| ft.task(&t.name).is_some())
        .map(|t| t.name.clone())
        .collect();
    for name in &shared {
        let (Some(bt), Some(ftt)) = (base.task(name), ft.task(name)) else {
            continue;
        };
        let metrics: Vec<MetricComparison> = bt
            .metrics
            .iter()
            .filter_map(|bm| {
                let fm = ftt.metric(&bm.key)?;
                Some(compare_metric(
                    bm,
                    fm,
                    bt.higher_is_better(&bm.metric),
                    opts.tolerance,
                ))
            })
            .collect();
        let mut headline = shared_headline_key(name, bt, ftt)
            .and_then(|k| metrics.iter().find(|m| m.key == k).cloned());
        let mut significance = None;
        if let (Some(h), true) = (&headline, opts.significance) {
            let b = doc_scores_cached(base, name, &h.metric, &h.filter, &mut base_cache);
            let f = doc_scores_cached(ft, name, &h.metric, &h.filter, &mut ft_cache);
            match (b, f) {
                (Ok(Some(b)), Ok(Some(f))) => significance = paired_test(&b, &f, opts.alpha),
                (Err(e), _) | (_, Err(e)) => {
                    notes.push(format!("{name}: no significance test ({e})"))
                }
                _ => {}
            }
        }
        if let (Some(h), Some(s)) = (headline.as_mut(), &significance)
            && s.within_noise
        {
            h.arrow = Arrow::Same;
        }
        let verdict = headline
            .as_ref()
            .filter(|h| (0.0..=1.0).contains(&h.base) && (0.0..=1.0).contains(&h.finetuned))
            .map(|h| Verdict::from_points(h.gain_points()));
        tasks.push(TaskComparison {
            task: name.clone(),
            alias: bt.alias.clone(),
            is_group: bt.is_group,
            parent: bt.parent.clone(),
            headline,
            metrics,
            significance,
            verdict,
            base_partial: partial_count(base, name),
            finetuned_partial: partial_count(ft, name),
        });
    }
    let mut warnings = settings_warnings(&base.settings, &ft.settings, &shared);
    warnings.extend(record_warnings(base, ft));
    for (run, side) in [(base, "base"), (ft, "fine-tuned")] {
        if run.partial {
            notes.push(format!(
                "the {side} run is partial: scores cover only the documents finished"
            ));
        }
    }
    let only = |a: &LoadedRun, b: &LoadedRun| -> Vec<String> {
        a.top_level
            .iter()
            .filter(|t| b.task(t).is_none())
            .cloned()
            .collect()
    };
    let base_only = only(base, ft);
    if !base_only.is_empty() {
        notes.push(format!("only the base run has {}", base_only.join(", ")));
    }
    let ft_only = only(ft, base);
    if !ft_only.is_empty() {
        notes.push(format!(
            "only the fine-tuned run has {} (no base to compare with)",
            ft_only.join(", ")
        ));
    }
    Comparison {
        base: RunRef::of(base),
        finetuned: RunRef::of(ft),
        settings_match: warnings.is_empty(),
        tasks,
        warnings,
        notes,
        options: *opts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::load_run_dir;
    use crate::testutil::{results_json, write};

    fn m(key: &str, v: f64) -> Metric {
        let (metric, filter) = key.split_once(',').unwrap_or((key, "none"));
        Metric {
            key: key.into(),
            metric: metric.into(),
            filter: filter.into(),
            value: v,
            stderr: None,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn deltas_and_arrows_hand_computed() {
        let c = compare_metric(&m("acc,none", 0.40), &m("acc,none", 0.60), true, 0.001);
        assert!(close(c.delta, 0.20));
        assert!(c.delta_percent.is_some_and(|p| close(p, 50.0)));
        assert_eq!(c.arrow, Arrow::Better);
        assert!(close(c.gain_points(), 20.0));
        let c = compare_metric(&m("acc,none", 0.0), &m("acc,none", 0.1), true, 0.001);
        assert_eq!(c.delta_percent, None);
        // Lower is better: a falling value is an improvement.
        let c = compare_metric(&m("ppl,none", 12.0), &m("ppl,none", 10.0), false, 0.001);
        assert_eq!(c.arrow, Arrow::Better);
        assert!(c.delta_percent.is_some_and(|p| close(p, -100.0 / 6.0)));
        // Within tolerance.
        let c = compare_metric(&m("acc,none", 0.5), &m("acc,none", 0.5005), true, 0.001);
        assert_eq!(c.arrow, Arrow::Same);
        let c = compare_metric(&m("acc,none", 0.5), &m("acc,none", 0.49), true, 0.001);
        assert_eq!(c.arrow, Arrow::Worse);
    }

    #[test]
    fn verdict_bands_in_points() {
        let cases = [
            (10.0, Verdict::Excellent),
            (9.99, Verdict::Good),
            (5.0, Verdict::Good),
            (2.0, Verdict::Marginal),
            (1.99, Verdict::Weak),
            (-3.0, Verdict::Weak),
            (-3.01, Verdict::Regression),
            (-5.0, Verdict::Regression),
            (-5.01, Verdict::Forgetting),
        ];
        for (g, v) in cases {
            assert_eq!(Verdict::from_points(g), v, "{g}");
        }
        assert!(Verdict::Forgetting.is_flagged() && !Verdict::Weak.is_flagged());
    }

    #[test]
    fn mismatched_settings_are_warned_and_grouped() {
        let mut b = RunSettings {
            limit: Some(5.0),
            ..Default::default()
        };
        let mut f = RunSettings {
            limit: None,
            chat_template: true,
            ..Default::default()
        };
        for t in ["a", "b", "c", "d"] {
            b.tasks.insert(
                t.into(),
                TaskSettings {
                    n_shot: Some(0),
                    max_gen_toks: Some(640),
                    ..Default::default()
                },
            );
            f.tasks.insert(
                t.into(),
                TaskSettings {
                    n_shot: Some(5),
                    max_gen_toks: Some(640),
                    ..Default::default()
                },
            );
        }
        if let Some(s) = b.tasks.get_mut("a") {
            s.version = Some("3.0".into());
        }
        if let Some(s) = f.tasks.get_mut("a") {
            s.version = Some("2.0".into());
        }
        let shared: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let w: Vec<String> = settings_warnings(&b, &f, &shared)
            .iter()
            .map(|w| w.message())
            .collect();
        assert_eq!(
            w,
            vec![
                "limit differs: base 5, fine-tuned unset",
                "chat template differs: base not applied, fine-tuned applied",
                "n-shot differs for a, b, c (+1 more): base 0, fine-tuned 5",
                "task version differs for a: base 3.0, fine-tuned 2.0",
            ]
        );
        assert!(settings_warnings(&b, &b, &shared).is_empty());
    }

    #[test]
    fn runs_compare_with_significance_and_noise() {
        let Ok(t) = tempfile::tempdir() else { return };
        let mk = |dir: &str, gsm: f64, hs: f64, samples: &[(u64, bool)]| {
            let lm = t.path().join(dir).join("lm-eval");
            let doc = results_json(&[
                ("gsm8k", "exact_match,strict-match", gsm),
                ("hellaswag", "acc_norm,none", hs),
                ("hellaswag", "acc,none", hs),
            ]);
            write(
                &lm.join("results_2026-11-22T10-00-00.json"),
                &doc.to_string(),
            );
            let lines: String = samples
                .iter()
                .map(|(i, ok)| {
                    format!(
                        "{{\"doc_id\": {i}, \"filter\": \"strict-match\", \"exact_match\": {}}}\n",
                        if *ok { 1.0 } else { 0.0 }
                    )
                })
                .collect();
            write(&lm.join("samples_gsm8k_2026-11-22T10-00-00.jsonl"), &lines);
        };
        // Base gets doc 0 right; the fine-tune gets docs 1..9 right: b=1, c=9.
        let base_s: Vec<(u64, bool)> = (0..10).map(|i| (i, i == 0)).collect();
        let ft_s: Vec<(u64, bool)> = (0..10).map(|i| (i, i != 0)).collect();
        mk("benchmarks/base", 0.1, 0.50, &base_s);
        mk(
            "benchmarks/fine-tuned/2026-11-22T11-00-00",
            0.9,
            0.47,
            &ft_s,
        );
        let (Ok(b), Ok(f)) = (
            load_run_dir(&t.path().join("benchmarks/base")),
            load_run_dir(&t.path().join("benchmarks/fine-tuned/2026-11-22T11-00-00")),
        ) else {
            panic!("load")
        };
        let c = compare_runs(&b, &f, &CompareOptions::default());
        assert!(c.settings_match, "{:?}", c.warnings);
        let g = &c.tasks[0];
        assert_eq!(
            g.headline.as_ref().map(|h| h.key.as_str()),
            Some("exact_match,strict-match")
        );
        assert_eq!(g.verdict, Some(Verdict::Excellent));
        let s = g.significance.as_ref().unwrap_or_else(|| panic!("no test"));
        assert!(close(s.decision_p, 12.0 / 1024.0) && !g.within_noise());
        assert_eq!(g.headline.as_ref().map(|h| h.arrow), Some(Arrow::Better));
        let h = &c.tasks[1];
        assert_eq!(
            h.headline.as_ref().map(|h| h.key.as_str()),
            Some("acc_norm,none")
        );
        assert_eq!(h.metrics.len(), 2);
        assert_eq!(h.verdict, Some(Verdict::Weak));
        assert!(h.significance.is_none());
        // Identical per-doc answers: within noise, arrow →, even with a score gap in the file.
        let lm = t
            .path()
            .join("benchmarks/fine-tuned/2026-11-22T11-00-00/lm-eval");
        let same: String = base_s
            .iter()
            .map(|(i, ok)| {
                format!(
                    "{{\"doc_id\": {i}, \"filter\": \"strict-match\", \"exact_match\": {}}}\n",
                    if *ok { 1 } else { 0 }
                )
            })
            .collect();
        write(&lm.join("samples_gsm8k_2026-11-22T10-00-00.jsonl"), &same);
        let c = compare_runs(&b, &f, &CompareOptions::default());
        assert!(c.tasks[0].within_noise());
        assert_eq!(
            c.tasks[0].headline.as_ref().map(|h| h.arrow),
            Some(Arrow::Same)
        );
    }
}
