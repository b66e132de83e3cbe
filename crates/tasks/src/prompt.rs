//! Prompt assembly as lm-eval builds it (spec sections 1.3 and 4.3): the plain-text form
//! `description + sum(q_i + target_delimiter + a_i + fewshot_delimiter) + q`, and the chat form
//! (system message from `--system-instruction` and the description, few-shot examples as
//! user/assistant turns or as one user block, the retry without system messages when the
//! template rejects them).

use sparkbench_protocol::{ChatMessage, ChatTemplate, ChatTemplateError, Role};

use crate::TaskError;

/// One few-shot example: its question text and answer text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shot {
    /// `doc_to_text(shot)` (for multiple-input tasks, the gold choice).
    pub q: String,
    /// The answer text (`choices[target]`, the target string, ...).
    pub a: String,
}

/// The delimiters of a task.
#[derive(Debug, Clone, Copy)]
pub struct Delimiters {
    /// `target_delimiter` (" ").
    pub target: &'static str,
    /// `fewshot_delimiter` ("\n\n").
    pub fewshot: &'static str,
}

/// The default delimiters.
pub const DEFAULT_DELIMITERS: Delimiters = Delimiters {
    target: " ",
    fewshot: "\n\n",
};

/// The text before the few-shot block: `--system-instruction` joined to the description with
/// the few-shot delimiter unless either side already has whitespace at the join (HEAD).
pub fn system_text(
    system_instruction: Option<&str>,
    description: &str,
    delims: Delimiters,
) -> String {
    match system_instruction {
        None => description.to_string(),
        Some(s) if description.is_empty() => s.to_string(),
        Some(s) => {
            let ends_ws = s.chars().last().is_some_and(crate::python::is_space);
            let starts_ws = description
                .chars()
                .next()
                .is_some_and(crate::python::is_space);
            if ends_ws || starts_ws {
                format!("{s}{description}")
            } else {
                format!("{s}{}{description}", delims.fewshot)
            }
        }
    }
}

/// The few-shot block: each shot as `q + target_delimiter + a + fewshot_delimiter` (a shot
/// with an empty answer contributes only `q`).
pub fn shots_block(shots: &[Shot], delims: Delimiters) -> String {
    let mut out = String::new();
    for shot in shots {
        out.push_str(&shot.q);
        if !shot.a.is_empty() {
            out.push_str(delims.target);
            out.push_str(&shot.a);
            out.push_str(delims.fewshot);
        }
    }
    out
}

/// The plain-text prompt for a final user text `q`.
pub fn plain(system: &str, shots: &[Shot], q: &str, delims: Delimiters) -> String {
    format!("{system}{}{q}", shots_block(shots, delims))
}

/// How chat prompts are built.
pub struct ChatMode<'a> {
    /// The model's template.
    pub template: &'a dyn ChatTemplate,
    /// Few-shot examples as user/assistant turns.
    pub multiturn: bool,
}

/// The chat prompt for a final user text `q`: rendered with the generation prompt; retried
/// without system messages if the template raises an error.
pub fn chat(
    mode: &ChatMode<'_>,
    system: &str,
    shots: &[Shot],
    q: &str,
    delims: Delimiters,
) -> Result<String, TaskError> {
    let mut msgs = Vec::new();
    if !system.is_empty() {
        msgs.push(ChatMessage::new(Role::System, system));
    }
    if mode.multiturn {
        for shot in shots {
            msgs.push(ChatMessage::new(Role::User, shot.q.clone()));
            msgs.push(ChatMessage::new(Role::Assistant, shot.a.clone()));
        }
        msgs.push(ChatMessage::new(Role::User, q));
    } else {
        msgs.push(ChatMessage::new(
            Role::User,
            format!("{}{q}", shots_block(shots, delims)),
        ));
    }
    render_with_retry(mode.template, &msgs)
}

