//! [`Lin`]: a projection that is either a dense weight (safetensors, optionally LoRA-merged) or a
//! quantized `QMatMul` (GGUF, or quantized at load), with an optional bias.

use candle_core::quantized::QMatMul;
use candle_core::{DType, Module, Tensor};

/// A linear layer `y = x Wᵀ (+ b)`.
#[derive(Debug, Clone)]
pub enum Lin {
    /// Dense weight `(out, in)` in the compute dtype.
    Dense {
        /// The layer.
        inner: candle_nn::Linear,
    },
    /// Quantized weight; input and output in f32, cast around it.
    Quant {
        /// The quantized product.
        q: QMatMul,
        /// Bias in the compute dtype.
        bias: Option<Tensor>,
        /// Output features.
        out: usize,
    },
}

impl Lin {
    /// Output features.
    pub fn out_features(&self) -> usize {
        match self {
            Lin::Dense { inner } => inner.weight().dim(0).unwrap_or(0),
            Lin::Quant { out, .. } => *out,
        }
    }

    /// Apply to `x` of shape `(.., in)`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Lin::Dense { inner } => inner.forward(x),
            Lin::Quant { q, bias, .. } => {
                let dtype = x.dtype();
                let y = q
                    .forward(&x.to_dtype(DType::F32)?.contiguous()?)?
                    .to_dtype(dtype)?;
                match bias {
                    Some(b) => y.broadcast_add(b),
                    None => Ok(y),
                }
            }
        }
    }
}
