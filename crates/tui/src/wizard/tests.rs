//! Step logic of the wizard, driven by a scripted prompter: defaults, back and next, refused
//! choices, validation and re-asking, Esc and Ctrl-C.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::view::{BackendChoice, BaseInfo, LastBenchmark, ModelChoice, SuiteChoice, TaskChoice};

struct FakeSource {
    models: Vec<ModelChoice>,
}

fn model(name: &str, base: bool) -> ModelChoice {
    ModelChoice {
        name: name.into(),
        path: PathBuf::from(format!("outputs/{name}")),
        formats: vec!["LoRA".into(), "16-bit".into()],
        size_bytes: 1_288_490_189,
        last_benchmark: Some(LastBenchmark {
            date: "2026-11-23".into(),
            headline: "ifeval 0.41".into(),
        }),
        base: base.then(|| BaseInfo {
            name: "Qwen/Qwen3-0.6B".into(),
            source: Some("lora/adapter_config.json".into()),
            reusable_result: true,
        }),
    }
}

impl WizardSource for FakeSource {
    fn models(&self) -> Vec<ModelChoice> {
        self.models.clone()
    }
    fn backends(&self, _model: &ModelChoice) -> Vec<BackendChoice> {
        vec![
            BackendChoice {
                id: "ollama".into(),
                label: "Ollama".into(),
                usable: Err("not answering at http://localhost:11434".into()),
                unsupported_tasks: vec!["hellaswag".into()],
            },
            BackendChoice {
                id: "safetensors".into(),
                label: "Native safetensors".into(),
                usable: Ok(()),
                unsupported_tasks: vec![],
            },
            BackendChoice {
                id: "lora".into(),
                label: "Native LoRA".into(),
                usable: Ok(()),
                unsupported_tasks: vec![],
            },
        ]
    }
    fn suites(&self, _model: &ModelChoice, _backend: &BackendChoice) -> Vec<SuiteChoice> {
        vec![
            SuiteChoice {
                name: "test".into(),
                label: "Test (5 per task)".into(),
                tasks: vec!["ifeval".into()],
                estimate: Some(Duration::from_secs(40)),
            },
            SuiteChoice {
                name: "core".into(),
                label: "Core".into(),
                tasks: vec!["ifeval".into(), "gsm8k".into(), "hellaswag".into()],
                estimate: None,
            },
        ]
    }
    fn tasks(&self) -> Vec<TaskChoice> {
        ["arc_easy", "boolq", "piqa"]
            .iter()
            .map(|n| TaskChoice {
                name: n.to_string(),
                description: None,
            })
            .collect()
    }
    fn suggested_batch_size(&self, _model: &ModelChoice, _backend: &BackendChoice) -> usize {
        8
    }
    fn parse_timeout(&self, text: &str) -> Result<Duration, String> {
        match text {
            "30min" => Ok(Duration::from_secs(1800)),
            "0s" => Ok(Duration::ZERO),
            other => Err(format!("cannot read {other:?} as a duration")),
        }
    }
    fn output_paths(&self, answers: &WizardAnswers) -> Vec<(String, PathBuf)> {
        vec![(
            "summary".into(),
            answers.model.path.join("benchmarks/benchmark.json"),
        )]
    }
}

