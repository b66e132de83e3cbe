//! Parity with the golden outputs in the fixtures: log-softmax at every position, 24-token greedy
//! continuations, and lm-eval loglikelihood cases, for every tiny model; batch sizes 1, 3 and 8
//! give the unbatched answers.

mod common;

use std::path::Path;

use serde_json::Value;
use sparkbench_candle::CandleModel;
use sparkbench_candle::generate::{GenJob, Processors, generate, generate_with_prefill};
use sparkbench_candle::scoring::log_softmax_all;
use sparkbench_protocol::{GenerateRequest, LanguageModel, LoglikelihoodRequest, ModelSource};

use common::*;

const TOL: f32 = 2e-4;

fn check_logprobs(model: &CandleModel, golden_lp: &Value, label: &str) {
    for p in golden_lp["prompts"].as_array().expect("prompts") {
        let input = ids(&p["input_ids"]);
        let ours = log_softmax_all(model.decoder(), &input).expect("forward");
        let gold = p["log_softmax"].as_array().expect("log_softmax");
        assert_eq!(ours.len(), gold.len());
        let mut worst = 0f32;
        for (o, g) in ours.iter().zip(gold) {
            for (a, b) in o.iter().zip(g.as_array().expect("row")) {
                worst = worst.max((a - b.as_f64().expect("num") as f32).abs());
            }
        }
        assert!(
            worst <= TOL,
            "{label} prompt {}: max |Δ log-softmax| {worst}",
            p["id"]
        );
        eprintln!("{label} {}: max |Δ| {worst:.2e}", p["id"]);
    }
}

fn greedy_ids(model: &CandleModel, prompts: &[Vec<u32>], batch: usize) -> Vec<Vec<u32>> {
    let jobs: Vec<GenJob> = prompts
        .iter()
        .map(|p| GenJob {
            prompt: p.clone(),
            max_new: 24,
        })
        .collect();
    // EOS stopping disabled, as in the goldens.
    generate(
        model.decoder(),
        &jobs,
        &[],
        &Processors::default(),
        batch,
        &mut |_, _| Ok(false),
        &mut |_| Ok(()),
    )
    .expect("generate")
    .into_iter()
    .map(|(ids, _)| ids)
    .collect()
}

