//! A loopback HTTP server that speaks enough of Ollama's and the OpenAI completions API for the
//! backend tests, with faults on demand: slow answers, error statuses, malformed JSON, dropped
//! connections, missing or misshapen logprobs.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

/// A fault applied to one request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer normally after a delay.
    Slow(Duration),
    /// Answer with this status and a short body.
    Status(u16),
    /// Answer 200 with a body that is not JSON.
    MalformedJson,
    /// Close the connection without answering.
    Drop,
    /// Answer completions without `logprobs`.
    MissingLogprobs,
    /// Answer completions with `token_logprobs` as strings.
    MisshapenLogprobs,
    /// Echo only the generated token (as llama.cpp's server does).
    NoEcho,
}

/// How the server computes answers.
pub type Oracle = Arc<dyn Fn(&str, &Value) -> Value + Send + Sync>;

/// The running server.
pub struct TestServer {
    pub url: String,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    always: Arc<Mutex<Option<Fault>>>,
    pub requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl TestServer {
    /// Start on a free loopback port with the given oracle.
    pub fn start(oracle: Oracle) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        listener.set_nonblocking(true).expect("nonblocking");
        let faults: Arc<Mutex<VecDeque<Fault>>> = Arc::default();
        let always: Arc<Mutex<Option<Fault>>> = Arc::default();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (faults, always, requests, stop) = (
                faults.clone(),
                always.clone(),
                requests.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (faults, always, requests, oracle) = (
                                faults.clone(),
                                always.clone(),
                                requests.clone(),
                                oracle.clone(),
                            );
                            std::thread::spawn(move || {
                                serve(stream, &faults, &always, &requests, &oracle)
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
        }
        Self {
            url,
            faults,
            always,
            requests,
            stop,
        }
    }

    /// Apply these faults to the next requests, in order.
    pub fn push_faults(&self, faults: &[Fault]) {
        self.faults
            .lock()
            .expect("lock")
            .extend(faults.iter().cloned());
    }

    /// Apply this fault to every request from now on.
    pub fn always(&self, fault: Option<Fault>) {
        *self.always.lock().expect("lock") = fault;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(
    stream: TcpStream,
    faults: &Mutex<VecDeque<Fault>>,
    always: &Mutex<Option<Fault>>,
    requests: &AtomicUsize,
    oracle: &Oracle,
) {
    let _ = stream.set_nonblocking(false);
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut writer = stream;
    {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h == "\r\n" {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        requests.fetch_add(1, Ordering::SeqCst);
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let fault = faults
            .lock()
            .expect("lock")
            .pop_front()
            .or_else(|| always.lock().expect("lock").clone());
        let (status, text) = match fault {
            Some(Fault::Drop) => return,
            Some(Fault::Status(s)) => (s, "{\"error\":\"injected\"}".to_string()),
            Some(Fault::MalformedJson) => (200, "{\"choices\": [ not json".to_string()),
            Some(Fault::Slow(d)) => {
                std::thread::sleep(d);
                (200, oracle(&path, &body).to_string())
            }
            Some(Fault::MissingLogprobs) => {
                let mut v = oracle(&path, &body);
                if let Some(o) = v.pointer_mut("/choices/0").and_then(|c| c.as_object_mut()) {
                    o.remove("logprobs");
                }
                (200, v.to_string())
            }
            Some(Fault::MisshapenLogprobs) => {
                let mut v = oracle(&path, &body);
                if let Some(tl) = v.pointer_mut("/choices/0/logprobs/token_logprobs") {
                    *tl = json!(["a", "b"]);
                }
                (200, v.to_string())
            }
            Some(Fault::NoEcho) => {
                let mut v = oracle(&path, &body);
                if let Some(lp) = v.pointer_mut("/choices/0/logprobs") {
                    *lp = json!({"token_logprobs": [-0.5], "top_logprobs": [{"x": -0.5}], "tokens": ["x"]});
                }
                (200, v.to_string())
            }
            None => (200, oracle(&path, &body).to_string()),
        };
        let reply = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
            text.len()
        );
        let _ = writer.write_all(reply.as_bytes());
        let _ = writer.flush();
    }
}

/// A synthetic oracle: the log-prob of prompt token t is -(t % 7 + 1) / 10, and the top entry of
/// every position is that token unless t % 5 == 0 (then a better token exists). Generation
/// answers " The answer is 42.\n\nQuestion: more".
pub fn synthetic_oracle() -> Oracle {
    Arc::new(|path: &str, body: &Value| {
        if path.ends_with("/api/tags") {
            return json!({"models": [{"name": "tiny:latest"}, {"name": "other:7b"}]});
        }
        if path.ends_with("/api/generate") {
            if body.get("logprobs").and_then(Value::as_bool) == Some(true) {
                return json!({"response": " A", "done": true, "eval_count": 1,
                    "logprobs": [{"token": " A", "logprob": -0.2, "top_logprobs": [
                        {"token": " A", "logprob": -0.2}, {"token": " B", "logprob": -1.9}, {"token": " C", "logprob": -3.0}]}]});
            }
            return json!({"response": " The answer is 42.\n\nQuestion: more", "done": true, "done_reason": "stop", "eval_count": 9});
        }
        if path.ends_with("/tokenize") {
            let prompt = body.get("prompt").and_then(Value::as_str).unwrap_or("");
            let ids: Vec<u32> = prompt.bytes().map(u32::from).collect();
            return json!({"tokens": ids, "count": ids.len()});
        }
        if path.ends_with("/chat/completions") {
            return json!({"choices": [{"message": {"role": "assistant", "content": " The answer is 42.\n\nQuestion: more"}, "finish_reason": "stop"}],
                "usage": {"completion_tokens": 9}});
        }
        if path.ends_with("/completions") {
            if body.get("echo").and_then(Value::as_bool) == Some(true) {
                let ids: Vec<u64> = match body.get("prompt") {
                    Some(Value::Array(a)) => a.iter().filter_map(Value::as_u64).collect(),
                    Some(Value::String(s)) => s.bytes().map(u64::from).collect(),
                    _ => vec![],
                };
                let mut tl = vec![Value::Null];
                let mut top = vec![Value::Null];
                for t in ids.iter().skip(1) {
                    let lp = synthetic_logprob(*t);
                    tl.push(json!(lp));
                    let best = if t % 5 == 0 { lp + 0.5 } else { lp };
                    top.push(json!({format!("t{t}"): lp, "other": best.min(lp + 0.5) }));
                }
                // The one generated token.
                tl.push(json!(-0.1));
                top.push(json!({"g": -0.1}));
                return json!({"choices": [{"text": "", "logprobs": {"token_logprobs": tl, "top_logprobs": top}, "finish_reason": "length"}]});
            }
            return json!({"choices": [{"text": " The answer is 42.\n\nQuestion: more", "finish_reason": "stop"}], "usage": {"completion_tokens": 9}});
        }
        json!({"error": "unknown path"})
    })
}

/// The synthetic oracle's log-prob of token `t`.
pub fn synthetic_logprob(t: u64) -> f64 {
    -(((t % 7) + 1) as f64) / 10.0
}
