//! The JSON script that drives a [`ScriptedModel`](crate::ScriptedModel), with its defaults and
//! validation.

use serde::{Deserialize, Serialize};

/// A generation rule: when the prompt contains `contains`, answer `text` (placeholders as in
/// [`Script::answers`]). The first matching rule wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A substring of the prompt.
    pub contains: String,
    /// The answer.
    pub text: String,
}

fn default_name() -> String {
    "scripted".into()
}
fn default_greedy_rate() -> f64 {
    0.25
}
fn default_answers() -> Vec<String> {
    vec![
        "The answer is {n}.\n#### {n}".into(),
        "Let me think step by step. {n} plus nothing is {n}.\n#### {n}".into(),
        "I am not sure, maybe {n}?".into(),
        "Here is my answer, written in lowercase letters only: the number is {n}.".into(),
        "SURE. THE ANSWER IS {n}.".into(),
    ]
}
fn default_max_length() -> usize {
    2048
}
fn yes() -> bool {
    true
}
fn default_slow_latency() -> u64 {
    200
}

/// What the scripted model does. Every field has a default, so `{}` is a valid script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// The model's display name.
    #[serde(default = "default_name")]
    pub name: String,
    /// Time spent per request, in milliseconds (slept in slices, with heartbeats and cancel checks).
    #[serde(default)]
    pub latency_ms: u64,
    /// Slow mode: at least `slow_latency_ms` per request.
    #[serde(default)]
    pub slow: bool,
    /// The per-request latency of slow mode, in milliseconds.
    #[serde(default = "default_slow_latency")]
    pub slow_latency_ms: u64,
    /// At this request number (from 1) sleep forever, ignoring cancel and sending no heartbeats.
    #[serde(default)]
    pub hang_at_request: Option<u64>,
    /// At this request number abort the process (`std::process::abort`).
    #[serde(default)]
    pub crash_at_request: Option<u64>,
    /// At this request number fail the call with a backend error.
    #[serde(default)]
    pub fail_at_request: Option<u64>,
    /// Fraction of loglikelihood answers that are greedy.
    #[serde(default = "default_greedy_rate")]
    pub greedy_rate: f64,
    /// Canned generations, one chosen per request by hash. `{n}` becomes a number from 0 to 99
    /// derived from the prompt.
    #[serde(default = "default_answers")]
    pub answers: Vec<String>,
    /// Prompt-specific generations, checked before `answers`.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Whether the model has a (ChatML) chat template.
    #[serde(default = "yes")]
    pub chat_template: bool,
    /// The max_length reported in the model info.
    #[serde(default = "default_max_length")]
    pub max_length: usize,
    /// Whether loglikelihood requests are served.
    #[serde(default = "yes")]
    pub loglikelihood: bool,
    /// Whether generation requests are served.
    #[serde(default = "yes")]
    pub generate: bool,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            name: default_name(),
            latency_ms: 0,
            slow: false,
            slow_latency_ms: default_slow_latency(),
            hang_at_request: None,
            crash_at_request: None,
            fail_at_request: None,
            greedy_rate: default_greedy_rate(),
            answers: default_answers(),
            rules: Vec::new(),
            chat_template: true,
            max_length: default_max_length(),
            loglikelihood: true,
            generate: true,
        }
    }
}

/// Why a script is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The JSON does not match the script's shape.
    #[error(
        "scripted model: invalid script: {0} (see the sparkbench-scripted docs for the fields)"
    )]
    Parse(#[from] serde_json::Error),
    /// A field has an unusable value.
    #[error("scripted model: field `{field}`: {message}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The model source is not a scripted one.
    #[error("scripted model: the model source is `{0}`, not `scripted`")]
    NotScripted(&'static str),
}

impl Script {
    /// Parse and validate a script.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, ScriptError> {
        let script: Script = serde_json::from_value(value.clone())?;
        script.validate()?;
        Ok(script)
    }

    fn validate(&self) -> Result<(), ScriptError> {
        if !(0.0..=1.0).contains(&self.greedy_rate) {
            return Err(ScriptError::Field {
                field: "greedy_rate",
                message: format!("{} is outside 0..=1", self.greedy_rate),
            });
        }
        if self.answers.is_empty() {
            return Err(ScriptError::Field {
                field: "answers",
                message: "needs at least one answer".into(),
            });
        }
        for (field, v) in [
            ("hang_at_request", self.hang_at_request),
            ("crash_at_request", self.crash_at_request),
            ("fail_at_request", self.fail_at_request),
        ] {
            if v == Some(0) {
                return Err(ScriptError::Field {
                    field,
                    message: "request numbers count from 1".into(),
                });
            }
        }
        if self.max_length == 0 {
            return Err(ScriptError::Field {
                field: "max_length",
                message: "must be at least 1".into(),
            });
        }
        Ok(())
    }

    /// Milliseconds spent per request.
    pub fn latency(&self) -> u64 {
        if self.slow {
            self.latency_ms.max(self.slow_latency_ms)
        } else {
            self.latency_ms
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_script_gets_defaults() {
        let s = Script::from_json(&serde_json::json!({})).expect("parse");
        assert_eq!(s, Script::default());
        assert_eq!(s.latency(), 0);
    }

    #[test]
    fn bad_fields_are_named() {
        let e = Script::from_json(&serde_json::json!({"greedy_rate": 2.0})).expect_err("must fail");
        assert!(e.to_string().contains("greedy_rate"), "{e}");
        let e = Script::from_json(&serde_json::json!({"hang_at": 3})).expect_err("must fail");
        assert!(e.to_string().contains("hang_at"), "{e}");
        let e =
            Script::from_json(&serde_json::json!({"fail_at_request": 0})).expect_err("must fail");
        assert!(e.to_string().contains("count from 1"), "{e}");
    }

    #[test]
    fn slow_mode_raises_latency() {
        let s =
            Script::from_json(&serde_json::json!({"slow": true, "latency_ms": 5})).expect("parse");
        assert_eq!(s.latency(), 200);
    }
}
