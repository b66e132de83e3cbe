//! [`InquirePrompter`]: the wizard's questions asked with inquire on the real terminal.
//!
//! Esc (inquire's `OperationCanceled`) becomes [`PromptError::Back`], Ctrl-C
//! (`OperationInterrupted`) becomes [`PromptError::Interrupted`]. Lists use plain arrow keys and
//! Enter, so a tmux `send-keys` script can drive them.

use inquire::error::InquireError;
use inquire::validator::Validation;
use inquire::{Confirm, MultiSelect, Select, Text};

use crate::wizard::prompt::{
    ConfirmPrompt, MultiSelectPrompt, PromptError, Prompter, SelectPrompt, TextPrompt,
};
use crate::wizard::summary::Summary;

/// Asks on the terminal with inquire (which draws on stderr).
#[derive(Debug, Default)]
pub struct InquirePrompter;

fn map_error(e: InquireError) -> PromptError {
    match e {
        InquireError::OperationCanceled => PromptError::Back,
        InquireError::OperationInterrupted => PromptError::Interrupted,
        InquireError::NotTTY => {
            PromptError::Failed("the wizard needs an interactive terminal".into())
        }
        other => PromptError::Failed(other.to_string()),
    }
}

const PAGE_SIZE: usize = 12;

impl Prompter for InquirePrompter {
    fn select(&mut self, prompt: &SelectPrompt) -> Result<usize, PromptError> {
        let mut select = Select::new(&prompt.message, prompt.items.clone())
            .with_starting_cursor(prompt.default.min(prompt.items.len().saturating_sub(1)))
            .with_page_size(PAGE_SIZE);
        if let Some(help) = &prompt.help {
            select = select.with_help_message(help);
        }
        select.raw_prompt().map(|o| o.index).map_err(map_error)
    }

    fn multi_select(&mut self, prompt: &MultiSelectPrompt) -> Result<Vec<usize>, PromptError> {
        let mut select = MultiSelect::new(&prompt.message, prompt.items.clone())
            .with_default(&prompt.defaults)
            .with_page_size(PAGE_SIZE);
        if let Some(help) = &prompt.help {
            select = select.with_help_message(help);
        }
        select
            .raw_prompt()
            .map(|v| v.into_iter().map(|o| o.index).collect())
            .map_err(map_error)
    }

    fn confirm(&mut self, prompt: &ConfirmPrompt) -> Result<bool, PromptError> {
        let mut confirm = Confirm::new(&prompt.message).with_default(prompt.default);
        if let Some(help) = &prompt.help {
            confirm = confirm.with_help_message(help);
        }
        confirm.prompt().map_err(map_error)
    }

    fn text(&mut self, prompt: &TextPrompt) -> Result<String, PromptError> {
        let mut text = Text::new(&prompt.message);
        if let Some(default) = &prompt.default {
            text = text.with_default(default);
        }
        if let Some(help) = &prompt.help {
            text = text.with_help_message(help);
        }
        if let Some(check) = prompt.validate {
            text = text.with_validator(move |input: &str| {
                Ok(match check(input) {
                    Ok(()) => Validation::Valid,
                    Err(why) => Validation::Invalid(why.into()),
                })
            });
        }
        text.prompt().map_err(map_error)
    }

    fn notice(&mut self, text: &str) {
        eprintln!("! {text}");
    }

    fn summary(&mut self, summary: &Summary) {
        eprintln!();
        eprint!("{}", summary.text());
        eprintln!();
    }
}
