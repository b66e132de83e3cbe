//! Chat messages and the renderer tasks use for `--apply-chat-template`.
//!
//! Tasks never see a model, but lm-eval's chat mode builds prompts by rendering the model's chat
//! template. The engine hands tasks a `&dyn ChatTemplate` that the backend provides.

use serde::{Deserialize, Serialize};

/// Who says a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The system prompt (lm-eval's description and `--system-instruction`).
    System,
    /// The user turn.
    User,
    /// The assistant turn.
    Assistant,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// The speaker.
    pub role: Role,
    /// The text.
    pub content: String,
}

impl ChatMessage {
    /// A message from `role` with `content`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// Why a chat template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatTemplateError {
    /// The model has no chat template.
    #[error(
        "the model has no chat template (tokenizer_config.json has no `chat_template`); run without --apply-chat-template"
    )]
    Missing,
    /// The template raised an error (for example "system role not supported"). lm-eval retries
    /// without system messages in that case, and so do callers.
    #[error("chat template error: {0}")]
    Render(String),
}

/// Renders a conversation with the model's chat template, as
/// `tokenizer.apply_chat_template(messages, tokenize=False, ...)` does.
pub trait ChatTemplate {
    /// Render `messages`. `add_generation_prompt` appends the assistant header;
    /// `continue_final_message` leaves the last (assistant) message open.
    fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
        continue_final_message: bool,
    ) -> Result<String, ChatTemplateError>;

    /// The template source, recorded in results files (`chat_template`, `chat_template_sha`).
    fn source(&self) -> Option<String>;
}
