//! Reading a Hugging Face `config.json` (and `generation_config.json`) into [`DecoderConfig`], the
//! one description our decoder runs from: sizes, norm style, attention details, per-layer sliding
//! windows and RoPE tables. Handles legacy 4.x keys, transformers 5 `rope_parameters` (possibly
//! keyed per layer type), `text_config` nesting, `dtype`/`torch_dtype` and eos int-or-list.

use std::path::Path;

use serde_json::Value;

use crate::error::LoadError;
use crate::rope::{RopeScaling, RopeSpec};

/// The model families the decoder implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// Llama 2/3/3.1/3.2.
    Llama,
    /// Mistral (sliding window).
    Mistral,
    /// Qwen2 / Qwen2.5 (q/k/v bias).
    Qwen2,
    /// Qwen3 (q/k norm).
    Qwen3,
    /// Gemma 2 (soft-capping, sandwich norms).
    Gemma2,
    /// Gemma 3 text (q/k norm, per-layer-type RoPE).
    Gemma3,
    /// Phi-3 (fused projections).
    Phi3,
}

/// The architectures `config.json` may name, for error messages.
pub const SUPPORTED_ARCHITECTURES: &str = "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, \
Qwen3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM (gemma3_text, or Gemma3ForConditionalGeneration's text_config), Phi3ForCausalLM";

impl Arch {
    fn from_names(architectures: &[String], model_type: Option<&str>) -> Option<Self> {
        for a in architectures {
            let arch = match a.as_str() {
                "LlamaForCausalLM" => Some(Arch::Llama),
                "MistralForCausalLM" => Some(Arch::Mistral),
                "Qwen2ForCausalLM" => Some(Arch::Qwen2),
                "Qwen3ForCausalLM" => Some(Arch::Qwen3),
                "Gemma2ForCausalLM" => Some(Arch::Gemma2),
                "Gemma3ForCausalLM" | "Gemma3ForConditionalGeneration" => Some(Arch::Gemma3),
                "Phi3ForCausalLM" => Some(Arch::Phi3),
                _ => None,
            };
            if arch.is_some() {
                return arch;
            }
        }
        if !architectures.is_empty() {
            return None;
        }
        match model_type? {
            "llama" => Some(Arch::Llama),
            "mistral" => Some(Arch::Mistral),
            "qwen2" => Some(Arch::Qwen2),
            "qwen3" => Some(Arch::Qwen3),
            "gemma2" => Some(Arch::Gemma2),
            "gemma3" | "gemma3_text" => Some(Arch::Gemma3),
            "phi3" => Some(Arch::Phi3),
            _ => None,
        }
    }

    /// Whether norms are Gemma's `(1 + w)` style (and the rest of the Gemma specifics apply).
    pub fn is_gemma(self) -> bool {
        matches!(self, Arch::Gemma2 | Arch::Gemma3)
    }
}

/// The MLP activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `silu` (Llama, Qwen, Mistral, Phi-3).
    Silu,
    /// `gelu_pytorch_tanh` / `gelu_new` (Gemma).
    GeluTanh,
    /// Exact `gelu`.
    GeluErf,
}

/// One decoder layer's attention kind.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSpec {
    /// Sliding window (keys with `q - w < k <= q`), `None` for global attention.
    pub sliding_window: Option<usize>,
    /// Index into [`DecoderConfig::ropes`].
    pub rope: usize,
}

