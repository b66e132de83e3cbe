//! sparkbench-candle: the native inference backend.
//!
//! [`load`] turns a [`ModelSource`] (a Hugging Face folder, a PEFT LoRA adapter on its base, or
//! a GGUF file) into a [`LanguageModel`] that scores and generates with lm-eval's HF-backend
//! semantics, on one decoder written on candle-nn ([`decoder`]) for Llama, Mistral, Qwen2/3,
//! Gemma 2/3 and Phi-3. [`bench`] measures prefill/decode/scoring speed.

pub mod attention;
pub mod bench;
pub mod config;
pub mod cpu_matmul;
pub mod decoder;
pub mod device;
mod dots_avx512;
pub mod error;
pub mod fastmath;
mod few_rows_avx512;
pub mod fused;
pub mod generate;
pub mod gguf;
pub mod gguf_scan;
pub mod head;
mod kv_cache;
pub mod linear;
pub mod load;
pub mod lora;
pub mod model;
mod packing;
pub mod peak_fma;
mod qkv;
pub mod rope;
pub mod scoring;
mod vocab_blocks;
mod weighted_sum_avx512;
pub mod weights;

pub use error::LoadError;
pub use load::{LoadOptions, load, load_candle};
pub use model::CandleModel;
