//! Random weights for a [`Dims`], in Hugging Face's tensor names, deterministic from a seed.
//!
//! The recipe follows the fixtures' (projections and embeddings N(0, 0.2²), a head N(0, 0.6²)
//! so the next-token distribution is peaked, RMSNorm weights 1 + N(0, 0.1²), biases
//! N(0, 0.1²)), scaled for wider and deeper models: projection std 0.2·√(64 / fan_in), the head
//! std 4.8 / √hidden (0.6 at hidden 64), and the residual-writing projections (`o_proj`,
//! `down_proj`) divided by √(layers / 2). At the tiny shape every factor is 1.

use candle_core::{Device, Tensor};
use rayon::prelude::*;

use crate::error::ModelgenError;
use crate::rng::SplitMix64;
use crate::shape::{Arch, Dims};

/// How one tensor is initialised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// N(0, std²).
    Normal(f64),
    /// 1 + N(0, 0.1²) (RMSNorm weights).
    NormWeight,
}

/// One tensor to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorSpec {
    /// Hugging Face name, e.g. `model.layers.0.self_attn.q_proj.weight`.
    pub name: String,
    /// Shape (`[out, in]` for linear weights).
    pub shape: Vec<usize>,
    /// The initialisation.
    pub init: Init,
}

impl TensorSpec {
    fn new(name: impl Into<String>, shape: Vec<usize>, init: Init) -> Self {
        Self {
            name: name.into(),
            shape,
            init,
        }
    }

    /// Number of values.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// Every tensor of a model of shape `dims`, in `named_parameters()` order.
pub fn tensor_specs(dims: &Dims) -> Vec<TensorSpec> {
    let head_std = 4.8 / (dims.hidden as f64).sqrt();
    let proj_std = |fan_in: usize| 0.2 * (64.0 / fan_in as f64).sqrt();
    let residual = ((dims.layers as f64) / 2.0).max(1.0).sqrt();
    let q = dims.heads * dims.head_dim;
    let kv = dims.kv_heads * dims.head_dim;
    let embed_std = if dims.tied { head_std } else { 0.2 };

    let mut specs = vec![TensorSpec::new(
        "model.embed_tokens.weight",
        vec![dims.vocab, dims.hidden],
        Init::Normal(embed_std),
    )];
    for i in 0..dims.layers {
        let p = format!("model.layers.{i}");
        let linear = |name: &str, out: usize, inp: usize, std: f64| {
            TensorSpec::new(
                format!("{p}.{name}.weight"),
                vec![out, inp],
                Init::Normal(std),
            )
        };
        specs.push(linear(
            "self_attn.q_proj",
            q,
            dims.hidden,
            proj_std(dims.hidden),
        ));
        if dims.arch == Arch::Qwen2 {
            specs.push(TensorSpec::new(
                format!("{p}.self_attn.q_proj.bias"),
                vec![q],
                Init::Normal(0.1),
            ));
        }
        specs.push(linear(
            "self_attn.k_proj",
            kv,
            dims.hidden,
            proj_std(dims.hidden),
        ));
        if dims.arch == Arch::Qwen2 {
            specs.push(TensorSpec::new(
                format!("{p}.self_attn.k_proj.bias"),
                vec![kv],
                Init::Normal(0.1),
            ));
        }
        specs.push(linear(
            "self_attn.v_proj",
            kv,
            dims.hidden,
            proj_std(dims.hidden),
        ));
        if dims.arch == Arch::Qwen2 {
            specs.push(TensorSpec::new(
                format!("{p}.self_attn.v_proj.bias"),
                vec![kv],
                Init::Normal(0.1),
            ));
        }
        specs.push(linear(
            "self_attn.o_proj",
            dims.hidden,
            q,
            proj_std(q) / residual,
        ));
        specs.push(linear(
            "mlp.gate_proj",
            dims.intermediate,
            dims.hidden,
            proj_std(dims.hidden),
        ));
        specs.push(linear(
            "mlp.up_proj",
            dims.intermediate,
            dims.hidden,
            proj_std(dims.hidden),
        ));
        specs.push(linear(
            "mlp.down_proj",
            dims.hidden,
            dims.intermediate,
            proj_std(dims.intermediate) / residual,
        ));
        specs.push(TensorSpec::new(
            format!("{p}.input_layernorm.weight"),
            vec![dims.hidden],
            Init::NormWeight,
        ));
        specs.push(TensorSpec::new(
            format!("{p}.post_attention_layernorm.weight"),
            vec![dims.hidden],
            Init::NormWeight,
        ));
    }
    specs.push(TensorSpec::new(
        "model.norm.weight",
        vec![dims.hidden],
        Init::NormWeight,
    ));
    if !dims.tied {
        specs.push(TensorSpec::new(
            "lm_head.weight",
            vec![dims.vocab, dims.hidden],
            Init::Normal(head_std),
        ));
    }
    specs
}

/// The values of one tensor: a stream of its own, seeded by `seed` and its name (approximate
/// normals, see [`SplitMix64::fast_normal`]).
pub fn values(spec: &TensorSpec, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::for_stream(seed, &spec.name);
    let n = spec.numel();
    let (offset, std) = match spec.init {
        Init::Normal(std) => (0.0, std as f32),
        Init::NormWeight => (1.0, 0.1),
    };
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(offset + rng.fast_normal() * std);
    }
    out
}