/// Everything the decoder needs, whatever file it came from.
#[derive(Debug, Clone)]
pub struct DecoderConfig {
    /// The family.
    pub arch: Arch,
    /// Vocabulary rows of the embedding and head.
    pub vocab_size: usize,
    /// Hidden size.
    pub hidden_size: usize,
    /// MLP inner size.
    pub intermediate_size: usize,
    /// Query heads.
    pub num_heads: usize,
    /// Key/value heads.
    pub num_kv_heads: usize,
    /// Per-head size.
    pub head_dim: usize,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f64,
    /// Activation of the gated MLP.
    pub activation: Activation,
    /// Embedding multiplier (Gemma: sqrt(hidden)).
    pub embed_scale: Option<f64>,
    /// Attention score scale.
    pub attn_scale: f64,
    /// `tanh(s/c)*c` on attention scores (Gemma 2).
    pub attn_softcap: Option<f64>,
    /// `tanh(l/c)*c` on the logits (Gemma 2).
    pub final_softcap: Option<f64>,
    /// Sandwich norms (Gemma 2/3).
    pub sandwich_norms: bool,
    /// q/k RMSNorm over head_dim before RoPE (Qwen3, Gemma 3).
    pub qk_norm: bool,
    /// Per-layer attention kind.
    pub layers: Vec<LayerSpec>,
    /// Distinct RoPE tables.
    pub ropes: Vec<RopeSpec>,
    /// GGUF llama-arch Q/K layout: rotate interleaved pairs instead of halves.
    pub rope_interleaved: bool,
    /// `max_position_embeddings` (lm-eval's default max_length).
    pub max_position_embeddings: Option<usize>,
    /// BOS id from the config.
    pub bos_token_id: Option<u32>,
    /// EOS ids from config.json (generation_config.json's are merged by the loader).
    pub eos_token_ids: Vec<u32>,
    /// `dtype` / `torch_dtype`, when given.
    pub torch_dtype: Option<String>,
    /// `_name_or_path`, when given (for LoRA base checks).
    pub name_or_path: Option<String>,
}

impl DecoderConfig {
    /// Number of decoder layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }
}

fn bad(path: &Path, msg: impl Into<String>) -> LoadError {
    LoadError::file(path, msg)
}

fn get_usize(cfg: &Value, key: &str) -> Option<usize> {
    cfg.get(key).and_then(Value::as_u64).map(|v| v as usize)
}

fn need_usize(cfg: &Value, key: &str, path: &Path) -> Result<usize, LoadError> {
    get_usize(cfg, key).ok_or_else(|| {
        bad(
            path,
            format!("`{key}` is missing or not a non-negative integer; a decoder config needs it"),
        )
    })
}

fn get_f64(cfg: &Value, key: &str) -> Option<f64> {
    cfg.get(key).and_then(Value::as_f64)
}

/// Token ids given as an int, a list of ints, or null.
pub fn token_ids(v: Option<&Value>) -> Vec<u32> {
    match v {
        Some(Value::Number(n)) => n.as_u64().map(|x| vec![x as u32]).unwrap_or_default(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_u64)
            .map(|x| x as u32)
            .collect(),
        _ => Vec::new(),
    }
}

/// Read `dir/config.json`.
pub fn read_config_file(dir: &Path) -> Result<Value, LoadError> {
    let path = dir.join("config.json");
    if !path.is_file() {
        return Err(bad(
            &path,
            "config.json not found; a Hugging Face model folder needs config.json next to its safetensors",
        ));
    }
    let text =
        std::fs::read_to_string(&path).map_err(|e| bad(&path, format!("cannot read: {e}")))?;
    serde_json::from_str(&text).map_err(|e| bad(&path, format!("not valid JSON: {e}")))
}

