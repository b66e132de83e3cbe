//! PEFT LoRA adapters for a model folder ([`make_lora_adapter`]) and merging one into its base
//! ([`merge_lora`], `W' = W + (alpha / r) · B · A`, in f32; `alpha / √r` with `use_rslora`).

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use serde_json::{Map, Value, json};

use crate::error::ModelgenError;
use crate::files::{TOKENIZER_FILES, prepare_out_dir, save_safetensors, write_json};
use crate::rng::SplitMix64;
use crate::shape::{Arch, Dims};

/// The modules an adapter targets, sorted as PEFT writes them.
pub const TARGET_MODULES: [&str; 7] = [
    "down_proj",
    "gate_proj",
    "k_proj",
    "o_proj",
    "q_proj",
    "up_proj",
    "v_proj",
];

/// PEFT's prefix of adapter tensor names.
const PEFT_PREFIX: &str = "base_model.model.";

/// What [`make_lora_adapter`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct AdapterSummary {
    /// The adapter folder.
    pub dir: PathBuf,
    /// `base_model_name_or_path` (the base folder's name).
    pub base_model_name: String,
    /// LoRA rank.
    pub r: usize,
    /// LoRA alpha.
    pub alpha: f64,
    /// Number of tensors in `adapter_model.safetensors`.
    pub tensors: usize,
    /// Number of adapter parameters.
    pub num_parameters: u64,
}

/// What [`merge_lora`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeSummary {
    /// The merged folder.
    pub dir: PathBuf,
    /// Number of weight matrices changed.
    pub merged_modules: usize,
    /// `bfloat16` or `float32`.
    pub dtype: String,
}

fn read_json(path: &Path) -> Result<Map<String, Value>, ModelgenError> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelgenError::io(path, e))?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ModelgenError::Invalid {
            path: path.to_path_buf(),
            message: "expected a JSON object".to_owned(),
        }),
        Err(e) => Err(ModelgenError::Invalid {
            path: path.to_path_buf(),
            message: format!("not valid JSON: {e}"),
        }),
    }
}

