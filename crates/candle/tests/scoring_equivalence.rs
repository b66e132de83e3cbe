//! The optimised scoring path (prefix sharing across a question's choices, token-budgeted
//! length-sorted batches, fused CPU kernels) against the plain path (one request at a time, no
//! sharing, candle's unfused ops with a mask tensor): the same loglikelihoods within the fixture
//! bound, on several fixture models and request mixes (shared contexts, multi-token
//! continuations, single-token choices, duplicates, mixed lengths, truncation at max_length).

mod common;

use sparkbench_candle::decoder::Decoder;
use sparkbench_candle::scoring::{ScoreOptions, TokenScore, score_with};
use sparkbench_protocol::ModelSource;

use common::*;

const TOL: f64 = 2e-4;

/// Deterministic token ids in `[3, vocab)`.
fn toks(seed: usize, n: usize, vocab: usize) -> Vec<u32> {
    (0..n)
        .map(|i| (3 + (seed * 7919 + i * 104_729 + (seed * i) % 13) % (vocab - 3)) as u32)
        .collect()
}

/// Questions with 2–5 choices of 1–6 tokens over contexts of 5–40 tokens, plus single-token
/// letter choices, a duplicate, and a context that is a prefix of another context.
fn request_mix(vocab: usize) -> Vec<(Vec<u32>, Vec<u32>)> {
    let mut reqs = Vec::new();
    for q in 0..6 {
        let ctx = toks(q, 5 + q * 7, vocab);
        for c in 0..2 + q % 4 {
            reqs.push((
                ctx.clone(),
                toks(100 + q * 10 + c, 1 + (c * 2 + q) % 6, vocab),
            ));
        }
    }
    // Letter choices: one token each, same context (one row for all of them).
    let ctx = toks(50, 18, vocab);
    for c in 0..4 {
        reqs.push((ctx.clone(), toks(60 + c, 1, vocab)));
    }
    // Choices that share their first continuation tokens too.
    let ctx = toks(70, 12, vocab);
    let stem = toks(71, 3, vocab);
    for c in 0..3 {
        let mut cont = stem.clone();
        cont.extend(toks(72 + c, 1 + c, vocab));
        reqs.push((ctx.clone(), cont));
    }
    // A duplicate request and a context extending another one.
    reqs.push(reqs[1].clone());
    let mut longer = reqs[0].0.clone();
    longer.extend(toks(80, 9, vocab));
    reqs.push((longer, toks(81, 2, vocab)));
    reqs
}

/// Questions behind one 30-token few-shot block (as MMLU's first_n shots): multi-token choices
/// and single-token letter choices, so a batch runs the block once and continues every row from
/// its keys.
fn few_shot_mix(vocab: usize) -> Vec<(Vec<u32>, Vec<u32>)> {
    let block = toks(90, 30, vocab);
    let mut reqs = Vec::new();
    for q in 0..5 {
        let mut ctx = block.clone();
        ctx.extend(toks(91 + q, 3 + q * 4, vocab));
        for c in 0..4 {
            let len = if q % 2 == 0 { 1 } else { 1 + (c + q) % 4 };
            reqs.push((ctx.clone(), toks(120 + q * 10 + c, len, vocab)));
        }
    }
    reqs
}

fn plain(dec: &mut Decoder, reqs: &[(Vec<u32>, Vec<u32>)], max_length: usize) -> Vec<TokenScore> {
    dec.set_fused_kernels(false);
    let opts = ScoreOptions {
        batch_size: 1,
        share_prefix: false,
        token_budget: Some(1),
    };
    let out = reqs
        .iter()
        .map(|r| {
            score_with(dec, std::slice::from_ref(r), max_length, &opts, &mut |_| {
                Ok(())
            })
            .expect("plain scoring")
            .remove(0)
        })
        .collect();
    dec.set_fused_kernels(true);
    out
}

fn compare(label: &str, want: &[TokenScore], got: &[TokenScore]) {
    assert_eq!(want.len(), got.len(), "{label}");
    let mut worst = 0f64;
    for (i, (w, g)) in want.iter().zip(got).enumerate() {
        let d = (w.logprob - g.logprob).abs();
        worst = worst.max(d);
        assert!(
            d <= TOL,
            "{label} request {i}: {} vs plain {}",
            g.logprob,
            w.logprob
        );
        assert_eq!(w.is_greedy, g.is_greedy, "{label} request {i}: is_greedy");
        assert_eq!(
            w.token_logprobs.len(),
            g.token_logprobs.len(),
            "{label} request {i}"
        );
        for (a, b) in w.token_logprobs.iter().zip(&g.token_logprobs) {
            assert!(
                f64::from((a - b).abs()) <= TOL,
                "{label} request {i}: {a} vs {b}"
            );
        }
    }
    eprintln!("{label}: max |Δ logprob| vs plain {worst:.2e}");
}

fn check_model(name: &str) {
    let Some(f) = fixtures() else { return };
    let model = load(
        &ModelSource::Hf {
            path: f.join("models").join(name),
        },
        8,
    );
    let mut dec = model.into_decoder();
    let vocab = dec.config().vocab_size;
    for (mix, reqs) in [
        ("mix", request_mix(vocab)),
        ("few-shot", few_shot_mix(vocab)),
    ] {
        check_requests(&mut dec, &format!("{name} {mix}"), &reqs);
    }
}

fn check_requests(dec: &mut Decoder, name: &str, reqs: &[(Vec<u32>, Vec<u32>)]) {
    // A long max_length (nothing truncated) and a short one (left truncation cuts into the
    // contexts, so the choices of one question no longer share the same input start).
    for max_length in [2048, 24] {
        let want = plain(dec, reqs, max_length);
        let settings = [
            ("default batch 8", ScoreOptions::new(8)),
            ("batch 3", ScoreOptions::new(3)),
            (
                "tiny token budget",
                ScoreOptions {
                    token_budget: Some(8),
                    ..ScoreOptions::new(2)
                },
            ),
            (
                "huge token budget",
                ScoreOptions {
                    token_budget: Some(1 << 20),
                    ..ScoreOptions::new(64)
                },
            ),
            (
                "no prefix sharing",
                ScoreOptions {
                    share_prefix: false,
                    ..ScoreOptions::new(8)
                },
            ),
        ];
        for (what, opts) in settings {
            let got = score_with(dec, reqs, max_length, &opts, &mut |_| Ok(())).expect("score");
            compare(
                &format!("{name} max_length {max_length} {what}"),
                &want,
                &got,
            );
        }
        // The same requests in another order give the same answers in that order.
        let rev: Vec<_> = reqs.iter().rev().cloned().collect();
        let got = score_with(
            dec,
            &rev,
            max_length,
            &ScoreOptions::new(8),
            &mut |_| Ok(()),
        )
        .expect("score");
        let want_rev: Vec<_> = want.iter().rev().cloned().collect();
        compare(
            &format!("{name} max_length {max_length} reversed"),
            &want_rev,
            &got,
        );
    }
}

#[test]
fn tiny_llama_shared_prefixes_match_plain_scoring() {
    check_model("tiny-llama");
}

#[test]
fn tiny_gemma2_shared_prefixes_match_plain_scoring() {
    // Sliding-window layers and attention soft-capping.
    check_model("tiny-gemma2");
}

#[test]
fn tiny_qwen3_shared_prefixes_match_plain_scoring() {
    // q/k norms.
    check_model("tiny-qwen3");
}

#[test]
fn tiny_phi3_shared_prefixes_match_plain_scoring() {
    // Fused qkv and gate_up projections.
    check_model("tiny-phi3");
}
