//! GGUF models through candle's quantized tensors: the metadata becomes a [`DecoderConfig`],
//! weights become `QMatMul`s under their Hugging Face names (so the same decoder runs them), the
//! llama-arch Q/K permutation is honoured with interleaved RoPE, `rope_freqs` (llama3 scaling) is
//! applied, and the tokenizer parts of the metadata can rebuild a tokenizer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::quantized::{QMatMul, QTensor};
use candle_core::{DType, Device, Tensor};
use sparkbench_tokenizer::GgufTokenizerParts;

use crate::config::{Activation, Arch, DecoderConfig, LayerSpec};
use crate::error::LoadError;
use crate::linear::Lin;
use crate::rope::{RopeScaling, RopeSpec};
use crate::weights::WeightSource;

/// GGUF architectures this loader maps onto the decoder.
pub const SUPPORTED_GGUF_ARCHITECTURES: &str = "llama (incl. Mistral), qwen2, qwen3";

/// An opened GGUF file: its metadata and tensors.
pub struct GgufWeights {
    path: PathBuf,
    tensors: HashMap<String, Arc<QTensor>>,
    device: Device,
    num_parameters: u64,
}

fn num(v: &Value) -> Option<f64> {
    Some(match v {
        Value::U8(x) => f64::from(*x),
        Value::I8(x) => f64::from(*x),
        Value::U16(x) => f64::from(*x),
        Value::I16(x) => f64::from(*x),
        Value::U32(x) => f64::from(*x),
        Value::I32(x) => f64::from(*x),
        Value::U64(x) => *x as f64,
        Value::I64(x) => *x as f64,
        Value::F32(x) => f64::from(*x),
        Value::F64(x) => *x,
        Value::Bool(b) => f64::from(u8::from(*b)),
        _ => return None,
    })
}

/// Metadata accessors with file-naming errors.
pub struct Meta<'a> {
    md: &'a HashMap<String, Value>,
    path: &'a Path,
}

impl Meta<'_> {
    fn get_num(&self, key: &str) -> Option<f64> {
        self.md.get(key).and_then(num)
    }
    fn need(&self, key: &str) -> Result<usize, LoadError> {
        self.get_num(key).map(|v| v as usize).ok_or_else(|| {
            LoadError::file(
                self.path,
                format!("GGUF metadata `{key}` is missing or not a number"),
            )
        })
    }
    fn string(&self, key: &str) -> Option<String> {
        match self.md.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        }
    }
    fn bool(&self, key: &str) -> Option<bool> {
        match self.md.get(key) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }
    fn strings(&self, key: &str) -> Vec<String> {
        match self.md.get(key) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
    fn ints(&self, key: &str) -> Vec<i32> {
        match self.md.get(key) {
            Some(Value::Array(a)) => a.iter().filter_map(num).map(|v| v as i32).collect(),
            _ => Vec::new(),
        }
    }
}

/// Everything read from a GGUF file.
pub struct GgufModel {
    /// Decoder configuration.
    pub config: DecoderConfig,
    /// The weights.
    pub weights: GgufWeights,
    /// Tokenizer metadata, for rebuilding a tokenizer.
    pub tokenizer_parts: GgufTokenizerParts,
    /// EOS-like ids (eos, eot, eom).
    pub stop_ids: Vec<u32>,
    /// `general.file_type` in words (for `ModelInfo::dtype`).
    pub dtype_name: String,
}

