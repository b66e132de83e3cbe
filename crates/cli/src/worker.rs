//! `sparkbench worker --spec FILE`: the evaluation process the supervisor starts.
//!
//! Reads a RunSpec, loads the model, runs the engine and writes one RunEvent JSON line per event
//! to stdout (logs to stderr). A `cancel` line on stdin, or stdin closing, sets the cancel flag.
//! With `--finalize` it only turns the journals into partial results files (no model is loaded).

use std::io::Write;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, Result};
use sparkbench_protocol::{Cancel, LanguageModel, LogLevel, ModelSource, Phase, RunEvent, RunSpec};

use crate::args::WorkerArgs;

/// Writes events to stdout, one flushed line each.
struct StdoutEvents(Mutex<std::io::Stdout>);

impl sparkbench_engine::EventSink for StdoutEvents {
    fn emit(&self, event: RunEvent) {
        let mut out = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // A closed stdout means the supervisor is gone; nothing useful is left to do with events.
        let _ = writeln!(out, "{}", event.to_line());
        let _ = out.flush();
    }
}

/// Read the spec file.
pub fn read_spec(path: &std::path::Path) -> Result<RunSpec> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading run spec {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing run spec {}", path.display()))
}

/// Load the model a spec names.
pub fn load_model(spec: &RunSpec, log: &dyn Fn(&str)) -> Result<Box<dyn LanguageModel>> {
    match &spec.model {
        ModelSource::Hf { .. } | ModelSource::Lora { .. } | ModelSource::Gguf { .. } => {
            let opts = sparkbench_candle::LoadOptions {
                dtype: spec.dtype.clone(),
                device: spec.device.clone(),
                batch_size: spec.batch_size.max(1),
                max_length: spec.max_length,
            };
            Ok(sparkbench_candle::load(&spec.model, &opts, log)?)
        }
        ModelSource::Ollama { .. } | ModelSource::OpenAi { .. } => {
            let mut opts = sparkbench_http::HttpOptions {
                approximate_loglikelihood: spec.approximate_loglikelihood,
                seed: spec.fewshot_seed,
                ..Default::default()
            };
            if let Some(c) = spec.concurrency {
                opts.concurrency = c.max(1);
            }
            if let Some(m) = spec.max_length {
                opts.max_length = m;
            }
            Ok(sparkbench_http::connect(&spec.model, &opts)?)
        }
        ModelSource::Scripted { script } => Ok(Box::new(
            sparkbench_scripted::ScriptedModel::from_json(script)?,
        )),
    }
}

/// The worker's main.
pub fn main(args: &WorkerArgs) -> Result<ExitCode> {
    let spec = read_spec(&args.spec)?;
    let sink = StdoutEvents(Mutex::new(std::io::stdout()));
    use sparkbench_engine::EventSink;
    if args.finalize {
        // The supervisor reads the counts from Progress events and the file from Finished.
        match sparkbench_engine::finalize_partial(&spec)? {
            Some(out) => {
                for (task, done) in out.counts {
                    sink.emit(RunEvent::Progress {
                        task,
                        done,
                        total: done,
                        tokens: 0,
                        running: None,
                    });
                }
                sink.emit(RunEvent::Finished {
                    results_file: out.results_file,
                });
            }
            None => sink.emit(RunEvent::Log {
                level: LogLevel::Warn,
                message: "no document had finished: there are no partial results to write".into(),
            }),
        }
        return Ok(ExitCode::SUCCESS);
    }
    sparkbench_candle::device::keep_freed_memory();
    let cancel = Cancel::new();
    sparkbench_supervisor::stdin_cancel_listener(cancel.clone())
        .context("starting the cancel listener")?;
    sink.emit(RunEvent::Phase {
        phase: Phase::LoadingModel,
    });
    let log = |m: &str| {
        sink.emit(RunEvent::Log {
            level: LogLevel::Info,
            message: m.to_string(),
        })
    };
    let mut model = match load_model(&spec, &log) {
        Ok(m) => m,
        Err(e) => {
            sink.emit(RunEvent::Failed {
                error: format!("{e:#}"),
            });
            return Ok(ExitCode::from(2));
        }
    };
    if spec.approximate_loglikelihood {
        sink.emit(RunEvent::Log {
            level: LogLevel::Warn,
            message: "loglikelihood scores in this run are APPROXIMATE (top-20 logprobs of one generated token); they are labelled so and never compared with exact scores".into(),
        });
    }
    match sparkbench_engine::run(&spec, model.as_mut(), &sink, &cancel) {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            // The engine has emitted Failed already when it could; say it again to be sure the
            // supervisor has a cause.
            sink.emit(RunEvent::Failed {
                error: e.to_string(),
            });
            Ok(ExitCode::from(3))
        }
    }
}
