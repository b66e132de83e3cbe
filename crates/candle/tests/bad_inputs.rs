//! Bad inputs get clear errors that name the file and the problem: missing config.json, unknown
//! architecture, truncated safetensors, config/weight shape mismatch, missing tokenizer, an
//! adapter for another base, refused adapter features, unsupported GGUF tensor types, and
//! sources this backend does not run. Also: a set cancel flag stops a call.

mod common;

use std::path::{Path, PathBuf};

use sparkbench_candle::{LoadError, load_candle};
use sparkbench_protocol::{
    CallCtx, Cancel, LanguageModel, LoglikelihoodRequest, ModelError, ModelSource,
};

use common::*;

fn copy_dir(from: &Path, skip: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let name = e.file_name().to_string_lossy().into_owned();
        if !skip.contains(&name.as_str()) {
            std::fs::copy(e.path(), dir.path().join(&name)).expect("copy");
        }
    }
    dir
}

fn load_err(source: &ModelSource) -> String {
    match load_candle(source, &opts(2), &|_| {}) {
        Ok(_) => panic!("loading {source:?} should fail"),
        Err(e) => e.to_string(),
    }
}

fn hf(dir: &Path) -> ModelSource {
    ModelSource::Hf {
        path: dir.to_path_buf(),
    }
}

fn edit_config(dir: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let p = dir.join("config.json");
    let mut v = read_json(&p);
    f(&mut v);
    std::fs::write(&p, serde_json::to_string(&v).expect("json")).expect("write");
}

fn tiny_llama() -> Option<PathBuf> {
    fixtures().map(|f| f.join("models/tiny-llama"))
}

#[test]
fn missing_config_json() {
    let Some(src) = tiny_llama() else { return };
    let d = copy_dir(&src, &["config.json"]);
    let e = load_err(&hf(d.path()));
    assert!(e.contains("config.json") && e.contains("not found"), "{e}");
}

#[test]
fn unknown_architecture() {
    let Some(src) = tiny_llama() else { return };
    let d = copy_dir(&src, &[]);
    edit_config(d.path(), |v| {
        v["architectures"] = serde_json::json!(["GPTNeoXForCausalLM"]);
        v["model_type"] = serde_json::json!("gpt_neox");
    });
    let e = load_err(&hf(d.path()));
    assert!(
        e.contains("GPTNeoXForCausalLM")
            && e.contains("Gemma2ForCausalLM")
            && e.contains("config.json"),
        "{e}"
    );
}

#[test]
fn truncated_safetensors() {
    let Some(src) = tiny_llama() else { return };
    let d = copy_dir(&src, &[]);
    let p = d.path().join("model.safetensors");
    let bytes = std::fs::read(&p).expect("read");
    std::fs::write(&p, &bytes[..bytes.len() / 2]).expect("write");
    let e = load_err(&hf(d.path()));
    assert!(
        e.contains("model.safetensors") && e.contains("truncated"),
        "{e}"
    );
}

#[test]
fn config_weight_shape_mismatch() {
    let Some(src) = tiny_llama() else { return };
    let d = copy_dir(&src, &[]);
    edit_config(d.path(), |v| {
        v["intermediate_size"] = serde_json::json!(200)
    });
    let e = load_err(&hf(d.path()));
    assert!(
        e.contains("model.safetensors") && e.contains("shape") && e.contains("200"),
        "{e}"
    );
}

#[test]
fn missing_tokenizer() {
    let Some(src) = tiny_llama() else { return };
    let d = copy_dir(&src, &["tokenizer.json"]);
    let e = load_err(&hf(d.path()));
    assert!(
        e.contains("tokenizer.json") && e.contains("not found"),
        "{e}"
    );
}

#[test]
fn gguf_tokenizer_path_missing() {
    let Some(f) = fixtures() else { return };
    let source = ModelSource::Gguf {
        path: f.join("models/tiny-llama.f32.gguf"),
        tokenizer: Some(f.join("no-such-tokenizer")),
    };
    let e = load_err(&source);
    assert!(
        e.contains("no-such-tokenizer") && e.contains("tokenizer"),
        "{e}"
    );
}

#[test]
fn adapter_for_another_base() {
    let Some(f) = fixtures() else { return };
    // tiny-qwen2 has the same shapes as tiny-llama, so only the name check can catch this.
    let source = ModelSource::Lora {
        adapter: f.join("models/tiny-llama-lora"),
        base: f.join("models/tiny-qwen2"),
    };
    let e = load_err(&source);
    assert!(
        e.contains("adapter_config.json") && e.contains("tiny-llama") && e.contains("tiny-qwen2"),
        "{e}"
    );
}

