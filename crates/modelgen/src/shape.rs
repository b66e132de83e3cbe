//! The model shapes `sparkbench model init` can write, with their real architecture numbers.

use std::fmt;
use std::str::FromStr;

use crate::error::ModelgenError;

/// A model shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// Like the fixtures' tiny-llama: Llama, hidden 64, 2 layers, vocab = the tokenizer's size.
    Tiny,
    /// SmolLM2-135M's architecture (Llama, 30 layers, hidden 576, vocab 49152, tied).
    Smollm2_135m,
    /// Qwen2.5-0.5B's architecture (Qwen2, 24 layers, hidden 896, vocab 151936, tied, qkv bias).
    Qwen2_5_0_5b,
}

impl Shape {
    /// Every shape, in the order the CLI lists them.
    pub const ALL: [Shape; 3] = [Shape::Tiny, Shape::Smollm2_135m, Shape::Qwen2_5_0_5b];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Tiny => "tiny",
            Shape::Smollm2_135m => "smollm2-135m",
            Shape::Qwen2_5_0_5b => "qwen2.5-0.5b",
        }
    }

    /// The architecture numbers. `tokenizer_vocab` is the size of the tokenizer the folder
    /// ships; the tiny shape uses it as its vocabulary, the real shapes keep theirs (larger, as
    /// Qwen2.5's embedding is larger than its tokenizer).
    pub fn dims(self, tokenizer_vocab: usize) -> Dims {
        match self {
            Shape::Tiny => Dims {
                arch: Arch::Llama,
                hidden: 64,
                intermediate: 172,
                layers: 2,
                heads: 4,
                kv_heads: 2,
                head_dim: 16,
                vocab: tokenizer_vocab,
                rope_theta: 10_000.0,
                max_position_embeddings: 512,
                rms_norm_eps: 1e-5,
                tied: false,
            },
            Shape::Smollm2_135m => Dims {
                arch: Arch::Llama,
                hidden: 576,
                intermediate: 1536,
                layers: 30,
                heads: 9,
                kv_heads: 3,
                head_dim: 64,
                vocab: 49_152,
                rope_theta: 100_000.0,
                max_position_embeddings: 8192,
                rms_norm_eps: 1e-5,
                tied: true,
            },
            Shape::Qwen2_5_0_5b => Dims {
                arch: Arch::Qwen2,
                hidden: 896,
                intermediate: 4864,
                layers: 24,
                heads: 14,
                kv_heads: 2,
                head_dim: 64,
                vocab: 151_936,
                rope_theta: 1_000_000.0,
                max_position_embeddings: 32_768,
                rms_norm_eps: 1e-6,
                tied: true,
            },
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Shape {
    type Err = ModelgenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Shape::ALL
            .into_iter()
            .find(|shape| shape.name() == lower)
            .ok_or_else(|| ModelgenError::UnknownShape(s.to_owned()))
    }
}

/// The decoder family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    /// `LlamaForCausalLM`: no biases, BOS added by the tokenizer.
    Llama,
    /// `Qwen2ForCausalLM`: q/k/v biases, no BOS.
    Qwen2,
}

impl Arch {
    /// `architectures[0]` of `config.json`.
    pub fn class_name(self) -> &'static str {
        match self {
            Arch::Llama => "LlamaForCausalLM",
            Arch::Qwen2 => "Qwen2ForCausalLM",
        }
    }

    /// `model_type` of `config.json`.
    pub fn model_type(self) -> &'static str {
        match self {
            Arch::Llama => "llama",
            Arch::Qwen2 => "qwen2",
        }
    }
}

/// Architecture numbers of one model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dims {
    /// The family.
    pub arch: Arch,
    /// `hidden_size`.
    pub hidden: usize,
    /// `intermediate_size`.
    pub intermediate: usize,
    /// `num_hidden_layers`.
    pub layers: usize,
    /// `num_attention_heads`.
    pub heads: usize,
    /// `num_key_value_heads`.
    pub kv_heads: usize,
    /// `head_dim`.
    pub head_dim: usize,
    /// `vocab_size` (rows of the embedding).
    pub vocab: usize,
    /// `rope_theta`.
    pub rope_theta: f64,
    /// `max_position_embeddings`.
    pub max_position_embeddings: usize,
    /// `rms_norm_eps`.
    pub rms_norm_eps: f64,
    /// `tie_word_embeddings`.
    pub tied: bool,
}

impl Dims {
    /// The (in, out) features of each LoRA target module, by module name.
    pub fn linear_dims(&self, module: &str) -> Option<(usize, usize)> {
        let q = self.heads * self.head_dim;
        let kv = self.kv_heads * self.head_dim;
        Some(match module {
            "q_proj" => (self.hidden, q),
            "k_proj" | "v_proj" => (self.hidden, kv),
            "o_proj" => (q, self.hidden),
            "gate_proj" | "up_proj" => (self.hidden, self.intermediate),
            "down_proj" => (self.intermediate, self.hidden),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for shape in Shape::ALL {
            assert_eq!(shape.name().parse::<Shape>().ok(), Some(shape));
        }
        assert_eq!(
            "SmolLM2-135M".parse::<Shape>().ok(),
            Some(Shape::Smollm2_135m)
        );
        let err = "gpt5"
            .parse::<Shape>()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("gpt5") && err.contains("qwen2.5-0.5b"),
            "{err}"
        );
    }

    #[test]
    fn real_shapes_have_their_published_numbers() {
        let s = Shape::Smollm2_135m.dims(1000);
        assert_eq!(
            (
                s.hidden,
                s.intermediate,
                s.layers,
                s.heads,
                s.kv_heads,
                s.vocab
            ),
            (576, 1536, 30, 9, 3, 49152)
        );
        assert!(s.tied);
        let q = Shape::Qwen2_5_0_5b.dims(1000);
        assert_eq!(
            (
                q.hidden,
                q.intermediate,
                q.layers,
                q.heads,
                q.kv_heads,
                q.vocab
            ),
            (896, 4864, 24, 14, 2, 151936)
        );
        assert_eq!(q.arch, Arch::Qwen2);
        assert_eq!(Shape::Tiny.dims(1234).vocab, 1234);
    }
}
