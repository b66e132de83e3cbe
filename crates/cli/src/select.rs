//! Which model sources a run uses: the fine-tuned model's backend and source, and the base.
//!
//! A `--model` path may be a model folder under `outputs/` (lora/, merged_16bit/, merged_4bit/,
//! gguf/), a plain Hugging Face folder, a PEFT adapter folder or a `.gguf` file; HTTP backends
//! name a server instead. The base is the local folder given by `--base` or detected from
//! INFERENCE_BASE_MODEL, lora/adapter_config.json or lora/training_metrics.json.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sparkbench_protocol::ModelSource;
use sparkbench_runs::base_model::{BaseLocation, detect_base_from_env};

use crate::args::BackendArg;

/// The default Ollama endpoint (the seed's OLLAMA_BASE_URL default).
pub const OLLAMA_DEFAULT: &str = "http://localhost:11434";

/// What the user asked to benchmark, resolved.
#[derive(Debug, Clone)]
pub struct Target {
    /// Display name.
    pub label: String,
    /// The model folder whose `benchmarks/` receives the results (None for a bare file).
    pub model_dir: Option<PathBuf>,
    /// The fine-tuned (or only) model.
    pub finetuned: ModelSource,
    /// The base model, when it is known and local.
    pub base: Option<BaseTarget>,
    /// Why no base is available, when one was looked for.
    pub base_problem: Option<String>,
}

/// The base model of a target.
#[derive(Debug, Clone)]
pub struct BaseTarget {
    /// Display name (as detected, e.g. a Hub id or a folder name).
    pub name: String,
    /// The local folder.
    pub source: ModelSource,
}

/// Options of the HTTP backends, from flags.
#[derive(Debug, Clone, Default)]
pub struct ServerFlags {
    /// Server URL.
    pub endpoint: Option<String>,
    /// Model name on the server.
    pub served_model: Option<String>,
    /// Local tokenizer.
    pub tokenizer: Option<PathBuf>,
    /// API key variable.
    pub api_key_env: Option<String>,
    /// Use chat completions.
    pub chat: bool,
}

fn is_outputs_model(dir: &Path) -> bool {
    dir.join("lora/adapter_config.json").is_file()
        || dir.join("merged_16bit/config.json").is_file()
        || dir.join("merged_4bit/config.json").is_file()
        || first_gguf(&dir.join("gguf")).is_some()
}

/// The first `.gguf` file in a folder, sorted by name.
pub fn first_gguf(dir: &Path) -> Option<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("gguf"))
        })
        .collect();
    files.sort();
    files.into_iter().next()
}

fn name_of(path: &Path) -> String {
    let p = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into())
}

/// The backends a model folder can use, best first, with the reason when one cannot.
pub fn backend_options(dir: &Path, base_local: bool) -> Vec<(BackendArg, Result<(), String>)> {
    let merged = dir.join("merged_16bit/config.json").is_file()
        || dir.join("merged_4bit/config.json").is_file();
    let plain = dir.join("config.json").is_file();
    let lora =
        dir.join("lora/adapter_config.json").is_file() || dir.join("adapter_config.json").is_file();
    let gguf = first_gguf(&dir.join("gguf")).is_some();
    let why = |ok: bool, reason: &str| if ok { Ok(()) } else { Err(reason.to_string()) };
    vec![
        (
            BackendArg::Safetensors,
            why(
                merged || plain,
                "no merged model (merged_16bit/ or merged_4bit/); build one, or use LoRA",
            ),
        ),
        (
            BackendArg::Lora,
            if !lora {
                Err("no LoRA adapter (lora/adapter_config.json)".into())
            } else if !base_local {
                Err("the adapter's base model is not a local folder; set INFERENCE_BASE_MODEL to it or pass --base".into())
            } else {
                Ok(())
            },
        ),
        (BackendArg::Gguf, why(gguf, "no GGUF export (gguf/*.gguf)")),
    ]
}

