//! Parity of the protocol path: a loopback OpenAI-compatible server that computes its echoed
//! prompt log-probs with the native candle decoder gives the same loglikelihoods and is_greedy
//! through the OpenAI backend as the native backend does directly.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use sparkbench_candle::{LoadOptions, load_candle};
use sparkbench_http::openai::OpenAiModel;
use sparkbench_http::{HttpOptions, load_tokenizer};
use sparkbench_protocol::{CallCtx, Cancel, LanguageModel, LoglikelihoodRequest, ModelSource};

fn fixture_model() -> Option<PathBuf> {
    let dir = std::env::var_os("SPARKBENCH_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/fixtures"
            ))
        });
    let model = dir.join("models/tiny-llama");
    if model.join("model.safetensors").exists() {
        Some(model)
    } else {
        eprintln!(
            "skipped: fixtures not found at {} (set SPARKBENCH_FIXTURES)",
            dir.display()
        );
        None
    }
}

fn requests() -> Vec<LoglikelihoodRequest> {
    let r = |c: &str, k: &str| LoglikelihoodRequest {
        context: c.into(),
        continuation: k.into(),
    };
    vec![
        r("The capital of France is", " Paris"),
        r(
            "Question: Tom has 48 apples and gives away 17. How many are left?\nAnswer:",
            " 31",
        ),
        r("Roses are red, violets are ", "blue"),
        r(
            "Question: Which is a mammal?\nAnswer:",
            " A whale, which breathes air and nurses its young.",
        ),
        r("Answer:", " A"),
        r("Answer:", " B"),
        r("Héllo wörld! 你好", " 🚀 done"),
    ]
}

#[test]
fn openai_backend_scores_equal_the_native_backend() {
    let Some(dir) = fixture_model() else { return };
    let source = ModelSource::Hf { path: dir.clone() };
    let opts = LoadOptions {
        dtype: None,
        device: Some("cpu".into()),
        batch_size: 4,
        max_length: None,
    };
    let mut native = load_candle(&source, &opts, &|_m: &str| {}).expect("native model");
    let oracle_model = Arc::new(load_candle(&source, &opts, &|_m: &str| {}).expect("oracle model"));
    let oracle: common::Oracle = Arc::new(move |path: &str, body: &Value| {
        if !path.ends_with("/completions") {
            return json!({"error": "unexpected path"});
        }
        let ids: Vec<u32> = match body.get("prompt") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_u64)
                .map(|v| v as u32)
                .collect(),
            // The start-up probe sends text.
            Some(Value::String(s)) => oracle_model.tokenizer().encode(s).expect("encode"),
            _ => vec![],
        };
        let lsm = sparkbench_candle::scoring::log_softmax_all(oracle_model.decoder(), &ids)
            .expect("forward");
        let mut tl = vec![Value::Null];
        let mut top = vec![Value::Null];
        for i in 1..ids.len() {
            let row = &lsm[i - 1];
            let (best, best_lp) =
                row.iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |acc, (j, v)| {
                        if *v > acc.1 { (j, *v) } else { acc }
                    });
            tl.push(json!(row[ids[i] as usize] as f64));
            top.push(json!({ format!("id{best}"): best_lp as f64 }));
        }
        tl.push(json!(-0.1));
        top.push(json!({"g": -0.1}));
        json!({"choices": [{"text": "", "logprobs": {"token_logprobs": tl, "top_logprobs": top}, "finish_reason": "length"}]})
    });
    let server = common::TestServer::start(oracle);
    let tok = load_tokenizer(&dir).expect("tokenizer");
    let http_opts = HttpOptions {
        max_length: 512,
        concurrency: 2,
        ..Default::default()
    };
    let mut remote = OpenAiModel::connect(
        &format!("{}/v1", server.url),
        "tiny",
        None,
        http_opts,
        Some(tok),
        false,
    )
    .expect("connect");
    assert!(remote.capabilities().loglikelihood);

    let cancel = Cancel::new();
    let beat = |_t: u64| {};
    let cx = CallCtx::new(&cancel, &beat);
    let reqs = requests();
    let want = native.loglikelihood(&reqs, &cx).expect("native");
    let got = remote.loglikelihood(&reqs, &cx).expect("remote");
    for ((r, w), g) in reqs.iter().zip(&want).zip(&got) {
        assert!(
            (w.logprob - g.logprob).abs() < 2e-4,
            "{r:?}: native {} vs http {}",
            w.logprob,
            g.logprob
        );
        assert_eq!(w.is_greedy, g.is_greedy, "{r:?}");
        assert_eq!(w.n_tokens, g.n_tokens, "{r:?}");
    }
}
