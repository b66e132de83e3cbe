//! One chunk's model calls: its new loglikelihood requests in one call, then its new
//! generation requests in another, answers cached by request (so identical requests are asked
//! once per run), the phase event emitted when the request kind changes.

use std::collections::HashMap;

use sparkbench_protocol::{
    CallCtx, GenerateRequest, LanguageModel, LoglikelihoodRequest, ModelError, Phase, Request,
    Response, RunEvent,
};

use crate::EventSink;

/// Why asking the model stopped early.
pub(crate) enum Stop {
    Cancelled,
    Model(ModelError),
    Count {
        sent: usize,
        got: usize,
        kind: &'static str,
    },
}

/// Ask the model for the chunk's new requests and cache the answers; returns tokens processed.
pub(crate) fn ask(
    model: &mut dyn LanguageModel,
    ll: Vec<LoglikelihoodRequest>,
    gens: Vec<GenerateRequest>,
    cx: &CallCtx<'_>,
    cache: &mut HashMap<Request, Response>,
    phase: &mut Phase,
    sink: &dyn EventSink,
) -> Result<u64, Stop> {
    let stop = |e: ModelError| {
        if matches!(e, ModelError::Cancelled) {
            Stop::Cancelled
        } else {
            Stop::Model(e)
        }
    };
    let mut tokens = 0u64;
    if !ll.is_empty() {
        if *phase != Phase::Scoring {
            *phase = Phase::Scoring;
            sink.emit(RunEvent::Phase {
                phase: Phase::Scoring,
            });
        }
        let answers = model.loglikelihood(&ll, cx).map_err(stop)?;
        if answers.len() != ll.len() {
            return Err(Stop::Count {
                sent: ll.len(),
                got: answers.len(),
                kind: "loglikelihood",
            });
        }
        for (q, a) in ll.into_iter().zip(answers) {
            tokens += a.n_tokens as u64;
            cache.insert(Request::Loglikelihood(q), Response::Loglikelihood(a));
        }
    }
    if cx.cancel.is_set() {
        return Err(Stop::Cancelled);
    }
    if !gens.is_empty() {
        if *phase != Phase::Generating {
            *phase = Phase::Generating;
            sink.emit(RunEvent::Phase {
                phase: Phase::Generating,
            });
        }
        let answers = model.generate(&gens, cx).map_err(stop)?;
        if answers.len() != gens.len() {
            return Err(Stop::Count {
                sent: gens.len(),
                got: answers.len(),
                kind: "generation",
            });
        }
        for (q, a) in gens.into_iter().zip(answers) {
            tokens += a.n_tokens as u64;
            cache.insert(Request::Generate(q), Response::Generation(a));
        }
    }
    Ok(tokens)
}