/// Resolve the local base folder of a model folder.
pub fn detect_base(
    model_dir: &Path,
    outputs: &Path,
    explicit: Option<&Path>,
) -> Result<Option<BaseTarget>, String> {
    if let Some(p) = explicit {
        if !p.join("config.json").is_file() {
            return Err(format!(
                "--base {}: no config.json there (a Hugging Face model folder is needed)",
                p.display()
            ));
        }
        return Ok(Some(BaseTarget {
            name: name_of(p),
            source: ModelSource::Hf {
                path: p.to_path_buf(),
            },
        }));
    }
    let detected = detect_base_from_env(model_dir, outputs).map_err(|e| e.to_string())?;
    let Some(base) = detected else {
        return Ok(None);
    };
    match &base.location {
        BaseLocation::Local { path } => {
            let folder = if path.join("config.json").is_file() {
                path.clone()
            } else {
                path.join("merged_16bit")
            };
            if !folder.join("config.json").is_file() {
                return Err(format!("the base {} has no config.json", base.describe()));
            }
            Ok(Some(BaseTarget {
                name: base.name.clone(),
                source: ModelSource::Hf { path: folder },
            }))
        }
        BaseLocation::Hub { id } => Err(format!(
            "the base model {id} (from {}) is a Hub id, not a local folder: download it (`huggingface-cli download {id} --local-dir DIR`) and pass --base DIR or set INFERENCE_BASE_MODEL=DIR",
            base.source.label()
        )),
        BaseLocation::Missing { path } => Err(format!(
            "the base model folder {} (from {}) does not exist; pass --base DIR or set INFERENCE_BASE_MODEL",
            path.display(),
            base.source.label()
        )),
    }
}

/// Resolve `--model` / `--backend` / server flags into a [`Target`].
pub fn resolve(
    outputs: &Path,
    model: Option<&Path>,
    backend: Option<BackendArg>,
    base: Option<&Path>,
    server: &ServerFlags,
) -> Result<Target> {
    if let Some(b @ (BackendArg::Ollama | BackendArg::Openai)) = backend {
        let served = server
            .served_model
            .clone()
            .or_else(|| model.map(|m| name_of(m).to_lowercase()))
            .context("--served-model NAME is needed with --backend ollama|openai")?;
        let finetuned = if b == BackendArg::Ollama {
            ModelSource::Ollama {
                endpoint: server
                    .endpoint
                    .clone()
                    .unwrap_or_else(|| OLLAMA_DEFAULT.into()),
                model: served.clone(),
            }
        } else {
            ModelSource::OpenAi {
                endpoint: server.endpoint.clone().context("--endpoint URL is needed with --backend openai (e.g. http://localhost:8000/v1)")?,
                model: served.clone(),
                tokenizer: server.tokenizer.clone(),
                api_key_env: server.api_key_env.clone(),
                chat: server.chat,
            }
        };
        let model_dir = model.filter(|m| m.is_dir()).map(Path::to_path_buf);
        let (base, base_problem) = match &model_dir {
            Some(dir) => split(detect_base(dir, outputs, base)),
            None => split(
                base.map(|b| detect_base(b, outputs, Some(b)))
                    .unwrap_or(Ok(None)),
            ),
        };
        return Ok(Target {
            label: served,
            model_dir,
            finetuned,
            base,
            base_problem,
        });
    }
    let path = model.context(
        "--model PATH is needed (a model under outputs/, a Hugging Face folder or a .gguf file)",
    )?;
    if !path.exists() {
        bail!("--model {}: no such file or folder", path.display());
    }
    if path.is_file() {
        if !path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("gguf"))
        {
            bail!(
                "--model {}: a file must be a .gguf; otherwise give the model folder",
                path.display()
            );
        }
        let (base, base_problem) = split(
            base.map(|b| detect_base(b, outputs, Some(b)))
                .unwrap_or(Ok(None)),
        );
        return Ok(Target {
            label: name_of(path),
            model_dir: None,
            finetuned: ModelSource::Gguf {
                path: path.to_path_buf(),
                tokenizer: server.tokenizer.clone(),
            },
            base,
            base_problem,
        });
    }
    let label = name_of(path);
    // A bare adapter folder: its base comes from its own config.
    if path.join("adapter_config.json").is_file() && !path.join("config.json").is_file() {
        let base_t = match base {
            Some(b) => detect_base(b, outputs, Some(b)).map_err(anyhow::Error::msg)?,
            None => adapter_base(path, outputs)?,
        }
        .context("the adapter's base model is unknown; pass --base DIR")?;
        let base_path = match &base_t.source {
            ModelSource::Hf { path } => path.clone(),
            _ => unreachable_base()?,
        };
        return Ok(Target {
            label,
            model_dir: Some(path.to_path_buf()),
            finetuned: ModelSource::Lora {
                adapter: path.to_path_buf(),
                base: base_path,
            },
            base: Some(base_t),
            base_problem: None,
        });
    }
    let (base_t, base_problem) = split(detect_base(path, outputs, base));
    let base_local = base_t.is_some();
    let choice = match backend {
        Some(b) => {
            let opts = backend_options(path, base_local);
            if path.join("config.json").is_file() && b == BackendArg::Safetensors {
                b
            } else {
                match opts.iter().find(|(o, _)| *o == b) {
                    Some((_, Err(why))) => bail!("--backend {}: {why}", backend_id(b)),
                    _ => b,
                }
            }
        }
        None => {
            if !is_outputs_model(path) && !path.join("config.json").is_file() {
                bail!(
                    "--model {}: not a model folder (no config.json, lora/, merged_16bit/, merged_4bit/ or gguf/)",
                    path.display()
                );
            }
            backend_options(path, base_local)
                .into_iter()
                .find(|(_, ok)| ok.is_ok())
                .map(|(b, _)| b)
                .with_context(|| format!("--model {}: no usable format found", path.display()))?
        }
    };
    let finetuned = match choice {
        BackendArg::Safetensors => {
            let folder = if path.join("config.json").is_file() {
                path.to_path_buf()
            } else if path.join("merged_16bit/config.json").is_file() {
                path.join("merged_16bit")
            } else {
                path.join("merged_4bit")
            };
            ModelSource::Hf { path: folder }
        }
        BackendArg::Lora => {
            let adapter = if path.join("lora/adapter_config.json").is_file() {
                path.join("lora")
            } else {
                path.to_path_buf()
            };
            let base_path = match base_t.as_ref().map(|b| &b.source) {
                Some(ModelSource::Hf { path }) => path.clone(),
                _ => bail!(
                    "--backend lora: {}",
                    base_problem
                        .clone()
                        .unwrap_or_else(|| "the base model is unknown; pass --base DIR".into())
                ),
            };
            ModelSource::Lora {
                adapter,
                base: base_path,
            }
        }
        BackendArg::Gguf => ModelSource::Gguf {
            path: first_gguf(&path.join("gguf"))
                .with_context(|| format!("no .gguf file in {}", path.join("gguf").display()))?,
            tokenizer: server.tokenizer.clone().or_else(|| {
                [
                    path.join("gguf/tokenizer.json"),
                    path.join("merged_16bit"),
                    path.join("lora"),
                ]
                .into_iter()
                .find(|p| p.join("tokenizer.json").is_file() || p.is_file())
            }),
        },
        BackendArg::Ollama | BackendArg::Openai => unreachable_base()?,
    };
    Ok(Target {
        label,
        model_dir: Some(path.to_path_buf()),
        finetuned,
        base: base_t,
        base_problem,
    })
}

