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
    /// Dense f32 weight on the CPU stored transposed, `(in, out)`, for
    /// [`crate::cpu_matmul::matmul_transposed`].
    CpuTransposed {
        /// The weight, `(in, out)`.
        wt: Tensor,
        /// Bias.
        bias: Option<Tensor>,
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
            Lin::CpuTransposed { wt, .. } => wt.dim(1).unwrap_or(0),
            Lin::Quant { out, .. } => *out,
        }
    }

    /// One dense layer computing all of `parts` (their outputs side by side, in order), when
    /// every part is dense with the same input size and all or none have a bias: one matmul
    /// packs the input once and runs on wider output blocks than three or two small ones.
    /// `None` when they cannot be joined (a quantized part, mixed biases).
    pub fn concat(parts: &[&Lin]) -> candle_core::Result<Option<Lin>> {
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for p in parts {
            let Lin::Dense { inner } = p else {
                return Ok(None);
            };
            weights.push(inner.weight().clone());
            if let Some(b) = inner.bias() {
                biases.push(b.clone());
            }
        }
        let same_in = weights
            .windows(2)
            .all(|w| w[0].dims().get(1) == w[1].dims().get(1) && w[0].dtype() == w[1].dtype());
        if weights.is_empty() || !same_in || !(biases.is_empty() || biases.len() == weights.len()) {
            return Ok(None);
        }
        let weight = Tensor::cat(&weights, 0)?;
        let bias = if biases.is_empty() {
            None
        } else {
            Some(Tensor::cat(&biases, 0)?)
        };
        Ok(Some(Lin::Dense {
            inner: candle_nn::Linear::new(weight, bias),
        }))
    }

    /// The layout the CPU runs fastest: a dense f32 weight on the CPU is stored transposed
    /// (the old one is dropped, so memory does not grow); anything else is returned as it is.
    pub fn into_cpu_layout(self) -> candle_core::Result<Lin> {
        match self {
            Lin::Dense { inner }
                if inner.weight().device().is_cpu()
                    && inner.weight().dtype() == DType::F32
                    && inner.weight().rank() == 2 =>
            {
                let wt = crate::cpu_matmul::transposed(inner.weight())?;
                Ok(Lin::CpuTransposed {
                    wt,
                    bias: inner.bias().cloned(),
                })
            }
            other => Ok(other),
        }
    }

    /// A dense f32 CPU weight without bias and whether it is stored transposed (`(in, out)`);
    /// `None` for anything else.
    pub fn cpu_f32_weight(&self) -> Option<(&Tensor, bool)> {
        let (w, transposed) = match self {
            Lin::Dense { inner } if inner.bias().is_none() => (inner.weight(), false),
            Lin::CpuTransposed { wt, bias: None } => (wt, true),
            _ => return None,
        };
        (w.device().is_cpu() && w.dtype() == DType::F32 && w.rank() == 2).then_some((w, transposed))
    }

    /// Apply to `x` of shape `(.., in)`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Lin::Dense { inner } => match crate::cpu_matmul::small_matmul(x, inner.weight())? {
                Some(y) => add_bias(y, inner.bias()),
                None => inner.forward(x),
            },
            Lin::CpuTransposed { wt, bias } => add_bias(
                crate::cpu_matmul::matmul_transposed(&x.to_dtype(DType::F32)?, wt)?,
                bias.as_ref(),
            ),
            Lin::Quant { q, bias, .. } => {
                let dtype = x.dtype();
                let y = q
                    .forward(&x.to_dtype(DType::F32)?.contiguous()?)?
                    .to_dtype(dtype)?;
                add_bias(y, bias.as_ref())
            }
        }
    }
}

/// `y + bias` (broadcast over rows) when there is a bias.
fn add_bias(y: Tensor, bias: Option<&Tensor>) -> candle_core::Result<Tensor> {
    match bias {
        Some(b) => y.broadcast_add(b),
        None => Ok(y),
    }
}
