//! [`load`]: from a [`ModelSource`] and [`LoadOptions`] to a ready [`CandleModel`]: config and
//! generation config, tokenizer, device/dtype, LoRA overlay with its base check, safetensors or
//! GGUF weights, and the [`ModelInfo`] the run records.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};
use sparkbench_protocol::{LanguageModel, ModelInfo, ModelSource};
use sparkbench_tokenizer::HfTokenizer;

use crate::config::{parse_config, read_config_file, token_ids};
use crate::decoder::Decoder;
use crate::device::resolve;
use crate::error::LoadError;
use crate::generate::Processors;
use crate::lora::LoraOverlay;
use crate::model::CandleModel;
use crate::weights::{SafetensorsWeights, safetensors_files};

/// How to load a model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadOptions {
    /// `auto` (none), `f32`, `bf16`, `f16`, `q8_0`, `q4_k`.
    pub dtype: Option<String>,
    /// `auto` (none), `cpu`, `cuda`, `cuda:N`.
    pub device: Option<String>,
    /// Rows per forward pass (at least 1).
    pub batch_size: usize,
    /// lm-eval's `max_length`; defaults to the config's `max_position_embeddings`.
    pub max_length: Option<usize>,
}

/// Load `source` as a [`LanguageModel`].
pub fn load(
    source: &ModelSource,
    opts: &LoadOptions,
    log: &dyn Fn(&str),
) -> Result<Box<dyn LanguageModel>, LoadError> {
    Ok(Box::new(load_candle(source, opts, log)?))
}

/// Load `source` as the concrete [`CandleModel`] (token-level access for tests and benches).
pub fn load_candle(
    source: &ModelSource,
    opts: &LoadOptions,
    log: &dyn Fn(&str),
) -> Result<CandleModel, LoadError> {
    match source {
        ModelSource::Hf { path } => load_hf(path, None, opts, log),
        ModelSource::Lora { adapter, base } => load_hf(base, Some(adapter), opts, log),
        ModelSource::Gguf { path, tokenizer } => load_gguf(path, tokenizer.as_deref(), opts, log),
        other => Err(LoadError::Unsupported(format!(
            "the candle backend runs Hugging Face folders, LoRA adapters and GGUF files; {other:?} needs the HTTP backend"
        ))),
    }
}

fn read_json(path: &Path) -> Result<Option<Value>, LoadError> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| LoadError::file(path, format!("cannot read: {e}")))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| LoadError::file(path, format!("not valid JSON: {e}")))
}

fn folder_name(p: &Path) -> String {
    p.canonicalize()
        .unwrap_or_else(|_| p.to_path_buf())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn last_component(s: &str) -> &str {
    s.trim_end_matches(['/', '\\'])
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(s)
}

/// Whether an adapter trained on `wanted` fits the base folder `base` (whose config says
/// `name_or_path`).
pub fn base_matches(wanted: &str, base: &Path, name_or_path: Option<&str>) -> bool {
    let want = last_component(wanted);
    let folder = folder_name(base);
    let mut candidates = vec![folder.clone()];
    if let Some(n) = name_or_path {
        candidates.push(last_component(n).to_string());
    }
    // Hub cache layout: .../models--org--name/snapshots/<hash>
    let full = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    for c in full.components() {
        if let Some(rest) = c
            .as_os_str()
            .to_str()
            .and_then(|s| s.strip_prefix("models--"))
        {
            candidates.push(rest.rsplit("--").next().unwrap_or(rest).to_string());
        }
    }
    candidates.iter().any(|c| c.eq_ignore_ascii_case(want)) || name_or_path == Some(wanted)
}

fn hash_files(files: &[PathBuf]) -> Result<String, LoadError> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    for f in files {
        let mut file =
            std::fs::File::open(f).map_err(|e| LoadError::file(f, format!("cannot open: {e}")))?;
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|e| LoadError::file(f, format!("cannot read: {e}")))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
    }
    Ok(hex::encode(h.finalize()))
}

/// [`hash_files`] running on its own thread.
struct Hashing {
    /// The first file, to name in an error.
    first: PathBuf,
    handle: std::thread::JoinHandle<Result<String, LoadError>>,
}

fn hash_in_background(files: Vec<PathBuf>) -> Hashing {
    Hashing {
        first: files.first().cloned().unwrap_or_default(),
        handle: std::thread::spawn(move || hash_files(&files)),
    }
}

