//! A ChatML chat template (`<|im_start|>role\ncontent<|im_end|>\n`), so chat-mode runs work
//! with the scripted model.

use sparkbench_protocol::{ChatMessage, ChatTemplate, ChatTemplateError, Role};

/// The Jinja source of the template, as a tokenizer_config.json would hold it; recorded in
/// results files.
pub const CHATML_TEMPLATE: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/// Renders conversations in ChatML.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChatMl;

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

impl ChatTemplate for ChatMl {
    fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
        continue_final_message: bool,
    ) -> Result<String, ChatTemplateError> {
        if continue_final_message && add_generation_prompt {
            return Err(ChatTemplateError::Render(
                "continue_final_message and add_generation_prompt cannot both be set".into(),
            ));
        }
        let mut out = String::new();
        for (i, m) in messages.iter().enumerate() {
            out.push_str("<|im_start|>");
            out.push_str(role_name(m.role));
            out.push('\n');
            out.push_str(&m.content);
            let open = continue_final_message && i + 1 == messages.len();
            if !open {
                out.push_str("<|im_end|>\n");
            }
        }
        if add_generation_prompt {
            out.push_str("<|im_start|>assistant\n");
        }
        Ok(out)
    }

    fn source(&self) -> Option<String> {
        Some(CHATML_TEMPLATE.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_chatml_with_generation_prompt() {
        let msgs = [
            ChatMessage::new(Role::System, "Be brief."),
            ChatMessage::new(Role::User, "Hi"),
        ];
        let text = ChatMl.render(&msgs, true, false).expect("render");
        assert_eq!(
            text,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn continue_final_message_leaves_it_open() {
        let msgs = [
            ChatMessage::new(Role::User, "Q"),
            ChatMessage::new(Role::Assistant, "A:"),
        ];
        let text = ChatMl.render(&msgs, false, true).expect("render");
        assert_eq!(
            text,
            "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nA:"
        );
        assert!(ChatMl.render(&msgs, true, true).is_err());
    }
}
