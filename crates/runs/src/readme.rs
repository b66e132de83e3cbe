//! README benchmark sections: the block between `<!-- sparkbench:begin -->` and
//! `<!-- sparkbench:end -->` is inserted or replaced; every other byte of the file stays as it
//! was (front matter, CRLF line endings, a missing final newline). Running twice gives the same
//! bytes. The model's own `README.md` is created when absent; the format READMEs (`lora/`,
//! `merged_16bit/`, `merged_4bit/`, `gguf/`) are only updated when they exist.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::atomic::write_atomic;
use crate::compare::Comparison;
use crate::error::{Result, RunsError};
use crate::headline::headline_key;
use crate::render::{
    format_delta, format_score, format_significance, metric_label, task_label, verdict_label,
};
use crate::results::RunSettings;
use crate::summary::BenchmarkSummary;

/// The opening marker.
pub const BEGIN: &str = "<!-- sparkbench:begin -->";
/// The closing marker.
pub const END: &str = "<!-- sparkbench:end -->";

/// The format folders whose READMEs get the section when they exist.
pub const FORMAT_READMES: [&str; 4] = ["lora", "merged_16bit", "merged_4bit", "gguf"];

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

fn settings_line(s: &RunSettings, top: &[String]) -> String {
    let mut parts = vec![format!(
        "limit: {}",
        s.limit.map_or("none".to_string(), |l| l.to_string())
    )];
    let shown = |t: &String| top.is_empty() || top.contains(t);
    let shots: Vec<String> = s
        .tasks
        .iter()
        .filter(|(t, _)| shown(t))
        .filter_map(|(t, ts)| ts.n_shot.map(|n| format!("{t} {n}")))
        .collect();
    if !shots.is_empty() && shots.len() <= 12 {
        parts.push(format!("n-shot: {}", shots.join(", ")));
    }
    parts.push(format!(
        "chat template: {}",
        if s.chat_template {
            "applied"
        } else {
            "not applied"
        }
    ));
    let gen_toks: Vec<String> = s
        .tasks
        .iter()
        .filter(|(t, _)| shown(t))
        .filter_map(|(t, ts)| ts.max_gen_toks.map(|n| format!("{t} {n}")))
        .collect();
    if !gen_toks.is_empty() {
        parts.push(format!("max_gen_toks: {}", gen_toks.join(", ")));
    }
    parts.join(" · ")
}

fn comparison_table(c: &Comparison) -> String {
    let mut s = String::from(
        "| Task | Metric | Base | Fine-tuned | Δ | Verdict | Significance |\n|---|---|---:|---:|---|---|---|\n",
    );
    for t in c.top_level() {
        let Some(h) = &t.headline else { continue };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            md_escape(&task_label(t)),
            md_escape(&metric_label(&h.metric, &h.filter)),
            format_score(h.base),
            format_score(h.finetuned),
            format_delta(h),
            verdict_label(t),
            format_significance(t.significance.as_ref()),
        ));
    }
    s
}

fn single_table(block: &Value) -> String {
    let mut s = String::from("| Task | Metric | Score |\n|---|---|---:|\n");
    let results = block.get("results").and_then(Value::as_object);
    let top: Vec<String> = block
        .get("top_level")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(|| {
            results
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default()
        });
    for task in top {
        let Some(entry) = results
            .and_then(|r| r.get(&task))
            .and_then(Value::as_object)
        else {
            continue;
        };
        let keys: Vec<&str> = entry
            .iter()
            .filter(|(k, v)| k.contains(',') && !k.contains("_stderr,") && v.is_number())
            .map(|(k, _)| k.as_str())
            .collect();
        let Some(key) = headline_key(&task, keys.iter().copied()) else {
            continue;
        };
        let Some(v) = entry.get(&key).and_then(Value::as_f64) else {
            continue;
        };
        let (metric, filter) = key.split_once(',').unwrap_or((&key, "none"));
        s.push_str(&format!(
            "| {} | {} | {} |\n",
            md_escape(&task),
            md_escape(&metric_label(metric, filter)),
            format_score(v)
        ));
    }
    s
}

