//! [`HfTokenizer`]: a `tokenizers::Tokenizer` plus its folder's settings, encoding and decoding
//! exactly as lm-eval's HF backend (v0.4.12+) and transformers do.

use std::path::Path;
use std::sync::Arc;

use crate::chat::ChatTemplateRenderer;
use crate::cleanup::clean_up_tokenization;
use crate::config::{TokenizerConfig, tokenizer_json_path};
use crate::error::TokenizerError;
use crate::pystr;

/// A Hugging Face tokenizer with lm-eval's encoding rules. Cheap to clone (shared state).
#[derive(Clone)]
pub struct HfTokenizer {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    tok: tokenizers::Tokenizer,
    config: TokenizerConfig,
    bos_id: Option<u32>,
    eos_id: Option<u32>,
    pad_id: Option<u32>,
    bos_text: Option<String>,
    eos_text: Option<String>,
    pad_text: Option<String>,
    /// lm-eval's `prefix_token_id`: BOS if defined, else EOS.
    prefix_id: Option<u32>,
    /// `tokenizer.decode(prefix_token_id)`, the text of the BOS-prefix rule.
    prefix_text: Option<String>,
    /// lm-eval's `add_bos_token` model argument (`None`: the tokenizer's default).
    add_bos_override: Option<bool>,
    /// Whether `encode` with default special tokens starts with BOS (probed once).
    adds_bos: bool,
    chat: Option<ChatTemplateRenderer>,
}

impl std::fmt::Debug for HfTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HfTokenizer")
            .field("vocab_size", &self.vocab_size())
            .field("bos", &self.inner.bos_text)
            .field("eos", &self.inner.eos_text)
            .field("adds_bos", &self.inner.adds_bos)
            .finish()
    }
}

impl HfTokenizer {
    /// Loads `dir/tokenizer.json` and the settings beside it (`tokenizer_config.json`,
    /// `special_tokens_map.json`, `chat_template.jinja`, `config.json`, `generation_config.json`).
    pub fn from_dir(dir: &Path) -> Result<Self, TokenizerError> {
        let path = tokenizer_json_path(dir)?;
        Self::from_files(&path, Some(dir))
    }

    /// Loads `tokenizer_json`, with the settings of `config_dir` (none: no special tokens beyond
    /// what `tokenizer.json` itself adds, no chat template).
    pub fn from_files(
        tokenizer_json: &Path,
        config_dir: Option<&Path>,
    ) -> Result<Self, TokenizerError> {
        if !tokenizer_json.is_file() {
            return Err(TokenizerError::Missing {
                path: tokenizer_json.to_path_buf(),
            });
        }
        let tok = tokenizers::Tokenizer::from_file(tokenizer_json).map_err(|e| {
            TokenizerError::Invalid {
                path: tokenizer_json.to_path_buf(),
                message: format!("the tokenizers library cannot load it: {e}"),
            }
        })?;
        let config = match config_dir {
            Some(dir) => TokenizerConfig::from_dir(dir)?,
            None => TokenizerConfig::default(),
        };
        let tok = crate::family::apply_transformers_class(tok, &config)?;
        let this = Self::from_tokenizer(tok, config);
        this.check_special_tokens(config_dir.is_some())?;
        Ok(this)
    }

    /// Wraps an already built tokenizer (for example one rebuilt from GGUF metadata).
    /// Special-token texts that are not in the vocabulary are ignored here; the file loaders
    /// reject them instead.
    pub fn from_tokenizer(tok: tokenizers::Tokenizer, config: TokenizerConfig) -> Self {
        let id_of = |text: &Option<String>| text.as_deref().and_then(|t| tok.token_to_id(t));
        let text_of = |id: Option<u32>| id.and_then(|i| tok.id_to_token(i));

        let mut bos_id = id_of(&config.bos_token);
        let mut bos_text = config.bos_token.clone().filter(|_| bos_id.is_some());
        if config.bos_token.is_none() && bos_id.is_none() {
            bos_id = config.fallback_bos_token_id;
            bos_text = text_of(bos_id);
        }
        let mut eos_id = id_of(&config.eos_token);
        let mut eos_text = config.eos_token.clone().filter(|_| eos_id.is_some());
        if config.eos_token.is_none() && eos_id.is_none() {
            eos_id = config.fallback_eos_token_id;
            eos_text = text_of(eos_id);
        }
        let pad_id = id_of(&config.pad_token);
        let pad_text = config.pad_token.clone().filter(|_| pad_id.is_some());

        let prefix_id = bos_id.or(eos_id);
        let prefix_text = prefix_id.and_then(|id| tok.decode(&[id], false).ok());
        let adds_bos = match (bos_id, tok.encode_fast("", true)) {
            (Some(bos), Ok(enc)) => enc.get_ids().first() == Some(&bos),
            _ => false,
        };
        let chat = config.chat_template.clone().map(|source| {
            ChatTemplateRenderer::new(source, &config, bos_text.clone(), eos_text.clone())
        });

        Self {
            inner: Arc::new(Inner {
                tok,
                config,
                bos_id,
                eos_id,
                pad_id,
                bos_text,
                eos_text,
                pad_text,
                prefix_id,
                prefix_text,
                add_bos_override: None,
                adds_bos,
                chat,
            }),
        }
    }

