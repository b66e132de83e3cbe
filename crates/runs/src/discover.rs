//! Finding models under `outputs/`: a subfolder is a model when it has any of
//! `lora/adapter_config.json`, `merged_16bit/config.json`, `merged_4bit/config.json` or
//! `gguf/*.gguf` (the seed's rule). Each comes with its formats, their size on disk, the
//! detected base model, and the last benchmark's date and headline score.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::base_model::{BaseModel, detect_base};
use crate::error::{Result, RunsError};
use crate::summary::{Headline, latest_finetuned, load_all_runs, read_benchmark_json};

/// A model format the fine-tuning scripts produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `lora/` (PEFT adapter).
    Lora,
    /// `merged_16bit/`.
    Merged16,
    /// `merged_4bit/`.
    Merged4,
    /// `gguf/` (one or more `.gguf` files).
    Gguf,
}

impl Format {
    /// All formats, in display order.
    pub const ALL: [Format; 4] = [
        Format::Lora,
        Format::Merged16,
        Format::Merged4,
        Format::Gguf,
    ];
    /// The subfolder.
    pub fn folder(self) -> &'static str {
        match self {
            Format::Lora => "lora",
            Format::Merged16 => "merged_16bit",
            Format::Merged4 => "merged_4bit",
            Format::Gguf => "gguf",
        }
    }
    /// The seed's label (`LoRA`, `16-bit`, `4-bit`, `GGUF`).
    pub fn label(self) -> &'static str {
        match self {
            Format::Lora => "LoRA",
            Format::Merged16 => "16-bit",
            Format::Merged4 => "4-bit",
            Format::Gguf => "GGUF",
        }
    }
}

/// One format present in a model folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormatInfo {
    /// The format.
    pub format: Format,
    /// Its folder.
    pub path: PathBuf,
    /// Bytes on disk under the folder (symlinks not followed).
    pub size_bytes: u64,
    /// The `.gguf` files, sorted (GGUF only).
    pub files: Vec<PathBuf>,
}

/// The last benchmark of a model, for the wizard's model list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastBenchmark {
    /// The date in words.
    pub date: String,
    /// The headline number, when one could be found.
    pub headline: Option<Headline>,
}

/// A model found under `outputs/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    /// The folder name.
    pub name: String,
    /// The folder.
    pub path: PathBuf,
    /// The formats present, in [`Format::ALL`] order.
    pub formats: Vec<FormatInfo>,
    /// The detected base model.
    pub base: Option<BaseModel>,
    /// Why base detection failed (a broken JSON file), when it did.
    pub base_error: Option<String>,
    /// The last benchmark.
    pub last_benchmark: Option<LastBenchmark>,
}

impl ModelEntry {
    /// A format's info, when present.
    pub fn format(&self, f: Format) -> Option<&FormatInfo> {
        self.formats.iter().find(|i| i.format == f)
    }
    /// `LoRA, 16-bit, GGUF`.
    pub fn formats_label(&self) -> String {
        self.formats
            .iter()
            .map(|f| f.format.label())
            .collect::<Vec<_>>()
            .join(", ")
    }
    /// Total bytes of all formats.
    pub fn size_bytes(&self) -> u64 {
        self.formats.iter().map(|f| f.size_bytes).sum()
    }
}

/// Bytes under a folder, not following symlinks; unreadable entries count as 0.
pub fn dir_size(path: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_file() {
        return meta.len();
    }
    if !meta.is_dir() {
        return 0;
    }
    fs::read_dir(path)
        .map(|it| it.filter_map(|e| e.ok()).map(|e| dir_size(&e.path())).sum())
        .unwrap_or(0)
}

/// `1.4 GB`, `812 MB`, `77 KB` (decimal units, like `du --si`).
pub fn human_size(bytes: u64) -> String {
    let b = bytes as f64;
    let units = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB")];
    for (scale, unit) in units {
        if b >= scale {
            return format!("{:.1} {unit}", b / scale);
        }
    }
    format!("{bytes} B")
}