/// Open `path` and read config, tensors and tokenizer metadata.
pub fn open(path: &Path, device: &Device) -> Result<GgufModel, LoadError> {
    crate::gguf_scan::check_types(path)?;
    let mut file = std::fs::File::open(path)
        .map_err(|e| LoadError::file(path, format!("cannot open: {e}")))?;
    let content = Content::read(&mut file)
        .map_err(|e| LoadError::file(path, format!("not a readable GGUF file: {e}")))?;
    let meta = Meta {
        md: &content.metadata,
        path,
    };
    let arch_name = meta
        .string("general.architecture")
        .ok_or_else(|| LoadError::file(path, "GGUF metadata has no `general.architecture`"))?;
    let arch = match arch_name.as_str() {
        "llama" => Arch::Llama,
        "qwen2" => Arch::Qwen2,
        "qwen3" => Arch::Qwen3,
        other => {
            return Err(LoadError::Unsupported(format!(
                "{}: GGUF architecture `{other}` is not supported (supported: {SUPPORTED_GGUF_ARCHITECTURES}); use the Hugging Face folder instead",
                path.display()
            )));
        }
    };
    let k = |s: &str| format!("{arch_name}.{s}");
    let hidden = meta.need(&k("embedding_length"))?;
    let layers = meta.need(&k("block_count"))?;
    let inter = meta.need(&k("feed_forward_length"))?;
    let heads = meta.need(&k("attention.head_count"))?;
    let kv_heads = meta
        .get_num(&k("attention.head_count_kv"))
        .map_or(heads, |v| v as usize);
    if heads == 0 || kv_heads == 0 || heads % kv_heads != 0 {
        return Err(LoadError::file(
            path,
            format!("bad head counts {heads}/{kv_heads} in GGUF metadata"),
        ));
    }
    let head_dim = meta
        .get_num(&k("attention.key_length"))
        .map_or(hidden / heads, |v| v as usize);
    let eps = meta
        .get_num(&k("attention.layer_norm_rms_epsilon"))
        .unwrap_or(1e-5);
    let theta = meta.get_num(&k("rope.freq_base")).unwrap_or(10_000.0);
    let rotary_dim = meta
        .get_num(&k("rope.dimension_count"))
        .map_or(head_dim, |v| v as usize);
    let scaling = match meta.string(&k("rope.scaling.type")).as_deref() {
        None | Some("none") => RopeScaling::Default,
        Some("linear") => RopeScaling::Linear {
            factor: meta.get_num(&k("rope.scaling.factor")).unwrap_or(1.0),
        },
        Some(other) => {
            return Err(LoadError::Unsupported(format!(
                "{}: GGUF rope scaling `{other}` is not supported",
                path.display()
            )));
        }
    };
    let mut rope =
        RopeSpec::new(theta, rotary_dim, scaling).map_err(|m| LoadError::file(path, m))?;

    let mut tensors = HashMap::new();
    let mut num_parameters = 0u64;
    for name in content.tensor_infos.keys() {
        let t = content
            .tensor(&mut file, name, device)
            .map_err(|e| LoadError::file(path, format!("tensor `{name}`: {e}")))?;
        num_parameters += t.shape().elem_count() as u64;
        tensors.insert(name.clone(), Arc::new(t));
    }
    if let Some(f) = tensors.get("rope_freqs.weight") {
        let factors: Vec<f32> = f.dequantize(&Device::Cpu)?.flatten_all()?.to_vec1()?;
        if factors.len() != rope.inv_freq.len() {
            return Err(LoadError::file(
                path,
                format!(
                    "rope_freqs.weight has {} entries, expected {}",
                    factors.len(),
                    rope.inv_freq.len()
                ),
            ));
        }
        for (f, s) in rope.inv_freq.iter_mut().zip(factors) {
            *f /= s;
        }
    }
    let vocab = match tensors.get("token_embd.weight") {
        Some(t) => t.shape().dims().first().copied().unwrap_or(0),
        None => return Err(LoadError::file(path, "GGUF has no `token_embd.weight`")),
    };
    let window = meta
        .get_num(&k("attention.sliding_window"))
        .map(|v| v as usize);
    let config = DecoderConfig {
        arch,
        vocab_size: vocab,
        hidden_size: hidden,
        intermediate_size: inter,
        num_heads: heads,
        num_kv_heads: kv_heads,
        head_dim,
        rms_norm_eps: eps,
        activation: Activation::Silu,
        embed_scale: None,
        attn_scale: 1.0 / (head_dim as f64).sqrt(),
        attn_softcap: None,
        final_softcap: None,
        sandwich_norms: false,
        qk_norm: arch == Arch::Qwen3,
        layers: (0..layers)
            .map(|_| LayerSpec {
                sliding_window: window,
                rope: 0,
            })
            .collect(),
        ropes: vec![rope],
        rope_interleaved: arch == Arch::Llama,
        max_position_embeddings: meta.get_num(&k("context_length")).map(|v| v as usize),
        bos_token_id: meta
            .get_num("tokenizer.ggml.bos_token_id")
            .map(|v| v as u32),
        eos_token_ids: meta
            .get_num("tokenizer.ggml.eos_token_id")
            .map(|v| v as u32)
            .into_iter()
            .collect(),
        torch_dtype: None,
        name_or_path: meta.string("general.name"),
    };
    let id = |key: &str| meta.get_num(key).map(|v| v as u32);
    let tokenizer_parts = GgufTokenizerParts {
        model: meta.string("tokenizer.ggml.model").unwrap_or_default(),
        pre: meta.string("tokenizer.ggml.pre"),
        tokens: meta.strings("tokenizer.ggml.tokens"),
        token_types: meta.ints("tokenizer.ggml.token_type"),
        merges: meta.strings("tokenizer.ggml.merges"),
        bos_token_id: id("tokenizer.ggml.bos_token_id"),
        eos_token_id: id("tokenizer.ggml.eos_token_id"),
        pad_token_id: id("tokenizer.ggml.padding_token_id"),
        unk_token_id: id("tokenizer.ggml.unknown_token_id"),
        add_bos: meta.bool("tokenizer.ggml.add_bos_token"),
        add_eos: meta.bool("tokenizer.ggml.add_eos_token"),
        chat_template: meta.string("tokenizer.chat_template"),
    };
    let mut stop_ids: Vec<u32> = Vec::new();
    for key in [
        "tokenizer.ggml.eos_token_id",
        "tokenizer.ggml.eot_token_id",
        "tokenizer.ggml.eom_token_id",
    ] {
        if let Some(v) = id(key).filter(|v| !stop_ids.contains(v)) {
            stop_ids.push(v);
        }
    }
    let dtype_name = match meta.get_num("general.file_type").map(|v| v as u32) {
        Some(0) => "f32",
        Some(1) => "f16",
        Some(2) => "q4_0",
        Some(7) => "q8_0",
        Some(15) => "q4_k_m",
        Some(17) => "q5_k_m",
        Some(18) => "q6_k",
        Some(32) => "bf16",
        _ => "gguf",
    }
    .to_string();
    Ok(GgufModel {
        config,
        weights: GgufWeights {
            path: path.to_path_buf(),
            tensors,
            device: device.clone(),
            num_parameters,
        },
        tokenizer_parts,
        stop_ids,
        dtype_name,
    })
}