fn check_greedy(model: &CandleModel, golden: &Value, label: &str) {
    let prompts: Vec<Vec<u32>> = golden["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .map(|p| ids(&p["input_ids"]))
        .collect();
    let want: Vec<Vec<u32>> = golden["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .map(|p| ids(&p["greedy"]["new_ids"]))
        .collect();
    for batch in [1, 3, 8] {
        let got = greedy_ids(model, &prompts, batch);
        assert_eq!(
            got, want,
            "{label}: greedy ids differ at batch size {batch}"
        );
    }
}

fn check_loglikelihood(model: &mut CandleModel, golden: &Value, label: &str) {
    let cases = golden["loglikelihood"]["cases"].as_array().expect("cases");
    let reqs: Vec<LoglikelihoodRequest> = cases
        .iter()
        .map(|c| LoglikelihoodRequest {
            context: c["context"].as_str().expect("context").into(),
            continuation: c["continuation"].as_str().expect("continuation").into(),
        })
        .collect();
    for (r, c) in reqs.iter().zip(cases) {
        let (ctx, cont) = model
            .tokenizer()
            .encode_pair(&r.context, &r.continuation)
            .expect("encode_pair");
        assert_eq!(ctx, ids(&c["context_enc"]), "{label}: context tokens");
        assert_eq!(
            cont,
            ids(&c["continuation_enc"]),
            "{label}: continuation tokens"
        );
    }
    // Mixed lengths, duplicated requests and a shared-context pair exercise grouping and padding.
    let mut all = reqs.clone();
    all.extend(reqs.iter().rev().cloned());
    let mut results = Vec::new();
    for batch in [1, 3, 8] {
        model.set_batch_size(batch);
        results.push(with_ctx(|cx| model.loglikelihood(&all, cx)).expect("loglikelihood"));
    }
    for (i, c) in cases.iter().enumerate() {
        let want = c["logprob"].as_f64().expect("logprob");
        let greedy = c["is_greedy"].as_bool().expect("is_greedy");
        for res in &results {
            for got in [&res[i], &res[all.len() - 1 - i]] {
                assert!(
                    (got.logprob - want).abs() <= f64::from(TOL),
                    "{label} case {i}: {} vs {want}",
                    got.logprob
                );
                assert_eq!(got.is_greedy, greedy, "{label} case {i}: is_greedy");
            }
        }
    }
}

fn check_generate_text(model: &mut CandleModel, golden: &Value, label: &str) {
    // Through the LanguageModel API: encoding, EOS/stop handling and decoding.
    let prompts = golden["prompts"].as_array().expect("prompts");
    let reqs: Vec<GenerateRequest> = prompts
        .iter()
        .map(|p| GenerateRequest {
            context: p["text"].as_str().expect("text").into(),
            until: vec![],
            max_gen_toks: 24,
        })
        .collect();
    model.set_batch_size(4);
    let out = with_ctx(|cx| model.generate(&reqs, cx)).expect("generate");
    for (g, p) in out.iter().zip(prompts) {
        assert_eq!(
            g.text,
            p["greedy"]["text_skip_special"].as_str().expect("text"),
            "{label} {}",
            p["id"]
        );
        assert_eq!(g.n_tokens, 24);
    }
    // A stop string cuts the text at its first occurrence and ends the row early.
    let p = &prompts[0];
    let full = p["greedy"]["text_skip_special"].as_str().expect("text");
    let stop: String = full.chars().skip(6).take(3).collect();
    let cut_at = full.find(&stop).expect("stop inside");
    let req = GenerateRequest {
        context: p["text"].as_str().expect("text").into(),
        until: vec![stop],
        max_gen_toks: 24,
    };
    let out = with_ctx(|cx| model.generate(&[req], cx)).expect("generate");
    assert_eq!(out[0].text, full[..cut_at]);
    assert!(out[0].n_tokens < 24);
}

fn run_model(fixtures: &Path, source: ModelSource, golden_name: &str) {
    let golden = read_json(&fixtures.join(format!("golden/{golden_name}.json")));
    let lp = read_json(&fixtures.join(format!("golden/{golden_name}.logprobs.json")));
    let mut model = load(&source, 8);
    check_logprobs(&model, &lp, golden_name);
    check_greedy(&model, &golden, golden_name);
    check_loglikelihood(&mut model, &golden, golden_name);
    check_generate_text(&mut model, &golden, golden_name);
}

#[test]
fn tiny_llama() {
    let Some(f) = fixtures() else { return };
    run_model(
        &f,
        ModelSource::Hf {
            path: f.join("models/tiny-llama"),
        },
        "tiny-llama",
    );
}

macro_rules! hf_model {
    ($test:ident, $name:literal) => {
        #[test]
        fn $test() {
            let Some(f) = fixtures() else { return };
            run_model(
                &f,
                ModelSource::Hf {
                    path: f.join(concat!("models/", $name)),
                },
                $name,
            );
        }
    };
}

hf_model!(tiny_qwen2, "tiny-qwen2");
hf_model!(tiny_mistral, "tiny-mistral");
hf_model!(tiny_qwen3, "tiny-qwen3");
hf_model!(tiny_gemma2, "tiny-gemma2");
hf_model!(tiny_gemma3, "tiny-gemma3");
hf_model!(tiny_phi3, "tiny-phi3");
hf_model!(tiny_llama31, "tiny-llama31");

#[test]
fn tiny_llama_lora() {
    let Some(f) = fixtures() else { return };
    let source = ModelSource::Lora {
        adapter: f.join("models/tiny-llama-lora"),
        base: f.join("models/tiny-llama"),
    };
    run_model(&f, source, "tiny-llama-lora");
}

#[test]
fn tiny_llama_f32_gguf() {
    let Some(f) = fixtures() else { return };
    // Weight-identical to tiny-llama: the HF goldens apply exactly.
    let source = ModelSource::Gguf {
        path: f.join("models/tiny-llama.f32.gguf"),
        tokenizer: Some(f.join("models/tiny-llama")),
    };
    run_model(&f, source, "tiny-llama");
}

#[test]
fn tiny_llama_q8_0_gguf_against_llama_cpp() {
    let Some(f) = fixtures() else { return };
    // No tokenizer given: it is rebuilt from the GGUF metadata (gpt2 / llama-bpe).
    let source = ModelSource::Gguf {
        path: f.join("models/tiny-llama.q8_0.gguf"),
        tokenizer: None,
    };
    let mut model = load(&source, 8);
    let lp = read_json(&f.join("golden/tiny-llama.q8_0.gguf.llamacpp.logprobs.json"));
    let gold = read_json(&f.join("golden/tiny-llama.q8_0.gguf.llamacpp.json"));
    let hf = read_json(&f.join("golden/tiny-llama.json"));
    let mut agree = 0usize;
    let mut total = 0usize;
    for (p, h) in lp["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .zip(hf["prompts"].as_array().expect("prompts"))
    {
        let input = ids(&p["input_ids"]);
        // The rebuilt tokenizer gives the HF ids.
        let text = h["text"].as_str().expect("text");
        assert_eq!(
            model.tokenizer().encode(text).expect("encode"),
            input,
            "tokenization of {text:?}"
        );
        let ours = log_softmax_all(model.decoder(), &input).expect("forward");
        let mut sum = 0f64;
        let mut n = 0usize;
        for (o, g) in ours.iter().zip(p["log_softmax"].as_array().expect("rows")) {
            let g: Vec<f32> = g
                .as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_f64().expect("num") as f32)
                .collect();
            for (a, b) in o.iter().zip(&g) {
                sum += f64::from((a - b).abs());
                n += 1;
            }
            let am = |v: &[f32]| {
                v.iter()
                    .enumerate()
                    .fold(0, |best, (i, &x)| if x > v[best] { i } else { best })
            };
            agree += usize::from(am(o) == am(&g));
            total += 1;
        }
        let mean = sum / n as f64;
        eprintln!("q8_0 {}: mean |Δ| vs llama.cpp {mean:.4}", p["id"]);
        assert!(
            mean < 0.06,
            "q8_0 {}: mean |Δ| {mean} against llama.cpp",
            p["id"]
        );
    }
    let rate = agree as f64 / total as f64;
    eprintln!("q8_0 argmax agreement with llama.cpp: {rate:.3}");
    assert!(rate >= 0.95, "argmax agreement {rate}");
    // Loglikelihood cases: loose bound against llama.cpp's sums.
    let cases = gold["loglikelihood"]["cases"]
        .as_array()
        .or(gold["loglikelihood"].as_array())
        .cloned()
        .unwrap_or_default();
    let reqs: Vec<LoglikelihoodRequest> = cases
        .iter()
        .map(|c| LoglikelihoodRequest {
            context: c["context"].as_str().expect("context").into(),
            continuation: c["continuation"].as_str().expect("continuation").into(),
        })
        .collect();
    let res = with_ctx(|cx| model.loglikelihood(&reqs, cx)).expect("loglikelihood");
    for (r, c) in res.iter().zip(&cases) {
        let want = c["logprob"].as_f64().expect("logprob");
        eprintln!("q8_0 loglikelihood {} vs llama.cpp {want}", r.logprob);
        assert!(
            (r.logprob - want).abs() <= 0.002 * want.abs() + 0.02,
            "{} vs {want}",
            r.logprob
        );
    }
}

#[test]
fn finished_rows_leave_the_batch_without_changing_the_others() {
    let Some(f) = fixtures() else { return };
    let golden = read_json(&f.join("golden/tiny-mistral.json"));
    let model = load(
        &ModelSource::Hf {
            path: f.join("models/tiny-mistral"),
        },
        8,
    );
    let prompts: Vec<&Value> = golden["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .collect();
    let jobs: Vec<GenJob> = prompts
        .iter()
        .enumerate()
        .map(|(i, p)| GenJob {
            prompt: ids(&p["input_ids"]),
            max_new: 4 + 4 * i,
        })
        .collect();
    // Row 0 also stops at an "EOS" id: its own 3rd greedy token.
    let eos_tok = ids(&prompts[0]["greedy"]["new_ids"])[2];
    // The whole prompt in one forward, and in chunks of 3 tokens across the rows (so a chunk
    // holds only padding for the shorter rows). With 2 or 3 slots for 6 prompts whose rows end
    // at different lengths, rows that finish hand their slots to waiting prompts (continuous
    // batching); one slot runs the prompts one by one.
    for (batch, prefill) in [(8, 4096), (8, 3), (2, 4096), (3, 3), (1, 4096)] {
        let out = generate_with_prefill(
            model.decoder(),
            &jobs,
            &[eos_tok],
            &Processors::default(),
            batch,
            prefill,
            &mut |_, _| Ok(false),
            &mut |_| Ok(()),
        )
        .expect("generate");
        check_rows(&out, &jobs, &prompts, eos_tok);
    }
}

fn check_rows(
    out: &[(Vec<u32>, sparkbench_candle::generate::RowStop)],
    jobs: &[GenJob],
    prompts: &[&Value],
    eos_tok: u32,
) {
    for (i, ((got, why), p)) in out.iter().zip(prompts).enumerate() {
        let want = ids(&p["greedy"]["new_ids"]);
        let stop_at = want
            .iter()
            .position(|&t| t == eos_tok)
            .filter(|&k| k < jobs[i].max_new);
        match stop_at {
            Some(k) => {
                assert_eq!(got[..], want[..k], "row {i}");
                assert_eq!(*why, sparkbench_candle::generate::RowStop::Eos);
            }
            None => {
                assert_eq!(got[..], want[..jobs[i].max_new], "row {i}");
                assert_eq!(*why, sparkbench_candle::generate::RowStop::MaxTokens);
            }
        }
    }
}

#[test]
fn single_token_choices_share_one_forward_and_match_separate_scoring() {
    let Some(f) = fixtures() else { return };
    let mut model = load(
        &ModelSource::Hf {
            path: f.join("models/tiny-llama"),
        },
        8,
    );
    let ctx =
        "Question: What is the capital of France?\nA. Paris\nB. Rome\nC. Oslo\nD. Bern\nAnswer:";
    let reqs: Vec<LoglikelihoodRequest> = [" A", " B", " C", " D", " Paris is it"]
        .iter()
        .map(|c| LoglikelihoodRequest {
            context: ctx.into(),
            continuation: (*c).into(),
        })
        .collect();
    let together = with_ctx(|cx| model.loglikelihood(&reqs, cx)).expect("loglikelihood");
    model.set_batch_size(1);
    for (r, t) in reqs.iter().zip(&together) {
        let alone =
            with_ctx(|cx| model.loglikelihood(std::slice::from_ref(r), cx)).expect("loglikelihood");
        assert!(
            (alone[0].logprob - t.logprob).abs() < 1e-4,
            "{:?}",
            r.continuation
        );
        assert_eq!(alone[0].is_greedy, t.is_greedy);
        assert_eq!(alone[0].n_tokens, t.n_tokens);
    }
}