/// Generates every tensor (in parallel; the bytes do not depend on the thread count).
pub fn generate(specs: &[TensorSpec], seed: u64) -> Result<Vec<(String, Tensor)>, ModelgenError> {
    specs
        .par_iter()
        .map(|spec| {
            let data = values(spec, seed);
            let t = Tensor::from_vec(data, spec.shape.as_slice(), &Device::Cpu)
                .map_err(|e| ModelgenError::tensor(&spec.name, e))?;
            Ok((spec.name.clone(), t))
        })
        .collect()
}

/// Parameter count of `dims`.
pub fn num_parameters(dims: &Dims) -> u64 {
    tensor_specs(dims).iter().map(|s| s.numel() as u64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Shape;

    #[test]
    fn tiny_names_and_shapes_match_hf_llama() {
        let dims = Shape::Tiny.dims(1000);
        let specs = tensor_specs(&dims);
        let find = |n: &str| specs.iter().find(|s| s.name == n).map(|s| s.shape.clone());
        assert_eq!(find("model.embed_tokens.weight"), Some(vec![1000, 64]));
        assert_eq!(
            find("model.layers.1.self_attn.q_proj.weight"),
            Some(vec![64, 64])
        );
        assert_eq!(
            find("model.layers.1.self_attn.k_proj.weight"),
            Some(vec![32, 64])
        );
        assert_eq!(
            find("model.layers.0.mlp.down_proj.weight"),
            Some(vec![64, 172])
        );
        assert_eq!(find("lm_head.weight"), Some(vec![1000, 64]));
        assert_eq!(find("model.layers.0.self_attn.q_proj.bias"), None);
        assert_eq!(specs.len(), 1 + 2 * 9 + 2);
    }

    #[test]
    fn qwen_has_biases_and_no_head() {
        let dims = Shape::Qwen2_5_0_5b.dims(1000);
        let specs = tensor_specs(&dims);
        assert!(
            specs
                .iter()
                .any(|s| s.name == "model.layers.23.self_attn.v_proj.bias" && s.shape == vec![128])
        );
        assert!(!specs.iter().any(|s| s.name == "lm_head.weight"));
        // Qwen2.5-0.5B has 494M parameters (tied).
        let n = num_parameters(&dims);
        assert!((490_000_000..500_000_000).contains(&n), "{n}");
        let smol = num_parameters(&Shape::Smollm2_135m.dims(1000));
        assert!((134_000_000..136_000_000).contains(&smol), "{smol}");
    }

    #[test]
    fn values_follow_the_recipe() {
        let spec = TensorSpec::new("x", vec![100, 100], Init::NormWeight);
        let v = values(&spec, 3);
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
        assert_eq!(v, values(&spec, 3));
        assert_ne!(v, values(&spec, 4));
        let spec = TensorSpec::new("w", vec![200, 100], Init::Normal(0.2));
        let w = values(&spec, 3);
        let var = w.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / w.len() as f64;
        assert!((var.sqrt() - 0.2).abs() < 0.005, "std {}", var.sqrt());
    }
}