fn top_of(block: &Value) -> Vec<String> {
    block
        .get("top_level")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The section (markers included, `\n` line endings, no trailing newline) for a summary. Its
/// content depends only on the runs, not on when it is generated, so regenerating it from
/// the same runs gives the same bytes.
pub fn render_section(summary: &BenchmarkSummary) -> String {
    let mut s = format!("{BEGIN}\n## Benchmark results\n\n");
    let run_date = |b: &Value| b.get("date").and_then(Value::as_str).map(str::to_string);
    let label_of = |b: &Value| {
        let dir = b.get("benchmark_dir").and_then(Value::as_str).unwrap_or("");
        let backend = b.get("backend").and_then(Value::as_str).unwrap_or("?");
        format!(
            "`{}` ({backend})",
            Path::new(dir)
                .parent()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        )
    };
    let settings_of = |b: &Value| {
        b.get("settings")
            .and_then(|v| serde_json::from_value::<RunSettings>(v.clone()).ok())
    };
    let main_block = if summary.fine_tuned_model.get("results").is_some() {
        &summary.fine_tuned_model
    } else {
        &summary.base_model
    };
    if let Some(d) = run_date(main_block) {
        s.push_str(&format!("**Evaluated:** {d}  \n"));
    }
    if let Some(b) = &summary.base_model_name {
        s.push_str(&format!("**Base model:** {}  \n", md_escape(b)));
    }
    match &summary.sparkbench.comparison {
        Some(c) => {
            s.push_str(&format!(
                "**Comparison:** fine-tuned run {} vs base run {}\n\n",
                label_of(&summary.fine_tuned_model),
                label_of(&summary.base_model)
            ));
            s.push_str(&comparison_table(c));
        }
        None => {
            s.push_str(&format!("**Run:** {}\n\n", label_of(main_block)));
            s.push_str(&single_table(main_block));
        }
    }
    if let Some(st) = settings_of(main_block) {
        s.push_str(&format!(
            "\n**Settings:** {}\n",
            md_escape(&settings_line(&st, &top_of(main_block)))
        ));
    }
    if !summary.warnings.is_empty() {
        s.push_str("\n### ⚠️ Warnings\n\n");
        for w in &summary.warnings {
            s.push_str(&format!("- {}\n", md_escape(w)));
        }
    }
    s.push_str(
        "\n<sub>Generated by sparkbench; scores as lm-evaluation-harness computes them. \
         Δ in points (1 pt = 1%); ↗ better, ↘ worse, → within 0.1 pt or within noise \
         (paired test, p ≥ 0.05).</sub>\n",
    );
    s.push_str(END);
    s
}

/// Insert or replace the section in a file's text. `section` uses `\n`; it is written with the
/// file's own line ending (CRLF when the file has any). Without markers the section is
/// appended after one blank line. Errors when a begin marker has no end marker after it
/// (the caller names the file).
pub fn upsert_section(existing: &str, section: &str) -> std::result::Result<String, &'static str> {
    let eol = if existing.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let block = if eol == "\n" {
        section.to_string()
    } else {
        section.replace('\n', "\r\n")
    };
    if let Some(b) = existing.find(BEGIN) {
        let Some(rel) = existing[b..].find(END) else {
            return Err(
                "has a `<!-- sparkbench:begin -->` marker without `<!-- sparkbench:end -->` after it",
            );
        };
        let e = b + rel + END.len();
        return Ok(format!("{}{block}{}", &existing[..b], &existing[e..]));
    }
    if existing.contains(END) {
        return Err(
            "has a `<!-- sparkbench:end -->` marker without `<!-- sparkbench:begin -->` before it",
        );
    }
    if existing.is_empty() {
        return Ok(format!("{block}{eol}"));
    }
    let sep = if existing.ends_with('\n') {
        eol.to_string()
    } else {
        format!("{eol}{eol}")
    };
    Ok(format!("{existing}{sep}{block}{eol}"))
}

