//! [`ChatTemplateRenderer`]: renders a Hugging Face chat template with minijinja the way
//! transformers' `apply_chat_template(..., tokenize=False)` does: `trim_blocks` and
//! `lstrip_blocks` on, Python string methods (minijinja-contrib's pycompat), the helpers
//! `raise_exception`, `strftime_now` and a `tojson` that writes Python's `json.dumps`, the
//! special tokens as variables, and `continue_final_message` cutting after the last message.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::{Kwargs, Serde, Value};
use minijinja::{Environment, Error, ErrorKind};
use sparkbench_protocol::{ChatMessage, ChatTemplate, ChatTemplateError};

use crate::config::TokenizerConfig;
use crate::pyjson::{DumpOptions, dumps};
use crate::pystr;

const TEMPLATE_NAME: &str = "chat_template";

/// The special-token variables transformers passes to a chat template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateTokens {
    /// `bos_token`.
    pub bos_token: Option<String>,
    /// `eos_token`.
    pub eos_token: Option<String>,
    /// `pad_token`.
    pub pad_token: Option<String>,
    /// `unk_token`.
    pub unk_token: Option<String>,
    /// `additional_special_tokens`.
    pub additional_special_tokens: Vec<String>,
}

/// A compiled chat template. Cheap to clone.
#[derive(Clone)]
pub struct ChatTemplateRenderer {
    source: Arc<str>,
    tokens: Arc<TemplateTokens>,
    /// The compiled environment, or the compile error (reported on render).
    env: Result<Arc<Environment<'static>>, String>,
}

impl std::fmt::Debug for ChatTemplateRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplateRenderer")
            .field("source_len", &self.source.len())
            .field("tokens", &self.tokens)
            .field("compiled", &self.env.is_ok())
            .finish()
    }
}

impl ChatTemplateRenderer {
    /// Compiles `source`. A syntax error is kept and returned by every render as
    /// [`ChatTemplateError::Render`].
    pub fn from_source(source: impl Into<String>, tokens: TemplateTokens) -> Self {
        let source: String = source.into();
        let env = build_env(source.clone())
            .map(Arc::new)
            .map_err(|e| describe(&e));
        Self {
            source: Arc::from(source),
            tokens: Arc::new(tokens),
            env,
        }
    }

    /// The renderer for a tokenizer folder: its special tokens come from `config`, with BOS/EOS
    /// as resolved by the tokenizer.
    pub(crate) fn new(
        source: String,
        config: &TokenizerConfig,
        bos: Option<String>,
        eos: Option<String>,
    ) -> Self {
        Self::from_source(
            source,
            TemplateTokens {
                bos_token: bos,
                eos_token: eos,
                pad_token: config.pad_token.clone(),
                unk_token: config.unk_token.clone(),
                additional_special_tokens: config.additional_special_tokens.clone(),
            },
        )
    }

    /// The template text.
    pub fn template_source(&self) -> &str {
        &self.source
    }

    /// Renders `messages` with extra template variables (`chat_template_args` such as
    /// `enable_thinking`), as `apply_chat_template(messages, tokenize=False,
    /// add_generation_prompt=..., continue_final_message=..., **extra)`.
    pub fn render_with(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
        continue_final_message: bool,
        extra: &BTreeMap<String, serde_json::Value>,
    ) -> Result<String, ChatTemplateError> {
        if add_generation_prompt && continue_final_message {
            return Err(ChatTemplateError::Render(
                "continue_final_message and add_generation_prompt are not compatible: use continue_final_message to continue the last (assistant) message, add_generation_prompt to start a new one".to_owned(),
            ));
        }
        let env = self
            .env
            .as_ref()
            .map_err(|e| ChatTemplateError::Render(e.clone()))?;
        let template = env
            .get_template(TEMPLATE_NAME)
            .map_err(|e| ChatTemplateError::Render(describe(&e)))?;

        let mut ctx: BTreeMap<String, Value> = BTreeMap::new();
        for (k, v) in extra {
            ctx.insert(k.clone(), Value::from(Serde(v)));
        }
        ctx.insert("messages".to_owned(), Value::from(Serde(messages)));
        ctx.insert("tools".to_owned(), Value::from(()));
        ctx.insert("documents".to_owned(), Value::from(()));
        ctx.insert(
            "add_generation_prompt".to_owned(),
            Value::from(add_generation_prompt),
        );
        let t = &self.tokens;
        for (name, value) in [
            ("bos_token", &t.bos_token),
            ("eos_token", &t.eos_token),
            ("pad_token", &t.pad_token),
            ("unk_token", &t.unk_token),
        ] {
            if let Some(v) = value {
                ctx.insert(name.to_owned(), Value::from(v.as_str()));
            }
        }
        if !t.additional_special_tokens.is_empty() {
            ctx.insert(
                "additional_special_tokens".to_owned(),
                Value::from(Serde(&t.additional_special_tokens)),
            );
        }
        let rendered = template
            .render(Value::from(Serde(&ctx)))
            .map_err(|e| ChatTemplateError::Render(describe(&e)))?;
        if !continue_final_message {
            return Ok(rendered);
        }
        let Some(last) = messages.last() else {
            return Err(ChatTemplateError::Render(
                "continue_final_message needs at least one message".to_owned(),
            ));
        };
        cut_after_final_message(&rendered, &last.content)
    }
}

