//! End-to-end checks of generated folders: byte determinism, tensor names and shapes, the
//! tokenizer loading through sparkbench-tokenizer, LoRA adapters and merge arithmetic.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use sha2::{Digest, Sha256};
use sparkbench_modelgen::lora::read_dims;
use sparkbench_modelgen::weights::tensor_specs;
use sparkbench_modelgen::{Shape, init_model, make_lora_adapter, merge_lora};
use sparkbench_protocol::{ChatMessage, ChatTemplate, Role};
use sparkbench_tokenizer::HfTokenizer;

fn digests(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| {
            let bytes = std::fs::read(e.path()).unwrap_or_else(|err| panic!("{err}"));
            (
                e.file_name().to_string_lossy().into_owned(),
                hex::encode(Sha256::digest(&bytes)),
            )
        })
        .collect();
    out.sort();
    out
}

fn load(path: &Path) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(path, &Device::Cpu)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn values(t: &Tensor) -> Vec<f32> {
    t.to_dtype(DType::F32)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f32>())
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn tiny_model_is_deterministic_complete_and_loadable() {
    let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let a = root.path().join("a");
    let b = root.path().join("b");
    let c = root.path().join("c");
    let summary = init_model(Shape::Tiny, &a, 7).unwrap_or_else(|e| panic!("{e}"));
    init_model(Shape::Tiny, &b, 7).unwrap_or_else(|e| panic!("{e}"));
    init_model(Shape::Tiny, &c, 8).unwrap_or_else(|e| panic!("{e}"));

    let (da, db, dc) = (digests(&a), digests(&b), digests(&c));
    let names: Vec<&str> = da.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "config.json",
            "generation_config.json",
            "model.safetensors",
            "special_tokens_map.json",
            "tokenizer.json",
            "tokenizer_config.json"
        ]
    );
    assert_eq!(da, db, "same seed, same bytes");
    for ((name, ha), (_, hc)) in da.iter().zip(&dc) {
        if name == "model.safetensors" {
            assert_ne!(ha, hc, "another seed gives other weights");
        } else {
            assert_eq!(ha, hc, "{name} does not depend on the seed");
        }
    }

    // Tensors: names and shapes as the spec, tokenizer-sized vocabulary, tied = false.
    let dims = read_dims(&a).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dims, summary.dims);
    assert_eq!(dims.vocab, summary.tokenizer_vocab_size);
    let tensors = load(&a.join("model.safetensors"));
    let specs = tensor_specs(&dims);
    assert_eq!(tensors.len(), specs.len());
    for spec in &specs {
        let t = tensors
            .get(&spec.name)
            .unwrap_or_else(|| panic!("missing {}", spec.name));
        assert_eq!(t.dims(), spec.shape.as_slice(), "{}", spec.name);
        assert_eq!(t.dtype(), DType::F32);
    }
    let norm = values(&tensors["model.norm.weight"]);
    assert!(
        norm.iter().all(|v| (0.5..1.5).contains(v)) && norm.iter().any(|v| (v - 1.0).abs() > 0.01)
    );

    // The tokenizer loads through sparkbench-tokenizer with BOS, special tokens and ChatML.
    let tok = HfTokenizer::from_dir(&a).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tok.vocab_size(), summary.tokenizer_vocab_size);
    assert_eq!(
        (tok.bos_token_id(), tok.eos_token_id(), tok.pad_token_id()),
        (Some(0), Some(1), Some(4))
    );
    let ids = tok
        .encode("The capital of France is Paris.")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ids[0], 0);
    assert_eq!(
        tok.decode(&ids, true).unwrap_or_else(|e| panic!("{e}")),
        "The capital of France is Paris."
    );
    let chat = tok
        .chat_template()
        .unwrap_or_else(|| panic!("no chat template"));
    let text = chat
        .render(&[ChatMessage::new(Role::User, "What is 2+2?")], true, false)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        text,
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
    );
    let ids = tok.encode(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        &ids[..2],
        &[0, 2],
        "BOS then <|im_start|> as one special id"
    );
    assert_eq!(tok.stop_token_ids(), vec![1, 3]);

    // A non-empty output folder is refused.
    let err = init_model(Shape::Tiny, &a, 7)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("not empty"), "{err}");
}

