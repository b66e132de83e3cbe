//! [`init_model`]: writes a complete random-weight Hugging Face model folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::error::ModelgenError;
use crate::shape::{Arch, Dims, Shape};
use crate::tokenizer::{self, BOS_ID, CHAT_TEMPLATE, EOS_ID, IM_END_ID, PAD_ID, SPECIAL_TOKENS};
use crate::weights;

/// What [`init_model`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSummary {
    /// The shape.
    pub shape: Shape,
    /// The folder.
    pub dir: PathBuf,
    /// The architecture numbers written to `config.json`.
    pub dims: Dims,
    /// Parameter count.
    pub num_parameters: u64,
    /// Size of the shipped tokenizer (added tokens included).
    pub tokenizer_vocab_size: usize,
    /// The files written, in writing order.
    pub files: Vec<PathBuf>,
}

/// The files a model folder carries besides the weights, copied with adapters and merges.
pub const TOKENIZER_FILES: [&str; 3] = [
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
];

pub(crate) fn write_file(path: &Path, text: &str) -> Result<(), ModelgenError> {
    std::fs::write(path, text).map_err(|e| ModelgenError::io(path, e))
}

pub(crate) fn write_json(path: &Path, value: &Value) -> Result<(), ModelgenError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| ModelgenError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_file(path, &format!("{text}\n"))
}

/// Creates `dir`, refusing one that already has files in it.
pub(crate) fn prepare_out_dir(dir: &Path) -> Result<(), ModelgenError> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(|e| ModelgenError::io(dir, e))?;
        if entries.next().is_some() {
            return Err(ModelgenError::Argument(format!(
                "{} already exists and is not empty; choose another folder or remove it first",
                dir.display()
            )));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| ModelgenError::io(dir, e))
}

/// Writes a random-weight model of `shape` to `out_dir` (created; it must be absent or empty).
/// The folder is byte-for-byte the same for the same shape and seed.
pub fn init_model(shape: Shape, out_dir: &Path, seed: u64) -> Result<ModelSummary, ModelgenError> {
    prepare_out_dir(out_dir)?;
    let arch = shape.dims(0).arch;
    let tok = tokenizer::build_tokenizer(arch)?;
    let tokenizer_vocab_size = tok.get_vocab_size(true);
    let dims = shape.dims(tokenizer_vocab_size);
    let mut files = Vec::new();

    let path = out_dir.join("tokenizer.json");
    write_file(&path, &tokenizer::tokenizer_json(&tok)?)?;
    files.push(path);
    for (name, value) in [
        ("tokenizer_config.json", tokenizer_config(&dims)),
        ("special_tokens_map.json", special_tokens_map(arch)),
        ("config.json", config_json(&dims, "float32")),
        ("generation_config.json", generation_config(arch)),
    ] {
        let path = out_dir.join(name);
        write_json(&path, &value)?;
        files.push(path);
    }

    let specs = weights::tensor_specs(&dims);
    let tensors = weights::generate(&specs, seed)?;
    let path = out_dir.join("model.safetensors");
    save_safetensors(tensors, &path)?;
    files.push(path);

    Ok(ModelSummary {
        shape,
        dir: out_dir.to_path_buf(),
        dims,
        num_parameters: weights::num_parameters(&dims),
        tokenizer_vocab_size,
        files,
    })
}

pub(crate) fn save_safetensors(
    tensors: Vec<(String, candle_core::Tensor)>,
    path: &Path,
) -> Result<(), ModelgenError> {
    let map: HashMap<String, candle_core::Tensor> = tensors.into_iter().collect();
    candle_core::safetensors::save(&map, path).map_err(|e| ModelgenError::Invalid {
        path: path.to_path_buf(),
        message: format!("cannot write safetensors: {e}"),
    })?;
    // The writer creates the file owner-only; model folders are meant to be shared like the
    // other files beside it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
            .map_err(|e| ModelgenError::io(path, e))?;
    }
    Ok(())
}

fn bos_value(arch: Arch) -> (Value, Value) {
    match arch {
        Arch::Llama => (json!(SPECIAL_TOKENS[0]), json!(BOS_ID)),
        Arch::Qwen2 => (Value::Null, Value::Null),
    }
}