impl ChatTemplate for ChatTemplateRenderer {
    fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
        continue_final_message: bool,
    ) -> Result<String, ChatTemplateError> {
        self.render_with(
            messages,
            add_generation_prompt,
            continue_final_message,
            &BTreeMap::new(),
        )
    }

    fn source(&self) -> Option<String> {
        Some(self.source.to_string())
    }
}

/// transformers' `continue_final_message`: find the last occurrence of the stripped final
/// message and cut right after it, keeping its leading spacing when the template did.
fn cut_after_final_message(
    rendered: &str,
    final_message: &str,
) -> Result<String, ChatTemplateError> {
    let stripped = pystr::strip(final_message);
    let Some(loc) = rendered.rfind(stripped) else {
        return Err(ChatTemplateError::Render(
            "continue_final_message is set but the final message does not appear in the chat after applying the chat template (the template changes the final message)".to_owned(),
        ));
    };
    let lstripped_len = pystr::lstrip(final_message).len();
    let end = if rendered.get(loc..loc + lstripped_len) == Some(final_message) {
        loc + lstripped_len
    } else {
        loc + stripped.len()
    };
    Ok(rendered[..end].to_owned())
}

/// Error text with minijinja's cause chain (the message of `raise_exception` included).
fn describe(err: &Error) -> String {
    let mut text = match err.kind() {
        ErrorKind::InvalidOperation => err
            .detail()
            .map(str::to_owned)
            .unwrap_or_else(|| err.to_string()),
        _ => err.to_string(),
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn build_env(source: String) -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("raise_exception", raise_exception);
    env.add_function("strftime_now", strftime_now);
    env.add_filter("tojson", tojson);
    env.add_template_owned(TEMPLATE_NAME, source)?;
    Ok(env)
}

fn raise_exception(message: String) -> Result<Value, Error> {
    Err(Error::new(ErrorKind::InvalidOperation, message))
}

fn strftime_now(format: String) -> Result<Value, Error> {
    use std::fmt::Write;
    let mut out = String::new();
    write!(out, "{}", chrono::Local::now().format(&format)).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("strftime_now: invalid format {format:?}"),
        )
    })?;
    Ok(Value::from(out))
}