/// `apply_chat_template(msgs, add_generation_prompt=True)`, dropping system messages and
/// rendering again when the template raises (lm-eval's HFLM does this).
pub fn render_with_retry(
    template: &dyn ChatTemplate,
    msgs: &[ChatMessage],
) -> Result<String, TaskError> {
    match template.render(msgs, true, false) {
        Ok(s) => Ok(s),
        Err(ChatTemplateError::Render(first)) if msgs.iter().any(|m| m.role == Role::System) => {
            let without: Vec<ChatMessage> = msgs
                .iter()
                .filter(|m| m.role != Role::System)
                .cloned()
                .collect();
            template.render(&without, true, false).map_err(|e| match e {
                ChatTemplateError::Render(second) => TaskError::Chat(ChatTemplateError::Render(
                    format!("{second} (also failed with the system message: {first})"),
                )),
                other => TaskError::Chat(other),
            })
        }
        Err(e) => Err(TaskError::Chat(e)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A transparent template for tests: `<role>content</role>` per message, then
    /// `<assistant>` when a generation prompt is asked for. Rejects system messages when
    /// `no_system` is set, as some real templates do.
    pub struct TagTemplate {
        pub no_system: bool,
    }

    impl ChatTemplate for TagTemplate {
        fn render(
            &self,
            messages: &[ChatMessage],
            add_generation_prompt: bool,
            _c: bool,
        ) -> Result<String, ChatTemplateError> {
            let mut out = String::new();
            for m in messages {
                let role = match m.role {
                    Role::System if self.no_system => {
                        return Err(ChatTemplateError::Render(
                            "System role not supported".into(),
                        ));
                    }
                    Role::System => "system",
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                out.push_str(&format!("<{role}>{}</{role}>", m.content));
            }
            if add_generation_prompt {
                out.push_str("<assistant>");
            }
            Ok(out)
        }
        fn source(&self) -> Option<String> {
            None
        }
    }

    fn shots() -> Vec<Shot> {
        vec![
            Shot {
                q: "Q1".into(),
                a: "A1".into(),
            },
            Shot {
                q: "Q2".into(),
                a: "A2".into(),
            },
        ]
    }

    #[test]
    fn plain_prompt_layout() {
        let p = plain("Desc\n\n", &shots(), "Q3", DEFAULT_DELIMITERS);
        assert_eq!(p, "Desc\n\nQ1 A1\n\nQ2 A2\n\nQ3");
    }

    #[test]
    fn system_instruction_join_rule() {
        assert_eq!(
            system_text(Some("Be brief."), "Desc", DEFAULT_DELIMITERS),
            "Be brief.\n\nDesc"
        );
        assert_eq!(
            system_text(Some("Be brief.\n"), "Desc", DEFAULT_DELIMITERS),
            "Be brief.\nDesc"
        );
        assert_eq!(system_text(Some("S"), "", DEFAULT_DELIMITERS), "S");
        assert_eq!(system_text(None, "D", DEFAULT_DELIMITERS), "D");
    }

    #[test]
    fn chat_multiturn_and_single_turn() {
        let t = TagTemplate { no_system: false };
        let mode = ChatMode {
            template: &t,
            multiturn: true,
        };
        let p = chat(&mode, "Sys", &shots(), "Q3", DEFAULT_DELIMITERS).expect("render");
        assert_eq!(
            p,
            "<system>Sys</system><user>Q1</user><assistant>A1</assistant><user>Q2</user><assistant>A2</assistant><user>Q3</user><assistant>"
        );
        let mode = ChatMode {
            template: &t,
            multiturn: false,
        };
        let p = chat(&mode, "", &shots(), "Q3", DEFAULT_DELIMITERS).expect("render");
        assert_eq!(p, "<user>Q1 A1\n\nQ2 A2\n\nQ3</user><assistant>");
    }

    #[test]
    fn system_rejected_is_retried_without_it() {
        let t = TagTemplate { no_system: true };
        let mode = ChatMode {
            template: &t,
            multiturn: true,
        };
        let p = chat(&mode, "Sys", &[], "Q", DEFAULT_DELIMITERS).expect("render");
        assert_eq!(p, "<user>Q</user><assistant>");
    }
}