    /// lm-eval's `add_bos_token` model argument: `Some(v)` makes `encode` use
    /// `add_special_tokens = v` (the BOS-prefix rule still turns it off); `None` keeps the
    /// tokenizer's default.
    pub fn with_add_bos_token(self, add_bos_token: Option<bool>) -> Self {
        let mut inner = Inner::clone(&self.inner);
        inner.add_bos_override = add_bos_token;
        Self {
            inner: Arc::new(inner),
        }
    }

    fn check_special_tokens(&self, had_config: bool) -> Result<(), TokenizerError> {
        let cfg = &self.inner.config;
        for (field, text, id) in [
            ("bos_token", &cfg.bos_token, self.inner.bos_id),
            ("eos_token", &cfg.eos_token, self.inner.eos_id),
        ] {
            if let (Some(t), None) = (text, id) {
                return Err(TokenizerError::Config(format!(
                    "`{field}` is {t:?}, which is not a token of tokenizer.json; fix tokenizer_config.json or use the model's own tokenizer files"
                )));
            }
        }
        if self.inner.prefix_id.is_none() && !had_config {
            return Err(TokenizerError::Config(
                "tokenizer.json alone does not say which tokens are BOS and EOS; pass the folder with its tokenizer_config.json (or config.json) as well".to_owned(),
            ));
        }
        if self.inner.prefix_id.is_none() {
            return Err(TokenizerError::Config(
                "the tokenizer defines neither a BOS nor an EOS token (tokenizer_config.json `bos_token`/`eos_token`, config.json `bos_token_id`/`eos_token_id`); lm-eval needs one as the prefix token".to_owned(),
            ));
        }
        Ok(())
    }