/// Parse a config.json value (path used in messages).
pub fn parse_config(root: &Value, path: &Path) -> Result<DecoderConfig, LoadError> {
    let names: Vec<String> = root
        .get("architectures")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let model_type = root.get("model_type").and_then(Value::as_str);
    let arch = Arch::from_names(&names, model_type).ok_or_else(|| {
        LoadError::Unsupported(format!(
            "{}: unsupported architecture {} (model_type {}); supported: {SUPPORTED_ARCHITECTURES}",
            path.display(),
            if names.is_empty() {
                "(none given)".to_string()
            } else {
                names.join(", ")
            },
            model_type.unwrap_or("(none)")
        ))
    })?;
    if let Some(q) = root.get("quantization_config").filter(|v| !v.is_null()) {
        let method = q
            .get("quant_method")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        return Err(LoadError::Unsupported(format!(
            "{}: quantized checkpoints ({method}) are not supported; use the unquantized weights or a GGUF file",
            path.display()
        )));
    }
    // Nested text config (Gemma 3 4B+): the decoder lives there.
    let cfg = root
        .get("text_config")
        .filter(|v| v.is_object())
        .unwrap_or(root);

    let hidden_size = need_usize(cfg, "hidden_size", path)?;
    let num_heads = need_usize(cfg, "num_attention_heads", path)?;
    let num_layers = need_usize(cfg, "num_hidden_layers", path)?;
    let intermediate_size = need_usize(cfg, "intermediate_size", path)?;
    let vocab_size = need_usize(cfg, "vocab_size", path)?;
    if num_heads == 0 || num_layers == 0 {
        return Err(bad(
            path,
            "num_attention_heads and num_hidden_layers must be positive",
        ));
    }
    let num_kv_heads = get_usize(cfg, "num_key_value_heads").unwrap_or(num_heads);
    if num_kv_heads == 0 || num_heads % num_kv_heads != 0 {
        return Err(bad(
            path,
            format!(
                "num_attention_heads {num_heads} is not a multiple of num_key_value_heads {num_kv_heads}"
            ),
        ));
    }
    let head_dim = get_usize(cfg, "head_dim").unwrap_or(hidden_size / num_heads);
    let rms_norm_eps = get_f64(cfg, "rms_norm_eps").unwrap_or(1e-6);
    let act_name = cfg
        .get("hidden_activation")
        .and_then(Value::as_str)
        .or_else(|| cfg.get("hidden_act").and_then(Value::as_str))
        .unwrap_or(if arch.is_gemma() {
            "gelu_pytorch_tanh"
        } else {
            "silu"
        });
    let activation = match act_name {
        "silu" | "swish" => Activation::Silu,
        "gelu_pytorch_tanh" | "gelu_new" | "gelu_fast" => Activation::GeluTanh,
        "gelu" => Activation::GeluErf,
        other => {
            return Err(LoadError::Unsupported(format!(
                "{}: activation `{other}` is not supported (silu, gelu, gelu_pytorch_tanh)",
                path.display()
            )));
        }
    };
    let gemma = arch.is_gemma();
    let embed_scale = gemma.then(|| (hidden_size as f64).sqrt());
    let attn_scale = if gemma {
        let q = get_f64(cfg, "query_pre_attn_scalar").unwrap_or(head_dim as f64);
        1.0 / q.sqrt()
    } else {
        1.0 / (head_dim as f64).sqrt()
    };
    let attn_softcap = if arch == Arch::Gemma2 {
        get_f64(cfg, "attn_logit_softcapping")
    } else {
        None
    };
    let final_softcap = if gemma {
        get_f64(cfg, "final_logit_softcapping")
    } else {
        None
    };

    let layer_types = layer_types(cfg, arch, num_layers, path)?;
    let sliding = get_usize(cfg, "sliding_window");
    let (ropes, rope_of_type) = rope_tables(cfg, arch, head_dim, path)?;
    let mut layers = Vec::with_capacity(num_layers);
    for t in &layer_types {
        let is_sliding = t == "sliding_attention";
        let window = if is_sliding {
            Some(sliding.ok_or_else(|| {
                bad(
                    path,
                    "a layer is `sliding_attention` but `sliding_window` is not set",
                )
            })?)
        } else {
            None
        };
        layers.push(LayerSpec {
            sliding_window: window,
            rope: rope_of_type(is_sliding),
        });
    }

    let eos_token_ids = {
        let mut e = token_ids(cfg.get("eos_token_id"));
        if e.is_empty() {
            e = token_ids(root.get("eos_token_id"));
        }
        e
    };
    let bos_token_id = token_ids(cfg.get("bos_token_id").or(root.get("bos_token_id")))
        .first()
        .copied();
    let torch_dtype = root
        .get("dtype")
        .or(root.get("torch_dtype"))
        .or(cfg.get("dtype"))
        .or(cfg.get("torch_dtype"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let max_position_embeddings = get_usize(cfg, "n_positions")
        .or(get_usize(cfg, "max_position_embeddings"))
        .or(get_usize(cfg, "n_ctx"));
    Ok(DecoderConfig {
        arch,
        vocab_size,
        hidden_size,
        intermediate_size,
        num_heads,
        num_kv_heads,
        head_dim,
        rms_norm_eps,
        activation,
        embed_scale,
        attn_scale,
        attn_softcap,
        final_softcap,
        sandwich_norms: gemma,
        qk_norm: matches!(arch, Arch::Qwen3 | Arch::Gemma3),
        layers,
        ropes,
        rope_interleaved: false,
        max_position_embeddings,
        bos_token_id,
        eos_token_ids,
        torch_dtype,
        name_or_path: root
            .get("_name_or_path")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// `full_attention` / `sliding_attention` per layer, from `layer_types` or the family's rule.
fn layer_types(cfg: &Value, arch: Arch, n: usize, path: &Path) -> Result<Vec<String>, LoadError> {
    if let Some(list) = cfg.get("layer_types").and_then(Value::as_array) {
        let types: Vec<String> = list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        if types.len() != n {
            return Err(bad(
                path,
                format!(
                    "`layer_types` has {} entries but num_hidden_layers is {n}",
                    types.len()
                ),
            ));
        }
        if let Some(t) = types
            .iter()
            .find(|t| *t != "full_attention" && *t != "sliding_attention")
        {
            return Err(LoadError::Unsupported(format!(
                "{}: layer type `{t}` is not supported",
                path.display()
            )));
        }
        return Ok(types);
    }
    let has_window = cfg.get("sliding_window").is_some_and(|v| !v.is_null());
    let slide = |b: bool| {
        if b {
            "sliding_attention"
        } else {
            "full_attention"
        }
        .to_string()
    };
    Ok((0..n)
        .map(|i| match arch {
            Arch::Gemma2 => slide(has_window && i % 2 == 0),
            Arch::Gemma3 => {
                let p = get_usize(cfg, "sliding_window_pattern")
                    .or(get_usize(cfg, "_sliding_window_pattern"))
                    .unwrap_or(6)
                    .max(1);
                slide(has_window && (i + 1) % p != 0)
            }
            Arch::Qwen2 | Arch::Qwen3 => {
                let on = cfg
                    .get("use_sliding_window")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let from = get_usize(cfg, "max_window_layers").unwrap_or(n);
                slide(has_window && on && i >= from)
            }
            Arch::Llama | Arch::Mistral | Arch::Phi3 => slide(has_window),
        })
        .collect())
}

type RopeOf = Box<dyn Fn(bool) -> usize>;

/// The RoPE tables and which one a (sliding?) layer uses.
fn rope_tables(
    cfg: &Value,
    arch: Arch,
    head_dim: usize,
    path: &Path,
) -> Result<(Vec<RopeSpec>, RopeOf), LoadError> {
    let top_theta = get_f64(cfg, "rope_theta");
    let top_partial = get_f64(cfg, "partial_rotary_factor");
    let rp = cfg.get("rope_parameters").filter(|v| v.is_object());
    let keyed = rp.filter(|v| {
        v.get("full_attention").is_some_and(Value::is_object)
            || v.get("sliding_attention").is_some_and(Value::is_object)
    });
    let spec = |params: Option<&Value>, default_theta: f64| -> Result<RopeSpec, LoadError> {
        let theta = params
            .and_then(|p| get_f64(p, "rope_theta"))
            .or(top_theta)
            .unwrap_or(default_theta);
        let partial = params
            .and_then(|p| get_f64(p, "partial_rotary_factor"))
            .or(top_partial)
            .unwrap_or(1.0);
        let rotary_dim = ((head_dim as f64) * partial).round() as usize;
        let scaling = RopeScaling::from_params(params, cfg, path)?;
        RopeSpec::new(theta, rotary_dim, scaling).map_err(|m| bad(path, m))
    };
    if let Some(k) = keyed {
        let full = spec(k.get("full_attention"), 10_000.0)?;
        let sliding_params = k.get("sliding_attention");
        let sliding = match sliding_params {
            Some(p) => {
                let theta = get_f64(p, "rope_theta")
                    .or(get_f64(cfg, "rope_local_base_freq"))
                    .unwrap_or(10_000.0);
                let partial = get_f64(p, "partial_rotary_factor")
                    .or(top_partial)
                    .unwrap_or(1.0);
                let scaling = RopeScaling::from_params(Some(p), cfg, path)?;
                RopeSpec::new(
                    theta,
                    ((head_dim as f64) * partial).round() as usize,
                    scaling,
                )
                .map_err(|m| bad(path, m))?
            }
            None => full.clone(),
        };
        return Ok((vec![full, sliding], Box::new(usize::from)));
    }
    let params = rp.or_else(|| cfg.get("rope_scaling").filter(|v| v.is_object()));
    let full = spec(params, 10_000.0)?;
    if arch == Arch::Gemma3 {
        // Legacy Gemma 3: local layers use rope_local_base_freq and no scaling.
        let theta = get_f64(cfg, "rope_local_base_freq").unwrap_or(10_000.0);
        let sliding = RopeSpec::new(theta, full.rotary_dim, RopeScaling::Default)
            .map_err(|m| bad(path, m))?;
        return Ok((vec![full, sliding], Box::new(usize::from)));
    }
    Ok((vec![full], Box::new(|_| 0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_attention_heads": 4,
               "num_key_value_heads": 2, "num_hidden_layers": 2, "intermediate_size": 100, "vocab_size": 10,
               "eos_token_id": [1, 3]})
    }

    #[test]
    fn eos_list_and_default_head_dim() {
        let c = parse_config(&base(), Path::new("c.json")).expect("ok");
        assert_eq!(c.eos_token_ids, vec![1, 3]);
        assert_eq!(c.head_dim, 16);
        assert_eq!(c.layers.len(), 2);
    }

    #[test]
    fn unknown_architecture_lists_supported() {
        let mut v = base();
        v["architectures"] = json!(["GPT2LMHeadModel"]);
        let e = parse_config(&v, Path::new("c.json"))
            .expect_err("should fail")
            .to_string();
        assert!(
            e.contains("GPT2LMHeadModel") && e.contains("Qwen3ForCausalLM"),
            "{e}"
        );
    }

    #[test]
    fn gemma3_legacy_pattern_and_local_rope() {
        let mut v = base();
        v["architectures"] = json!(["Gemma3ForCausalLM"]);
        v["num_hidden_layers"] = json!(3);
        v["sliding_window"] = json!(10);
        v["sliding_window_pattern"] = json!(3);
        v["rope_theta"] = json!(1e6);
        v["rope_local_base_freq"] = json!(1e4);
        v["rope_scaling"] = json!({"rope_type": "linear", "factor": 8.0});
        let c = parse_config(&v, Path::new("c.json")).expect("ok");
        let w: Vec<_> = c.layers.iter().map(|l| l.sliding_window).collect();
        assert_eq!(w, vec![Some(10), Some(10), None]);
        assert_eq!(c.layers[0].rope, 1);
        assert_eq!(c.layers[2].rope, 0);
        assert!((c.ropes[0].inv_freq[0] - 1.0 / 8.0).abs() < 1e-7);
        assert!((c.ropes[1].inv_freq[0] - 1.0).abs() < 1e-7);
    }
}