/// `config.json` with transformers 5's keys plus the legacy 4.x ones, sorted as transformers
/// writes them. `dtype` is `float32` or `bfloat16`.
pub(crate) fn config_json(dims: &Dims, dtype: &str) -> Value {
    let (_, bos_id) = bos_value(dims.arch);
    let mut c = serde_json::Map::new();
    c.insert("architectures".into(), json!([dims.arch.class_name()]));
    if dims.arch == Arch::Llama {
        c.insert("attention_bias".into(), json!(false));
    }
    c.insert("attention_dropout".into(), json!(0.0));
    c.insert("bos_token_id".into(), bos_id);
    c.insert("dtype".into(), json!(dtype));
    c.insert("eos_token_id".into(), json!(EOS_ID));
    if dims.arch == Arch::Llama {
        c.insert("head_dim".into(), json!(dims.head_dim));
    }
    c.insert("hidden_act".into(), json!("silu"));
    c.insert("hidden_size".into(), json!(dims.hidden));
    c.insert("initializer_range".into(), json!(0.02));
    c.insert("intermediate_size".into(), json!(dims.intermediate));
    if dims.arch == Arch::Qwen2 {
        c.insert(
            "layer_types".into(),
            json!(vec!["full_attention"; dims.layers]),
        );
    }
    c.insert(
        "max_position_embeddings".into(),
        json!(dims.max_position_embeddings),
    );
    if dims.arch == Arch::Qwen2 {
        c.insert("max_window_layers".into(), json!(dims.layers));
    }
    if dims.arch == Arch::Llama {
        c.insert("mlp_bias".into(), json!(false));
    }
    c.insert("model_type".into(), json!(dims.arch.model_type()));
    c.insert("num_attention_heads".into(), json!(dims.heads));
    c.insert("num_hidden_layers".into(), json!(dims.layers));
    c.insert("num_key_value_heads".into(), json!(dims.kv_heads));
    c.insert("pad_token_id".into(), json!(PAD_ID));
    if dims.arch == Arch::Llama {
        c.insert("pretraining_tp".into(), json!(1));
    }
    c.insert("rms_norm_eps".into(), json!(dims.rms_norm_eps));
    c.insert(
        "rope_parameters".into(),
        json!({"rope_theta": dims.rope_theta, "rope_type": "default"}),
    );
    c.insert("rope_theta".into(), json!(dims.rope_theta));
    if dims.arch == Arch::Qwen2 {
        c.insert("sliding_window".into(), json!(dims.max_position_embeddings));
    }
    c.insert("tie_word_embeddings".into(), json!(dims.tied));
    c.insert("torch_dtype".into(), json!(dtype));
    c.insert("transformers_version".into(), json!("5.23.0"));
    c.insert("use_cache".into(), json!(true));
    if dims.arch == Arch::Qwen2 {
        c.insert("use_sliding_window".into(), json!(false));
    }
    c.insert("vocab_size".into(), json!(dims.vocab));
    Value::Object(c)
}

fn generation_config(arch: Arch) -> Value {
    let (_, bos_id) = bos_value(arch);
    let mut c = serde_json::Map::new();
    c.insert("_from_model_config".into(), json!(true));
    if !bos_id.is_null() {
        c.insert("bos_token_id".into(), bos_id);
    }
    c.insert("eos_token_id".into(), json!([EOS_ID, IM_END_ID]));
    c.insert("pad_token_id".into(), json!(PAD_ID));
    c.insert("transformers_version".into(), json!("5.23.0"));
    Value::Object(c)
}

fn added_token(content: &str) -> Value {
    json!({"content": content, "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true})
}

/// `tokenizer_config.json` in the classic layout (`PreTrainedTokenizerFast`, template inline).
fn tokenizer_config(dims: &Dims) -> Value {
    let (bos, _) = bos_value(dims.arch);
    let mut decoder = serde_json::Map::new();
    for (i, t) in SPECIAL_TOKENS.iter().enumerate() {
        decoder.insert(i.to_string(), added_token(t));
    }
    json!({
        "added_tokens_decoder": decoder,
        "additional_special_tokens": [SPECIAL_TOKENS[2], SPECIAL_TOKENS[3]],
        "bos_token": bos,
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": false,
        "eos_token": SPECIAL_TOKENS[1],
        "model_input_names": ["input_ids", "attention_mask"],
        "model_max_length": dims.max_position_embeddings,
        "pad_token": SPECIAL_TOKENS[4],
        "tokenizer_class": "PreTrainedTokenizerFast"
    })
}

fn special_tokens_map(arch: Arch) -> Value {
    let entry = |t: &str| json!({"content": t, "lstrip": false, "normalized": false, "rstrip": false, "single_word": false});
    let mut m = serde_json::Map::new();
    m.insert(
        "additional_special_tokens".into(),
        json!([entry(SPECIAL_TOKENS[2]), entry(SPECIAL_TOKENS[3])]),
    );
    if arch == Arch::Llama {
        m.insert("bos_token".into(), entry(SPECIAL_TOKENS[0]));
    }
    m.insert("eos_token".into(), entry(SPECIAL_TOKENS[1]));
    m.insert("pad_token".into(), entry(SPECIAL_TOKENS[4]));
    Value::Object(m)
}
