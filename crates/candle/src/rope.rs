//! Rotary position embeddings: inverse frequencies as transformers computes them (default,
//! linear, llama3; `dynamic` equals default within max_position_embeddings) and per-token cos/sin
//! tables built from explicit positions, so every row of a padded batch has its own positions.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde_json::Value;

use crate::error::LoadError;

/// How the base frequencies are rescaled.
#[derive(Debug, Clone, PartialEq)]
pub enum RopeScaling {
    /// No scaling.
    Default,
    /// Positions divided by `factor` (Gemma 3 global layers).
    Linear {
        /// The divisor.
        factor: f64,
    },
    /// Llama 3.1/3.2 frequency-dependent scaling.
    Llama3 {
        /// `factor`.
        factor: f64,
        /// `low_freq_factor`.
        low_freq_factor: f64,
        /// `high_freq_factor`.
        high_freq_factor: f64,
        /// `original_max_position_embeddings`.
        original_max: f64,
    },
}

impl RopeScaling {
    /// Read a `rope_parameters` / `rope_scaling` dict (`None` = default).
    pub fn from_params(
        params: Option<&Value>,
        cfg: &Value,
        path: &Path,
    ) -> Result<Self, LoadError> {
        let Some(p) = params.filter(|p| p.is_object()) else {
            return Ok(Self::Default);
        };
        let kind = p
            .get("rope_type")
            .or(p.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("default");
        let num = |k: &str| p.get(k).and_then(Value::as_f64);
        let need = |k: &str| {
            num(k).ok_or_else(|| {
                LoadError::file(
                    path,
                    format!("rope scaling `{kind}` needs the number `{k}`"),
                )
            })
        };
        match kind {
            "default" | "dynamic" => Ok(Self::Default),
            "linear" => Ok(Self::Linear {
                factor: need("factor")?,
            }),
            "llama3" => Ok(Self::Llama3 {
                factor: need("factor")?,
                low_freq_factor: need("low_freq_factor")?,
                high_freq_factor: need("high_freq_factor")?,
                original_max: num("original_max_position_embeddings")
                    .or(cfg
                        .get("original_max_position_embeddings")
                        .and_then(Value::as_f64))
                    .ok_or_else(|| {
                        LoadError::file(
                            path,
                            "llama3 rope scaling needs `original_max_position_embeddings`",
                        )
                    })?,
            }),
            other => Err(LoadError::Unsupported(format!(
                "{}: rope type `{other}` is not supported (default, linear, dynamic, llama3)",
                path.display()
            ))),
        }
    }
}

/// One RoPE table: the (scaled) inverse frequencies over the rotated dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct RopeSpec {
    /// `rotary_dim / 2` inverse frequencies, in f32 as transformers keeps them.
    pub inv_freq: Vec<f32>,
    /// How many leading dimensions of each head rotate (head_dim unless partial).
    pub rotary_dim: usize,
}

impl RopeSpec {
    /// Build from base `theta`, rotary dimension and scaling.
    pub fn new(theta: f64, rotary_dim: usize, scaling: RopeScaling) -> Result<Self, String> {
        if rotary_dim == 0 || !rotary_dim.is_multiple_of(2) {
            return Err(format!(
                "rotary dimension {rotary_dim} must be even and positive"
            ));
        }
        let base = theta as f32;
        let mut inv: Vec<f32> = (0..rotary_dim / 2)
            .map(|i| 1.0f32 / base.powf((2 * i) as f32 / rotary_dim as f32))
            .collect();
        match scaling {
            RopeScaling::Default => {}
            RopeScaling::Linear { factor } => inv.iter_mut().for_each(|f| *f /= factor as f32),
            RopeScaling::Llama3 {
                factor,
                low_freq_factor,
                high_freq_factor,
                original_max,
            } => {
                let (factor, low, high, old) = (
                    factor as f32,
                    low_freq_factor as f32,
                    high_freq_factor as f32,
                    original_max as f32,
                );
                let low_wavelen = old / low;
                let high_wavelen = old / high;
                for f in inv.iter_mut() {
                    let wavelen = 2.0 * std::f32::consts::PI / *f;
                    let scaled = if wavelen > low_wavelen {
                        *f / factor
                    } else {
                        *f
                    };
                    let medium = wavelen >= high_wavelen && wavelen <= low_wavelen;
                    *f = if medium {
                        let smooth = (old / wavelen - low) / (high - low);
                        (1.0 - smooth) * scaled / factor + smooth * scaled
                    } else {
                        scaled
                    };
                }
            }
        }
        Ok(Self {
            inv_freq: inv,
            rotary_dim,
        })
    }

    /// cos and sin of shape `(b, t, rotary_dim/2)` for the given positions (row-major b × t).
    pub fn cos_sin(
        &self,
        positions: &[i64],
        b: usize,
        t: usize,
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<(Tensor, Tensor)> {
        let half = self.inv_freq.len();
        let mut cos = Vec::with_capacity(positions.len() * half);
        let mut sin = Vec::with_capacity(positions.len() * half);
        for &p in positions {
            let p = p.max(0) as f32;
            for &f in &self.inv_freq {
                let a = p * f;
                cos.push(a.cos());
                sin.push(a.sin());
            }
        }
        let cos = Tensor::from_vec(cos, (b, t, half), device)?.to_dtype(dtype)?;
        let sin = Tensor::from_vec(sin, (b, t, half), device)?.to_dtype(dtype)?;
        Ok((cos, sin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama3_scaling_has_three_branches() {
        let s = RopeScaling::Llama3 {
            factor: 8.0,
            low_freq_factor: 1.0,
            high_freq_factor: 4.0,
            original_max: 64.0,
        };
        let plain = RopeSpec::new(5e5, 16, RopeScaling::Default).expect("ok");
        let r = RopeSpec::new(5e5, 16, s).expect("ok");
        assert_eq!(r.inv_freq[0], plain.inv_freq[0]);
        let ratio = plain.inv_freq[1] / r.inv_freq[1];
        assert!((ratio - 2.442).abs() < 0.01, "{ratio}");
        for i in 2..8 {
            assert!((plain.inv_freq[i] / r.inv_freq[i] - 8.0).abs() < 1e-4);
        }
    }
}