fn gguf_name(hf: &str) -> Option<String> {
    let (base, suffix) = hf.rsplit_once('.')?;
    let mapped = match base {
        "model.embed_tokens" => "token_embd".to_string(),
        "model.norm" => "output_norm".to_string(),
        "lm_head" => "output".to_string(),
        _ => {
            let rest = base.strip_prefix("model.layers.")?;
            let (n, module) = rest.split_once('.')?;
            let m = match module {
                "self_attn.q_proj" => "attn_q",
                "self_attn.k_proj" => "attn_k",
                "self_attn.v_proj" => "attn_v",
                "self_attn.o_proj" => "attn_output",
                "self_attn.q_norm" => "attn_q_norm",
                "self_attn.k_norm" => "attn_k_norm",
                "mlp.gate_proj" => "ffn_gate",
                "mlp.up_proj" => "ffn_up",
                "mlp.down_proj" => "ffn_down",
                "input_layernorm" => "attn_norm",
                "post_attention_layernorm" => "ffn_norm",
                _ => return None,
            };
            format!("blk.{n}.{m}")
        }
    };
    Some(format!("{mapped}.{suffix}"))
}

impl GgufWeights {
    fn get(&self, hf: &str, shape: &[usize]) -> Result<Arc<QTensor>, LoadError> {
        let name = gguf_name(hf).unwrap_or_else(|| hf.to_string());
        let t = self
            .tensors
            .get(&name)
            .ok_or_else(|| LoadError::file(&self.path, format!("tensor `{name}` is missing")))?;
        if t.shape().dims() != shape {
            return Err(LoadError::file(
                &self.path,
                format!(
                    "tensor `{name}` has shape {:?} but the metadata implies {shape:?}",
                    t.shape().dims()
                ),
            ));
        }
        Ok(t.clone())
    }

    fn dense(&self, hf: &str, shape: &[usize]) -> Result<Tensor, LoadError> {
        Ok(self
            .get(hf, shape)?
            .dequantize(&self.device)?
            .to_dtype(DType::F32)?)
    }
}

impl WeightSource for GgufWeights {
    fn has(&self, name: &str) -> bool {
        gguf_name(name).is_some_and(|n| self.tensors.contains_key(&n))
    }

    fn linear(&self, name: &str, out: usize, inp: usize) -> Result<Lin, LoadError> {
        let q = self.get(&format!("{name}.weight"), &[out, inp])?;
        let bias_name = format!("{name}.bias");
        let bias = if self.has(&bias_name) {
            Some(self.dense(&bias_name, &[out])?)
        } else {
            None
        };
        Ok(Lin::Quant {
            q: QMatMul::from_arc(q)?,
            bias,
            out,
        })
    }

    fn norm(&self, name: &str, dim: usize, _plus_one: bool) -> Result<Tensor, LoadError> {
        // Gemma's +1 is baked into GGUF norms by the converter; no family here needs it.
        self.dense(name, &[dim])
    }

    fn embedding(&self, name: &str, vocab: usize, hidden: usize) -> Result<Tensor, LoadError> {
        self.dense(name, &[vocab, hidden])
    }

    fn head(&self, _embed: &Tensor, vocab: usize, hidden: usize) -> Result<Lin, LoadError> {
        let name = if self.has("lm_head.weight") {
            "lm_head.weight"
        } else {
            "model.embed_tokens.weight"
        };
        Ok(Lin::Quant {
            q: QMatMul::from_arc(self.get(name, &[vocab, hidden])?)?,
            bias: None,
            out: vocab,
        })
    }

    fn dtype(&self) -> DType {
        DType::F32
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn num_parameters(&self) -> u64 {
        self.num_parameters
    }
}