#[test]
fn adapter_with_dora_is_refused() {
    let Some(f) = fixtures() else { return };
    let a = copy_dir(&f.join("models/tiny-llama-lora"), &[]);
    let p = a.path().join("adapter_config.json");
    let mut v = read_json(&p);
    v["use_dora"] = serde_json::json!(true);
    std::fs::write(&p, v.to_string()).expect("write");
    let source = ModelSource::Lora {
        adapter: a.path().to_path_buf(),
        base: f.join("models/tiny-llama"),
    };
    let e = load_err(&source);
    assert!(
        e.contains("DoRA") && e.contains("adapter_config.json"),
        "{e}"
    );
}

#[test]
fn adapter_rank_pattern_mismatch_is_caught() {
    let Some(f) = fixtures() else { return };
    let a = copy_dir(&f.join("models/tiny-llama-lora"), &[]);
    let p = a.path().join("adapter_config.json");
    let mut v = read_json(&p);
    v["rank_pattern"] = serde_json::json!({"q_proj": 4});
    std::fs::write(&p, v.to_string()).expect("write");
    let source = ModelSource::Lora {
        adapter: a.path().to_path_buf(),
        base: f.join("models/tiny-llama"),
    };
    let e = load_err(&source);
    assert!(e.contains("q_proj") && e.contains("rank is 4"), "{e}");
}

/// A minimal GGUF v3 file with one tensor of GGML type `type_id`.
fn gguf_with_type(path: &Path, tensor: &str, type_id: u32) {
    let mut b: Vec<u8> = Vec::new();
    let string = |b: &mut Vec<u8>, s: &str| {
        b.extend_from_slice(&(s.len() as u64).to_le_bytes());
        b.extend_from_slice(s.as_bytes());
    };
    b.extend_from_slice(&0x4655_4747u32.to_le_bytes());
    b.extend_from_slice(&3u32.to_le_bytes());
    b.extend_from_slice(&1u64.to_le_bytes());
    b.extend_from_slice(&1u64.to_le_bytes());
    string(&mut b, "general.architecture");
    b.extend_from_slice(&8u32.to_le_bytes());
    string(&mut b, "llama");
    string(&mut b, tensor);
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(&256u64.to_le_bytes());
    b.extend_from_slice(&4u64.to_le_bytes());
    b.extend_from_slice(&type_id.to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes());
    while !b.len().is_multiple_of(32) {
        b.push(0);
    }
    b.extend(std::iter::repeat_n(0u8, 4096));
    std::fs::write(path, b).expect("write gguf");
}

#[test]
fn unsupported_gguf_tensor_type() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("iq.gguf");
    gguf_with_type(&p, "blk.0.attn_q.weight", 16);
    let e = load_err(&ModelSource::Gguf {
        path: p,
        tokenizer: None,
    });
    assert!(
        e.contains("blk.0.attn_q.weight") && e.contains("IQ2_XXS") && e.contains("iq.gguf"),
        "{e}"
    );
}

#[test]
fn not_a_gguf_file() {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("x.gguf");
    std::fs::write(&p, b"definitely not gguf").expect("write");
    let e = load_err(&ModelSource::Gguf {
        path: p,
        tokenizer: None,
    });
    assert!(e.contains("x.gguf") && e.contains("GGUF"), "{e}");
}

#[test]
fn http_sources_are_refused() {
    let source = ModelSource::Ollama {
        endpoint: "http://localhost:11434".into(),
        model: "m".into(),
    };
    match load_candle(&source, &opts(1), &|_| {}) {
        Err(LoadError::Unsupported(m)) => assert!(m.contains("HTTP"), "{m}"),
        Err(e) => panic!("wrong error {e}"),
        Ok(_) => panic!("should fail"),
    }
}

#[test]
fn cancel_stops_a_call() {
    let Some(src) = tiny_llama() else { return };
    let mut model = load(&hf(&src), 1);
    let cancel = Cancel::new();
    cancel.set();
    let beat = |_n: u64| {};
    let cx = CallCtx::new(&cancel, &beat);
    let req = LoglikelihoodRequest {
        context: "The cat".into(),
        continuation: " sat".into(),
    };
    match model.loglikelihood(&[req], &cx) {
        Err(ModelError::Cancelled) => {}
        other => panic!("expected Cancelled, got {other:?}"),
    }
}
