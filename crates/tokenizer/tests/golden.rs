//! The tokenizer against the fixtures' golden files (computed with transformers and lm-eval):
//! prompt ids, loglikelihood splits, decoded greedy text and the chat prompt, for every
//! fixture model, and the tokenizer rebuilt from the fixture GGUF's metadata.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sparkbench_protocol::{ChatMessage, ChatTemplate, Role};
use sparkbench_tokenizer::{GgufTokenizerParts, HfTokenizer, bpe_from_gguf_parts};

fn fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("SPARKBENCH_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/fixtures"
            ))
        });
    if dir.join("golden").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: fixtures not found at {} (set SPARKBENCH_FIXTURES)",
            dir.display()
        );
        None
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an id list, got {v}"))
        .iter()
        .map(|x| {
            x.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or_else(|| panic!("bad id {x}"))
        })
        .collect()
}

fn text(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("missing string {key} in {v}"))
        .to_owned()
}

/// Every golden file with a tokenizer folder: (golden json, tokenizer dir).
fn golden_models(root: &Path) -> Vec<(String, Value, PathBuf)> {
    let mut out = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(root.join("golden"))
        .unwrap_or_else(|e| panic!("golden dir: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    for path in names {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if !name.ends_with(".json") || name.ends_with(".logprobs.json") {
            continue;
        }
        let golden = read_json(&path);
        if let Some(dir) = golden["tokenizer_dir"].as_str() {
            out.push((name, golden.clone(), root.join(dir)));
        }
    }
    out
}

