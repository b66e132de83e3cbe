//! Rebuilds a Hugging Face byte-level BPE tokenizer from GGUF metadata
//! (`tokenizer.ggml.*`), with the pre-tokenizer llama.cpp uses for the file's `pre` id.

use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

use crate::config::TokenizerConfig;
use crate::error::TokenizerError;
use crate::hf::HfTokenizer;

/// GGUF token type: a normal token.
pub const TOKEN_TYPE_NORMAL: i32 = 1;
/// GGUF token type: a control (special) token.
pub const TOKEN_TYPE_CONTROL: i32 = 3;
/// GGUF token type: a user-defined (added) token.
pub const TOKEN_TYPE_USER_DEFINED: i32 = 4;

/// Llama-3's pre-tokenizer regex (llama.cpp `llama-bpe`).
pub const LLAMA3_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// Qwen2's pre-tokenizer regex (llama.cpp `qwen2`): like Llama-3's with single digits.
pub const QWEN2_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The tokenizer part of a GGUF file's metadata.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GgufTokenizerParts {
    /// `tokenizer.ggml.model`: `gpt2` (byte-level BPE), `llama` (SentencePiece), ...
    pub model: String,
    /// `tokenizer.ggml.pre`: the pre-tokenizer id (`llama-bpe`, `qwen2`, `gpt2`, ...).
    pub pre: Option<String>,
    /// `tokenizer.ggml.tokens`, in id order.
    pub tokens: Vec<String>,
    /// `tokenizer.ggml.token_type` (1 normal, 3 control, 4 user-defined, ...); may be empty.
    pub token_types: Vec<i32>,
    /// `tokenizer.ggml.merges` (`"a b"` strings), in rank order.
    pub merges: Vec<String>,
    /// `tokenizer.ggml.bos_token_id`.
    pub bos_token_id: Option<u32>,
    /// `tokenizer.ggml.eos_token_id`.
    pub eos_token_id: Option<u32>,
    /// `tokenizer.ggml.padding_token_id`.
    pub pad_token_id: Option<u32>,
    /// `tokenizer.ggml.unknown_token_id`.
    pub unk_token_id: Option<u32>,
    /// `tokenizer.ggml.add_bos_token`.
    pub add_bos: Option<bool>,
    /// `tokenizer.ggml.add_eos_token`.
    pub add_eos: Option<bool>,
    /// `tokenizer.chat_template`.
    pub chat_template: Option<String>,
}

/// The pre-tokenizer for a GGUF `pre` id.
fn pre_tokenizer(pre: &str) -> Result<PreTokenizerWrapper, TokenizerError> {
    let split = |regex: &str| -> Result<PreTokenizerWrapper, TokenizerError> {
        let split = Split::new(
            SplitPattern::Regex(regex.to_owned()),
            SplitDelimiterBehavior::Isolated,
            false,
        )
        .map_err(|e| TokenizerError::Gguf(format!("pre-tokenizer regex: {e}")))?;
        Ok(Sequence::new(vec![
            split.into(),
            ByteLevel::new(false, true, false).into(),
        ])
        .into())
    };
    match pre {
        "llama-bpe" | "llama3" | "llama-v3" | "smaug-bpe" | "dbrx" => split(LLAMA3_REGEX),
        "qwen2" => split(QWEN2_REGEX),
        "default" | "gpt2" | "gpt-2" => Ok(ByteLevel::new(false, true, true).into()),
        "smollm" => Ok(Sequence::new(vec![
            Digits::new(true).into(),
            ByteLevel::new(false, true, true).into(),
        ])
        .into()),
        other => Err(TokenizerError::Gguf(format!(
            "unknown tokenizer.ggml.pre {other:?} (known: llama-bpe, llama3, smaug-bpe, dbrx, qwen2, gpt2, default, smollm); pass --tokenizer DIR with the model's tokenizer.json"
        ))),
    }
}

fn token_at(
    parts: &GgufTokenizerParts,
    id: Option<u32>,
    field: &str,
) -> Result<Option<String>, TokenizerError> {
    match id {
        None => Ok(None),
        Some(i) => parts
            .tokens
            .get(i as usize)
            .cloned()
            .map(Some)
            .ok_or_else(|| {
                TokenizerError::Gguf(format!(
                    "tokenizer.ggml.{field} is {i}, outside the {} tokens",
                    parts.tokens.len()
                ))
            }),
    }
}