#[test]
fn lora_adapter_names_shapes_and_merge_arithmetic() {
    let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let base = root.path().join("tiny-base");
    let lora = root.path().join("lora");
    let merged = root.path().join("merged");
    let merged16 = root.path().join("merged_16bit");
    init_model(Shape::Tiny, &base, 1).unwrap_or_else(|e| panic!("{e}"));
    let summary = make_lora_adapter(&base, &lora, 2, 8, 16.0).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.base_model_name, "tiny-base");
    assert_eq!(summary.tensors, 2 * 7 * 2);

    let cfg: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(lora.join("adapter_config.json"))
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg["base_model_name_or_path"], "tiny-base");
    assert_eq!(cfg["r"], 8);
    assert_eq!(cfg["lora_alpha"], 16);
    assert_eq!(cfg["peft_type"], "LORA");
    assert_eq!(
        cfg["target_modules"],
        serde_json::json!([
            "down_proj",
            "gate_proj",
            "k_proj",
            "o_proj",
            "q_proj",
            "up_proj",
            "v_proj"
        ])
    );
    assert!(lora.join("tokenizer.json").is_file());

    let ad = load(&lora.join("adapter_model.safetensors"));
    let p = "base_model.model.model.layers";
    let shape = |n: &str| {
        ad.get(n)
            .map(|t| t.dims().to_vec())
            .unwrap_or_else(|| panic!("missing {n}"))
    };
    assert_eq!(
        shape(&format!("{p}.0.self_attn.q_proj.lora_A.weight")),
        vec![8, 64]
    );
    assert_eq!(
        shape(&format!("{p}.0.self_attn.q_proj.lora_B.weight")),
        vec![64, 8]
    );
    assert_eq!(
        shape(&format!("{p}.1.self_attn.k_proj.lora_B.weight")),
        vec![32, 8]
    );
    assert_eq!(
        shape(&format!("{p}.1.mlp.down_proj.lora_A.weight")),
        vec![8, 172]
    );
    assert_eq!(
        shape(&format!("{p}.1.mlp.gate_proj.lora_B.weight")),
        vec![172, 8]
    );
    let b = values(&ad[&format!("{p}.0.self_attn.v_proj.lora_B.weight")]);
    assert!(b.iter().any(|v| *v != 0.0), "B must be non-zero");

    // f32 merge: W' = W + (16 / 8) · B · A, checked element by element.
    let ms = merge_lora(&base, &lora, &merged, false).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ms.merged_modules, 14);
    let w = load(&base.join("model.safetensors"));
    let wm = load(&merged.join("model.safetensors"));
    let name = "model.layers.1.mlp.up_proj.weight";
    let (out, inp) = (172usize, 64usize);
    let w0 = values(&w[name]);
    let w1 = values(&wm[name]);
    let a = values(&ad[&format!("{p}.1.mlp.up_proj.lora_A.weight")]);
    let bm = values(&ad[&format!("{p}.1.mlp.up_proj.lora_B.weight")]);
    for &(i, j) in &[(0usize, 0usize), (5, 63), (171, 17), (100, 40)] {
        let delta: f64 = (0..8)
            .map(|k| f64::from(bm[i * 8 + k]) * f64::from(a[k * inp + j]))
            .sum();
        let want = f64::from(w0[i * inp + j]) + 2.0 * delta;
        assert!(
            (f64::from(w1[i * inp + j]) - want).abs() < 1e-5,
            "({i},{j})"
        );
    }
    assert_eq!(w1.len(), out * inp);
    // Untargeted tensors are unchanged.
    assert_eq!(
        values(&w["model.norm.weight"]),
        values(&wm["model.norm.weight"])
    );
    assert_eq!(values(&w["lm_head.weight"]), values(&wm["lm_head.weight"]));

    // bf16 merge: same values rounded, dtype recorded in config.json, tokenizer copied.
    let ms16 = merge_lora(&base, &lora, &merged16, true).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ms16.dtype, "bfloat16");
    let w16 = load(&merged16.join("model.safetensors"));
    assert_eq!(w16[name].dtype(), DType::BF16);
    let v16 = values(&w16[name]);
    for (x, y) in v16.iter().zip(&w1) {
        assert!((x - y).abs() <= y.abs() / 128.0 + 1e-6);
    }
    let cfg16 =
        std::fs::read_to_string(merged16.join("config.json")).unwrap_or_else(|e| panic!("{e}"));
    assert!(cfg16.contains("\"torch_dtype\": \"bfloat16\""));
    assert!(HfTokenizer::from_dir(&merged16).is_ok());
}