/// What happened to one README.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadmeUpdate {
    /// The file.
    pub path: PathBuf,
    /// Created (the model README only).
    pub created: bool,
    /// Bytes changed.
    pub changed: bool,
}

fn update_one(
    path: &Path,
    section: &str,
    create_with_title: Option<&str>,
) -> Result<Option<ReadmeUpdate>> {
    let existing = match std::fs::read(path) {
        Ok(bytes) => Some(String::from_utf8(bytes).map_err(|_| {
            RunsError::io(
                "reading",
                path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "not UTF-8 text; fix the file's encoding or move it aside",
                ),
            )
        })?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(RunsError::io("reading", path, e)),
    };
    let (text, created) = match (existing, create_with_title) {
        (Some(t), _) => (t, false),
        (None, Some(title)) => (format!("# {title}\n"), true),
        (None, None) => return Ok(None),
    };
    let updated = upsert_section(&text, section).map_err(|why| RunsError::Malformed {
        path: path.to_path_buf(),
        why,
    })?;
    let changed = created || updated != text;
    if changed {
        write_atomic(path, updated.as_bytes())?;
    }
    Ok(Some(ReadmeUpdate {
        path: path.to_path_buf(),
        created,
        changed,
    }))
}

/// Write the section into the model's READMEs (see the module doc).
pub fn update_readmes(model_dir: &Path, section: &str) -> Result<Vec<ReadmeUpdate>> {
    let name = model_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "Model".into());
    let mut out = Vec::new();
    if let Some(u) = update_one(&model_dir.join("README.md"), section, Some(&name))? {
        out.push(u);
    }
    for f in FORMAT_READMES {
        let dir = model_dir.join(f);
        if dir.is_dir()
            && let Some(u) = update_one(&dir.join("README.md"), section, None)?
        {
            out.push(u);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &str = "<!-- sparkbench:begin -->\n## B\n\n| a |\n<!-- sparkbench:end -->";

    fn up(text: &str) -> String {
        upsert_section(text, S).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn appends_after_a_blank_line_and_is_idempotent() {
        let once = up("# Title\n\nText.\n");
        assert_eq!(once, format!("# Title\n\nText.\n\n{S}\n"));
        assert_eq!(up(&once), once);
        assert_eq!(up(""), format!("{S}\n"));
    }

    #[test]
    fn no_trailing_newline_is_kept_as_prefix() {
        let once = up("# T\nlast line");
        assert_eq!(once, format!("# T\nlast line\n\n{S}\n"));
        assert!(once.starts_with("# T\nlast line"));
        assert_eq!(up(&once), once);
    }

    #[test]
    fn crlf_files_get_crlf_sections_and_stay_crlf() {
        let text = "---\r\nbase_model: x\r\nlibrary_name: peft\r\n---\r\n# LoRA\r\n";
        let once = up(text);
        assert_eq!(once, format!("{text}\r\n{}\r\n", S.replace('\n', "\r\n")));
        assert!(!once.replace("\r\n", "").contains('\n'));
        assert_eq!(up(&once), once);
    }

    #[test]
    fn replaces_only_between_markers() {
        let text = "---\nfront: matter\n---\nbefore\n<!-- sparkbench:begin -->\nold stuff\n<!-- sparkbench:end -->\nafter, no newline";
        let out = up(text);
        assert_eq!(
            out,
            format!("---\nfront: matter\n---\nbefore\n{S}\nafter, no newline")
        );
        assert_eq!(up(&out), out);
    }

    #[test]
    fn unmatched_markers_are_refused() {
        assert!(upsert_section("a\n<!-- sparkbench:begin -->\nb\n", S).is_err());
        assert!(upsert_section("a\n<!-- sparkbench:end -->\n", S).is_err());
    }

    #[test]
    fn updates_existing_readmes_creates_only_the_model_one() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let m = t.path().join("qwen-lima");
        let lora =
            "---\r\nbase_model: Qwen/Qwen3-1.7B\r\nlibrary_name: peft\r\n---\r\n\r\n# Adapter";
        crate::testutil::write(&m.join("lora/README.md"), lora);
        crate::testutil::write(&m.join("lora/adapter_config.json"), "{}");
        std::fs::create_dir_all(m.join("gguf")).map_err(|e| RunsError::io("mkdir", &m, e))?;
        let first = update_readmes(&m, S)?;
        let paths: Vec<_> = first
            .iter()
            .map(|u| {
                (
                    u.path
                        .strip_prefix(&m)
                        .map(Path::to_path_buf)
                        .unwrap_or_default(),
                    u.created,
                    u.changed,
                )
            })
            .collect();
        assert_eq!(
            paths,
            vec![
                (PathBuf::from("README.md"), true, true),
                (PathBuf::from("lora/README.md"), false, true)
            ]
        );
        assert!(!m.join("gguf/README.md").exists());
        let read = |p: &str| std::fs::read(m.join(p)).unwrap_or_default();
        assert_eq!(
            read("README.md"),
            format!("# qwen-lima\n\n{S}\n").into_bytes()
        );
        assert_eq!(
            read("lora/README.md"),
            format!("{lora}\r\n\r\n{}\r\n", S.replace('\n', "\r\n")).into_bytes()
        );
        let (a, b) = (read("README.md"), read("lora/README.md"));
        let second = update_readmes(&m, S)?;
        assert!(second.iter().all(|u| !u.changed && !u.created));
        assert_eq!((read("README.md"), read("lora/README.md")), (a, b));
        Ok(())
    }

    #[test]
    fn section_from_a_summary_is_stable_and_complete() -> Result<()> {
        let c = crate::render::tests::sample_comparison();
        let summary = BenchmarkSummary {
            model_name: "m".into(),
            model_path: "outputs/m".into(),
            base_model_name: Some("Qwen/Qwen3-1.7B".into()),
            timestamp: "2026-11-22T12:00:00.000000".into(),
            base_model: serde_json::json!({"benchmark_dir": "outputs/m/benchmarks/base/lm-eval", "backend": "safetensors", "date": "2026-11-22 10:00"}),
            fine_tuned_model: serde_json::json!({
                "results": {}, "benchmark_dir": "outputs/m/benchmarks/fine-tuned/2026-11-22T11-00-00/lm-eval",
                "backend": "safetensors", "date": "2026-11-22 11:00",
                "settings": {"limit": 5.0, "chat_template": false, "tasks": {"gsm8k": {"n_shot": 5, "max_gen_toks": 256}}}
            }),
            comparison: Default::default(),
            comparison_all: Default::default(),
            warnings: c.warning_lines(),
            sparkbench: crate::summary::SparkbenchBlock {
                version: "0.1.0".into(),
                headline: None,
                comparison: Some(c),
            },
        };
        let s = render_section(&summary);
        let expected = "<!-- sparkbench:begin -->
## Benchmark results

**Evaluated:** 2026-11-22 11:00  
**Base model:** Qwen/Qwen3-1.7B  
**Comparison:** fine-tuned run `2026-11-22T11-00-00` (safetensors) vs base run `base` (safetensors)

| Task | Metric | Base | Fine-tuned | Δ | Verdict | Significance |
|---|---|---:|---:|---|---|---|
| gsm8k | exact_match (strict-match) | 40.00% | 60.00% | ↗ +20.00 pts (+50.0%) | excellent | p = 0.012 |
| hellaswag (partial: fine-tuned 3/5) | acc | 50.00% | 44.00% | ↘ -6.00 pts (-12.0%) | possible forgetting ⚠ |  |

**Settings:** limit: 5 · n-shot: gsm8k 5 · chat template: not applied · max_gen_toks: gsm8k 256

### ⚠️ Warnings

- limit differs: base unset, fine-tuned 5

<sub>Generated by sparkbench; scores as lm-evaluation-harness computes them. Δ in points (1 pt = 1%); ↗ better, ↘ worse, → within 0.1 pt or within noise (paired test, p ≥ 0.05).</sub>
<!-- sparkbench:end -->";
        assert_eq!(s, expected);
        Ok(())
    }
}
