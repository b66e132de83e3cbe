//! The wizard as a state machine over [`Step`]s: each step builds its prompt from the answers so
//! far (earlier answers become defaults when the user comes back), checks the answer, and says
//! which step comes next. Esc pops the history (skipped steps are never revisited), Ctrl-C leaves.

use std::time::Duration;

use crate::error::TuiError;
use crate::format;
use crate::view::{BackendChoice, ModelChoice, SuiteChoice, TaskChoice};
use crate::wizard::answers::{WizardAnswers, WizardOutcome, WizardSource};
use crate::wizard::prompt::{
    ConfirmPrompt, MultiSelectPrompt, PromptError, Prompter, SelectPrompt, TextPrompt,
};
use crate::wizard::summary::Summary;

/// The wizard's questions, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Which model.
    Model,
    /// Compare with the base?
    Compare,
    /// Which backend.
    Backend,
    /// Which suite.
    Suite,
    /// Which tasks (Custom suite).
    CustomTasks,
    /// Batch size.
    BatchSize,
    /// Watchdog preset.
    Watchdog,
    /// Custom watchdog timeout.
    WatchdogCustom,
    /// The summary and the go.
    Confirm,
}

/// Watchdog presets offered, in minutes.
pub const WATCHDOG_PRESETS: [u64; 3] = [10, 30, 60];

/// A suite answer: one of the source's suites, or Custom.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SuitePick {
    Listed(String),
    Custom,
}

/// A watchdog answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WatchdogPick {
    Off,
    Preset(u64),
    Custom,
}

/// What a step decided.
#[derive(Debug)]
#[expect(clippy::large_enum_variant, reason = "one per answered question")]
enum Transition {
    Next(Step),
    Again,
    Back,
    Done(WizardOutcome),
}

/// Parse a batch size: any positive integer.
pub fn parse_batch_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    match t.parse::<usize>() {
        Ok(0) => Err("batch size must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "batch size must be a positive whole number, not {t:?}"
        )),
    }
}

fn check_batch_size(text: &str) -> Result<(), String> {
    parse_batch_size(text).map(|_| ())
}

/// The wizard's state: the choices on offer and the answers so far.
pub struct Wizard<'s> {
    source: &'s dyn WizardSource,
    models: Vec<ModelChoice>,
    backends: Vec<BackendChoice>,
    suites: Vec<SuiteChoice>,
    tasks: Vec<TaskChoice>,
    model: Option<usize>,
    compare: Option<bool>,
    backend: Option<String>,
    suite: Option<SuitePick>,
    custom: Vec<String>,
    batch_size: Option<usize>,
    watchdog: Option<WatchdogPick>,
    custom_timeout: Option<(String, Duration)>,
    history: Vec<Step>,
    current: Step,
}

impl<'s> Wizard<'s> {
    /// A wizard over what `source` offers, at the first step.
    pub fn new(source: &'s dyn WizardSource) -> Self {
        Self {
            source,
            models: source.models(),
            backends: Vec::new(),
            suites: Vec::new(),
            tasks: Vec::new(),
            model: None,
            compare: None,
            backend: None,
            suite: None,
            custom: Vec::new(),
            batch_size: None,
            watchdog: None,
            custom_timeout: None,
            history: Vec::new(),
            current: Step::Model,
        }
    }

    /// The step being asked.
    pub fn current(&self) -> Step {
        self.current
    }

    /// Ask until the user confirms, quits or interrupts.
    pub fn run(&mut self, prompter: &mut dyn Prompter) -> Result<WizardOutcome, TuiError> {
        loop {
            let transition = match self.ask(prompter) {
                Ok(t) => t,
                Err(PromptError::Back) => Transition::Back,
                Err(PromptError::Interrupted) => return Ok(WizardOutcome::Interrupted),
                Err(PromptError::Failed(why)) => return Err(TuiError::Prompt(why)),
            };
            match transition {
                Transition::Next(step) => {
                    self.history.push(self.current);
                    self.current = step;
                }
                Transition::Again => {}
                Transition::Back => match self.history.pop() {
                    Some(step) => self.current = step,
                    None => return Ok(WizardOutcome::Cancelled),
                },
                Transition::Done(outcome) => return Ok(outcome),
            }
        }
    }