/// The architecture numbers of a model folder's `config.json`.
pub fn read_dims(model_dir: &Path) -> Result<Dims, ModelgenError> {
    let path = model_dir.join("config.json");
    let cfg = read_json(&path)?;
    let get = |key: &str| -> Result<usize, ModelgenError> {
        cfg.get(key)
            .and_then(Value::as_u64)
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| ModelgenError::Invalid {
                path: path.clone(),
                message: format!("`{key}` is missing or not a positive integer"),
            })
    };
    let hidden = get("hidden_size")?;
    let heads = get("num_attention_heads")?;
    if heads == 0 {
        return Err(ModelgenError::Invalid {
            path,
            message: "`num_attention_heads` is 0".to_owned(),
        });
    }
    let kv_heads = get("num_key_value_heads").unwrap_or(heads);
    let head_dim = get("head_dim").unwrap_or(hidden / heads);
    let arch = match cfg.get("model_type").and_then(Value::as_str) {
        Some("qwen2") => Arch::Qwen2,
        _ => Arch::Llama,
    };
    let float = |key: &str, default: f64| cfg.get(key).and_then(Value::as_f64).unwrap_or(default);
    Ok(Dims {
        arch,
        hidden,
        intermediate: get("intermediate_size")?,
        layers: get("num_hidden_layers")?,
        heads,
        kv_heads,
        head_dim,
        vocab: get("vocab_size")?,
        rope_theta: float("rope_theta", 10_000.0),
        max_position_embeddings: get("max_position_embeddings").unwrap_or(2048),
        rms_norm_eps: float("rms_norm_eps", 1e-6),
        tied: cfg
            .get("tie_word_embeddings")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// The HF module path (`model.layers.N.self_attn.q_proj`) of a target module.
fn module_path(layer: usize, module: &str) -> String {
    let block = if matches!(module, "q_proj" | "k_proj" | "v_proj" | "o_proj") {
        "self_attn"
    } else {
        "mlp"
    };
    format!("model.layers.{layer}.{block}.{module}")
}

fn copy_files(from: &Path, to: &Path, names: &[&str]) -> Result<(), ModelgenError> {
    for name in names {
        let src = from.join(name);
        if src.is_file() {
            let dst = to.join(name);
            std::fs::copy(&src, &dst).map_err(|e| ModelgenError::io(&src, e))?;
        }
    }
    Ok(())
}

/// Writes a PEFT LoRA adapter for the model in `base_dir` to `out_dir`: `adapter_config.json`
/// (`base_model_name_or_path` = the base folder's name, all seven projections targeted) and
/// `adapter_model.safetensors` with `lora_A` `[r, in]` and non-zero `lora_B` `[out, r]`
/// (both N(0, 0.1²) at the tiny shape, A scaled by √(64 / in) for wider models), plus the
/// base's tokenizer files, as trainers ship adapters.
pub fn make_lora_adapter(
    base_dir: &Path,
    out_dir: &Path,
    seed: u64,
    r: usize,
    alpha: f64,
) -> Result<AdapterSummary, ModelgenError> {
    if r == 0 {
        return Err(ModelgenError::Argument(
            "LoRA rank r must be at least 1".to_owned(),
        ));
    }
    let dims = read_dims(base_dir)?;
    let base_model_name = base_dir
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            ModelgenError::Argument(format!("{} has no folder name", base_dir.display()))
        })?;
    prepare_out_dir(out_dir)?;

    let mut tensors = Vec::new();
    let mut num_parameters = 0u64;
    for layer in 0..dims.layers {
        for module in TARGET_MODULES {
            let Some((inp, out)) = dims.linear_dims(module) else {
                continue;
            };
            let base = format!("{PEFT_PREFIX}{}", module_path(layer, module));
            let a_name = format!("{base}.lora_A.weight");
            let b_name = format!("{base}.lora_B.weight");
            let a_std = 0.1 * (64.0 / inp as f64).sqrt();
            let mut rng = SplitMix64::for_stream(seed, &a_name);
            let a: Vec<f32> = (0..r * inp)
                .map(|_| (rng.normal() * a_std) as f32)
                .collect();
            let mut rng = SplitMix64::for_stream(seed, &b_name);
            let b: Vec<f32> = (0..out * r).map(|_| (rng.normal() * 0.1) as f32).collect();
            num_parameters += (r * inp + out * r) as u64;
            let a = Tensor::from_vec(a, (r, inp), &Device::Cpu)
                .map_err(|e| ModelgenError::tensor(&a_name, e))?;
            let b = Tensor::from_vec(b, (out, r), &Device::Cpu)
                .map_err(|e| ModelgenError::tensor(&b_name, e))?;
            tensors.push((a_name, a));
            tensors.push((b_name, b));
        }
    }
    let count = tensors.len();
    save_safetensors(tensors, &out_dir.join("adapter_model.safetensors"))?;
    write_json(
        &out_dir.join("adapter_config.json"),
        &adapter_config(&base_model_name, r, alpha),
    )?;
    copy_files(base_dir, out_dir, &TOKENIZER_FILES)?;
    Ok(AdapterSummary {
        dir: out_dir.to_path_buf(),
        base_model_name,
        r,
        alpha,
        tensors: count,
        num_parameters,
    })
}

fn adapter_config(base: &str, r: usize, alpha: f64) -> Value {
    let alpha_value = if alpha.fract() == 0.0 && alpha.abs() < 1e15 {
        json!(alpha as i64)
    } else {
        json!(alpha)
    };
    json!({
        "alpha_pattern": {},
        "auto_mapping": null,
        "base_model_name_or_path": base,
        "bias": "none",
        "fan_in_fan_out": false,
        "inference_mode": true,
        "init_lora_weights": true,
        "layers_pattern": null,
        "layers_to_transform": null,
        "lora_alpha": alpha_value,
        "lora_dropout": 0.0,
        "modules_to_save": null,
        "peft_type": "LORA",
        "r": r,
        "rank_pattern": {},
        "revision": null,
        "target_modules": TARGET_MODULES,
        "task_type": "CAUSAL_LM",
        "use_dora": false,
        "use_rslora": false
    })
}