/// Builds a byte-level BPE [`HfTokenizer`] from GGUF metadata, as llama.cpp would tokenize:
/// the `pre` id picks the pre-tokenizer regex, control and user-defined tokens become added
/// tokens (matched in text), and `add_bos`/`add_eos` become a template post-processor.
/// SentencePiece (`llama`) and other models are refused with a message asking for the model's
/// `tokenizer.json`.
pub fn bpe_from_gguf_parts(parts: GgufTokenizerParts) -> Result<HfTokenizer, TokenizerError> {
    match parts.model.as_str() {
        "gpt2" => {}
        "llama" => {
            return Err(TokenizerError::Gguf(
                "this GGUF has a SentencePiece tokenizer (tokenizer.ggml.model = \"llama\"), which sparkbench does not rebuild from GGUF; pass --tokenizer DIR with the original model's tokenizer.json".to_owned(),
            ));
        }
        other => {
            return Err(TokenizerError::Gguf(format!(
                "unsupported tokenizer.ggml.model {other:?} (only byte-level BPE, \"gpt2\", is rebuilt); pass --tokenizer DIR with the model's tokenizer.json"
            )));
        }
    }
    if parts.tokens.is_empty() {
        return Err(TokenizerError::Gguf(
            "tokenizer.ggml.tokens is empty".to_owned(),
        ));
    }
    let pre = pre_tokenizer(parts.pre.as_deref().unwrap_or("default"))?;

    let mut vocab: tokenizers::models::bpe::Vocab = tokenizers::models::bpe::Vocab::default();
    for (id, token) in parts.tokens.iter().enumerate() {
        let id = u32::try_from(id)
            .map_err(|_| TokenizerError::Gguf("more than 2^32 tokens".to_owned()))?;
        vocab.entry(token.clone()).or_insert(id);
    }
    let mut merges = Vec::with_capacity(parts.merges.len());
    for (i, merge) in parts.merges.iter().enumerate() {
        let Some((a, b)) = merge.split_once(' ') else {
            return Err(TokenizerError::Gguf(format!(
                "tokenizer.ggml.merges[{i}] = {merge:?} is not two tokens separated by a space"
            )));
        };
        merges.push((a.to_owned(), b.to_owned()));
    }
    let mut builder = BPE::builder().vocab_and_merges(vocab, merges);
    if let Some(unk) = token_at(&parts, parts.unk_token_id, "unknown_token_id")? {
        builder = builder.unk_token(unk);
    }
    let bpe = builder
        .build()
        .map_err(|e| TokenizerError::Gguf(format!("cannot build the BPE model: {e}")))?;

    let mut tok = Tokenizer::new(bpe);
    tok.with_pre_tokenizer(Some(pre));
    tok.with_decoder(Some(ByteLevelDecoder::default()));

    let mut special = Vec::new();
    let mut added = Vec::new();
    for (id, token) in parts.tokens.iter().enumerate() {
        match parts.token_types.get(id).copied() {
            Some(TOKEN_TYPE_CONTROL) => {
                special.push(AddedToken::from(token.clone(), true).normalized(false))
            }
            Some(TOKEN_TYPE_USER_DEFINED) => {
                added.push(AddedToken::from(token.clone(), false).normalized(false))
            }
            _ => {}
        }
    }
    tok.add_special_tokens(special)
        .map_err(|e| TokenizerError::Gguf(format!("cannot add the control tokens: {e}")))?;
    tok.add_tokens(added)
        .map_err(|e| TokenizerError::Gguf(format!("cannot add the user-defined tokens: {e}")))?;

    let bos = token_at(&parts, parts.bos_token_id, "bos_token_id")?;
    let eos = token_at(&parts, parts.eos_token_id, "eos_token_id")?;
    let pad = token_at(&parts, parts.pad_token_id, "padding_token_id")?;
    let add_bos = parts.add_bos.unwrap_or(false);
    let add_eos = parts.add_eos.unwrap_or(false);
    if add_bos || add_eos {
        let mut single = String::new();
        let mut pair = String::new();
        let mut specials: Vec<(String, u32)> = Vec::new();
        if let (true, Some(b), Some(id)) = (add_bos, &bos, parts.bos_token_id) {
            single.push_str(&format!("{b}:0 "));
            pair.push_str(&format!("{b}:0 "));
            specials.push((b.clone(), id));
        }
        single.push_str("$A:0");
        pair.push_str("$A:0");
        if let (true, Some(e), Some(id)) = (add_eos, &eos, parts.eos_token_id) {
            single.push_str(&format!(" {e}:0"));
            pair.push_str(&format!(" {e}:0"));
            if !specials.iter().any(|(t, _)| t == e) {
                specials.push((e.clone(), id));
            }
        }
        if let (true, Some(b)) = (add_bos, &bos) {
            pair.push_str(&format!(" {b}:1"));
        }
        pair.push_str(" $B:1");
        if let (true, Some(e)) = (add_eos, &eos) {
            pair.push_str(&format!(" {e}:1"));
        }
        let processor = TemplateProcessing::builder()
            .try_single(single.as_str())
            .and_then(|b| b.try_pair(pair.as_str()))
            .map_err(|e| TokenizerError::Gguf(format!("post-processor template: {e}")))?
            .special_tokens(specials)
            .build()
            .map_err(|e| TokenizerError::Gguf(format!("post-processor: {e}")))?;
        tok.with_post_processor(Some(processor));
    }

    let config = TokenizerConfig {
        bos_token: bos,
        eos_token: eos,
        pad_token: pad,
        unk_token: token_at(&parts, parts.unk_token_id, "unknown_token_id")?,
        chat_template: parts.chat_template.clone(),
        add_bos_token: parts.add_bos,
        add_eos_token: parts.add_eos,
        generation_eos_token_ids: parts.eos_token_id.into_iter().collect(),
        ..TokenizerConfig::default()
    };
    Ok(HfTokenizer::from_tokenizer(tok, config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentencepiece_and_unknown_pre_are_refused_clearly() {
        let parts = GgufTokenizerParts {
            model: "llama".to_owned(),
            tokens: vec!["a".to_owned()],
            ..GgufTokenizerParts::default()
        };
        let msg = bpe_from_gguf_parts(parts)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("--tokenizer"), "{msg}");
        let parts = GgufTokenizerParts {
            model: "gpt2".to_owned(),
            pre: Some("martian".to_owned()),
            tokens: vec!["a".to_owned()],
            ..GgufTokenizerParts::default()
        };
        let msg = bpe_from_gguf_parts(parts)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("martian"), "{msg}");
    }
}
