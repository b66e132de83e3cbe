//! sparkbench-modelgen: complete random-weight Hugging Face model folders for the demo, tests
//! and benchmarks (`sparkbench model init`), LoRA adapters for them and merged copies.
//!
//! [`init_model`] writes `config.json`, `model.safetensors` (f32, deterministic from a seed),
//! a byte-level BPE tokenizer trained on the project's own small corpus
//! (`assets/modelgen/corpus.txt`), `tokenizer_config.json` with a ChatML template,
//! `special_tokens_map.json` and `generation_config.json`. [`make_lora_adapter`] writes a PEFT
//! adapter for such a folder and [`merge_lora`] folds an adapter into the base weights
//! (`merged_16bit` style when asked for 16-bit).

pub mod error;
pub mod files;
pub mod lora;
pub mod rng;
pub mod shape;
pub mod tokenizer;
pub mod weights;

pub use error::ModelgenError;
pub use files::{ModelSummary, init_model};
pub use lora::{AdapterSummary, MergeSummary, make_lora_adapter, merge_lora};
pub use shape::{Arch, Dims, Shape};