    fn ask(&mut self, p: &mut dyn Prompter) -> Result<Transition, PromptError> {
        match self.current {
            Step::Model => self.ask_model(p),
            Step::Compare => self.ask_compare(p),
            Step::Backend => self.ask_backend(p),
            Step::Suite => self.ask_suite(p),
            Step::CustomTasks => self.ask_custom_tasks(p),
            Step::BatchSize => self.ask_batch_size(p),
            Step::Watchdog => self.ask_watchdog(p),
            Step::WatchdogCustom => self.ask_watchdog_custom(p),
            Step::Confirm => self.ask_confirm(p),
        }
    }

    fn chosen_model(&self) -> Option<&ModelChoice> {
        self.model.and_then(|i| self.models.get(i))
    }

    fn chosen_backend(&self) -> Option<&BackendChoice> {
        let id = self.backend.as_deref()?;
        self.backends.iter().find(|b| b.id == id)
    }

    fn ask_model(&mut self, p: &mut dyn Prompter) -> Result<Transition, PromptError> {
        if self.models.is_empty() {
            let prompt = SelectPrompt {
                message: "No trained models found under outputs/. What now?".into(),
                items: vec!["Create the demo model (sparkbench demo)".into(), "Quit".into()],
                default: 0,
                help: Some("a model counts when it has lora/adapter_config.json, merged_16bit/config.json, merged_4bit/config.json or gguf/*.gguf".into()),
            };
            return Ok(match p.select(&prompt)? {
                0 => Transition::Done(WizardOutcome::CreateDemo),
                _ => Transition::Done(WizardOutcome::Cancelled),
            });
        }
        let prompt = SelectPrompt {
            message: "Model to benchmark".into(),
            items: self.models.iter().map(model_label).collect(),
            default: self.model.unwrap_or(0).min(self.models.len() - 1),
            help: Some("↑↓ move, Enter choose, type to filter, Esc quit".into()),
        };
        let index = p.select(&prompt)?;
        let Some(model) = self.models.get(index) else {
            return Ok(Transition::Again);
        };
        let model = model.clone();
        self.model = Some(index);
        self.backends = self.source.backends(&model);
        if model.base.is_some() {
            Ok(Transition::Next(Step::Compare))
        } else {
            self.compare = Some(false);
            p.notice(&format!(
                "No base model detected for {}: comparison skipped (set INFERENCE_BASE_MODEL to compare).",
                model.name
            ));
            Ok(Transition::Next(Step::Backend))
        }
    }

    fn ask_compare(&mut self, p: &mut dyn Prompter) -> Result<Transition, PromptError> {
        let Some(base) = self.chosen_model().and_then(|m| m.base.clone()) else {
            self.compare = Some(false);
            return Ok(Transition::Next(Step::Backend));
        };
        let mut help = String::new();
        if let Some(source) = &base.source {
            help.push_str(&format!("detected from {source}; "));
        }
        help.push_str(if base.reusable_result {
            "a base result with the same settings exists and will be reused"
        } else {
            "the base is benchmarked once and reused by later fine-tunes"
        });
        let prompt = ConfirmPrompt {
            message: format!("Compare with the base model {}?", base.name),
            default: self.compare.unwrap_or(true),
            help: Some(help),
        };
        self.compare = Some(p.confirm(&prompt)?);
        Ok(Transition::Next(Step::Backend))
    }

    fn ask_backend(&mut self, p: &mut dyn Prompter) -> Result<Transition, PromptError> {
        if self.backends.is_empty() {
            p.notice("No backend is available for this model. Esc goes back.");
            return Ok(Transition::Back);
        }
        let previous = self.backend.as_deref().and_then(|id| {
            self.backends
                .iter()
                .position(|b| b.id == id && b.usable.is_ok())
        });
        let first_usable = self.backends.iter().position(|b| b.usable.is_ok());
        let prompt = SelectPrompt {
            message: "Backend".into(),
            items: self.backends.iter().map(backend_label).collect(),
            default: previous.or(first_usable).unwrap_or(0),
            help: Some("unavailable backends show why; Esc goes back".into()),
        };
        let index = p.select(&prompt)?;
        let Some(backend) = self.backends.get(index) else {
            return Ok(Transition::Again);
        };
        if let Err(reason) = &backend.usable {
            p.notice(&format!(
                "{} is not available: {reason}. Pick another backend, or Esc to go back.",
                backend.label
            ));
            return Ok(Transition::Again);
        }
        let backend = backend.clone();
        if self.backend.as_deref() != Some(backend.id.as_str()) {
            self.batch_size = None;
        }
        self.backend = Some(backend.id.clone());
        if let Some(model) = self.chosen_model() {
            self.suites = self.source.suites(model, &backend);
        }
        Ok(Transition::Next(Step::Suite))
    }

