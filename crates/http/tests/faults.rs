//! The HTTP backends against a loopback server with faults on demand: every fault gives a retry
//! or a clear error, never a wrong score and never a hang past the timeout.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{Fault, TestServer, synthetic_logprob, synthetic_oracle};
use sparkbench_http::ollama::{self, OllamaModel};
use sparkbench_http::openai::{EchoSupport, OpenAiModel};
use sparkbench_http::{HttpOptions, RetryPolicy, load_tokenizer};
use sparkbench_protocol::{
    CallCtx, Cancel, GenerateRequest, LanguageModel, LoglikelihoodRequest, ModelError, StopReason,
};

fn fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("SPARKBENCH_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/fixtures"
            ))
        });
    if dir.join("models/tiny-llama/tokenizer.json").exists() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: fixtures not found at {} (set SPARKBENCH_FIXTURES)",
            dir.display()
        );
        None
    }
}

fn opts() -> HttpOptions {
    HttpOptions {
        concurrency: 3,
        retry: RetryPolicy {
            attempts: 3,
            backoff: Duration::from_millis(20),
            timeout: Duration::from_millis(1500),
        },
        max_length: 512,
        seed: 1234,
        approximate_loglikelihood: false,
    }
}

fn call<T>(f: impl FnOnce(&CallCtx<'_>) -> T) -> T {
    let cancel = Cancel::new();
    let beat = |_t: u64| {};
    let cx = CallCtx::new(&cancel, &beat);
    f(&cx)
}

fn gen_req() -> GenerateRequest {
    GenerateRequest {
        context: "Question: 6*7?\nAnswer:".into(),
        until: vec!["Question:".into(), "\n\n".into()],
        max_gen_toks: 32,
    }
}

fn ll_reqs() -> Vec<LoglikelihoodRequest> {
    vec![
        LoglikelihoodRequest {
            context: "The capital of France is".into(),
            continuation: " Paris".into(),
        },
        LoglikelihoodRequest {
            context: "Question: 2+2?\nAnswer:".into(),
            continuation: " 4".into(),
        },
        LoglikelihoodRequest {
            context: "Roses are red, violets are ".into(),
            continuation: "blue".into(),
        },
    ]
}

fn openai(server: &TestServer, with_tokenizer: bool) -> OpenAiModel {
    let tok = if with_tokenizer {
        let dir = fixtures().expect("fixtures");
        Some(load_tokenizer(&dir.join("models/tiny-llama")).expect("tokenizer"))
    } else {
        None
    };
    OpenAiModel::connect(
        &format!("{}/v1", server.url),
        "tiny",
        None,
        opts(),
        tok,
        false,
    )
    .expect("connect")
}

/// Expected loglikelihood under the synthetic oracle, from the local tokenizer's split.
fn expected(model_dir: &std::path::Path, req: &LoglikelihoodRequest) -> (f64, bool) {
    let tok = load_tokenizer(model_dir).expect("tokenizer");
    let (_ctx, cont) = tok
        .encode_pair(&req.context, &req.continuation)
        .expect("split");
    let sum = cont.iter().map(|t| synthetic_logprob(u64::from(*t))).sum();
    let greedy = cont.iter().all(|t| t % 5 != 0);
    (sum, greedy)
}

#[test]
fn openai_loglikelihood_sums_the_echoed_continuation() {
    let Some(dir) = fixtures() else { return };
    let server = TestServer::start(synthetic_oracle());
    let mut model = openai(&server, true);
    assert_eq!(model.echo_support(), &EchoSupport::Yes);
    assert!(model.capabilities().loglikelihood);
    let reqs = ll_reqs();
    let out = call(|cx| model.loglikelihood(&reqs, cx)).expect("loglikelihood");
    for (r, o) in reqs.iter().zip(&out) {
        let (sum, greedy) = expected(&dir.join("models/tiny-llama"), r);
        assert!(
            (o.logprob - sum).abs() < 1e-9,
            "{r:?}: {} vs {sum}",
            o.logprob
        );
        assert_eq!(o.is_greedy, greedy, "{r:?}");
    }
}

#[test]
fn retries_on_500_429_and_dropped_connections_then_scores_correctly() {
    let Some(dir) = fixtures() else { return };
    let server = TestServer::start(synthetic_oracle());
    let mut model = openai(&server, true);
    let reqs = ll_reqs();
    let clean = call(|cx| model.loglikelihood(&reqs, cx)).expect("clean");
    for fault in [
        Fault::Status(500),
        Fault::Status(429),
        Fault::Drop,
        Fault::Status(503),
    ] {
        server.push_faults(std::slice::from_ref(&fault));
        let out =
            call(|cx| model.loglikelihood(&reqs, cx)).unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(out, clean, "{fault:?} changed a score");
    }
    let _ = dir;
}

#[test]
fn persistent_errors_are_clear_errors_not_scores() {
    if fixtures().is_none() {
        return;
    }
    let server = TestServer::start(synthetic_oracle());
    let mut model = openai(&server, true);
    let reqs = ll_reqs();
    for (fault, needle) in [
        (Fault::Status(500), "HTTP 500"),
        (Fault::MalformedJson, "not JSON"),
        (Fault::MissingLogprobs, "logprobs"),
        (Fault::MisshapenLogprobs, "not a number"),
        (Fault::Status(400), "HTTP 400"),
    ] {
        server.always(Some(fault.clone()));
        let err = call(|cx| model.loglikelihood(&reqs, cx)).expect_err("must fail");
        assert!(err.to_string().contains(needle), "{fault:?}: {err}");
        server.always(None);
    }
}

#[test]
fn a_slow_server_times_out_instead_of_hanging() {
    if fixtures().is_none() {
        return;
    }
    let server = TestServer::start(synthetic_oracle());
    let mut model = openai(&server, true);
    server.always(Some(Fault::Slow(Duration::from_secs(30))));
    let start = Instant::now();
    let err = call(|cx| model.generate(&[gen_req()], cx)).expect_err("must time out");
    // 3 attempts x 1.5 s timeout + backoff, with margin for a loaded machine.
    assert!(
        start.elapsed() < Duration::from_secs(12),
        "took {:?}",
        start.elapsed()
    );
    assert!(err.to_string().contains("cannot reach"), "{err}");
}

#[test]
fn a_server_without_echo_is_refused_for_loglikelihood() {
    if fixtures().is_none() {
        return;
    }
    let server = TestServer::start(synthetic_oracle());
    server.always(Some(Fault::NoEcho));
    let mut model = openai(&server, true);
    assert!(matches!(model.echo_support(), EchoSupport::No(_)));
    assert!(!model.capabilities().loglikelihood);
    let err = call(|cx| model.loglikelihood(&ll_reqs(), cx)).expect_err("refused");
    assert!(matches!(err, ModelError::Unsupported(_)));
    assert!(err.to_string().contains("chance"), "{err}");
    // Generation still works.
    server.always(None);
    let out = call(|cx| model.generate(&[gen_req()], cx)).expect("generate");
    assert_eq!(out[0].text, " The answer is 42.");
    assert_eq!(out[0].stop, StopReason::StopString);
}

#[test]
fn openai_generation_cuts_at_the_first_stop_and_uses_chat_when_asked() {
    if fixtures().is_none() {
        return;
    }
    let server = TestServer::start(synthetic_oracle());
    let mut model = openai(&server, true);
    let out = call(|cx| model.generate(&[gen_req(), gen_req()], cx)).expect("generate");
    assert!(out.iter().all(|g| g.text == " The answer is 42."));
    let dir = fixtures().expect("fixtures");
    let tok = load_tokenizer(&dir.join("models/tiny-llama")).expect("tokenizer");
    let mut chat = OpenAiModel::connect(
        &format!("{}/v1", server.url),
        "tiny",
        None,
        opts(),
        Some(tok),
        true,
    )
    .expect("connect");
    assert!(
        !chat.capabilities().loglikelihood,
        "chat endpoints cannot score loglikelihood"
    );
    let out = call(|cx| chat.generate(&[gen_req()], cx)).expect("chat generate");
    assert_eq!(out[0].text, " The answer is 42.");
}

#[test]
fn without_a_local_tokenizer_the_tokenize_endpoint_is_used() {
    let server = TestServer::start(synthetic_oracle());
    let mut model = openai(&server, false);
    let req = LoglikelihoodRequest {
        context: "ab".into(),
        continuation: "cd".into(),
    };
    let out =
        call(|cx| model.loglikelihood(std::slice::from_ref(&req), cx)).expect("loglikelihood");
    // The oracle's tokenizer is bytes: the continuation is "c", "d".
    let sum = synthetic_logprob(u64::from(b'c')) + synthetic_logprob(u64::from(b'd'));
    assert!((out[0].logprob - sum).abs() < 1e-9);
    assert_eq!(out[0].n_tokens, 2);
}

#[test]
fn ollama_generates_in_raw_mode_and_refuses_loglikelihood() {
    let server = TestServer::start(synthetic_oracle());
    ollama::check(&server.url).expect("check");
    assert_eq!(
        ollama::list_models(&server.url).expect("list"),
        vec!["tiny:latest", "other:7b"]
    );
    let mut model = OllamaModel::connect(&server.url, "tiny", opts(), None).expect("connect");
    let out = call(|cx| model.generate(&[gen_req()], cx)).expect("generate");
    assert_eq!(out[0].text, " The answer is 42.");
    let err = call(|cx| model.loglikelihood(&ll_reqs(), cx)).expect_err("refused");
    assert!(
        err.to_string().contains("cannot score loglikelihood"),
        "{err}"
    );
    let missing = OllamaModel::connect(&server.url, "nope", opts(), None)
        .err()
        .expect("unknown model");
    assert!(
        missing.to_string().contains("ollama pull nope"),
        "{missing}"
    );
}

#[test]
fn ollama_approximation_reads_top_logprobs() {
    let server = TestServer::start(synthetic_oracle());
    let mut o = opts();
    o.approximate_loglikelihood = true;
    let mut model = OllamaModel::connect(&server.url, "tiny", o, None).expect("connect");
    assert!(model.capabilities().loglikelihood_approximate);
    let reqs: Vec<LoglikelihoodRequest> = [" A", " B", " Z"]
        .iter()
        .map(|c| LoglikelihoodRequest {
            context: "Answer:".into(),
            continuation: (*c).into(),
        })
        .collect();
    let out = call(|cx| model.loglikelihood(&reqs, cx)).expect("approx");
    assert_eq!(out[0].logprob, -0.2);
    assert!(out[0].is_greedy);
    assert_eq!(out[1].logprob, -1.9);
    assert!(!out[1].is_greedy);
    assert_eq!(
        out[2].logprob,
        f64::NEG_INFINITY,
        "a choice outside the top 20 is -inf"
    );
}

#[test]
fn an_unreachable_ollama_gets_the_clear_message() {
    // A port nothing listens on (bound then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let err = ollama::check(&format!("http://127.0.0.1:{port}")).expect_err("unreachable");
    assert!(err.to_string().contains("ollama serve"), "{err}");
}

#[test]
fn cancel_stops_a_call_promptly() {
    let server = TestServer::start(synthetic_oracle());
    let mut model = OllamaModel::connect(&server.url, "tiny", opts(), None).expect("connect");
    server.always(Some(Fault::Slow(Duration::from_millis(300))));
    let cancel = Cancel::new();
    let beat = |_t: u64| {};
    let cx = CallCtx::new(&cancel, &beat);
    let reqs: Vec<GenerateRequest> = (0..30).map(|_| gen_req()).collect();
    let c2 = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        c2.set();
    });
    let start = Instant::now();
    let err = model.generate(&reqs, &cx).expect_err("cancelled");
    assert!(matches!(err, ModelError::Cancelled), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}
