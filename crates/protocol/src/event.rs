//! [`RunEvent`]: what the worker tells the supervisor, one JSON object per line on stdout.
//!
//! The UI never sees the engine, only these events. Progress counts documents, not requests
//! (lm-eval's bars count requests, which confuses users: one MMLU question is four requests).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::ModelInfo;

/// Coarse phase of a run, shown in the dashboard header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Loading weights and tokenizer.
    LoadingModel,
    /// Reading datasets.
    LoadingData,
    /// Building prompts and requests.
    Preparing,
    /// Running loglikelihood requests.
    Scoring,
    /// Running generation requests.
    Generating,
    /// Writing results files.
    Writing,
}

impl Phase {
    /// The phase in words.
    pub fn label(self) -> &'static str {
        match self {
            Phase::LoadingModel => "loading model",
            Phase::LoadingData => "loading data",
            Phase::Preparing => "preparing requests",
            Phase::Scoring => "scoring",
            Phase::Generating => "generating",
            Phase::Writing => "writing results",
        }
    }
}

/// Log severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// Detail.
    Debug,
    /// Normal information.
    Info,
    /// Something the user should know.
    Warn,
    /// A failure.
    Error,
}

/// One metric of a task, with its stderr (None where lm-eval writes "N/A").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskScore {
    /// Metric name (`acc`, `exact_match`, `prompt_level_strict_acc`).
    pub metric: String,
    /// Filter name (`none`, `strict-match`).
    pub filter: String,
    /// Value.
    pub value: f64,
    /// Standard error, when lm-eval computes one.
    pub stderr: Option<f64>,
}

/// How the latest sample fared, for the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleVerdict {
    /// Scored 1 on the headline metric.
    Correct,
    /// Scored 0 on the headline metric.
    Incorrect,
    /// A fractional score (mc2, instruction-level).
    Score(f64),
}

/// A task as planned at the start of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskPlan {
    /// Task name.
    pub task: String,
    /// Documents to evaluate.
    pub docs: usize,
    /// Documents already journaled (resume).
    pub done: usize,
    /// Model requests per document on average (for ETAs).
    pub requests: usize,
}

/// What the worker reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    /// The model is loaded and the plan is known.
    Started {
        /// The model.
        model: ModelInfo,
        /// The tasks with their document counts.
        tasks: Vec<TaskPlan>,
    },
    /// A new phase began.
    Phase {
        /// The phase.
        phase: Phase,
    },
    /// Documents finished (and journaled) for a task.
    Progress {
        /// Task name.
        task: String,
        /// Documents done so far.
        done: usize,
        /// Documents in total.
        total: usize,
        /// Tokens processed since the previous progress event.
        tokens: u64,
        /// The running headline score over the documents done.
        running: Option<TaskScore>,
    },
    /// The worker is alive and working (tokens since the previous beat).
    Heartbeat {
        /// Tokens processed since the previous heartbeat.
        tokens: u64,
    },
    /// The latest finished document, for the sample pane.
    Sample {
        /// Task name.
        task: String,
        /// Document index.
        doc: usize,
        /// The last part of the prompt.
        prompt_tail: String,
        /// The model's answer (generation text, or the chosen option).
        response: String,
        /// How it scored.
        verdict: SampleVerdict,
    },
    /// A log line.
    Log {
        /// Severity.
        level: LogLevel,
        /// Text.
        message: String,
    },
    /// A task's final scores.
    TaskScored {
        /// Task name.
        task: String,
        /// Every metric.
        scores: Vec<TaskScore>,
    },
    /// The run completed and its results file is written.
    Finished {
        /// The results file.
        results_file: PathBuf,
    },
    /// The run stopped on request; finished documents are journaled.
    Cancelled {
        /// Documents finished across tasks.
        done: usize,
    },
    /// The run failed.
    Failed {
        /// The cause in words.
        error: String,
    },
}

impl RunEvent {
    /// One JSON line (no trailing newline).
    pub fn to_line(&self) -> String {
        // Serialising these plain types cannot fail; fall back to a Failed event just in case.
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!("{{\"event\":\"failed\",\"error\":\"event serialisation failed: {e}\"}}")
        })
    }

    /// Parse one JSON line.
    pub fn from_line(line: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_as_lines() {
        let ev = RunEvent::Progress {
            task: "gsm8k".into(),
            done: 3,
            total: 10,
            tokens: 120,
            running: Some(TaskScore {
                metric: "exact_match".into(),
                filter: "strict-match".into(),
                value: 0.5,
                stderr: Some(0.1),
            }),
        };
        let line = ev.to_line();
        assert!(line.starts_with("{\"event\":\"progress\""));
        assert_eq!(RunEvent::from_line(&line).expect("parse"), ev);
    }
}