fn load_f32(path: &Path) -> Result<Vec<(String, Tensor)>, ModelgenError> {
    let map =
        candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| ModelgenError::Invalid {
            path: path.to_path_buf(),
            message: format!("cannot read safetensors: {e}"),
        })?;
    let mut out = Vec::with_capacity(map.len());
    for (name, t) in map {
        let t = t
            .to_dtype(DType::F32)
            .map_err(|e| ModelgenError::tensor(&name, e))?;
        out.push((name, t));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Folds the adapter in `adapter_dir` into the model in `base_dir` and writes the merged model
/// to `out_dir`: every targeted weight becomes `W + scale · B · A` (computed in f32, `scale` =
/// `lora_alpha / r`, or `lora_alpha / √r` with `use_rslora`), stored as bf16 when `dtype16`
/// (transformers' `merged_16bit`) or f32 otherwise, with the base's config (dtype updated),
/// generation config and tokenizer files.
pub fn merge_lora(
    base_dir: &Path,
    adapter_dir: &Path,
    out_dir: &Path,
    dtype16: bool,
) -> Result<MergeSummary, ModelgenError> {
    let cfg_path = adapter_dir.join("adapter_config.json");
    let cfg = read_json(&cfg_path)?;
    let invalid = |message: String| ModelgenError::Invalid {
        path: cfg_path.clone(),
        message,
    };
    let r = cfg
        .get("r")
        .and_then(Value::as_f64)
        .filter(|r| *r > 0.0)
        .ok_or_else(|| invalid("`r` is missing or not positive".to_owned()))?;
    let alpha = cfg
        .get("lora_alpha")
        .and_then(Value::as_f64)
        .ok_or_else(|| invalid("`lora_alpha` is missing".to_owned()))?;
    if cfg.get("fan_in_fan_out").and_then(Value::as_bool) == Some(true) {
        return Err(invalid(
            "`fan_in_fan_out: true` adapters are not supported".to_owned(),
        ));
    }
    let rslora = cfg
        .get("use_rslora")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let scale = if rslora { alpha / r.sqrt() } else { alpha / r };

    let base_path = base_dir.join("model.safetensors");
    let mut base = load_f32(&base_path)?;
    let adapter_path = adapter_dir.join("adapter_model.safetensors");
    let adapter: std::collections::HashMap<String, Tensor> =
        load_f32(&adapter_path)?.into_iter().collect();
    prepare_out_dir(out_dir)?;

    let mut merged = 0usize;
    for (a_name, a) in &adapter {
        let Some(stem) = a_name.strip_suffix(".lora_A.weight") else {
            continue;
        };
        let b_name = format!("{stem}.lora_B.weight");
        let b = adapter.get(&b_name).ok_or_else(|| ModelgenError::Invalid {
            path: adapter_path.clone(),
            message: format!("{a_name} has no matching {b_name}"),
        })?;
        let target = format!("{}.weight", stem.strip_prefix(PEFT_PREFIX).unwrap_or(stem));
        let entry =
            base.iter_mut()
                .find(|(n, _)| *n == target)
                .ok_or_else(|| ModelgenError::Invalid {
                    path: base_path.clone(),
                    message: format!(
                        "the adapter targets {target}, which the base model does not have"
                    ),
                })?;
        let delta = b
            .matmul(a)
            .and_then(|d| d.affine(scale, 0.0))
            .map_err(|e| ModelgenError::tensor(&target, e))?;
        if delta.dims() != entry.1.dims() {
            return Err(ModelgenError::Invalid {
                path: adapter_path.clone(),
                message: format!(
                    "B·A for {target} has shape {:?}, the base weight {:?}",
                    delta.dims(),
                    entry.1.dims()
                ),
            });
        }
        entry.1 = (&entry.1 + delta).map_err(|e| ModelgenError::tensor(&target, e))?;
        merged += 1;
    }
    if merged == 0 {
        return Err(ModelgenError::Invalid {
            path: adapter_path,
            message: "no lora_A/lora_B pairs found".to_owned(),
        });
    }

    let (dtype, dtype_name) = if dtype16 {
        (DType::BF16, "bfloat16")
    } else {
        (DType::F32, "float32")
    };
    let mut out = Vec::with_capacity(base.len());
    for (name, t) in base {
        let t = t
            .to_dtype(dtype)
            .map_err(|e| ModelgenError::tensor(&name, e))?;
        out.push((name, t));
    }
    save_safetensors(out, &out_dir.join("model.safetensors"))?;

    let mut config = read_json(&base_dir.join("config.json"))?;
    for key in ["dtype", "torch_dtype"] {
        config.insert(key.to_owned(), json!(dtype_name));
    }
    write_json(&out_dir.join("config.json"), &Value::Object(config))?;
    let mut extra: Vec<&str> = TOKENIZER_FILES.to_vec();
    extra.extend(["generation_config.json", "chat_template.jinja"]);
    copy_files(base_dir, out_dir, &extra)?;
    Ok(MergeSummary {
        dir: out_dir.to_path_buf(),
        merged_modules: merged,
        dtype: dtype_name.to_owned(),
    })
}