    fn ask_suite(&mut self, p: &mut dyn Prompter) -> Result<Transition, PromptError> {
        let mut items: Vec<String> = self.suites.iter().map(suite_label).collect();
        items.push("Custom (pick tasks)".into());
        let default = match &self.suite {
            Some(SuitePick::Listed(name)) => self
                .suites
                .iter()
                .position(|s| &s.name == name)
                .unwrap_or(0),
            Some(SuitePick::Custom) => self.suites.len(),
            None => 0,
        };
        let prompt = SelectPrompt {
            message: "Suite".into(),
            items,
            default,
            help: Some("estimates come from this machine's past runs; Esc goes back".into()),
        };
        let index = p.select(&prompt)?;
        if let Some(suite) = self.suites.get(index) {
            self.suite = Some(SuitePick::Listed(suite.name.clone()));
            Ok(Transition::Next(Step::BatchSize))
        } else {
            self.suite = Some(SuitePick::Custom);
            Ok(Transition::Next(Step::CustomTasks))
        }
    }

    fn ask_custom_tasks(&mut self, p: &mut dyn Prompter) -> Result<Transition, PromptError> {
        if self.tasks.is_empty() {
            self.tasks = self.source.tasks();
        }
        if self.tasks.is_empty() {
            p.notice("No tasks are known. Esc goes back.");
            return Ok(Transition::Back);
        }
        let prompt = MultiSelectPrompt {
            message: "Tasks".into(),
            items: self.tasks.iter().map(task_label).collect(),
            defaults: self
                .tasks
                .iter()
                .enumerate()
                .filter(|(_, t)| self.custom.contains(&t.name))
                .map(|(i, _)| i)
                .collect(),
            help: Some("Space selects, Enter confirms, type to filter, Esc goes back".into()),
        };
        let picked: Vec<String> = p
            .multi_select(&prompt)?
            .into_iter()
            .filter_map(|i| self.tasks.get(i))
            .map(|t| t.name.clone())
            .collect();
        if picked.is_empty() {
            p.notice("Pick at least one task (Space selects, Enter confirms).");
            return Ok(Transition::Again);
        }
        self.custom = picked;
        Ok(Transition::Next(Step::BatchSize))
    }

    fn ask_batch_size(&mut self, p: &mut dyn Prompter) -> Result<Transition, PromptError> {
        let suggested = match (self.chosen_model(), self.chosen_backend()) {
            (Some(m), Some(b)) => self.source.suggested_batch_size(m, b).max(1),
            _ => 1,
        };
        let prompt = TextPrompt {
            message: "Batch size".into(),
            default: Some(self.batch_size.unwrap_or(suggested).to_string()),
            help: Some(format!(
                "any positive whole number; {suggested} suits this model and the free memory"
            )),
            validate: Some(check_batch_size),
        };
        let text = p.text(&prompt)?;
        match parse_batch_size(&text) {
            Ok(n) => {
                self.batch_size = Some(n);
                Ok(Transition::Next(Step::Watchdog))
            }
            Err(why) => {
                p.notice(&why);
                Ok(Transition::Again)
            }
        }
    }

    fn ask_watchdog(&mut self, p: &mut dyn Prompter) -> Result<Transition, PromptError> {
        let mut items = vec!["Off".to_string()];
        items.extend(WATCHDOG_PRESETS.iter().map(|m| format!("{m} minutes")));
        items.push("Custom…".into());
        let default = match self.watchdog {
            None | Some(WatchdogPick::Off) => 0,
            Some(WatchdogPick::Preset(m)) => WATCHDOG_PRESETS
                .iter()
                .position(|&p| p == m)
                .map_or(0, |i| i + 1),
            Some(WatchdogPick::Custom) => WATCHDOG_PRESETS.len() + 1,
        };
        let prompt = SelectPrompt {
            message: "Watchdog: end the run after how long without progress?".into(),
            items,
            default,
            help: Some("partial results are kept either way; Esc goes back".into()),
        };
        let index = p.select(&prompt)?;
        let pick = match index {
            0 => WatchdogPick::Off,
            i if i <= WATCHDOG_PRESETS.len() => WatchdogPick::Preset(WATCHDOG_PRESETS[i - 1]),
            _ => WatchdogPick::Custom,
        };
        self.watchdog = Some(pick);
        Ok(Transition::Next(if pick == WatchdogPick::Custom {
            Step::WatchdogCustom
        } else {
            Step::Confirm
        }))
    }

