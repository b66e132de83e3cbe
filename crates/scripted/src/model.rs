//! [`ScriptedModel`]: answers derived from a hash of each request, with the script's latency
//! and its failures at given request numbers.

use std::time::{Duration, Instant};

use sparkbench_protocol::{
    CallCtx, Capabilities, ChatTemplate, GenerateRequest, Generation, LanguageModel, Loglikelihood,
    LoglikelihoodRequest, ModelError, ModelInfo, ModelSource, StopReason,
};

use crate::chatml::ChatMl;
use crate::hash::{hash_parts, mix, unit};
use crate::script::{Script, ScriptError};

/// How often a sleeping request beats the heartbeat and checks the cancel flag.
const SLICE: Duration = Duration::from_millis(50);

/// A deterministic model driven by a [`Script`].
#[derive(Debug)]
pub struct ScriptedModel {
    script: Script,
    /// Requests started by this model so far (per process; never persisted).
    served: u64,
    chat: ChatMl,
}

impl ScriptedModel {
    /// A model following `script`.
    pub fn new(script: Script) -> Self {
        Self {
            script,
            served: 0,
            chat: ChatMl,
        }
    }

    /// A model from the JSON script of a `ModelSource::Scripted`.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, ScriptError> {
        Ok(Self::new(Script::from_json(value)?))
    }

    /// A model from a model source, which must be `ModelSource::Scripted`.
    pub fn from_source(source: &ModelSource) -> Result<Self, ScriptError> {
        match source {
            ModelSource::Scripted { script } => Self::from_json(script),
            other => Err(ScriptError::NotScripted(other.backend().id())),
        }
    }

    /// Requests started so far.
    pub fn requests_served(&self) -> u64 {
        self.served
    }

    /// The answer to one loglikelihood request (no latency, no counting).
    pub fn answer_loglikelihood(&self, req: &LoglikelihoodRequest) -> Loglikelihood {
        let h = hash_parts(&["ll", &req.context, &req.continuation]);
        let n_tokens = word_count(&req.continuation).max(1);
        let logprob = -(0.05 + 12.0 * unit(h)) * n_tokens as f64 / (1.0 + n_tokens as f64 / 4.0);
        let is_greedy = unit(mix(h ^ 0x9e37_79b9_7f4a_7c15)) < self.script.greedy_rate;
        Loglikelihood {
            logprob,
            is_greedy,
            n_tokens,
        }
    }

    /// The answer to one generation request (no latency, no counting).
    pub fn answer_generate(&self, req: &GenerateRequest) -> Generation {
        let h = hash_parts(&["gen", &req.context]);
        let template = self
            .script
            .rules
            .iter()
            .find(|r| req.context.contains(&r.contains))
            .map(|r| r.text.as_str())
            .unwrap_or_else(|| {
                let i = (h % self.script.answers.len() as u64) as usize;
                &self.script.answers[i]
            });
        let n = mix(h) % 100;
        let full = template.replace("{n}", &n.to_string());
        finish_generation(&full, req)
    }

    /// Count one request and act on the script's failure points.
    fn start_request(&mut self) -> Result<(), ModelError> {
        self.served += 1;
        let k = self.served;
        if self.script.crash_at_request == Some(k) {
            eprintln!("scripted model: crashing at request {k} as scripted");
            std::process::abort();
        }
        if self.script.hang_at_request == Some(k) {
            eprintln!("scripted model: hanging at request {k} as scripted (cancel is ignored)");
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        if self.script.fail_at_request == Some(k) {
            return Err(ModelError::Backend(format!(
                "scripted model: failure at request {k} as scripted"
            )));
        }
        Ok(())
    }

    /// Spend the script's latency, beating at least once a second and honouring cancel.
    fn spend_latency(&self, cx: &CallCtx<'_>) -> Result<(), ModelError> {
        let total = Duration::from_millis(self.script.latency());
        let start = Instant::now();
        while start.elapsed() < total {
            let left = total.saturating_sub(start.elapsed());
            std::thread::sleep(left.min(SLICE));
            cx.beat(0)?;
        }
        Ok(())
    }
}

