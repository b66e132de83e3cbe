//! The [`Prompter`] trait: the four kinds of question the wizard asks, behind a trait so the
//! step logic runs in tests without a terminal. [`crate::wizard::InquirePrompter`] is the real one.

use crate::wizard::summary::Summary;

/// Why a prompt returned no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptError {
    /// Esc: go back one step.
    Back,
    /// Ctrl-C: leave the wizard.
    Interrupted,
    /// The prompt could not be shown (no terminal, I/O error).
    Failed(String),
}

/// Pick one item.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectPrompt {
    /// The question.
    pub message: String,
    /// The items, in order.
    pub items: Vec<String>,
    /// The item under the cursor at the start.
    pub default: usize,
    /// A line of help under the list.
    pub help: Option<String>,
}

/// Pick any number of items.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiSelectPrompt {
    /// The question.
    pub message: String,
    /// The items, in order.
    pub items: Vec<String>,
    /// Items selected at the start.
    pub defaults: Vec<usize>,
    /// A line of help under the list.
    pub help: Option<String>,
}

/// Yes or no.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmPrompt {
    /// The question.
    pub message: String,
    /// The answer on plain Enter.
    pub default: bool,
    /// A line of help.
    pub help: Option<String>,
}

/// A check of typed text: Ok, or why not in words.
pub type Check = fn(&str) -> Result<(), String>;

/// A line of text.
#[derive(Debug, Clone)]
pub struct TextPrompt {
    /// The question.
    pub message: String,
    /// The answer on plain Enter.
    pub default: Option<String>,
    /// A line of help.
    pub help: Option<String>,
    /// A check the prompt may run while the user types (the wizard checks again afterwards).
    pub validate: Option<Check>,
}

/// Asks the wizard's questions.
pub trait Prompter {
    /// Pick one item; returns its index.
    fn select(&mut self, prompt: &SelectPrompt) -> Result<usize, PromptError>;
    /// Pick items; returns their indexes in order.
    fn multi_select(&mut self, prompt: &MultiSelectPrompt) -> Result<Vec<usize>, PromptError>;
    /// Yes or no.
    fn confirm(&mut self, prompt: &ConfirmPrompt) -> Result<bool, PromptError>;
    /// A line of text (the default when the user just presses Enter).
    fn text(&mut self, prompt: &TextPrompt) -> Result<String, PromptError>;
    /// Tell the user something (a refused choice, a bad value, a skipped step).
    fn notice(&mut self, text: &str);
    /// Show the confirmation summary.
    fn summary(&mut self, summary: &Summary);
}