impl Hashing {
    /// The checksum, once the thread is done.
    fn wait(self) -> Result<String, LoadError> {
        let first = self.first;
        self.handle.join().unwrap_or_else(|_| {
            Err(LoadError::file(
                &first,
                "computing the weights' checksum failed",
            ))
        })
    }
}

fn tokenizer_error(dir: &Path, e: impl std::fmt::Display) -> LoadError {
    LoadError::file(dir, format!("cannot load the tokenizer: {e}"))
}

fn resolve_max_length(opts: &LoadOptions, cfg_max: Option<usize>, tok: &HfTokenizer) -> usize {
    opts.max_length
        .or(cfg_max)
        .or_else(|| {
            tok.model_max_length()
                .filter(|&m| m < 1_000_000_000)
                .map(|m| m as usize)
        })
        .unwrap_or(2048)
}

fn load_hf(
    dir: &Path,
    adapter: Option<&PathBuf>,
    opts: &LoadOptions,
    log: &dyn Fn(&str),
) -> Result<CandleModel, LoadError> {
    if !dir.is_dir() {
        return Err(LoadError::file(dir, "model folder not found"));
    }
    let root = read_config_file(dir)?;
    let cfg = parse_config(&root, &dir.join("config.json"))?;
    let gen_path = dir.join("generation_config.json");
    let gen_cfg = read_json(&gen_path)?;
    if !dir.join("tokenizer.json").is_file() {
        return Err(LoadError::file(
            &dir.join("tokenizer.json"),
            "tokenizer.json not found; copy the base model's tokenizer files (tokenizer.json, tokenizer_config.json) into the folder",
        ));
    }
    let tokenizer = HfTokenizer::from_dir(dir).map_err(|e| tokenizer_error(dir, e))?;
    let compute = resolve(opts.device.as_deref(), opts.dtype.as_deref(), log)?;
    let lora = match adapter {
        Some(a) => {
            let overlay = LoraOverlay::open(a)?;
            match overlay
                .base_model_name_or_path
                .as_deref()
                .filter(|s| !s.is_empty())
            {
                Some(wanted) if !base_matches(wanted, dir, cfg.name_or_path.as_deref()) => {
                    return Err(LoadError::file(
                        &a.join("adapter_config.json"),
                        format!(
                            "the adapter was trained on `{wanted}` but the base folder is `{}` (config _name_or_path {:?}); pass the matching base model",
                            dir.display(),
                            cfg.name_or_path
                        ),
                    ));
                }
                Some(_) => {}
                None => log(
                    "adapter_config.json names no base_model_name_or_path; assuming the given base is right",
                ),
            }
            Some(overlay)
        }
        None => None,
    };
    let mut files = safetensors_files(dir)?;
    if let Some(a) = adapter {
        files.push(a.join("adapter_model.safetensors"));
        files.push(a.join("adapter_config.json"));
    }
    // The checksum reads every weight file once more: on another core, while the weights load.
    let hashing = hash_in_background(files);
    let weights =
        SafetensorsWeights::open(dir, compute.dtype, &compute.device, compute.quantize, lora)?;
    let decoder = Decoder::load(cfg.clone(), &weights)?;
    if let Some(unused) = weights_unused(&weights) {
        return Err(LoadError::file(
            &adapter.cloned().unwrap_or_default(),
            format!(
                "adapter entries match no base weight: {}; is this adapter for another model?",
                unused.join(", ")
            ),
        ));
    }
    let mut eos = cfg.eos_token_ids.clone();
    let processors = match &gen_cfg {
        Some(g) => {
            for id in token_ids(g.get("eos_token_id")) {
                if !eos.contains(&id) {
                    eos.push(id);
                }
            }
            Processors::from_generation_config(g)
        }
        None => Processors::default(),
    };
    for id in tokenizer.stop_token_ids() {
        if !eos.contains(&id) {
            eos.push(id);
        }
    }
    let name = match adapter {
        Some(a) => folder_name(a),
        None => folder_name(dir),
    };
    let info = ModelInfo {
        name,
        backend: "candle".into(),
        device: compute.device_name.clone(),
        dtype: compute.dtype_name.clone(),
        max_length: resolve_max_length(opts, cfg.max_position_embeddings, &tokenizer),
        num_parameters: Some(decoder.num_parameters()),
        eos_text: tokenizer.eos_text().map(str::to_string),
        bos_text: tokenizer.bos_text().map(str::to_string),
        pad_text: tokenizer.pad_text().map(str::to_string),
        eot_token_id: tokenizer.eos_token_id(),
        weights_sha256: Some(hashing.wait()?),
    };
    log(&format!(
        "loaded {:?} ({} layers) on {} as {}{}",
        cfg.arch,
        cfg.num_layers(),
        info.device,
        info.dtype,
        if adapter.is_some() {
            " with LoRA merged"
        } else {
            ""
        }
    ));
    Ok(CandleModel::new(
        decoder,
        tokenizer,
        info,
        opts.batch_size,
        eos,
        processors,
    ))
}