/// Whitespace-separated words, the scripted model's notion of tokens.
fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Apply `max_gen_toks` (in words) and the `until` strings, as a backend's post-processing does.
fn finish_generation(full: &str, req: &GenerateRequest) -> Generation {
    let mut text = full.to_string();
    let mut stop = StopReason::Eos;
    let words: Vec<(usize, &str)> = full
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - full.as_ptr() as usize, w))
        .collect();
    if words.len() > req.max_gen_toks {
        let end = words
            .get(req.max_gen_toks)
            .map(|(start, _)| *start)
            .unwrap_or(full.len());
        text = full[..end].to_string();
        stop = StopReason::MaxTokens;
    }
    let n_tokens = word_count(&text).max(1);
    let cut = req
        .until
        .iter()
        .filter(|u| !u.is_empty())
        .filter_map(|u| text.find(u.as_str()))
        .min();
    if let Some(pos) = cut {
        text.truncate(pos);
        stop = StopReason::StopString;
    }
    Generation {
        text,
        n_tokens,
        stop,
    }
}

impl LanguageModel for ScriptedModel {
    fn info(&self) -> ModelInfo {
        ModelInfo {
            name: self.script.name.clone(),
            backend: "scripted".into(),
            device: "cpu".into(),
            dtype: "f32".into(),
            max_length: self.script.max_length,
            num_parameters: Some(0),
            eos_text: Some("<|im_end|>".into()),
            bos_text: None,
            pad_text: Some("<|endoftext|>".into()),
            eot_token_id: Some(2),
            weights_sha256: None,
        }
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            loglikelihood: self.script.loglikelihood,
            loglikelihood_approximate: false,
            generate: self.script.generate,
        }
    }

    fn loglikelihood(
        &mut self,
        requests: &[LoglikelihoodRequest],
        cx: &CallCtx<'_>,
    ) -> Result<Vec<Loglikelihood>, ModelError> {
        if !self.script.loglikelihood {
            return Err(ModelError::Unsupported(
                "the scripted model was told not to serve loglikelihood requests".into(),
            ));
        }
        let mut out = Vec::with_capacity(requests.len());
        for req in requests {
            cx.beat(0)?;
            self.start_request()?;
            self.spend_latency(cx)?;
            let answer = self.answer_loglikelihood(req);
            cx.beat(answer.n_tokens as u64 + word_count(&req.context) as u64)?;
            out.push(answer);
        }
        Ok(out)
    }

    fn generate(
        &mut self,
        requests: &[GenerateRequest],
        cx: &CallCtx<'_>,
    ) -> Result<Vec<Generation>, ModelError> {
        if !self.script.generate {
            return Err(ModelError::Unsupported(
                "the scripted model was told not to serve generation requests".into(),
            ));
        }
        let mut out = Vec::with_capacity(requests.len());
        for req in requests {
            cx.beat(0)?;
            self.start_request()?;
            self.spend_latency(cx)?;
            let answer = self.answer_generate(req);
            cx.beat(answer.n_tokens as u64)?;
            out.push(answer);
        }
        Ok(out)
    }

    fn chat_template(&self) -> Option<&dyn ChatTemplate> {
        if self.script.chat_template {
            Some(&self.chat)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use sparkbench_protocol::Cancel;

    use super::*;

    fn ll(ctx: &str, cont: &str) -> LoglikelihoodRequest {
        LoglikelihoodRequest {
            context: ctx.into(),
            continuation: cont.into(),
        }
    }

    fn gen_req(ctx: &str, until: &[&str]) -> GenerateRequest {
        GenerateRequest {
            context: ctx.into(),
            until: until.iter().map(|s| s.to_string()).collect(),
            max_gen_toks: 256,
        }
    }

    #[test]
    fn answers_depend_only_on_the_request() {
        let cancel = Cancel::new();
        let beat = |_: u64| {};
        let cx = CallCtx::new(&cancel, &beat);
        let reqs: Vec<_> = (0..6).map(|i| ll(&format!("Q{i}"), " A")).collect();
        let mut a = ScriptedModel::new(Script::default());
        let whole = a.loglikelihood(&reqs, &cx).expect("ll");
        let mut b = ScriptedModel::new(Script::default());
        let mut pieces = Vec::new();
        for r in reqs.iter().rev() {
            pieces.extend(b.loglikelihood(std::slice::from_ref(r), &cx).expect("ll"));
        }
        pieces.reverse();
        assert_eq!(whole, pieces);
        assert!(whole.iter().all(|l| l.logprob < 0.0));
        assert_ne!(whole[0].logprob, whole[1].logprob);
        assert_eq!(a.requests_served(), 6);
    }

    #[test]
    fn generation_is_cut_at_stop_strings() {
        let script = Script::from_json(
            &serde_json::json!({"answers": ["The answer is {n}.\n#### {n}\n\nQuestion: next"]}),
        )
        .expect("script");
        let m = ScriptedModel::new(script);
        let g = m.answer_generate(&gen_req("Question: 1+1?\nAnswer:", &["Question:"]));
        assert!(g.text.starts_with("The answer is "), "{:?}", g.text);
        assert!(g.text.contains("#### "));
        assert!(!g.text.contains("Question:"));
        assert_eq!(g.stop, StopReason::StopString);
        let rule = Script::from_json(
            &serde_json::json!({"rules": [{"contains": "2+2", "text": "#### 4"}]}),
        )
        .expect("script");
        let m = ScriptedModel::new(rule);
        assert_eq!(
            m.answer_generate(&gen_req("what is 2+2", &[])).text,
            "#### 4"
        );
    }

    #[test]
    fn max_gen_toks_truncates_in_words() {
        let script = Script::from_json(&serde_json::json!({"answers": ["one two three four"]}))
            .expect("script");
        let m = ScriptedModel::new(script);
        let mut r = gen_req("x", &[]);
        r.max_gen_toks = 2;
        let g = m.answer_generate(&r);
        assert_eq!(g.text, "one two ");
        assert_eq!(g.stop, StopReason::MaxTokens);
    }

    #[test]
    fn fail_at_request_fails_that_request() {
        let cancel = Cancel::new();
        let beat = |_: u64| {};
        let cx = CallCtx::new(&cancel, &beat);
        let mut m =
            ScriptedModel::from_json(&serde_json::json!({"fail_at_request": 3})).expect("script");
        let reqs: Vec<_> = (0..2).map(|i| ll(&format!("Q{i}"), " A")).collect();
        assert!(m.loglikelihood(&reqs, &cx).is_ok());
        let err = m
            .loglikelihood(&reqs, &cx)
            .expect_err("third request fails");
        assert!(
            matches!(err, ModelError::Backend(ref s) if s.contains("request 3")),
            "{err}"
        );
    }

    #[test]
    fn latency_beats_and_honours_cancel() {
        let cancel = Cancel::new();
        let beats = AtomicU64::new(0);
        let beat = |_: u64| {
            beats.fetch_add(1, Ordering::SeqCst);
        };
        let cx = CallCtx::new(&cancel, &beat);
        let mut m =
            ScriptedModel::from_json(&serde_json::json!({"latency_ms": 120})).expect("script");
        m.loglikelihood(&[ll("a", " b")], &cx).expect("ll");
        assert!(beats.load(Ordering::SeqCst) >= 3, "beats while sleeping");
        cancel.set();
        let err = m
            .loglikelihood(&[ll("a", " b")], &cx)
            .expect_err("cancelled");
        assert!(matches!(err, ModelError::Cancelled));
    }

    #[test]
    fn capabilities_and_chat_template_follow_the_script() {
        let m = ScriptedModel::from_json(
            &serde_json::json!({"chat_template": false, "generate": false}),
        )
        .expect("script");
        assert!(m.chat_template().is_none());
        assert!(!m.capabilities().generate);
        let m = ScriptedModel::from_source(&ModelSource::Scripted {
            script: serde_json::json!({}),
        })
        .expect("source");
        assert!(m.chat_template().is_some());
        assert!(ScriptedModel::from_source(&ModelSource::Hf { path: "/m".into() }).is_err());
    }

    #[test]
    fn hang_ignores_cancel() {
        let (tx, rx) = std::sync::mpsc::channel();
        let cancel = Cancel::new();
        let flag = cancel.clone();
        // The hung thread never returns; it is left behind when the test process exits.
        std::thread::spawn(move || {
            let beat = |_: u64| {};
            let cx = CallCtx::new(&flag, &beat);
            let mut m = ScriptedModel::from_json(&serde_json::json!({"hang_at_request": 1}))
                .expect("script");
            let r = m.loglikelihood(&[ll("a", " b")], &cx);
            let _ = tx.send(r.is_ok());
        });
        std::thread::sleep(Duration::from_millis(100));
        cancel.set();
        assert!(
            rx.recv_timeout(Duration::from_millis(300)).is_err(),
            "a hung request returned after cancel"
        );
    }
}