#[test]
fn golden_prompts_encode_and_decode() {
    let Some(root) = fixtures() else { return };
    let models = golden_models(&root);
    assert!(
        models.len() >= 9,
        "expected the fixture golden files, found {}",
        models.len()
    );
    let mut failures: Vec<String> = Vec::new();
    for (name, golden, dir) in models {
        let tok = HfTokenizer::from_dir(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            tok.adds_bos(),
            golden["bos_added_by_tokenizer"]
                .as_bool()
                .unwrap_or_else(|| panic!("{name}: bos_added_by_tokenizer")),
            "{name}: adds_bos"
        );
        let prompts = golden["prompts"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: prompts"));
        assert_eq!(prompts.len(), 6, "{name}");
        for p in prompts {
            let id = text(p, "id");
            let prompt = text(p, "text");
            let want = ids(&p["input_ids"]);
            let got = tok.encode(&prompt).unwrap_or_else(|e| panic!("{e}"));
            if got != want {
                failures.push(format!("{name}/{id}: encode gave {got:?}, golden {want:?}"));
            }
            // Decoding the ids without skipping special tokens gives the text back, with the
            // BOS text in front when the tokenizer added BOS.
            let decoded = tok.decode(&want, false).unwrap_or_else(|e| panic!("{e}"));
            let bos_added =
                tok.adds_bos() && !prompt.starts_with(tok.bos_text().unwrap_or("\u{0}"));
            let expected = if bos_added {
                format!("{}{prompt}", tok.bos_text().unwrap_or_default())
            } else {
                prompt.clone()
            };
            assert_eq!(decoded, expected, "{name}/{id}: decode round trip");
            let greedy = &p["greedy"];
            let new_ids = ids(&greedy["new_ids"]);
            assert_eq!(
                tok.decode(&new_ids, false)
                    .unwrap_or_else(|e| panic!("{e}")),
                text(greedy, "text"),
                "{name}/{id}: greedy text"
            );
            assert_eq!(
                tok.decode(&new_ids, true).unwrap_or_else(|e| panic!("{e}")),
                text(greedy, "text_skip_special"),
                "{name}/{id}: greedy text_skip_special"
            );
            if id == "chat" {
                let tpl = tok
                    .chat_template()
                    .unwrap_or_else(|| panic!("{name}: no chat template"));
                let rendered = tpl
                    .render(&[ChatMessage::new(Role::User, "What is 2+2?")], true, false)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(rendered, prompt, "{name}: chat prompt");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn golden_loglikelihood_splits() {
    let Some(root) = fixtures() else { return };
    let mut checked = 0;
    for (name, golden, dir) in golden_models(&root) {
        let tok = HfTokenizer::from_dir(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        let cases = golden["loglikelihood"]["cases"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: cases"));
        for (i, case) in cases.iter().enumerate() {
            let (ctx, cont) = tok
                .encode_pair(&text(case, "context"), &text(case, "continuation"))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                ctx,
                ids(&case["context_enc"]),
                "{name} case {i}: context_enc"
            );
            assert_eq!(
                cont,
                ids(&case["continuation_enc"]),
                "{name} case {i}: continuation_enc"
            );
            checked += 1;
        }
    }
    assert!(checked >= 45, "only {checked} cases checked");
}

#[test]
fn special_ids_and_prefix_token_per_family() {
    let Some(root) = fixtures() else { return };
    let models = root.join("models");
    let load =
        |m: &str| HfTokenizer::from_dir(&models.join(m)).unwrap_or_else(|e| panic!("{m}: {e}"));
    let llama = load("tiny-llama");
    assert_eq!(
        (
            llama.bos_token_id(),
            llama.eos_token_id(),
            llama.pad_token_id()
        ),
        (Some(0), Some(1), Some(4))
    );
    assert_eq!(llama.prefix_token_id(), 0);
    assert_eq!(llama.bos_text(), Some("<|begin_of_text|>"));
    assert_eq!(llama.eos_text(), Some("<|end_of_text|>"));
    assert_eq!(llama.pad_text(), Some("<pad>"));
    assert_eq!(llama.vocab_size(), 4096);
    let qwen = load("tiny-qwen2");
    assert_eq!(qwen.bos_token_id(), None);
    assert_eq!(
        qwen.prefix_token_id(),
        1,
        "no BOS: lm-eval uses EOS as prefix"
    );
    assert!(!qwen.adds_bos());
    // Phi-3 defines BOS without adding it: the prefix token is still BOS.
    let phi = load("tiny-phi3");
    assert_eq!(phi.prefix_token_id(), 0);
    assert!(!phi.adds_bos());
    let llama31 = load("tiny-llama31");
    assert_eq!(llama31.stop_token_ids(), vec![1, 3]);
}

#[test]
fn bos_prefix_rule_and_empty_context() {
    let Some(root) = fixtures() else { return };
    let tok =
        HfTokenizer::from_dir(&root.join("models/tiny-llama")).unwrap_or_else(|e| panic!("{e}"));
    let plain = tok.encode("Hello").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plain[0], 0);
    // A string that already starts with the BOS text gets exactly one BOS.
    let prefixed = tok
        .encode("<|begin_of_text|>Hello")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(prefixed, plain);
    // Empty context: [prefix] + continuation without special tokens.
    let (ctx, cont) = tok
        .encode_pair("", "Hello")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ctx, vec![0]);
    assert_eq!(cont, plain[1..].to_vec());
    // A continuation that starts with the prefix token reuses it.
    let (ctx, cont) = tok
        .encode_pair("", "<|begin_of_text|>Hello")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ctx, vec![0]);
    assert_eq!(cont, plain[1..].to_vec());
    // Trailing whitespace (any Unicode whitespace) moves to the continuation.
    let (ctx, cont) = tok
        .encode_pair("Answer:\n", "4")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ctx, tok.encode("Answer:").unwrap_or_else(|e| panic!("{e}")));
    let whole = tok.encode("Answer:\n4").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!([ctx.clone(), cont].concat(), whole);
    // The add_bos_token override turns BOS off.
    let no_bos = tok.clone().with_add_bos_token(Some(false));
    assert_eq!(
        no_bos.encode("Hello").unwrap_or_else(|e| panic!("{e}")),
        plain[1..].to_vec()
    );
}

#[test]
fn clean_up_tokenization_spaces_applies_when_configured() {
    let Some(root) = fixtures() else { return };
    let src = root.join("models/tiny-llama");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    std::fs::copy(
        src.join("tokenizer.json"),
        dir.path().join("tokenizer.json"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut cfg = read_json(&src.join("tokenizer_config.json"));
    cfg["clean_up_tokenization_spaces"] = Value::Bool(true);
    std::fs::write(dir.path().join("tokenizer_config.json"), cfg.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    let plain = HfTokenizer::from_dir(&src).unwrap_or_else(|e| panic!("{e}"));
    let clean = HfTokenizer::from_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let ids = plain
        .encode("I do n't know , he 's here .")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        plain.decode(&ids, true).unwrap_or_else(|e| panic!("{e}")),
        "I do n't know , he 's here ."
    );
    assert_eq!(
        clean.decode(&ids, true).unwrap_or_else(|e| panic!("{e}")),
        "I don't know, he's here."
    );
}

#[test]
fn continue_final_message_on_fixture_template() {
    let Some(root) = fixtures() else { return };
    let tok =
        HfTokenizer::from_dir(&root.join("models/tiny-qwen2")).unwrap_or_else(|e| panic!("{e}"));
    let tpl = tok
        .chat_template()
        .unwrap_or_else(|| panic!("no chat template"));
    let msgs = [
        ChatMessage::new(Role::User, "What is 2+2?"),
        ChatMessage::new(Role::Assistant, "The answer is"),
    ];
    let out = tpl
        .render(&msgs, false, true)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out,
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\nThe answer is"
    );
    assert!(tpl.source().is_some_and(|s| s.contains("im_start")));
}

fn gguf_parts(path: &Path) -> GgufTokenizerParts {
    use candle_core::quantized::gguf_file::{Content, Value as G};
    let mut file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let content = Content::read(&mut file).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let md = &content.metadata;
    let string = |k: &str| md.get(k).and_then(|v| v.to_string().ok()).cloned();
    let strings = |k: &str| -> Vec<String> {
        md.get(k)
            .and_then(|v| v.to_vec().ok())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.to_string().ok().cloned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let id = |k: &str| md.get(k).and_then(|v| v.to_u32().ok());
    let flag = |k: &str| md.get(k).and_then(|v| v.to_bool().ok());
    let types = md
        .get("tokenizer.ggml.token_type")
        .and_then(|v| v.to_vec().ok())
        .map(|items| {
            items
                .iter()
                .filter_map(|v| match v {
                    G::I32(x) => Some(*x),
                    G::U32(x) => i32::try_from(*x).ok(),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    GgufTokenizerParts {
        model: string("tokenizer.ggml.model").unwrap_or_default(),
        pre: string("tokenizer.ggml.pre"),
        tokens: strings("tokenizer.ggml.tokens"),
        token_types: types,
        merges: strings("tokenizer.ggml.merges"),
        bos_token_id: id("tokenizer.ggml.bos_token_id"),
        eos_token_id: id("tokenizer.ggml.eos_token_id"),
        pad_token_id: id("tokenizer.ggml.padding_token_id"),
        unk_token_id: id("tokenizer.ggml.unknown_token_id"),
        add_bos: flag("tokenizer.ggml.add_bos_token"),
        add_eos: flag("tokenizer.ggml.add_eos_token"),
        chat_template: string("tokenizer.chat_template"),
    }
}

#[test]
fn gguf_metadata_rebuilds_the_same_tokenizer() {
    let Some(root) = fixtures() else { return };
    let parts = gguf_parts(&root.join("models/tiny-llama.f32.gguf"));
    assert_eq!(parts.tokens.len(), 4096);
    assert_eq!(parts.merges.len(), 3835);
    let tok = bpe_from_gguf_parts(parts).unwrap_or_else(|e| panic!("{e}"));
    let hf =
        HfTokenizer::from_dir(&root.join("models/tiny-llama")).unwrap_or_else(|e| panic!("{e}"));
    let golden = read_json(&root.join("golden/tiny-llama.json"));
    for p in golden["prompts"]
        .as_array()
        .unwrap_or_else(|| panic!("prompts"))
    {
        let prompt = text(p, "text");
        let want = ids(&p["input_ids"]);
        assert_eq!(
            tok.encode(&prompt).unwrap_or_else(|e| panic!("{e}")),
            want,
            "{}",
            text(p, "id")
        );
        assert_eq!(tok.decode(&want, true).ok(), hf.decode(&want, true).ok());
    }
    for case in golden["loglikelihood"]["cases"]
        .as_array()
        .unwrap_or_else(|| panic!("cases"))
    {
        let pair = tok
            .encode_pair(&text(case, "context"), &text(case, "continuation"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pair.0, ids(&case["context_enc"]));
        assert_eq!(pair.1, ids(&case["continuation_enc"]));
    }
    assert_eq!(
        (tok.bos_token_id(), tok.eos_token_id(), tok.pad_token_id()),
        (Some(0), Some(1), Some(4))
    );
    let chat = tok
        .chat_template()
        .unwrap_or_else(|| panic!("GGUF chat template"));
    let rendered = chat
        .render(&[ChatMessage::new(Role::User, "What is 2+2?")], true, false)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        rendered,
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
    );
}

#[test]
fn missing_tokenizer_json_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let err = HfTokenizer::from_dir(dir.path())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains(&dir.path().join("tokenizer.json").display().to_string()),
        "{err}"
    );
    let err = HfTokenizer::from_files(&dir.path().join("nope.json"), None)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("nope.json"), "{err}");
}