fn unreachable_base<T>() -> Result<T> {
    bail!("internal: unexpected backend combination")
}

fn split<T>(r: Result<Option<T>, String>) -> (Option<T>, Option<String>) {
    match r {
        Ok(v) => (v, None),
        Err(e) => (None, Some(e)),
    }
}

fn adapter_base(adapter: &Path, outputs: &Path) -> Result<Option<BaseTarget>> {
    let cfg_path = adapter.join("adapter_config.json");
    let text = std::fs::read_to_string(&cfg_path)
        .with_context(|| format!("reading {}", cfg_path.display()))?;
    let cfg: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", cfg_path.display()))?;
    let Some(name) = cfg.get("base_model_name_or_path").and_then(|v| v.as_str()) else {
        return Ok(None);
    };
    let candidates = [
        PathBuf::from(name),
        adapter.join(name),
        adapter.join("..").join(name),
        outputs.join(name),
    ];
    Ok(candidates
        .into_iter()
        .find(|p| p.join("config.json").is_file())
        .map(|p| BaseTarget {
            name: name.to_string(),
            source: ModelSource::Hf { path: p },
        }))
}

/// The flag spelling of a backend.
pub fn backend_id(b: BackendArg) -> &'static str {
    match b {
        BackendArg::Safetensors => "safetensors",
        BackendArg::Lora => "lora",
        BackendArg::Gguf => "gguf",
        BackendArg::Ollama => "ollama",
        BackendArg::Openai => "openai",
    }
}

/// The backend flag for an id.
pub fn backend_from_id(id: &str) -> Option<BackendArg> {
    Some(match id {
        "safetensors" => BackendArg::Safetensors,
        "lora" => BackendArg::Lora,
        "gguf" => BackendArg::Gguf,
        "ollama" => BackendArg::Ollama,
        "openai" => BackendArg::Openai,
        _ => return None,
    })
}

/// The backend family a flag selects (native safetensors for the base).
pub fn backend_family(b: BackendArg) -> sparkbench_protocol::Backend {
    use sparkbench_protocol::Backend;
    match b {
        BackendArg::Safetensors => Backend::Safetensors,
        BackendArg::Lora => Backend::Lora,
        BackendArg::Gguf => Backend::Gguf,
        BackendArg::Ollama => Backend::Ollama,
        BackendArg::Openai => Backend::OpenAi,
    }
}
