//! Which base model a fine-tune came from, and where it lives.
//!
//! Sources, first found wins: the `INFERENCE_BASE_MODEL` environment variable (the user's
//! explicit choice, usually the 16-bit build), `lora/adapter_config.json`
//! `base_model_name_or_path`, `lora/training_metrics.json` `model_name` (the seed's summary read
//! `base_model_name`, which `train.py` never writes, and always printed "Unknown"). The name is
//! then resolved to a local folder (absolute, relative to the model folder, relative to
//! `outputs/`, or a sibling model under `outputs/`) or reported as a Hugging Face Hub id.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Result, RunsError};

/// The environment variable that overrides the detected base.
pub const BASE_ENV: &str = "INFERENCE_BASE_MODEL";

/// Where the base model's name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaseSource {
    /// `INFERENCE_BASE_MODEL`.
    Env,
    /// `lora/adapter_config.json` `base_model_name_or_path`.
    AdapterConfig,
    /// `lora/training_metrics.json` `model_name`.
    TrainingMetrics,
}

impl BaseSource {
    /// In words, for the wizard.
    pub fn label(self) -> &'static str {
        match self {
            BaseSource::Env => "INFERENCE_BASE_MODEL",
            BaseSource::AdapterConfig => "lora/adapter_config.json",
            BaseSource::TrainingMetrics => "lora/training_metrics.json",
        }
    }
}

/// Where the base model lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BaseLocation {
    /// A local Hugging Face folder (holds `config.json`).
    Local {
        /// The folder.
        path: PathBuf,
    },
    /// A Hub id (`org/name`), to be found in the Hugging Face cache or downloaded.
    Hub {
        /// The id.
        id: String,
    },
    /// A path-like name that matches no folder.
    Missing {
        /// The name as written.
        path: PathBuf,
    },
}

/// The detected base model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseModel {
    /// The name as written in its source.
    pub name: String,
    /// Where the name came from.
    pub source: BaseSource,
    /// Where it lives.
    pub location: BaseLocation,
    /// A caveat for the user (a 4-bit training base), when any.
    pub note: Option<String>,
}

impl BaseModel {
    /// One line for the wizard: `unsloth/Qwen3-1.7B (Hub id, from lora/adapter_config.json)`.
    pub fn describe(&self) -> String {
        let where_ = match &self.location {
            BaseLocation::Local { path } => format!("local folder {}", path.display()),
            BaseLocation::Hub { .. } => "Hub id".to_string(),
            BaseLocation::Missing { path } => format!("folder {} not found", path.display()),
        };
        format!("{} ({where_}, from {})", self.name, self.source.label())
    }
}

fn read_json(path: &Path) -> Result<Option<Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(RunsError::io("reading", path, e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| RunsError::Json {
            path: path.into(),
            what: "JSON file",
            source,
        })
}

fn string_field(doc: Option<Value>, key: &str) -> Option<String> {
    doc?.get(key)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A folder that holds a Hugging Face model: itself, or a sibling model's `merged_16bit/`.
fn model_folder(dir: &Path) -> Option<PathBuf> {
    if dir.join("config.json").is_file() {
        return Some(dir.to_path_buf());
    }
    let merged = dir.join("merged_16bit");
    merged.join("config.json").is_file().then_some(merged)
}

/// Resolve a base name to a local folder or a Hub id.
pub fn resolve_location(name: &str, model_dir: &Path, outputs_dir: &Path) -> BaseLocation {
    let p = Path::new(name);
    let mut candidates: Vec<PathBuf> = Vec::new();
    if p.is_absolute() {
        candidates.push(p.to_path_buf());
    } else {
        candidates.push(model_dir.join(p));
        candidates.push(outputs_dir.join(p));
        if let Some(last) = p.file_name() {
            candidates.push(outputs_dir.join(last));
        }
    }
    for c in &candidates {
        if let Some(found) = model_folder(c) {
            return BaseLocation::Local { path: found };
        }
    }
    let path_like = p.is_absolute()
        || name.starts_with("./")
        || name.starts_with("../")
        || name.starts_with('~');
    let hub_like = !path_like
        && name.split('/').count() <= 2
        && name.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        });
    if hub_like {
        BaseLocation::Hub {
            id: name.to_string(),
        }
    } else {
        BaseLocation::Missing {
            path: p.to_path_buf(),
        }
    }
}

