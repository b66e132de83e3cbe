//! sparkbench-tokenizer: lm-eval's tokenization on top of the `tokenizers` crate.
//!
//! [`HfTokenizer`] loads a Hugging Face tokenizer folder and encodes exactly as lm-eval's HF
//! backend (`HFLM.tok_encode`, `TemplateLM._encode_pair`) does: the tokenizer's default special
//! tokens, turned off when the text already starts with the prefix token's text; the trailing
//! whitespace move and the whole-minus-context split for loglikelihood pairs; the
//! `[prefix_token_id]` context for empty contexts. [`HfTokenizer::decode`] decodes as
//! transformers does, `clean_up_tokenization_spaces` included. [`ChatTemplateRenderer`] renders
//! `tokenizer_config.json`'s chat template with minijinja as `apply_chat_template` does, and
//! [`bpe_from_gguf_parts`] rebuilds a byte-level BPE tokenizer from GGUF metadata.

pub mod chat;
pub mod cleanup;
pub mod config;
pub mod error;
pub mod family;
pub mod gguf;
pub mod hf;
pub mod pyjson;
pub mod pystr;

pub use chat::ChatTemplateRenderer;
pub use config::TokenizerConfig;
pub use error::TokenizerError;
pub use gguf::{GgufTokenizerParts, bpe_from_gguf_parts};
pub use hf::HfTokenizer;
