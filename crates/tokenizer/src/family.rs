//! What transformers 5's `AutoTokenizer` changes in a `tokenizer.json` for some model types.
//!
//! transformers 5 picks the tokenizer class by `config.json`'s `model_type`, and some classes
//! rebuild the pipeline around the file's vocabulary and merges instead of using the file
//! verbatim. For `qwen2`, `Qwen2Tokenizer` sets NFC normalisation and Qwen2's pre-tokenizer
//! (single digits: `\p{N}` instead of Llama-3's `\p{N}{1,3}`), whatever `tokenizer.json` says.
//! lm-eval loads tokenizers with `AutoTokenizer`, so parity needs the same. For real Qwen2
//! checkpoints this changes nothing (their `tokenizer.json` already has that pipeline); the
//! fixture tiny-qwen2, whose file carries Llama-3's regex, shows the difference (`" 48"` is
//! `Ġ 4 8` in its golden ids). Only model types verified against golden outputs are listed.
//! When `tokenizer_config.json` names another specific class (DeepSeek-R1-Distill-Qwen's
//! `LlamaTokenizerFast`, say), transformers falls back to the file as written, and so do we.

use tokenizers::normalizers::unicode::NFC;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{ModelWrapper, SplitDelimiterBehavior, Tokenizer};

use crate::config::TokenizerConfig;
use crate::error::TokenizerError;
use crate::gguf::QWEN2_REGEX;

/// Applies the pipeline transformers' tokenizer class for `config.model_type` imposes.
pub fn apply_transformers_class(
    mut tok: Tokenizer,
    config: &TokenizerConfig,
) -> Result<Tokenizer, TokenizerError> {
    let is_bpe = matches!(tok.get_model(), ModelWrapper::BPE(_));
    let generic_class = matches!(
        config.tokenizer_class.as_deref(),
        None | Some("PreTrainedTokenizerFast" | "Qwen2Tokenizer" | "Qwen2TokenizerFast")
    );
    if config.model_type.as_deref() == Some("qwen2") && is_bpe && generic_class {
        let split = Split::new(
            SplitPattern::Regex(QWEN2_REGEX.to_owned()),
            SplitDelimiterBehavior::Isolated,
            false,
        )
        .map_err(|e| TokenizerError::Config(format!("Qwen2 pre-tokenizer regex: {e}")))?;
        tok.with_normalizer(Some(NFC))
            .map_err(|e| TokenizerError::Config(format!("NFC normalizer: {e}")))?;
        tok.with_pre_tokenizer(Some(Sequence::new(vec![
            split.into(),
            ByteLevel::new(false, false, false).into(),
        ])));
    }
    Ok(tok)
}