/// Detect the base model of `model_dir` (a folder under `outputs_dir`), with `env` the value of
/// `INFERENCE_BASE_MODEL` (passed in so tests need not touch the process environment).
pub fn detect_base(
    model_dir: &Path,
    outputs_dir: &Path,
    env: Option<&str>,
) -> Result<Option<BaseModel>> {
    let lora = model_dir.join("lora");
    let found = match env.map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) => Some((v.to_string(), BaseSource::Env)),
        None => string_field(
            read_json(&lora.join("adapter_config.json"))?,
            "base_model_name_or_path",
        )
        .map(|n| (n, BaseSource::AdapterConfig))
        .or(string_field(
            read_json(&lora.join("training_metrics.json"))?,
            "model_name",
        )
        .map(|n| (n, BaseSource::TrainingMetrics))),
    };
    Ok(found.map(|(name, source)| {
        let lower = name.to_ascii_lowercase();
        let note = (source != BaseSource::Env && (lower.contains("bnb-4bit") || lower.contains("4bit"))).then(|| {
            format!("{name} is a 4-bit training base; set {BASE_ENV} to the 16-bit model for a fair base run")
        });
        BaseModel { location: resolve_location(&name, model_dir, outputs_dir), name, source, note }
    }))
}

/// [`detect_base`] reading `INFERENCE_BASE_MODEL` from the environment.
pub fn detect_base_from_env(model_dir: &Path, outputs_dir: &Path) -> Result<Option<BaseModel>> {
    let env = std::env::var(BASE_ENV).ok();
    detect_base(model_dir, outputs_dir, env.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::write;

    #[test]
    fn sources_in_priority_order_and_model_name_not_base_model_name() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let (out, m) = (t.path(), t.path().join("ft"));
        write(
            &m.join("lora/training_metrics.json"),
            r#"{"base_model_name": "wrong", "model_name": "unsloth/Qwen3-1.7B-bnb-4bit"}"#,
        );
        let b = detect_base(&m, out, None)?.unwrap_or_else(|| panic!("none"));
        assert_eq!(
            (b.name.as_str(), b.source),
            ("unsloth/Qwen3-1.7B-bnb-4bit", BaseSource::TrainingMetrics)
        );
        assert_eq!(
            b.location,
            BaseLocation::Hub {
                id: "unsloth/Qwen3-1.7B-bnb-4bit".into()
            }
        );
        assert!(b.note.is_some_and(|n| n.contains(BASE_ENV)));
        write(
            &m.join("lora/adapter_config.json"),
            r#"{"base_model_name_or_path": "Qwen/Qwen3-1.7B"}"#,
        );
        let b = detect_base(&m, out, None)?.unwrap_or_else(|| panic!("none"));
        assert_eq!(
            (b.name.as_str(), b.source, b.note),
            ("Qwen/Qwen3-1.7B", BaseSource::AdapterConfig, None)
        );
        let b = detect_base(&m, out, Some("  org/other "))?.unwrap_or_else(|| panic!("none"));
        assert_eq!((b.name.as_str(), b.source), ("org/other", BaseSource::Env));
        assert_eq!(detect_base(&out.join("nothing"), out, None)?, None);
        Ok(())
    }

    #[test]
    fn local_folders_are_found_in_every_place() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let (out, m) = (t.path().join("outputs"), t.path().join("outputs/ft"));
        write(&t.path().join("abs-base/config.json"), "{}");
        write(&m.join("base-here/config.json"), "{}");
        write(&out.join("models/b2/config.json"), "{}");
        write(&out.join("Qwen3-1.7B/merged_16bit/config.json"), "{}");
        let abs = t.path().join("abs-base");
        let loc = |n: &str| resolve_location(n, &m, &out);
        assert_eq!(
            loc(&abs.to_string_lossy()),
            BaseLocation::Local { path: abs.clone() }
        );
        assert_eq!(
            loc("base-here"),
            BaseLocation::Local {
                path: m.join("base-here")
            }
        );
        assert_eq!(
            loc("models/b2"),
            BaseLocation::Local {
                path: out.join("models/b2")
            }
        );
        assert_eq!(
            loc("unsloth/Qwen3-1.7B"),
            BaseLocation::Local {
                path: out.join("Qwen3-1.7B/merged_16bit")
            }
        );
        assert_eq!(
            loc("./gone"),
            BaseLocation::Missing {
                path: "./gone".into()
            }
        );
        assert_eq!(
            loc("a/b/c"),
            BaseLocation::Missing {
                path: "a/b/c".into()
            }
        );
        Ok(())
    }

    #[test]
    fn broken_adapter_config_names_the_file() {
        let Ok(t) = tempfile::tempdir() else { return };
        write(&t.path().join("m/lora/adapter_config.json"), "{not json");
        let err = detect_base(&t.path().join("m"), t.path(), None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("adapter_config.json"), "{err}");
    }
}
