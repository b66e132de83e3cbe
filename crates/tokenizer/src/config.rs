//! What a Hugging Face model folder says about its tokenizer beyond `tokenizer.json`:
//! `tokenizer_config.json` (special tokens, chat template, `clean_up_tokenization_spaces`,
//! `add_bos_token`), `special_tokens_map.json`, a `chat_template.jinja` beside them, and, when the
//! tokenizer files name no BOS/EOS at all, the ids in `config.json` / `generation_config.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::TokenizerError;

/// Name of the template transformers uses when `chat_template` is a list of named templates.
pub const DEFAULT_TEMPLATE_NAME: &str = "default";

/// The tokenizer settings that live outside `tokenizer.json`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenizerConfig {
    /// `bos_token` text (`None` when null or absent).
    pub bos_token: Option<String>,
    /// `eos_token` text.
    pub eos_token: Option<String>,
    /// `pad_token` text.
    pub pad_token: Option<String>,
    /// `unk_token` text.
    pub unk_token: Option<String>,
    /// `additional_special_tokens` texts (passed to chat templates).
    pub additional_special_tokens: Vec<String>,
    /// The chat template `apply_chat_template` uses without a name (the string form, the
    /// `default` entry of the list form, or `chat_template.jinja`).
    pub chat_template: Option<String>,
    /// Every named template of the list form (`name -> source`), `default` included.
    pub named_chat_templates: BTreeMap<String, String>,
    /// `clean_up_tokenization_spaces` (transformers' default when absent: false).
    pub clean_up_tokenization_spaces: bool,
    /// `add_bos_token`, when the file sets it (informational: `tokenizer.json`'s post-processor
    /// decides what `encode` adds, as for `PreTrainedTokenizerFast`).
    pub add_bos_token: Option<bool>,
    /// `add_eos_token`, when the file sets it (informational, as `add_bos_token`).
    pub add_eos_token: Option<bool>,
    /// `model_max_length`, unless it is transformers' "infinity" sentinel.
    pub model_max_length: Option<u64>,
    /// BOS id from `config.json`/`generation_config.json`, used only when no tokenizer file
    /// mentions `bos_token` at all.
    pub fallback_bos_token_id: Option<u32>,
    /// EOS id from `config.json`/`generation_config.json`, used only when no tokenizer file
    /// mentions `eos_token` at all.
    pub fallback_eos_token_id: Option<u32>,
    /// Every EOS id of `generation_config.json` (else `config.json`): generation stops at any.
    pub generation_eos_token_ids: Vec<u32>,
    /// `model_type` of `config.json` (transformers picks the tokenizer class by it).
    pub model_type: Option<String>,
    /// `tokenizer_class` of `tokenizer_config.json`.
    pub tokenizer_class: Option<String>,
}

/// A special-token field: absent, null, or set.
#[derive(Debug, Clone, PartialEq)]
enum Field {
    Absent,
    Null,
    Set(String),
}