fn gguf_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|it| {
            it.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .is_some_and(|x| x.eq_ignore_ascii_case("gguf"))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The formats present in a folder (empty: not a model).
pub fn formats_of(model_dir: &Path) -> Vec<FormatInfo> {
    let mut out = Vec::new();
    for format in Format::ALL {
        let dir = model_dir.join(format.folder());
        let (present, files) = match format {
            Format::Lora => (dir.join("adapter_config.json").is_file(), vec![]),
            Format::Merged16 | Format::Merged4 => (dir.join("config.json").is_file(), vec![]),
            Format::Gguf => {
                let files = gguf_files(&dir);
                (!files.is_empty(), files)
            }
        };
        if present {
            out.push(FormatInfo {
                format,
                size_bytes: dir_size(&dir),
                path: dir,
                files,
            });
        }
    }
    out
}

fn last_benchmark(model_dir: &Path) -> Option<LastBenchmark> {
    if let Ok(Some(v)) = read_benchmark_json(model_dir) {
        let headline: Option<Headline> = v
            .get("sparkbench")
            .and_then(|s| s.get("headline"))
            .and_then(|h| serde_json::from_value(h.clone()).ok());
        // Seed files: the first comparison entry that names a metric (its gsm8k entry has none).
        let seed = || {
            v.get("comparison")?
                .as_object()?
                .iter()
                .find_map(|(task, c)| {
                    Some(Headline {
                        task: task.clone(),
                        metric: c.get("metric")?.as_str()?.to_string(),
                        score: c.get("finetuned_accuracy")?.as_f64()?,
                        delta: c.get("delta").and_then(serde_json::Value::as_f64),
                        date: String::new(),
                    })
                })
        };
        let headline = headline.or_else(seed);
        let date = headline
            .as_ref()
            .map(|h| h.date.clone())
            .filter(|d| !d.is_empty())
            .or_else(|| {
                v.get("timestamp")
                    .and_then(|t| t.as_str())
                    .map(|t| t.replace('T', " ").chars().take(16).collect())
            });
        if let Some(date) = date {
            return Some(LastBenchmark { date, headline });
        }
    }
    let (runs, _) = load_all_runs(model_dir).ok()?;
    let run = latest_finetuned(&runs).or(runs.first())?;
    let headline = run.top_level.iter().find_map(|name| {
        let m = crate::headline::headline(run.task(name)?)?;
        Some(Headline {
            task: name.clone(),
            metric: m.key.clone(),
            score: m.value,
            delta: None,
            date: run.date.clone(),
        })
    });
    Some(LastBenchmark {
        date: run.date.clone(),
        headline,
    })
}

/// Describe one model folder; `None` when it holds no model format.
pub fn describe_model(
    model_dir: &Path,
    outputs_dir: &Path,
    env_base: Option<&str>,
) -> Option<ModelEntry> {
    let formats = formats_of(model_dir);
    if formats.is_empty() {
        return None;
    }
    let (base, base_error) = match detect_base(model_dir, outputs_dir, env_base) {
        Ok(b) => (b, None),
        Err(e) => (None, Some(e.to_string())),
    };
    Some(ModelEntry {
        name: model_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        path: model_dir.to_path_buf(),
        formats,
        base,
        base_error,
        last_benchmark: last_benchmark(model_dir),
    })
}

/// Every model under `outputs_dir`, sorted by name; an absent folder gives an empty list.
/// `env_base` is `INFERENCE_BASE_MODEL` (see [`crate::base_model::detect_base_from_env`]).
pub fn discover_models(outputs_dir: &Path, env_base: Option<&str>) -> Result<Vec<ModelEntry>> {
    let entries = match fs::read_dir(outputs_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(RunsError::io("listing", outputs_dir, e)),
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    Ok(dirs
        .iter()
        .filter_map(|d| describe_model(d, outputs_dir, env_base))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{results_json, write};

    #[test]
    fn finds_models_by_the_seed_rule_sorted_with_sizes() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let o = t.path();
        let adapter = r#"{"base_model_name_or_path": "Qwen/Qwen3-1.7B"}"#;
        write(&o.join("b-model/lora/adapter_config.json"), adapter);
        write(
            &o.join("b-model/lora/adapter_model.safetensors"),
            &"x".repeat(1000),
        );
        write(&o.join("b-model/gguf/b-Q4_K_M.gguf"), "0123456789");
        write(&o.join("b-model/gguf/README.md"), "12345");
        write(&o.join("a-model/merged_16bit/config.json"), "{}");
        write(&o.join("a-model/merged_4bit/config.txt"), "{}");
        write(&o.join("not-a-model/gguf/notes.txt"), "");
        write(&o.join(".sparkbench/throughput.json"), "{}");
        let models = discover_models(o, None)?;
        let names: Vec<_> = models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["a-model", "b-model"]);
        assert_eq!(models[0].formats_label(), "16-bit");
        assert_eq!(models[1].formats_label(), "LoRA, GGUF");
        let lora = models[1].format(Format::Lora).map(|f| f.size_bytes);
        assert_eq!(lora, Some(1000 + adapter.len() as u64));
        let gguf = models[1].format(Format::Gguf);
        assert_eq!(gguf.map(|g| (g.size_bytes, g.files.len())), Some((15, 1)));
        assert_eq!(
            models[1].base.as_ref().map(|b| b.name.as_str()),
            Some("Qwen/Qwen3-1.7B")
        );
        assert!(models[0].last_benchmark.is_none());
        assert!(discover_models(&o.join("missing"), None)?.is_empty());
        Ok(())
    }

    #[test]
    fn last_benchmark_from_runs_and_from_seed_files() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let m = t.path().join("m");
        write(&m.join("merged_16bit/config.json"), "{}");
        let doc = results_json(&[("ifeval", "prompt_level_strict_acc,none", 0.5)]);
        write(&m.join("benchmarks/fine-tuned/2026-11-22T11-00-00/lm-eval/results_2026-11-22T11-00-05.json"), &doc.to_string());
        let e =
            describe_model(&m, t.path(), None).ok_or_else(|| RunsError::NoRun("none".into()))?;
        let lb = e
            .last_benchmark
            .ok_or_else(|| RunsError::NoRun("no last".into()))?;
        assert_eq!(lb.date, "2026-11-22 11:00");
        assert_eq!(
            lb.headline.map(|h| (h.task, h.score)),
            Some(("ifeval".to_string(), 0.5))
        );
        write(
            &m.join("benchmarks/benchmark.json"),
            r#"{"timestamp": "2026-11-24T03:55:00.123", "comparison": {"gsm8k": {"metric": null, "base_accuracy": 0, "finetuned_accuracy": 0}, "ifeval": {"metric": "prompt_level_strict_acc", "finetuned_accuracy": 0.7, "delta": 0.1}}}"#,
        );
        let e =
            describe_model(&m, t.path(), None).ok_or_else(|| RunsError::NoRun("none".into()))?;
        let lb = e
            .last_benchmark
            .ok_or_else(|| RunsError::NoRun("no last".into()))?;
        assert_eq!(lb.date, "2026-11-24 03:55");
        assert_eq!(
            lb.headline.map(|h| (h.task, h.score)),
            Some(("ifeval".to_string(), 0.7))
        );
        Ok(())
    }

    #[test]
    fn sizes_read_like_du_si() {
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(77_000), "77.0 KB");
        assert_eq!(human_size(1_400_000_000), "1.4 GB");
    }
}