fn tojson(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let mut opts = DumpOptions::default();
    if let Some(v) = kwargs.get::<Option<bool>>("ensure_ascii")? {
        opts.ensure_ascii = v;
    }
    if let Some(v) = kwargs.get::<Option<usize>>("indent")? {
        opts.indent = Some(v);
    }
    if let Some(v) = kwargs.get::<Option<bool>>("sort_keys")? {
        opts.sort_keys = v;
    }
    if let Some(v) = kwargs.get::<Option<Vec<String>>>("separators")? {
        if let [item, key] = v.as_slice() {
            opts.separators = Some((item.clone(), key.clone()));
        } else {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "tojson: separators must be a pair of strings",
            ));
        }
    }
    kwargs.assert_all_used()?;
    let json = serde_json::to_value(&value)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("tojson: {e}")))?;
    Ok(Value::from_safe_string(dumps(&json, &opts)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sparkbench_protocol::Role;

    fn renderer(source: &str) -> ChatTemplateRenderer {
        ChatTemplateRenderer::from_source(
            source,
            TemplateTokens {
                bos_token: Some("<s>".to_owned()),
                eos_token: Some("</s>".to_owned()),
                ..TemplateTokens::default()
            },
        )
    }

    const CHATML: &str = "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

    #[test]
    fn chatml_with_generation_prompt() {
        let msgs = [ChatMessage::new(Role::User, "What is 2+2?")];
        let out = renderer(CHATML)
            .render(&msgs, true, false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            out,
            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn continue_final_message_cuts_after_content() {
        let msgs = [
            ChatMessage::new(Role::User, "Hi"),
            ChatMessage::new(Role::Assistant, "The answer is"),
        ];
        let out = renderer(CHATML)
            .render(&msgs, false, true)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            out,
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nThe answer is"
        );
        // Trailing spaces the template keeps are kept; the cut is after the lstripped message.
        let msgs = [ChatMessage::new(Role::Assistant, "Answer: ")];
        let out = renderer(CHATML)
            .render(&msgs, false, true)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out, "<|im_start|>assistant\nAnswer: ");
        // A template that strips the message: the cut is after the stripped text.
        let strip_tpl = "{% for m in messages %}[{{ m.content | trim }}]{% endfor %}";
        let msgs = [ChatMessage::new(Role::Assistant, "Answer: ")];
        let out = renderer(strip_tpl)
            .render(&msgs, false, true)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out, "[Answer:");
    }

    #[test]
    fn both_flags_are_an_error() {
        let msgs = [ChatMessage::new(Role::User, "Hi")];
        assert!(renderer(CHATML).render(&msgs, true, true).is_err());
    }

    #[test]
    fn raise_exception_is_a_render_error_with_its_message() {
        let tpl = "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}ok";
        let msgs = [ChatMessage::new(Role::System, "Be brief")];
        match renderer(tpl).render(&msgs, true, false) {
            Err(ChatTemplateError::Render(msg)) => {
                assert!(msg.contains("System role not supported"), "{msg}")
            }
            other => panic!("expected a render error, got {other:?}"),
        }
        let msgs = [ChatMessage::new(Role::User, "Hi")];
        assert_eq!(
            renderer(tpl).render(&msgs, true, false).ok().as_deref(),
            Some("ok")
        );
    }

    #[test]
    fn syntax_error_is_reported_on_render() {
        let msgs = [ChatMessage::new(Role::User, "Hi")];
        assert!(matches!(
            renderer("{% for m in messages %}").render(&msgs, true, false),
            Err(ChatTemplateError::Render(_))
        ));
    }

    #[test]
    fn python_string_methods_tokens_and_tojson() {
        let tpl = "{{ bos_token }}{% for m in messages %}{{ m.role.title() }}: {{ m.content.strip().split(' ')|join('_') }}{% if m.content.startswith(' x') %}!{% endif %}\n{% endfor %}{{ {'a': [1, 'é']}|tojson }}{{ tools is none }}";
        let msgs = [ChatMessage::new(Role::User, " x y ")];
        let out = renderer(tpl)
            .render(&msgs, false, false)
            .unwrap_or_else(|e| panic!("{e}"));
        // trim_blocks eats the newline after `{% endif %}`; booleans print as Python's.
        assert_eq!(out, "<s>User: x_y!{\"a\": [1, \"é\"]}True");
    }

    #[test]
    fn trim_and_lstrip_blocks_like_transformers() {
        let tpl = "{% for m in messages %}\n    {% if true %}\n{{ m.content }}\n    {% endif %}\n{% endfor %}\n";
        let msgs = [
            ChatMessage::new(Role::User, "a"),
            ChatMessage::new(Role::User, "b"),
        ];
        let out = renderer(tpl)
            .render(&msgs, false, false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out, "a\nb\n");
    }

    #[test]
    fn constructs_real_templates_use() {
        // System-message handling, namespace, slicing, loop variables and string tests, as in
        // the Qwen2.5 / Llama-3.1 / Gemma templates.
        let tpl = r#"{%- if messages[0]['role'] == 'system' %}{%- set system = messages[0]['content'] %}{%- set rest = messages[1:] %}{%- else %}{%- set system = 'default' %}{%- set rest = messages %}{%- endif %}
{%- set ns = namespace(n=0) %}
<sys>{{ system }}</sys>
{%- for m in rest %}
    {%- set ns.n = ns.n + 1 %}
    {%- if m.content is string and '\n' in m.content %}[multi]{% endif %}
    {{- m.role | upper }}:{{ m.content.split('|')[-1] | trim }}{% if not loop.last %};{% endif %}
{%- endfor %}
#{{ ns.n }}{{ eos_token if add_generation_prompt else '' }}"#;
        let msgs = [
            ChatMessage::new(Role::System, "S"),
            ChatMessage::new(Role::User, "a|b "),
            ChatMessage::new(Role::Assistant, "x\ny"),
        ];
        let out = renderer(tpl)
            .render(&msgs, true, false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out, "<sys>S</sys>USER:b;[multi]ASSISTANT:x\ny#2</s>");
    }

    #[test]
    fn strftime_now_formats_the_date() {
        let out = renderer("{{ strftime_now('%Y') }}")
            .render(&[ChatMessage::new(Role::User, "x")], false, false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.len(), 4);
        assert!(out.chars().all(|c| c.is_ascii_digit()), "{out}");
    }
}