impl TokenizerConfig {
    /// Reads the tokenizer settings of the folder `dir`. Every file is optional; a file that
    /// exists but is not valid JSON is an error naming it.
    pub fn from_dir(dir: &Path) -> Result<Self, TokenizerError> {
        let tok_cfg = read_json_object(&dir.join("tokenizer_config.json"))?;
        let map = read_json_object(&dir.join("special_tokens_map.json"))?;
        let model_cfg = read_json_object(&dir.join("config.json"))?;
        let gen_cfg = read_json_object(&dir.join("generation_config.json"))?;
        let tok_path = dir.join("tokenizer_config.json");

        let empty = Map::new();
        let tc = tok_cfg.as_ref().unwrap_or(&empty);
        let sm = map.as_ref().unwrap_or(&empty);

        let special = |key: &str| -> Result<Field, TokenizerError> {
            let from_cfg = special_field(tc, key, &tok_path)?;
            if from_cfg != Field::Absent {
                return Ok(from_cfg);
            }
            special_field(sm, key, &dir.join("special_tokens_map.json"))
        };
        let bos = special("bos_token")?;
        let eos = special("eos_token")?;
        let pad = special("pad_token")?;
        let unk = special("unk_token")?;

        let mut additional = Vec::new();
        let extra = tc
            .get("additional_special_tokens")
            .or_else(|| sm.get("additional_special_tokens"));
        if let Some(Value::Array(items)) = extra {
            for item in items {
                if let Some(text) = token_text(item) {
                    additional.push(text);
                }
            }
        }

        let (mut chat_template, named_chat_templates) = match tc.get("chat_template") {
            None | Some(Value::Null) => (None, BTreeMap::new()),
            Some(value) => parse_chat_template(value, &tok_path)?,
        };
        let jinja_path = dir.join("chat_template.jinja");
        if jinja_path.is_file() {
            chat_template = Some(read_text(&jinja_path)?);
        } else if chat_template.is_none() {
            let json_path = dir.join("chat_template.json");
            if let Some(obj) = read_json_object(&json_path)?
                && let Some(Value::String(s)) = obj.get("chat_template")
            {
                chat_template = Some(s.clone());
            }
        }

        let clean_up_tokenization_spaces = match tc.get("clean_up_tokenization_spaces") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(invalid(
                    &tok_path,
                    format!("`clean_up_tokenization_spaces` must be true or false, found {other}"),
                ));
            }
        };
        let add_bos_token = optional_bool(tc, "add_bos_token", &tok_path)?;
        let add_eos_token = optional_bool(tc, "add_eos_token", &tok_path)?;
        let model_max_length = match tc.get("model_max_length") {
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v < 1_000_000_000_000_000_000 => Some(v),
                _ => None,
            },
            _ => None,
        };

        let model_ids = |key: &str| -> Vec<u32> {
            let from = |obj: &Option<Map<String, Value>>| {
                obj.as_ref().and_then(|o| o.get(key)).map(id_list)
            };
            from(&gen_cfg)
                .filter(|ids| !ids.is_empty())
                .or_else(|| from(&model_cfg))
                .unwrap_or_default()
        };
        let bos_ids = model_ids("bos_token_id");
        let eos_ids = model_ids("eos_token_id");

        Ok(Self {
            fallback_bos_token_id: if bos == Field::Absent {
                bos_ids.first().copied()
            } else {
                None
            },
            fallback_eos_token_id: if eos == Field::Absent {
                eos_ids.first().copied()
            } else {
                None
            },
            bos_token: field_text(bos),
            eos_token: field_text(eos),
            pad_token: field_text(pad),
            unk_token: field_text(unk),
            additional_special_tokens: additional,
            chat_template,
            named_chat_templates,
            clean_up_tokenization_spaces,
            add_bos_token,
            add_eos_token,
            model_max_length,
            generation_eos_token_ids: eos_ids,
            model_type: model_cfg
                .as_ref()
                .and_then(|c| c.get("model_type"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            tokenizer_class: tc
                .get("tokenizer_class")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    /// The chat template called `name` (list form), or the default one for `None`.
    pub fn chat_template_named(&self, name: Option<&str>) -> Option<&str> {
        match name {
            None => self.chat_template.as_deref(),
            Some(n) => self.named_chat_templates.get(n).map(String::as_str),
        }
    }
}

fn field_text(field: Field) -> Option<String> {
    match field {
        Field::Set(s) => Some(s),
        Field::Absent | Field::Null => None,
    }
}

fn invalid(path: &Path, message: String) -> TokenizerError {
    TokenizerError::Invalid {
        path: path.to_path_buf(),
        message,
    }
}

fn read_text(path: &Path) -> Result<String, TokenizerError> {
    std::fs::read_to_string(path).map_err(|source| TokenizerError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a JSON object; `Ok(None)` when the file does not exist.
pub(crate) fn read_json_object(path: &Path) -> Result<Option<Map<String, Value>>, TokenizerError> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = read_text(path)?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(_) => Err(invalid(path, "expected a JSON object".to_owned())),
        Err(e) => Err(invalid(path, format!("not valid JSON: {e}"))),
    }
}

/// A special token is written as a string or as an AddedToken object with `content`.
fn token_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(obj) => obj
            .get("content")
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    }
}

fn special_field(
    obj: &Map<String, Value>,
    key: &str,
    path: &Path,
) -> Result<Field, TokenizerError> {
    match obj.get(key) {
        None => Ok(Field::Absent),
        Some(Value::Null) => Ok(Field::Null),
        Some(value) => token_text(value).map(Field::Set).ok_or_else(|| {
            invalid(
                path,
                format!(
                    "`{key}` must be a string, an object with `content`, or null; found {value}"
                ),
            )
        }),
    }
}

fn optional_bool(
    obj: &Map<String, Value>,
    key: &str,
    path: &Path,
) -> Result<Option<bool>, TokenizerError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(invalid(
            path,
            format!("`{key}` must be true or false, found {other}"),
        )),
    }
}