    fn ask_watchdog_custom(&mut self, p: &mut dyn Prompter) -> Result<Transition, PromptError> {
        let prompt = TextPrompt {
            message: "Timeout".into(),
            default: Some(
                self.custom_timeout
                    .as_ref()
                    .map_or_else(|| "45m".to_string(), |(t, _)| t.clone()),
            ),
            help: Some("e.g. 30min, 10m, 600s, 600, 1h".into()),
            validate: None,
        };
        let text = p.text(&prompt)?;
        match self.source.parse_timeout(text.trim()) {
            Ok(d) if d.is_zero() => {
                p.notice(
                    "The timeout must be longer than zero; choose Off to run without a watchdog.",
                );
                Ok(Transition::Again)
            }
            Ok(d) => {
                self.custom_timeout = Some((text.trim().to_string(), d));
                Ok(Transition::Next(Step::Confirm))
            }
            Err(why) => {
                p.notice(&format!("{why} (examples: 30min, 10m, 600s, 600, 1h)"));
                Ok(Transition::Again)
            }
        }
    }

    /// The answers so far, when every step has one.
    fn answers(&self) -> Option<WizardAnswers> {
        let model = self.chosen_model()?.clone();
        let backend = self.chosen_backend()?.clone();
        let (suite, tasks) = match self.suite.as_ref()? {
            SuitePick::Listed(name) => {
                let s = self.suites.iter().find(|s| &s.name == name)?;
                (Some(s.name.clone()), s.tasks.clone())
            }
            SuitePick::Custom => (None, self.custom.clone()),
        };
        let timeout = match self.watchdog? {
            WatchdogPick::Off => None,
            WatchdogPick::Preset(m) => Some(Duration::from_secs(m * 60)),
            WatchdogPick::Custom => Some(self.custom_timeout.as_ref()?.1),
        };
        Some(WizardAnswers {
            compare_base: self.compare.unwrap_or(false) && model.base.is_some(),
            model,
            backend,
            suite,
            tasks,
            batch_size: self.batch_size?,
            timeout,
        })
    }

    fn ask_confirm(&mut self, p: &mut dyn Prompter) -> Result<Transition, PromptError> {
        let Some(answers) = self.answers() else {
            // Unreachable through the steps; start over rather than run something half-chosen.
            self.history.clear();
            self.current = Step::Model;
            return Ok(Transition::Again);
        };
        let summary = Summary::new(&answers, self.source.output_paths(&answers));
        p.summary(&summary);
        let prompt = SelectPrompt {
            message: "Start the benchmark?".into(),
            items: vec![
                "Start".into(),
                "Go back and change something".into(),
                "Quit".into(),
            ],
            default: 0,
            help: None,
        };
        Ok(match p.select(&prompt)? {
            0 => Transition::Done(WizardOutcome::Run(answers)),
            1 => Transition::Back,
            _ => Transition::Done(WizardOutcome::Cancelled),
        })
    }
}

fn model_label(m: &ModelChoice) -> String {
    let mut label = m.name.clone();
    if !m.formats.is_empty() {
        label.push_str(&format!(" · {}", m.formats.join(", ")));
    }
    label.push_str(&format!(" · {}", format::bytes(m.size_bytes)));
    match &m.last_benchmark {
        Some(last) => label.push_str(&format!(" · last {}: {}", last.date, last.headline)),
        None => label.push_str(" · never benchmarked"),
    }
    label
}

fn backend_label(b: &BackendChoice) -> String {
    match &b.usable {
        Ok(()) => b.label.clone(),
        Err(reason) => format!("{} (unavailable: {reason})", b.label),
    }
}

fn suite_label(s: &SuiteChoice) -> String {
    match s.estimate {
        Some(d) => format!("{} · ~{}", s.label, format::duration(d)),
        None => s.label.clone(),
    }
}

fn task_label(t: &TaskChoice) -> String {
    match &t.description {
        Some(d) => format!("{} · {d}", t.name),
        None => t.name.clone(),
    }
}