    /// The wrapped `tokenizers` tokenizer.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner.tok
    }

    /// The folder settings this tokenizer was built with.
    pub fn config(&self) -> &TokenizerConfig {
        &self.inner.config
    }

    /// HF `tokenizer.encode(text, add_special_tokens=add_special_tokens)`. Special-token
    /// strings in `text` become their ids either way.
    pub fn encode_with_special_tokens(
        &self,
        text: &str,
        add_special_tokens: bool,
    ) -> Result<Vec<u32>, TokenizerError> {
        let enc = self
            .inner
            .tok
            .encode_fast(text, add_special_tokens)
            .map_err(TokenizerError::from_tokenizers)?;
        Ok(enc.get_ids().to_vec())
    }

    /// Whether lm-eval's `tok_encode(text)` adds special tokens: the `add_bos_token` override or
    /// the tokenizer default (true), but never when `text` starts with the prefix token's text.
    pub fn adds_special_tokens_for(&self, text: &str) -> bool {
        if self.has_prefix_text(text) {
            return false;
        }
        self.inner.add_bos_override.unwrap_or(true)
    }

    fn has_prefix_text(&self, text: &str) -> bool {
        self.inner
            .prefix_text
            .as_deref()
            .is_some_and(|p| !p.is_empty() && text.starts_with(p))
    }

    /// lm-eval v0.4.12 `HFLM.tok_encode(text)`.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        self.encode_with_special_tokens(text, self.adds_special_tokens_for(text))
    }

    /// Whether lm-eval's `tok_batch_encode` (generation contexts) adds special tokens for a batch
    /// whose first string is `first`: not when it starts with the BOS text, else the
    /// `add_bos_token` override, else the tokenizer default.
    pub fn generation_adds_special_tokens(&self, first: &str) -> bool {
        let bos_prefixed = self
            .inner
            .bos_text
            .as_deref()
            .is_some_and(|b| !b.is_empty() && first.starts_with(b));
        if bos_prefixed {
            return false;
        }
        self.inner.add_bos_override.unwrap_or(true)
    }

    /// lm-eval's tokenization of a loglikelihood request `(context, continuation)`:
    /// trailing whitespace of the context moves to the continuation, then
    /// `whole = encode(ctx + cont)`, `ctx_enc = encode(ctx)`, `cont_enc = whole[len(ctx_enc):]`.
    /// An empty context gives `([prefix_token_id], encode(cont, no special tokens))`, reusing
    /// the continuation's first token when it already is the prefix token (lm-eval HEAD).
    pub fn encode_pair(
        &self,
        context: &str,
        continuation: &str,
    ) -> Result<(Vec<u32>, Vec<u32>), TokenizerError> {
        if context.is_empty() {
            let prefix = self.prefix_token_id();
            let cont = self.encode_with_special_tokens(continuation, false)?;
            return Ok(match cont.first() {
                Some(&first) if first == prefix => (vec![first], cont[1..].to_vec()),
                _ => (vec![prefix], cont),
            });
        }
        let kept = pystr::rstrip(context);
        let moved = &context[kept.len()..];
        let (context, continuation) = if moved.is_empty() {
            (context.to_owned(), continuation.to_owned())
        } else {
            (kept.to_owned(), format!("{moved}{continuation}"))
        };
        let whole = self.encode(&format!("{context}{continuation}"))?;
        let ctx = self.encode(&context)?;
        let cont = whole.get(ctx.len()..).unwrap_or_default().to_vec();
        Ok((ctx, cont))
    }

    /// transformers' `tokenizer.decode(ids, skip_special_tokens=...)`, with
    /// `clean_up_tokenization` when `tokenizer_config.json` sets `clean_up_tokenization_spaces`.
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String, TokenizerError> {
        let text = self
            .inner
            .tok
            .decode(ids, skip_special_tokens)
            .map_err(TokenizerError::from_tokenizers)?;
        if self.inner.config.clean_up_tokenization_spaces {
            Ok(clean_up_tokenization(&text))
        } else {
            Ok(text)
        }
    }

    /// The BOS id (`tokenizer.bos_token_id`), if the tokenizer defines one.
    pub fn bos_token_id(&self) -> Option<u32> {
        self.inner.bos_id
    }

    /// The EOS id (`tokenizer.eos_token_id`, lm-eval's `eot_token_id`).
    pub fn eos_token_id(&self) -> Option<u32> {
        self.inner.eos_id
    }

    /// The PAD id, if any.
    pub fn pad_token_id(&self) -> Option<u32> {
        self.inner.pad_id
    }

    /// The BOS text.
    pub fn bos_text(&self) -> Option<&str> {
        self.inner.bos_text.as_deref()
    }

    /// The EOS text (lm-eval appends it to every `until` list).
    pub fn eos_text(&self) -> Option<&str> {
        self.inner.eos_text.as_deref()
    }

    /// The PAD text.
    pub fn pad_text(&self) -> Option<&str> {
        self.inner.pad_text.as_deref()
    }

    /// lm-eval's `prefix_token_id`: BOS if defined, else EOS. The file loaders guarantee one
    /// exists; a tokenizer built with [`HfTokenizer::from_tokenizer`] without either gives 0.
    pub fn prefix_token_id(&self) -> u32 {
        self.inner.prefix_id.unwrap_or(0)
    }

    /// `decode([prefix_token_id])`: the text of lm-eval's BOS-prefix rule.
    pub fn prefix_text(&self) -> Option<&str> {
        self.inner.prefix_text.as_deref()
    }

    /// Whether `encode` with the tokenizer's default special tokens starts with BOS
    /// (llama-style `tokenizer.json`: yes; qwen2-style: no).
    pub fn adds_bos(&self) -> bool {
        self.inner.adds_bos
    }

    /// The EOS ids generation stops at: `generation_config.json`'s (else `config.json`'s) list,
    /// plus the tokenizer's EOS.
    pub fn stop_token_ids(&self) -> Vec<u32> {
        let mut ids = self.inner.config.generation_eos_token_ids.clone();
        if let Some(eos) = self.inner.eos_id
            && !ids.contains(&eos)
        {
            ids.push(eos);
        }
        ids
    }

    /// `len(tokenizer)`: the vocabulary including added tokens.
    pub fn vocab_size(&self) -> usize {
        self.inner.tok.get_vocab_size(true)
    }

    /// The text of one token id, as stored in the vocabulary.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.tok.id_to_token(id)
    }

    /// The id of one token text.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.tok.token_to_id(token)
    }

    /// The chat template renderer, when the folder has a chat template.
    pub fn chat_template(&self) -> Option<&ChatTemplateRenderer> {
        self.inner.chat.as_ref()
    }

    /// `model_max_length` from `tokenizer_config.json`, unless it is the "infinity" sentinel.
    pub fn model_max_length(&self) -> Option<u64> {
        self.inner.config.model_max_length
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn tokenizer_is_send_sync_clone() {
        assert_send_sync::<HfTokenizer>();
    }

    #[test]
    fn missing_tokenizer_json_names_the_path() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let err = HfTokenizer::from_dir(dir.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("tokenizer.json"), "{err}");
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
    }
}
