//! Helpers that turn engine state into [`RunEvent`]s: the rate-limited heartbeat relay and the
//! dashboard's sample pane (prompt tail, response, verdict).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sparkbench_protocol::{Request, Response, RunEvent, SampleVerdict};
use sparkbench_tasks::MetricValue;

use crate::EventSink;
use crate::journal::DocRecord;

/// Characters of the prompt shown in a `Sample` event.
const PROMPT_TAIL_CHARS: usize = 240;

/// Turns the model's heartbeat callbacks into at most one `Heartbeat` event a second.
pub struct HeartbeatRelay<'a> {
    sink: &'a dyn EventSink,
    pending: AtomicU64,
    last: Mutex<Instant>,
    period: Duration,
}

impl<'a> HeartbeatRelay<'a> {
    /// A relay to `sink`, emitting at most once per `period`.
    pub fn new(sink: &'a dyn EventSink, period: Duration) -> Self {
        Self {
            sink,
            pending: AtomicU64::new(0),
            last: Mutex::new(Instant::now()),
            period,
        }
    }

    /// Record `tokens` and emit a heartbeat when the period has passed.
    pub fn beat(&self, tokens: u64) {
        self.pending.fetch_add(tokens, Ordering::Relaxed);
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() >= self.period {
            *last = Instant::now();
            let tokens = self.pending.swap(0, Ordering::Relaxed);
            self.sink.emit(RunEvent::Heartbeat { tokens });
        }
    }

    /// Note that a progress event just went out (it proves liveness too).
    pub fn reset(&self) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }
}

/// The last [`PROMPT_TAIL_CHARS`] characters of the document's first prompt.
pub fn prompt_tail(rec: &DocRecord) -> String {
    let ctx = match rec.requests.first() {
        Some(Request::Loglikelihood(r)) => r.context.as_str(),
        Some(Request::Generate(r)) => r.context.as_str(),
        None => "",
    };
    let n = ctx.chars().count();
    ctx.chars()
        .skip(n.saturating_sub(PROMPT_TAIL_CHARS))
        .collect()
}

/// The answer in words: the generated text, or the most likely choice.
pub fn response_text(rec: &DocRecord) -> String {
    let mut best: Option<(f64, usize)> = None;
    for (i, r) in rec.responses.iter().enumerate() {
        match r {
            Response::Generation(g) => return g.text.clone(),
            Response::Loglikelihood(l) => {
                if best.is_none_or(|(b, _)| l.logprob > b) {
                    best = Some((l.logprob, i));
                }
            }
        }
    }
    match best.and_then(|(_, i)| rec.requests.get(i)) {
        Some(Request::Loglikelihood(r)) => r.continuation.trim_start().to_string(),
        _ => String::new(),
    }
}

/// The verdict of one metric value.
pub fn verdict(v: &MetricValue) -> SampleVerdict {
    let score = match v {
        MetricValue::Bool(b) => f64::from(u8::from(*b)),
        MetricValue::Float(x) => *x,
        MetricValue::BoolList(b) if b.is_empty() => 0.0,
        MetricValue::BoolList(b) => b.iter().filter(|&&x| x).count() as f64 / b.len() as f64,
    };
    if score == 1.0 {
        SampleVerdict::Correct
    } else if score == 0.0 {
        SampleVerdict::Incorrect
    } else {
        SampleVerdict::Score(score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Count(Mutex<Vec<RunEvent>>);
    impl EventSink for Count {
        fn emit(&self, event: RunEvent) {
            self.0.lock().expect("lock").push(event);
        }
    }

    #[test]
    fn heartbeats_are_rate_limited_and_carry_tokens() {
        let sink = Count(Mutex::new(Vec::new()));
        let relay = HeartbeatRelay::new(&sink, Duration::from_millis(30));
        for _ in 0..100 {
            relay.beat(1);
        }
        assert!(
            sink.0.lock().expect("lock").is_empty(),
            "nothing before the period"
        );
        std::thread::sleep(Duration::from_millis(40));
        relay.beat(1);
        let events = sink.0.lock().expect("lock").clone();
        assert_eq!(events, vec![RunEvent::Heartbeat { tokens: 101 }]);
    }

    #[test]
    fn verdicts() {
        assert_eq!(verdict(&MetricValue::Bool(true)), SampleVerdict::Correct);
        assert_eq!(verdict(&MetricValue::Float(0.0)), SampleVerdict::Incorrect);
        assert_eq!(
            verdict(&MetricValue::BoolList(vec![true, false])),
            SampleVerdict::Score(0.5)
        );
    }
}
