//! The confirmation summary shown before a run starts: the choices, the real output paths, and
//! notes such as tasks the backend cannot score. One source of lines, drawn two ways: plain text
//! for the wizard's terminal, a ratatui widget for snapshots.

use std::path::PathBuf;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::format;
use crate::theme::Theme;
use crate::wizard::answers::WizardAnswers;

/// What the confirmation step shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Label and value of each choice.
    pub choices: Vec<(String, String)>,
    /// Label and path of each output.
    pub outputs: Vec<(String, PathBuf)>,
    /// Things to know before starting.
    pub notes: Vec<String>,
}

impl Summary {
    /// The summary of these answers with these output paths.
    pub fn new(answers: &WizardAnswers, outputs: Vec<(String, PathBuf)>) -> Self {
        let model = &answers.model;
        let mut choices = vec![(
            "Model".to_string(),
            format!("{} ({})", model.name, model.path.display()),
        )];
        let base = match (&model.base, answers.compare_base) {
            (Some(base), true) if base.reusable_result => {
                format!("{} (existing result reused)", base.name)
            }
            (Some(base), true) => format!("{} (benchmarked once, then reused)", base.name),
            (Some(base), false) => format!("no comparison ({} detected)", base.name),
            (None, _) => "no comparison (no base model detected)".to_string(),
        };
        choices.push(("Base".into(), base));
        choices.push(("Backend".into(), answers.backend.label.clone()));
        let suite = match &answers.suite {
            Some(name) => format!("{name}: {}", answers.tasks.join(", ")),
            None => format!("custom: {}", answers.tasks.join(", ")),
        };
        choices.push(("Tasks".into(), suite));
        choices.push(("Batch size".into(), answers.batch_size.to_string()));
        let watchdog = match answers.timeout {
            Some(t) => format!("end the run after {} without progress", format::duration(t)),
            None => "off".to_string(),
        };
        choices.push(("Watchdog".into(), watchdog));
        let skipped: Vec<&str> = answers
            .tasks
            .iter()
            .filter(|t| answers.backend.unsupported_tasks.contains(t))
            .map(String::as_str)
            .collect();
        let mut notes = Vec::new();
        if !skipped.is_empty() {
            notes.push(format!(
                "{} cannot score {}; these tasks will be skipped",
                answers.backend.label,
                skipped.join(", ")
            ));
        }
        Self {
            choices,
            outputs,
            notes,
        }
    }

    /// The summary as styled lines.
    pub fn lines(&self, theme: Theme) -> Vec<Line<'static>> {
        let width = self
            .choices
            .iter()
            .map(|(k, _)| k.chars().count())
            .chain(self.outputs.iter().map(|(k, _)| k.chars().count()))
            .max()
            .unwrap_or(0);
        let row = |k: &str, v: String| {
            Line::from(vec![
                Span::styled(format!("  {k:<width$}  "), theme.dim()),
                Span::styled(v, theme.text()),
            ])
        };
        let mut lines = vec![Line::styled("Benchmark summary", theme.title())];
        lines.extend(self.choices.iter().map(|(k, v)| row(k, v.clone())));
        if !self.outputs.is_empty() {
            lines.push(Line::styled("Output", theme.title()));
            lines.extend(
                self.outputs
                    .iter()
                    .map(|(k, p)| row(k, p.display().to_string())),
            );
        }
        for note in &self.notes {
            lines.push(Line::styled(format!("! {note}"), theme.warn()));
        }
        lines
    }

    /// The summary as plain text, one line each.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for line in self.lines(Theme::plain()) {
            for span in &line.spans {
                out.push_str(&span.content);
            }
            out.push('\n');
        }
        out
    }

    /// Draw the summary in `area`.
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let widget = Paragraph::new(self.lines(theme))
            .wrap(Wrap { trim: false })
            .block(Block::bordered().border_style(theme.border()));
        frame.render_widget(widget, area);
    }
}
