//! The inquire wizard: model, compare with base, backend, suite (or custom tasks), batch size,
//! watchdog, confirmation. [`steps`] holds the state machine, [`prompt`] the trait it asks
//! through, [`terminal`] the inquire implementation, [`summary`] the confirmation text.

pub mod answers;
pub mod prompt;
pub mod steps;
pub mod summary;
pub mod terminal;

use std::io::IsTerminal;

pub use answers::{WizardAnswers, WizardOutcome, WizardSource};
pub use prompt::{
    ConfirmPrompt, MultiSelectPrompt, PromptError, Prompter, SelectPrompt, TextPrompt,
};
pub use steps::{Step, Wizard, parse_batch_size};
pub use summary::Summary;
pub use terminal::InquirePrompter;

use crate::error::TuiError;

/// Run the wizard on the terminal. Fails with [`TuiError::NotATerminal`] when stdin or stderr
/// is not a terminal (the CLI then asks for flags).
pub fn run_wizard(source: &dyn WizardSource) -> Result<WizardOutcome, TuiError> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(TuiError::NotATerminal);
    }
    Wizard::new(source).run(&mut InquirePrompter)
}

#[cfg(test)]
mod tests;