fn weights_unused(w: &SafetensorsWeights) -> Option<Vec<String>> {
    let unused = w.lora_unused();
    (!unused.is_empty()).then_some(unused)
}

fn load_gguf(
    path: &Path,
    tokenizer: Option<&Path>,
    opts: &LoadOptions,
    log: &dyn Fn(&str),
) -> Result<CandleModel, LoadError> {
    if !path.is_file() {
        return Err(LoadError::file(path, "GGUF file not found"));
    }
    if opts
        .dtype
        .as_deref()
        .is_some_and(|d| !matches!(d, "auto" | ""))
    {
        log("dtype is ignored for GGUF files: their tensors keep the file's types");
    }
    let compute = resolve(opts.device.as_deref(), None, log)?;
    let model = crate::gguf::open(path, &compute.device)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let beside = dir.join("tokenizer.json");
    let tok = match tokenizer {
        Some(t) if t.is_dir() => HfTokenizer::from_dir(t).map_err(|e| tokenizer_error(t, e))?,
        Some(t) if t.is_file() => {
            HfTokenizer::from_files(t, t.parent()).map_err(|e| tokenizer_error(t, e))?
        }
        Some(t) => {
            return Err(LoadError::file(
                t,
                "tokenizer path not found (give a tokenizer.json or a folder holding one)",
            ));
        }
        None if beside.is_file() => {
            HfTokenizer::from_files(&beside, Some(dir)).map_err(|e| tokenizer_error(&beside, e))?
        }
        None => {
            if model.tokenizer_parts.model != "gpt2" {
                return Err(LoadError::file(
                    path,
                    format!(
                        "no tokenizer.json beside the file and its `{}` tokenizer cannot be rebuilt faithfully; pass the base model's tokenizer.json",
                        if model.tokenizer_parts.model.is_empty() {
                            "unknown"
                        } else {
                            &model.tokenizer_parts.model
                        }
                    ),
                ));
            }
            log("no tokenizer.json given; rebuilding the tokenizer from GGUF metadata");
            sparkbench_tokenizer::bpe_from_gguf_parts(model.tokenizer_parts.clone())
                .map_err(|e| tokenizer_error(path, e))?
        }
    };
    let cfg = model.config.clone();
    let decoder = Decoder::load(cfg.clone(), &model.weights)?;
    let mut eos = model.stop_ids.clone();
    for id in tok.stop_token_ids() {
        if !eos.contains(&id) {
            eos.push(id);
        }
    }
    let info = ModelInfo {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        backend: "candle".into(),
        device: compute.device_name.clone(),
        dtype: model.dtype_name.clone(),
        max_length: resolve_max_length(opts, cfg.max_position_embeddings, &tok),
        num_parameters: Some(decoder.num_parameters()),
        eos_text: tok.eos_text().map(str::to_string),
        bos_text: tok.bos_text().map(str::to_string),
        pad_text: tok.pad_text().map(str::to_string),
        eot_token_id: tok.eos_token_id(),
        weights_sha256: Some(hash_files(&[path.to_path_buf()])?),
    };
    log(&format!(
        "loaded GGUF {:?} ({} layers, {}) on {}",
        cfg.arch,
        cfg.num_layers(),
        info.dtype,
        info.device
    ));
    Ok(CandleModel::new(
        decoder,
        tok,
        info,
        opts.batch_size,
        eos,
        Processors::default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_match_by_folder_or_name() {
        let d = std::env::temp_dir();
        let name = folder_name(&d);
        assert!(base_matches(&format!("org/{name}"), &d, None));
        assert!(base_matches("meta/Llama-3", &d, Some("meta/Llama-3")));
        assert!(!base_matches("other-model", &d, Some("x/y")));
    }
}