#[derive(Debug, Clone)]
enum Reply {
    Pick(usize),
    Enter,
    Multi(Vec<usize>),
    Yes(bool),
    Type(&'static str),
    Esc,
    CtrlC,
}

#[derive(Debug, Clone, PartialEq)]
enum Asked {
    Select(SelectPrompt),
    Multi(MultiSelectPrompt),
    Confirm(ConfirmPrompt),
    Text(String, Option<String>),
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    asked: Vec<Asked>,
    notices: Vec<String>,
    summaries: Vec<Summary>,
}

impl Script {
    fn new(replies: Vec<Reply>) -> Self {
        Self {
            replies: replies.into(),
            ..Self::default()
        }
    }
    fn next(&mut self) -> Reply {
        // Running out means the wizard asked more than the test expected.
        self.replies.pop_front().unwrap_or(Reply::CtrlC)
    }
    fn selects(&self) -> Vec<&SelectPrompt> {
        self.asked
            .iter()
            .filter_map(|a| {
                if let Asked::Select(s) = a {
                    Some(s)
                } else {
                    None
                }
            })
            .collect()
    }
}

impl Prompter for Script {
    fn select(&mut self, prompt: &SelectPrompt) -> Result<usize, PromptError> {
        self.asked.push(Asked::Select(prompt.clone()));
        match self.next() {
            Reply::Pick(i) => Ok(i),
            Reply::Enter => Ok(prompt.default),
            Reply::Esc => Err(PromptError::Back),
            Reply::CtrlC => Err(PromptError::Interrupted),
            other => panic!("select got {other:?}"),
        }
    }
    fn multi_select(&mut self, prompt: &MultiSelectPrompt) -> Result<Vec<usize>, PromptError> {
        self.asked.push(Asked::Multi(prompt.clone()));
        match self.next() {
            Reply::Multi(v) => Ok(v),
            Reply::Enter => Ok(prompt.defaults.clone()),
            Reply::Esc => Err(PromptError::Back),
            Reply::CtrlC => Err(PromptError::Interrupted),
            other => panic!("multi_select got {other:?}"),
        }
    }
    fn confirm(&mut self, prompt: &ConfirmPrompt) -> Result<bool, PromptError> {
        self.asked.push(Asked::Confirm(prompt.clone()));
        match self.next() {
            Reply::Yes(b) => Ok(b),
            Reply::Enter => Ok(prompt.default),
            Reply::Esc => Err(PromptError::Back),
            Reply::CtrlC => Err(PromptError::Interrupted),
            other => panic!("confirm got {other:?}"),
        }
    }
    fn text(&mut self, prompt: &TextPrompt) -> Result<String, PromptError> {
        self.asked
            .push(Asked::Text(prompt.message.clone(), prompt.default.clone()));
        match self.next() {
            Reply::Type(t) => Ok(t.to_string()),
            Reply::Enter => Ok(prompt.default.clone().unwrap_or_default()),
            Reply::Esc => Err(PromptError::Back),
            Reply::CtrlC => Err(PromptError::Interrupted),
            other => panic!("text got {other:?}"),
        }
    }
    fn notice(&mut self, text: &str) {
        self.notices.push(text.to_string());
    }
    fn summary(&mut self, summary: &Summary) {
        self.summaries.push(summary.clone());
    }
}

fn source() -> FakeSource {
    FakeSource {
        models: vec![model("qwen3-lima", true), model("llama-chat", false)],
    }
}

fn run(source: &FakeSource, replies: Vec<Reply>) -> (WizardOutcome, Script) {
    let mut script = Script::new(replies);
    let outcome = Wizard::new(source).run(&mut script).expect("wizard runs");
    (outcome, script)
}

fn answers(outcome: WizardOutcome) -> WizardAnswers {
    match outcome {
        WizardOutcome::Run(a) => a,
        other => panic!("expected answers, got {other:?}"),
    }
}

use Reply::*;

#[test]
fn enter_all_the_way_takes_the_defaults() {
    let src = source();
    // model, compare, backend, suite, batch, watchdog, confirm
    let (outcome, script) = run(&src, vec![Enter, Enter, Enter, Enter, Enter, Enter, Enter]);
    let a = answers(outcome);
    assert_eq!(a.model.name, "qwen3-lima");
    assert!(a.compare_base);
    assert_eq!(
        a.backend.id, "safetensors",
        "the cursor starts on the first usable backend"
    );
    assert_eq!(a.suite.as_deref(), Some("test"));
    assert_eq!(a.tasks, vec!["ifeval"]);
    assert_eq!(a.batch_size, 8);
    assert_eq!(a.timeout, None, "the watchdog is off by default");
    let summary = &script.summaries[0];
    assert!(
        summary
            .text()
            .contains("outputs/qwen3-lima/benchmarks/benchmark.json")
    );
    assert!(
        summary
            .text()
            .contains("Qwen/Qwen3-0.6B (existing result reused)")
    );
}

#[test]
fn esc_goes_back_one_step_and_keeps_earlier_answers_as_defaults() {
    let src = source();
    let replies = vec![
        Pick(0),    // model
        Yes(false), // compare: no
        Esc,        // backend -> back to compare
        Enter,      // compare again: default is now the earlier "no"
        Pick(2),    // backend lora
        Pick(1),    // suite core
        Esc,        // batch -> back to suite
        Enter,      // suite: default is core
        Type("4"),  // batch
        Pick(2),    // watchdog 30 minutes
        Enter,      // start
    ];
    let (outcome, script) = run(&src, replies);
    let a = answers(outcome);
    assert!(!a.compare_base);
    assert_eq!(a.backend.id, "lora");
    assert_eq!(a.suite.as_deref(), Some("core"));
    assert_eq!(a.batch_size, 4);
    assert_eq!(a.timeout, Some(Duration::from_secs(30 * 60)));
    let confirms: Vec<bool> = script
        .asked
        .iter()
        .filter_map(|a| {
            if let Asked::Confirm(c) = a {
                Some(c.default)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(confirms, vec![true, false]);
}

#[test]
fn esc_on_the_first_question_cancels_and_ctrl_c_interrupts_anywhere() {
    let src = source();
    assert_eq!(run(&src, vec![Esc]).0, WizardOutcome::Cancelled);
    assert_eq!(
        run(&src, vec![Enter, Enter, CtrlC]).0,
        WizardOutcome::Interrupted
    );
    assert_eq!(
        run(&src, vec![Enter, Enter, Enter, Enter, CtrlC]).0,
        WizardOutcome::Interrupted
    );
}

#[test]
fn an_unusable_backend_is_refused_with_its_reason_and_asked_again() {
    let src = source();
    let (outcome, script) = run(
        &src,
        vec![Enter, Enter, Pick(0), Pick(1), Enter, Enter, Enter, Enter],
    );
    assert_eq!(answers(outcome).backend.id, "safetensors");
    assert!(
        script
            .notices
            .iter()
            .any(|n| n.contains("not answering at http://localhost:11434")),
        "{:?}",
        script.notices
    );
    let backend_prompts: Vec<_> = script
        .selects()
        .into_iter()
        .filter(|s| s.message == "Backend")
        .collect();
    assert_eq!(backend_prompts.len(), 2);
    assert!(backend_prompts[0].items[0].contains("unavailable: not answering"));
    assert_eq!(backend_prompts[0].default, 1);
}

#[test]
fn bad_batch_sizes_are_asked_again_not_fatal() {
    let src = source();
    let replies = vec![
        Enter,
        Enter,
        Enter,
        Enter,
        Type("abc"),
        Type("0"),
        Type("-3"),
        Type("8.5"),
        Type(" 12 "),
        Enter,
        Enter,
    ];
    let (outcome, script) = run(&src, replies);
    assert_eq!(answers(outcome).batch_size, 12);
    assert_eq!(script.notices.len(), 4, "{:?}", script.notices);
    assert!(script.notices[0].contains("\"abc\""));
    assert!(script.notices[1].contains("at least 1"));
}

#[test]
fn parse_batch_size_accepts_any_positive_integer() {
    assert_eq!(parse_batch_size("1"), Ok(1));
    assert_eq!(parse_batch_size("512"), Ok(512));
    assert!(parse_batch_size("").is_err());
    assert!(parse_batch_size("0").is_err());
    assert!(parse_batch_size("1e3").is_err());
    assert!(parse_batch_size("99999999999999999999999").is_err());
}

#[test]
fn custom_suite_needs_at_least_one_task() {
    let src = source();
    let replies = vec![
        Enter,
        Enter,
        Enter,
        Pick(2),
        Multi(vec![]),
        Multi(vec![0, 2]),
        Enter,
        Enter,
        Enter,
    ];
    let (outcome, script) = run(&src, replies);
    let a = answers(outcome);
    assert_eq!(a.suite, None);
    assert_eq!(a.tasks, vec!["arc_easy", "piqa"]);
    assert!(
        script
            .notices
            .iter()
            .any(|n| n.contains("at least one task"))
    );
}

#[test]
fn custom_timeout_is_validated_by_the_source_parser() {
    let src = source();
    let replies = vec![
        Enter,
        Enter,
        Enter,
        Enter,
        Enter,
        Pick(4),
        Type("soon"),
        Type("0s"),
        Type("30min"),
        Enter,
    ];
    let (outcome, script) = run(&src, replies);
    assert_eq!(answers(outcome).timeout, Some(Duration::from_secs(1800)));
    assert_eq!(script.notices.len(), 2, "{:?}", script.notices);
    assert!(script.notices[0].contains("cannot read \"soon\""));
    assert!(script.notices[1].contains("longer than zero"));
}

#[test]
fn no_models_offers_the_demo() {
    let src = FakeSource { models: vec![] };
    let (outcome, script) = run(&src, vec![Enter]);
    assert_eq!(outcome, WizardOutcome::CreateDemo);
    assert!(script.selects()[0].items[0].contains("sparkbench demo"));
    assert_eq!(run(&src, vec![Pick(1)]).0, WizardOutcome::Cancelled);
}

#[test]
fn without_a_base_the_compare_step_is_skipped_both_ways() {
    let src = source();
    // Pick the model without a base, go back from Backend: lands on Model, not Compare.
    let replies = vec![Pick(1), Esc, Pick(1), Enter, Enter, Enter, Enter, Enter];
    let (outcome, script) = run(&src, replies);
    let a = answers(outcome);
    assert_eq!(a.model.name, "llama-chat");
    assert!(!a.compare_base);
    assert!(!script.asked.iter().any(|a| matches!(a, Asked::Confirm(_))));
    assert_eq!(script.selects()[2].message, "Model to benchmark");
    assert_eq!(
        script.selects()[2].default,
        1,
        "the earlier model stays selected"
    );
}

#[test]
fn confirm_can_go_back_or_quit() {
    let src = source();
    let replies = vec![
        Enter,
        Enter,
        Enter,
        Enter,
        Enter,
        Enter,
        Pick(1),
        Pick(1),
        Enter,
    ];
    let (outcome, script) = run(&src, replies);
    assert_eq!(answers(outcome).timeout, Some(Duration::from_secs(600)));
    assert_eq!(script.summaries.len(), 2);
    assert_eq!(
        run(
            &src,
            vec![Enter, Enter, Enter, Enter, Enter, Enter, Pick(2)]
        )
        .0,
        WizardOutcome::Cancelled
    );
}

#[test]
fn summary_names_tasks_the_backend_cannot_score() {
    let src = source();
    let mut a = answers(
        run(
            &src,
            vec![Enter, Enter, Enter, Pick(1), Enter, Enter, Enter],
        )
        .0,
    );
    a.backend = src.backends(&a.model).remove(0);
    let text = Summary::new(&a, vec![]).text();
    assert!(text.contains("Ollama cannot score hellaswag"), "{text}");
}