/// `bos_token_id`/`eos_token_id` are a number, a list of numbers, or null.
fn id_list(value: &Value) -> Vec<u32> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .into_iter()
            .collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_u64().and_then(|v| u32::try_from(v).ok()))
            .collect(),
        _ => Vec::new(),
    }
}

/// `chat_template` is a string, or a list of `{name, template}` objects.
fn parse_chat_template(
    value: &Value,
    path: &Path,
) -> Result<(Option<String>, BTreeMap<String, String>), TokenizerError> {
    match value {
        Value::String(s) => Ok((Some(s.clone()), BTreeMap::new())),
        Value::Array(items) => {
            let mut named = BTreeMap::new();
            for (i, item) in items.iter().enumerate() {
                let name = item.get("name").and_then(Value::as_str);
                let template = item.get("template").and_then(Value::as_str);
                match (name, template) {
                    (Some(n), Some(t)) => {
                        named.insert(n.to_owned(), t.to_owned());
                    }
                    _ => {
                        return Err(invalid(
                            path,
                            format!(
                                "`chat_template[{i}]` must be an object with string fields `name` and `template`"
                            ),
                        ));
                    }
                }
            }
            let default = named.get(DEFAULT_TEMPLATE_NAME).cloned();
            Ok((default, named))
        }
        other => Err(invalid(
            path,
            format!(
                "`chat_template` must be a string or a list of {{name, template}}, found {other}"
            ),
        )),
    }
}

/// The path of `tokenizer.json` in `dir`, or a clear error naming it.
pub(crate) fn tokenizer_json_path(dir: &Path) -> Result<PathBuf, TokenizerError> {
    let path = dir.join("tokenizer.json");
    if path.is_file() {
        Ok(path)
    } else {
        Err(TokenizerError::Missing { path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("write {name}: {e}"));
    }

    #[test]
    fn list_form_chat_template_picks_default() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        write(
            dir.path(),
            "tokenizer_config.json",
            r#"{"chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}],
                "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": null,
                "clean_up_tokenization_spaces": true, "model_max_length": 1000000000000000019884624838656}"#,
        );
        let cfg = TokenizerConfig::from_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cfg.chat_template.as_deref(), Some("D"));
        assert_eq!(cfg.chat_template_named(Some("tool_use")), Some("T"));
        assert_eq!(cfg.bos_token.as_deref(), Some("<s>"));
        assert_eq!(cfg.eos_token, None);
        assert!(cfg.clean_up_tokenization_spaces);
        assert_eq!(cfg.model_max_length, None);
    }

    #[test]
    fn jinja_file_wins_and_model_ids_fill_absent_tokens() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        write(
            dir.path(),
            "tokenizer_config.json",
            r#"{"chat_template": "inline", "bos_token": null}"#,
        );
        write(dir.path(), "chat_template.jinja", "from file");
        write(
            dir.path(),
            "config.json",
            r#"{"bos_token_id": 7, "eos_token_id": [8, 9]}"#,
        );
        let cfg = TokenizerConfig::from_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cfg.chat_template.as_deref(), Some("from file"));
        // bos_token is explicitly null: no fallback (as Qwen2, whose config.json still has an id).
        assert_eq!(cfg.fallback_bos_token_id, None);
        assert_eq!(cfg.fallback_eos_token_id, Some(8));
        assert_eq!(cfg.generation_eos_token_ids, vec![8, 9]);
    }

    #[test]
    fn bad_json_names_the_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        write(dir.path(), "tokenizer_config.json", "{not json");
        let err = TokenizerConfig::from_dir(dir.path())
            .err()
            .map(|e| e.to_string());
        let msg = err.unwrap_or_default();
        assert!(msg.contains("tokenizer_config.json"), "{msg}");
    }
}
