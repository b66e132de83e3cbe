//! The tokenizer every generated model ships: byte-level BPE trained with `tokenizers`'
//! `BpeTrainer` on the project's own small English corpus (`assets/modelgen/corpus.txt`), with
//! the fixtures' five special tokens. Llama-style folders add BOS and use Llama-3's
//! pre-tokenizer; Qwen2-style folders add nothing and use Qwen2's (single digits, NFC), which is
//! also what transformers 5's `Qwen2Tokenizer` imposes, so both libraries give the same ids.

use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::normalizers::unicode::NFC;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, DecoderWrapper, SplitDelimiterBehavior, Tokenizer, TokenizerImpl};

use crate::error::ModelgenError;
use crate::shape::Arch;

/// The training text, written for this project.
pub const CORPUS: &str = include_str!("../../../assets/modelgen/corpus.txt");

/// The special tokens, ids 0..5: BOS, EOS, ChatML start/end, PAD (as in the fixtures).
pub const SPECIAL_TOKENS: [&str; 5] = [
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|im_start|>",
    "<|im_end|>",
    "<pad>",
];
/// Id of `<|begin_of_text|>`.
pub const BOS_ID: u32 = 0;
/// Id of `<|end_of_text|>`.
pub const EOS_ID: u32 = 1;
/// Id of `<|im_end|>`.
pub const IM_END_ID: u32 = 3;
/// Id of `<pad>`.
pub const PAD_ID: u32 = 4;

/// Target vocabulary size (the corpus is small, so training usually stops earlier).
const VOCAB_TARGET: usize = 4096;

const LLAMA3_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const QWEN2_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The ChatML chat template (no default system prompt, no BOS inside), as the fixtures'.
pub const CHAT_TEMPLATE: &str = "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

fn tok_err(what: &str, e: impl std::fmt::Display) -> ModelgenError {
    ModelgenError::Tokenizer(format!("{what}: {e}"))
}

/// Trains the tokenizer for `arch`. Deterministic: the same corpus gives the same file.
pub fn build_tokenizer(arch: Arch) -> Result<Tokenizer, ModelgenError> {
    let regex = match arch {
        Arch::Llama => LLAMA3_REGEX,
        Arch::Qwen2 => QWEN2_REGEX,
    };
    let trim_offsets = arch == Arch::Llama;
    let split = Split::new(
        SplitPattern::Regex(regex.to_owned()),
        SplitDelimiterBehavior::Isolated,
        false,
    )
    .map_err(|e| tok_err("pre-tokenizer regex", e))?;
    let pre: PreTokenizerWrapper = Sequence::new(vec![
        split.into(),
        ByteLevel::new(false, trim_offsets, false).into(),
    ])
    .into();
    let post: PostProcessorWrapper = match arch {
        Arch::Llama => {
            let bos = SPECIAL_TOKENS[0];
            TemplateProcessing::builder()
                .try_single(format!("{bos} $A"))
                .and_then(|b| b.try_pair(format!("{bos} $A {bos}:1 $B:1")))
                .map_err(|e| tok_err("post-processor template", e))?
                .special_tokens(vec![(bos, BOS_ID)])
                .build()
                .map_err(|e| tok_err("post-processor", e))?
                .into()
        }
        Arch::Qwen2 => ByteLevel::new(false, false, false).into(),
    };
    let normalizer: Option<NormalizerWrapper> = match arch {
        Arch::Llama => None,
        Arch::Qwen2 => Some(NFC.into()),
    };

    let mut tok: TokenizerImpl<
        BPE,
        NormalizerWrapper,
        PreTokenizerWrapper,
        PostProcessorWrapper,
        DecoderWrapper,
    > = TokenizerImpl::new(BPE::default());
    tok.with_normalizer(normalizer)
        .map_err(|e| tok_err("normalizer", e))?;
    tok.with_pre_tokenizer(Some(pre));
    tok.with_post_processor(Some(post));
    tok.with_decoder(Some(ByteLevelDecoder::default()));

    let specials: Vec<AddedToken> = SPECIAL_TOKENS
        .iter()
        .map(|t| AddedToken::from(*t, true).normalized(false))
        .collect();
    let mut trainer = BpeTrainerBuilder::new()
        .vocab_size(VOCAB_TARGET)
        .min_frequency(2)
        .show_progress(false)
        .special_tokens(specials.clone())
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build();
    let lines = CORPUS.lines().filter(|l| !l.trim().is_empty());
    tok.train(&mut trainer, lines)
        .map_err(|e| tok_err("training", e))?;
    tok.add_special_tokens(specials)
        .map_err(|e| tok_err("special tokens", e))?;
    Ok(Tokenizer::from(tok))
}

/// `tokenizer.json` text (pretty, as transformers writes it).
pub fn tokenizer_json(tok: &Tokenizer) -> Result<String, ModelgenError> {
    tok.to_string(true)
        .map_err(|e| tok_err("serialising tokenizer.json", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_tokens_come_first_and_round_trip() {
        let tok = build_tokenizer(Arch::Llama).unwrap_or_else(|e| panic!("{e}"));
        for (i, t) in SPECIAL_TOKENS.iter().enumerate() {
            assert_eq!(tok.token_to_id(t), u32::try_from(i).ok(), "{t}");
        }
        let text = "Question: Tom has 48 apples.\nAnswer: 31 <|im_end|>";
        let enc = tok.encode(text, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(enc.get_ids()[0], BOS_ID);
        assert!(enc.get_ids().contains(&IM_END_ID));
        let back = tok
            .decode(enc.get_ids(), false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, format!("<|begin_of_text|>{text}"));
        assert!(
            tok.get_vocab_size(true) > 600,
            "vocab {}",
            tok.get_vocab_size(true)
        );
    }

    #[test]
    fn qwen_style_adds_no_bos_and_splits_digits() {
        let tok = build_tokenizer(Arch::Qwen2).unwrap_or_else(|e| panic!("{e}"));
        let enc = tok
            .encode("Tom has 48", true)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(enc.get_ids()[0], BOS_ID);
        let tokens = enc.get_tokens();
        assert_eq!(&tokens[tokens.len() - 2..], ["4", "8"]);
    }
}
