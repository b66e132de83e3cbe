//! Loading variants: sharded safetensors (index.json) give the same numbers as the single file,
//! bf16 checkpoints are widened to f32 on CPU, `dtype = "q8_0"` quantizes at load and stays
//! close, and a LoRA adapter with `modules_to_save` replaces the saved module.

mod common;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use sparkbench_candle::scoring::log_softmax_all;
use sparkbench_candle::{LoadOptions, load_candle};
use sparkbench_protocol::ModelSource;

use common::*;

fn copy_meta(from: &Path, to: &Path) {
    for f in [
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ] {
        std::fs::copy(from.join(f), to.join(f)).expect("copy");
    }
}

fn max_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

const IDS: [u32; 8] = [0, 316, 2955, 280, 1685, 605, 304, 17];

#[test]
fn sharded_safetensors_match_single_file() {
    let Some(f) = fixtures() else { return };
    let src = f.join("models/tiny-llama");
    let tensors =
        candle_core::safetensors::load(src.join("model.safetensors"), &Device::Cpu).expect("load");
    let d = tempfile::tempdir().expect("tempdir");
    copy_meta(&src, d.path());
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    let (a, b) = names.split_at(names.len() / 2);
    let mut map = serde_json::Map::new();
    for (part, file) in [
        (a, "model-00001-of-00002.safetensors"),
        (b, "model-00002-of-00002.safetensors"),
    ] {
        let sub: HashMap<String, Tensor> = part
            .iter()
            .map(|n| ((*n).clone(), tensors[*n].clone()))
            .collect();
        candle_core::safetensors::save(&sub, d.path().join(file)).expect("save");
        for n in part {
            map.insert((*n).clone(), serde_json::Value::String(file.into()));
        }
    }
    let index = serde_json::json!({"metadata": {}, "weight_map": map});
    std::fs::write(
        d.path().join("model.safetensors.index.json"),
        index.to_string(),
    )
    .expect("write");
    let one = load(&ModelSource::Hf { path: src }, 1);
    let two = load(
        &ModelSource::Hf {
            path: d.path().to_path_buf(),
        },
        1,
    );
    let x = log_softmax_all(one.decoder(), &IDS).expect("forward");
    let y = log_softmax_all(two.decoder(), &IDS).expect("forward");
    assert_eq!(max_diff(&x, &y), 0.0);
}

#[test]
fn bf16_checkpoint_is_widened_to_f32_on_cpu() {
    let Some(f) = fixtures() else { return };
    let src = f.join("models/tiny-llama");
    let tensors =
        candle_core::safetensors::load(src.join("model.safetensors"), &Device::Cpu).expect("load");
    let d = tempfile::tempdir().expect("tempdir");
    copy_meta(&src, d.path());
    let bf: HashMap<String, Tensor> = tensors
        .iter()
        .map(|(k, v)| (k.clone(), v.to_dtype(DType::BF16).expect("bf16")))
        .collect();
    candle_core::safetensors::save(&bf, d.path().join("model.safetensors")).expect("save");
    // The reference: the same rounded weights in f32.
    let rounded: HashMap<String, Tensor> = bf
        .iter()
        .map(|(k, v)| (k.clone(), v.to_dtype(DType::F32).expect("f32")))
        .collect();
    let r = tempfile::tempdir().expect("tempdir");
    copy_meta(&src, r.path());
    candle_core::safetensors::save(&rounded, r.path().join("model.safetensors")).expect("save");
    let m = load(
        &ModelSource::Hf {
            path: d.path().to_path_buf(),
        },
        1,
    );
    assert_eq!(m.decoder().dtype(), DType::F32);
    let want = load(
        &ModelSource::Hf {
            path: r.path().to_path_buf(),
        },
        1,
    );
    let x = log_softmax_all(m.decoder(), &IDS).expect("forward");
    let y = log_softmax_all(want.decoder(), &IDS).expect("forward");
    assert_eq!(max_diff(&x, &y), 0.0);
}

#[test]
fn q8_0_at_load_stays_close_to_f32() {
    let Some(f) = fixtures() else { return };
    let src = ModelSource::Hf {
        path: f.join("models/tiny-llama"),
    };
    let f32m = load(&src, 1);
    let opts = LoadOptions {
        dtype: Some("q8_0".into()),
        device: Some("cpu".into()),
        batch_size: 1,
        max_length: None,
    };
    let q = load_candle(&src, &opts, &|_| {}).expect("load q8_0");
    let x = log_softmax_all(f32m.decoder(), &IDS).expect("forward");
    let y = log_softmax_all(q.decoder(), &IDS).expect("forward");
    let mean: f32 = x
        .iter()
        .flatten()
        .zip(y.iter().flatten())
        .map(|(a, b)| (a - b).abs())
        .sum::<f32>()
        / x.iter().flatten().count() as f32;
    assert!(mean > 0.0 && mean < 0.2, "mean |Δ| {mean}");
}

#[test]
fn lora_modules_to_save_replace_the_module() {
    let Some(f) = fixtures() else { return };
    let base = f.join("models/tiny-llama");
    let adapter = f.join("models/tiny-llama-lora");
    let a = tempfile::tempdir().expect("tempdir");
    let mut cfg = read_json(&adapter.join("adapter_config.json"));
    cfg["modules_to_save"] = serde_json::json!(["lm_head"]);
    std::fs::write(a.path().join("adapter_config.json"), cfg.to_string()).expect("write");
    let mut tensors =
        candle_core::safetensors::load(adapter.join("adapter_model.safetensors"), &Device::Cpu)
            .expect("load");
    let head = Tensor::zeros((4096, 64), DType::F32, &Device::Cpu).expect("zeros");
    tensors.insert("base_model.model.lm_head.weight".into(), head);
    candle_core::safetensors::save(&tensors, a.path().join("adapter_model.safetensors"))
        .expect("save");
    let m = load(
        &ModelSource::Lora {
            adapter: a.path().to_path_buf(),
            base,
        },
        1,
    );
    // A zero head gives a uniform distribution everywhere.
    let x = log_softmax_all(m.decoder(), &IDS).expect("forward");
    let uniform = -(4096f32.ln());
    assert!(x.iter().flatten().all(|v| (v - uniform).abs() < 1e-4));
}
