//! The one decoder: a Llama-family transformer on candle-nn that covers Llama, Mistral, Qwen2/3,
//! Gemma 2/3 and Phi-3 from a [`DecoderConfig`]. It runs padded batches with explicit per-token
//! positions (`-1` marks padding), builds causal/sliding masks from positions, keeps a KV cache
//! ([`KvCache`]) whose rows can be dropped, and returns hidden states so the output head runs only on the rows
//! a caller needs.

use std::sync::Arc;

use candle_core::{D, DType, Device, Tensor};

use crate::attention::{KeyRanges, TiledAttention};
use crate::config::{Activation, DecoderConfig};
use crate::error::LoadError;
use crate::fused::{AttnSoftmax, Visibility, silu_mul, silu_mul_halves};
pub use crate::kv_cache::KvCache;

/// `a + b`, on rayon when the fused kernels are on.
fn residual(fused: bool, a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    if fused {
        crate::fused::add(a, b)
    } else {
        a + b
    }
}
use crate::linear::Lin;
use crate::packing::Packing;
use crate::weights::WeightSource;

/// Failure inside a model call: a tensor error or a cancel/heartbeat stop.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A tensor operation failed.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// The caller asked to stop (cancel flag).
    #[error("cancelled")]
    Cancelled,
}

enum Attn {
    Split { q: Lin, k: Lin, v: Lin },
    Fused(Lin),
}

enum Mlp {
    Split { gate: Lin, up: Lin },
    Fused(Lin),
}

struct Layer {
    attn: Attn,
    o: Lin,
    mlp: Mlp,
    down: Lin,
    input_norm: Tensor,
    post_attn_norm: Tensor,
    pre_ff_norm: Option<Tensor>,
    post_ff_norm: Option<Tensor>,
    q_norm: Option<Tensor>,
    k_norm: Option<Tensor>,
}

/// A loaded decoder.
pub struct Decoder {
    cfg: DecoderConfig,
    embed: Tensor,
    layers: Vec<Layer>,
    norm: Tensor,
    head: Lin,
    dtype: DType,
    device: Device,
    num_parameters: u64,
    fused: bool,
}

/// The padded `(b, t)` grid of one forward and, when it has padding, the packing of its real
/// tokens (hidden states between layers are packed rows).
#[derive(Clone, Copy)]
struct Grid<'a> {
    b: usize,
    t: usize,
    packing: Option<&'a Packing>,
}

impl Grid<'_> {
    /// Grid rows `(b·t, d)` → the rows the layers carry.
    fn pack(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self.packing {
            Some(p) => p.pack(x),
            None => Ok(x.clone()),
        }
    }

    /// Rows the layers carry → grid rows `(b·t, d)`, zeros at padding.
    fn unpack(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self.packing {
            Some(p) => p.unpack(&x.contiguous()?),
            None => Ok(x.clone()),
        }
    }
}

/// How a layer's attention is masked: in the fused CPU softmax from positions, or with an
/// additive mask tensor (`None` = nothing masked) elsewhere.
#[derive(Clone, Copy)]
enum Masking<'a> {
    Fused {
        vis: &'a Visibility,
        window: Option<usize>,
        ranges: &'a KeyRanges,
    },
    Tensor(Option<&'a Tensor>),
}

fn norm_rows(x: &Tensor, w: &Tensor, eps: f64) -> candle_core::Result<Tensor> {
    let dtype = x.dtype();
    candle_nn::ops::rms_norm(&x.to_dtype(DType::F32)?.contiguous()?, w, eps as f32)?.to_dtype(dtype)
}

fn softcap(x: &Tensor, c: f64) -> candle_core::Result<Tensor> {
    (x / c)?.tanh()? * c
}

impl Decoder {
    /// Build from a weight source (HF names).
    pub fn load(cfg: DecoderConfig, w: &dyn WeightSource) -> Result<Self, LoadError> {
        let (h, hd, nh, nkv, inter) = (
            cfg.hidden_size,
            cfg.head_dim,
            cfg.num_heads,
            cfg.num_kv_heads,
            cfg.intermediate_size,
        );
        let gemma = cfg.arch.is_gemma();
        let embed = w.embedding("model.embed_tokens.weight", cfg.vocab_size, h)?;
        let mut layers = Vec::with_capacity(cfg.num_layers());
        for i in 0..cfg.num_layers() {
            let p = format!("model.layers.{i}");
            // Separate q/k/v and gate/up projections are joined into one matmul each when
            // they are dense (the same numbers, fewer and wider matmuls); every projection is
            // then stored in the layout the CPU multiplies fastest.
            let attn = if w.has(&format!("{p}.self_attn.qkv_proj.weight")) {
                Attn::Fused(
                    w.linear(&format!("{p}.self_attn.qkv_proj"), (nh + 2 * nkv) * hd, h)?
                        .into_cpu_layout()?,
                )
            } else {
                let q = w.linear(&format!("{p}.self_attn.q_proj"), nh * hd, h)?;
                let k = w.linear(&format!("{p}.self_attn.k_proj"), nkv * hd, h)?;
                let v = w.linear(&format!("{p}.self_attn.v_proj"), nkv * hd, h)?;
                match Lin::concat(&[&q, &k, &v])? {
                    Some(qkv) => Attn::Fused(qkv.into_cpu_layout()?),
                    None => Attn::Split {
                        q: q.into_cpu_layout()?,
                        k: k.into_cpu_layout()?,
                        v: v.into_cpu_layout()?,
                    },
                }
            };
            let mlp = if w.has(&format!("{p}.mlp.gate_up_proj.weight")) {
                Mlp::Fused(
                    w.linear(&format!("{p}.mlp.gate_up_proj"), 2 * inter, h)?
                        .into_cpu_layout()?,
                )
            } else {
                let gate = w.linear(&format!("{p}.mlp.gate_proj"), inter, h)?;
                let up = w.linear(&format!("{p}.mlp.up_proj"), inter, h)?;
                match Lin::concat(&[&gate, &up])? {
                    Some(gate_up) => Mlp::Fused(gate_up.into_cpu_layout()?),
                    None => Mlp::Split {
                        gate: gate.into_cpu_layout()?,
                        up: up.into_cpu_layout()?,
                    },
                }
            };
            let norm = |n: &str, dim: usize| w.norm(&format!("{p}.{n}.weight"), dim, gemma);
            layers.push(Layer {
                attn,
                o: w.linear(&format!("{p}.self_attn.o_proj"), h, nh * hd)?
                    .into_cpu_layout()?,
                mlp,
                down: w
                    .linear(&format!("{p}.mlp.down_proj"), h, inter)?
                    .into_cpu_layout()?,
                input_norm: norm("input_layernorm", h)?,
                post_attn_norm: norm("post_attention_layernorm", h)?,
                pre_ff_norm: if cfg.sandwich_norms {
                    Some(norm("pre_feedforward_layernorm", h)?)
                } else {
                    None
                },
                post_ff_norm: if cfg.sandwich_norms {
                    Some(norm("post_feedforward_layernorm", h)?)
                } else {
                    None
                },
                q_norm: if cfg.qk_norm {
                    Some(norm("self_attn.q_norm", hd)?)
                } else {
                    None
                },
                k_norm: if cfg.qk_norm {
                    Some(norm("self_attn.k_norm", hd)?)
                } else {
                    None
                },
            });
        }
        let norm = w.norm("model.norm.weight", h, gemma)?;
        let head = w.head(&embed, cfg.vocab_size, h)?;
        Ok(Self {
            num_parameters: w.num_parameters(),
            cfg,
            embed,
            layers,
            norm,
            head,
            dtype: w.dtype(),
            device: w.device().clone(),
            fused: true,
        })
    }

    /// Use the fused CPU kernels (the default: [`crate::fused`], the tiled attention, the q/k/v
    /// spread, the vocabulary-blocked head) or candle's plain ops with an additive mask tensor
    /// and a chunked head (the reference path; same numbers up to f32 noise).
    pub fn set_fused_kernels(&mut self, on: bool) {
        self.fused = on;
    }

    /// The configuration this decoder runs.
    pub fn config(&self) -> &DecoderConfig {
        &self.cfg
    }

    /// Compute dtype.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Parameters counted at load.
    pub fn num_parameters(&self) -> u64 {
        self.num_parameters
    }

    /// A fresh cache for `rows` rows.
    pub fn new_cache(&self, rows: usize) -> KvCache {
        KvCache::new(self.layers.len(), rows)
    }

    /// Run `ids` (b rows × t tokens) at `positions` (`-1` = padding), appending to `cache`.
    /// Returns the final-norm hidden states `(b, t, hidden)`. `tick` runs before each layer and
    /// may stop the call.
    pub fn forward(
        &self,
        ids: &[Vec<u32>],
        positions: &[Vec<i64>],
        cache: &mut KvCache,
        tick: &mut dyn FnMut() -> Result<(), RunError>,
    ) -> Result<Tensor, RunError> {
        self.forward_branched(ids, positions, None, cache, tick)
    }

    /// [`Self::forward`] with the branch of every token (`b × t`; see
    /// [`Visibility::k_branch`]): a row holds a trunk (branch 0) and continuations of it that
    /// do not see each other, each at its own positions.
    pub fn forward_branched(
        &self,
        ids: &[Vec<u32>],
        positions: &[Vec<i64>],
        branches: Option<&[Vec<u32>]>,
        cache: &mut KvCache,
        tick: &mut dyn FnMut() -> Result<(), RunError>,
    ) -> Result<Tensor, RunError> {
        self.run(ids, positions, branches, cache, false, tick)?
            .ok_or_else(|| {
                candle_core::Error::Msg("forward produced no hidden states".into()).into()
            })
    }

    /// Like [`Decoder::forward`] but only fills `cache`: the last layer computes its keys and
    /// values and stops (a shared prefix whose outputs nobody reads).
    pub fn forward_kv(
        &self,
        ids: &[Vec<u32>],
        positions: &[Vec<i64>],
        cache: &mut KvCache,
        tick: &mut dyn FnMut() -> Result<(), RunError>,
    ) -> Result<(), RunError> {
        self.run(ids, positions, None, cache, true, tick)
            .map(|_| ())
    }

    fn run(
        &self,
        ids: &[Vec<u32>],
        positions: &[Vec<i64>],
        branches: Option<&[Vec<u32>]>,
        cache: &mut KvCache,
        kv_only: bool,
        tick: &mut dyn FnMut() -> Result<(), RunError>,
    ) -> Result<Option<Tensor>, RunError> {
        let b = ids.len();
        let t = ids.first().map_or(0, Vec::len);
        if b == 0
            || t == 0
            || positions.len() != b
            || cache.key_pos.len() != b
            || branches.is_some_and(|br| br.len() != b || br.iter().any(|r| r.len() != t))
        {
            return Err(candle_core::Error::Msg(format!(
                "bad batch shape: {b} rows of {t} tokens"
            ))
            .into());
        }
        let flat_ids: Vec<u32> = ids.iter().flat_map(|r| r.iter().copied()).collect();
        let flat_pos: Vec<i64> = positions.iter().flat_map(|r| r.iter().copied()).collect();
        if flat_ids.len() != b * t || flat_pos.len() != b * t {
            return Err(candle_core::Error::Msg("ragged batch".into()).into());
        }
        for (row, pos) in cache.key_pos.iter_mut().zip(positions) {
            row.extend_from_slice(pos);
        }
        for (r, row) in cache.key_branch.iter_mut().enumerate() {
            match branches {
                Some(br) => row.extend_from_slice(&br[r]),
                None => row.resize(row.len() + t, 0),
            }
        }
        let s = cache.len();
        // Row-wise work runs on the real tokens only (padding-free) on the fused path.
        let packing = if self.fused {
            Packing::new(&flat_pos, &self.device)?
        } else {
            None
        };
        let grid = Grid {
            b,
            t,
            packing: packing.as_ref(),
        };
        let real_ids: Vec<u32> = match &packing {
            Some(p) => p.real(&flat_ids),
            None => flat_ids,
        };
        let ids_t = Tensor::from_vec(
            real_ids,
            packing.as_ref().map_or(b * t, Packing::rows),
            &self.device,
        )?;
        // Hidden states are `(tokens, hidden)` rows from here on.
        let mut x = self.embed.index_select(&ids_t, 0)?;
        if let Some(scale) = self.cfg.embed_scale {
            let scale = match self.dtype {
                DType::BF16 => half::bf16::from_f64(scale).to_f64(),
                DType::F16 => half::f16::from_f64(scale).to_f64(),
                _ => scale,
            };
            x = (x * scale)?;
        }
        let mut rope_tables: Vec<Option<(Tensor, Tensor)>> = vec![None; self.cfg.ropes.len()];
        let fused = self.fused && self.device.is_cpu();
        let vis = Visibility {
            q_pos: Arc::new(flat_pos.clone()),
            k_pos: Arc::new(cache.key_pos.iter().flatten().copied().collect()),
            b,
            t,
            s,
            k_branch: {
                let flat: Vec<u32> = cache.key_branch.iter().flatten().copied().collect();
                flat.iter().any(|&br| br != 0).then(|| Arc::new(flat))
            },
        };
        let mut masks: Vec<(Option<usize>, Option<Tensor>)> = Vec::new();
        let mut ranges: Vec<(Option<usize>, KeyRanges)> = Vec::new();
        for (li, layer) in self.layers.iter().enumerate() {
            tick()?;
            let spec = &self.cfg.layers[li];
            if rope_tables[spec.rope].is_none() {
                rope_tables[spec.rope] = Some(self.cfg.ropes[spec.rope].cos_sin(
                    &flat_pos,
                    b,
                    t,
                    self.dtype,
                    &self.device,
                )?);
            }
            if fused && !ranges.iter().any(|(w, _)| *w == spec.sliding_window) {
                ranges.push((
                    spec.sliding_window,
                    KeyRanges::new(&vis, spec.sliding_window),
                ));
            }
            if !fused && !masks.iter().any(|(w, _)| *w == spec.sliding_window) {
                let m = build_mask(&vis, spec.sliding_window, &self.device)?;
                masks.push((spec.sliding_window, m));
            }
            let fused_ranges = ranges
                .iter()
                .find(|(w, _)| *w == spec.sliding_window)
                .map(|(_, r)| r);
            let mask = if let Some(ranges) = fused_ranges {
                Masking::Fused {
                    vis: &vis,
                    window: spec.sliding_window,
                    ranges,
                }
            } else {
                Masking::Tensor(
                    masks
                        .iter()
                        .find(|(w, _)| *w == spec.sliding_window)
                        .and_then(|(_, m)| m.as_ref()),
                )
            };
            let Some((cos, sin)) = rope_tables[spec.rope].as_ref() else {
                return Err(candle_core::Error::Msg("rope table missing".into()).into());
            };
            let rotary_dim = self.cfg.ropes[spec.rope].rotary_dim;
            if kv_only && li + 1 == self.layers.len() {
                let h = norm_rows(&x, &layer.input_norm, self.cfg.rms_norm_eps)?;
                self.project_qkv(li, layer, &h, grid, cos, sin, rotary_dim, cache, false)?;
                return Ok(None);
            }
            x = self.layer(li, layer, &x, grid, cos, sin, rotary_dim, mask, cache, s)?;
        }
        let x = grid.unpack(&norm_rows(&x, &self.norm, self.cfg.rms_norm_eps)?)?;
        Ok(Some(x.reshape((b, t, self.cfg.hidden_size))?))
    }

    /// The output head's weight when the logits are a plain f32 CPU matmul (no bias, no
    /// soft-cap) and the fused kernels are on, and whether it is stored `(hidden, vocab)`.
    pub(crate) fn plain_cpu_head(&self) -> Option<(&Tensor, bool)> {
        if !self.fused || self.cfg.final_softcap.is_some() {
            return None;
        }
        self.head.cpu_f32_weight()
    }

    /// Logits in f32 (soft-capped as the model does) for hidden rows `(n, hidden)`.
    pub fn logits(&self, hidden: &Tensor) -> candle_core::Result<Tensor> {
        let l = self.head.forward(hidden)?.to_dtype(DType::F32)?;
        match self.cfg.final_softcap {
            Some(c) => softcap(&l, c),
            None => Ok(l),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn layer(
        &self,
        li: usize,
        layer: &Layer,
        x: &Tensor,
        grid: Grid<'_>,
        cos: &Tensor,
        sin: &Tensor,
        rotary_dim: usize,
        mask: Masking<'_>,
        cache: &mut KvCache,
        s: usize,
    ) -> candle_core::Result<Tensor> {
        let eps = self.cfg.rms_norm_eps;
        let h = norm_rows(x, &layer.input_norm, eps)?;
        let a = self.attention(li, layer, &h, grid, cos, sin, rotary_dim, mask, cache, s)?;
        if self.cfg.sandwich_norms {
            let a = norm_rows(&a, &layer.post_attn_norm, eps)?;
            let x = residual(self.fused, x, &a)?;
            let pre = layer.pre_ff_norm.as_ref().unwrap_or(&layer.post_attn_norm);
            let m = self.mlp(layer, &norm_rows(&x, pre, eps)?)?;
            let post = layer.post_ff_norm.as_ref().unwrap_or(&layer.post_attn_norm);
            residual(self.fused, &x, &norm_rows(&m, post, eps)?)
        } else {
            let x = residual(self.fused, x, &a)?;
            let m = self.mlp(layer, &norm_rows(&x, &layer.post_attn_norm, eps)?)?;
            residual(self.fused, &x, &m)
        }
    }

    fn mlp(&self, layer: &Layer, x: &Tensor) -> candle_core::Result<Tensor> {
        if let (Mlp::Fused(l), Activation::Silu, true) =
            (&layer.mlp, self.cfg.activation, self.fused)
        {
            let y = l.forward(x)?;
            if let Some(act) = silu_mul_halves(&y, self.cfg.intermediate_size)? {
                return layer.down.forward(&act);
            }
        }
        let (gate, up) = match &layer.mlp {
            Mlp::Split { gate, up } => (gate.forward(x)?, up.forward(x)?),
            Mlp::Fused(l) => {
                let y = l.forward(x)?;
                let n = self.cfg.intermediate_size;
                (y.narrow(D::Minus1, 0, n)?, y.narrow(D::Minus1, n, n)?)
            }
        };
        let act = match self.cfg.activation {
            Activation::Silu if self.fused => silu_mul(&gate, &up)?,
            Activation::Silu => (candle_nn::ops::silu(&gate)? * up)?,
            Activation::GeluTanh => (gate.gelu()? * up)?,
            Activation::GeluErf => (gate.gelu_erf()? * up)?,
        };
        layer.down.forward(&act)
    }

    #[allow(clippy::too_many_arguments)]
    fn attention(
        &self,
        li: usize,
        layer: &Layer,
        x: &Tensor,
        grid: Grid<'_>,
        cos: &Tensor,
        sin: &Tensor,
        rotary_dim: usize,
        mask: Masking<'_>,
        cache: &mut KvCache,
        s: usize,
    ) -> candle_core::Result<Tensor> {
        let (b, t) = (grid.b, grid.t);
        let (nh, nkv, hd) = (self.cfg.num_heads, self.cfg.num_kv_heads, self.cfg.head_dim);
        let (q, k, v) = self.project_qkv(li, layer, x, grid, cos, sin, rotary_dim, cache, true)?;
        let q = q.ok_or_else(|| candle_core::Error::Msg("query missing".into()))?;
        let n_rep = nh / nkv;
        if let Masking::Fused {
            vis,
            window,
            ranges,
        } = mask
            && q.dtype() == DType::F32
        {
            let out = q.apply_op3_no_bwd(
                &k,
                &v,
                &TiledAttention {
                    vis,
                    window,
                    ranges,
                    scale: self.cfg.attn_scale,
                    softcap: self.cfg.attn_softcap,
                },
            )?;
            return layer
                .o
                .forward(&grid.pack(&out.reshape((b * t, nh * hd))?)?);
        }
        let (k, v) = (k.contiguous()?, v.contiguous()?);
        let qg = q.reshape((b, nkv, n_rep * t, hd))?;
        let raw = qg.matmul(&k.t()?)?;
        let probs = match mask {
            Masking::Fused { vis, window, .. } => raw
                .to_dtype(DType::F32)?
                .contiguous()?
                .apply_op1_no_bwd(&AttnSoftmax {
                    vis,
                    window,
                    scale: self.cfg.attn_scale,
                    softcap: self.cfg.attn_softcap,
                    heads: nh,
                })?,
            Masking::Tensor(m) => {
                let scores = (raw * self.cfg.attn_scale)?.to_dtype(DType::F32)?;
                let scores = match self.cfg.attn_softcap {
                    Some(c) => softcap(&scores, c)?,
                    None => scores,
                };
                let scores = scores.reshape((b, nh, t, s))?;
                let scores = match m {
                    Some(m) => scores.broadcast_add(m)?,
                    None => scores,
                };
                candle_nn::ops::softmax_last_dim(&scores)?
            }
        }
        .to_dtype(self.dtype)?;
        let out = probs.reshape((b, nkv, n_rep * t, s))?.matmul(&v)?;
        let out = out
            .reshape((b, nh, t, hd))?
            .transpose(1, 2)?
            .reshape((b * t, nh * hd))?;
        layer.o.forward(&grid.pack(&out)?)
    }

    /// Project, norm and rotate; append K/V to the cache and return (q, all keys, all values).
    #[allow(clippy::too_many_arguments)]
    fn project_qkv(
        &self,
        li: usize,
        layer: &Layer,
        x: &Tensor,
        grid: Grid<'_>,
        cos: &Tensor,
        sin: &Tensor,
        rotary_dim: usize,
        cache: &mut KvCache,
        want_q: bool,
    ) -> candle_core::Result<(Option<Tensor>, Tensor, Tensor)> {
        let (b, t) = (grid.b, grid.t);
        let (nh, nkv, hd) = (self.cfg.num_heads, self.cfg.num_kv_heads, self.cfg.head_dim);
        if let Attn::Fused(l) = &layer.attn
            && self.fused
            && x.device().is_cpu()
            && x.dtype() == DType::F32
            && rotary_dim == hd
            && hd <= crate::qkv::MAX_HEAD_DIM
            && !self.cfg.rope_interleaved
        {
            let y = l.forward(x)?;
            return self.spread_qkv(li, layer, &y, grid, (cos, sin), cache, want_q);
        }
        let (q, k, v) = match &layer.attn {
            Attn::Split { q, k, v } => (q.forward(x)?, k.forward(x)?, v.forward(x)?),
            Attn::Fused(l) => {
                let y = l.forward(x)?;
                (
                    y.narrow(D::Minus1, 0, nh * hd)?,
                    y.narrow(D::Minus1, nh * hd, nkv * hd)?,
                    y.narrow(D::Minus1, (nh + nkv) * hd, nkv * hd)?,
                )
            }
        };
        let (q, k, v) = (grid.unpack(&q)?, grid.unpack(&k)?, grid.unpack(&v)?);
        let mut k = k.reshape((b, t, nkv, hd))?;
        let v = v.reshape((b, t, nkv, hd))?.transpose(1, 2)?.contiguous()?;
        if let Some(kn) = &layer.k_norm {
            k = norm_rows(&k, kn, self.cfg.rms_norm_eps)?;
        }
        let k = self.rope(&k.transpose(1, 2)?.contiguous()?, cos, sin, rotary_dim)?;
        let q = if want_q {
            let mut q = q.reshape((b, t, nh, hd))?;
            if let Some(qn) = &layer.q_norm {
                q = norm_rows(&q, qn, self.cfg.rms_norm_eps)?;
            }
            Some(self.rope(&q.transpose(1, 2)?.contiguous()?, cos, sin, rotary_dim)?)
        } else {
            None
        };
        let s = cache.len();
        let (k, v) = cache.append(li, &k, &v, s)?;
        Ok((q, k, v))
    }

    /// [`Self::project_qkv`] on the CPU in f32 from the joined projection `y`: one parallel
    /// pass each for the queries, keys and values (see [`crate::qkv`]).
    #[allow(clippy::too_many_arguments)]
    fn spread_qkv(
        &self,
        li: usize,
        layer: &Layer,
        y: &Tensor,
        grid: Grid<'_>,
        (cos, sin): (&Tensor, &Tensor),
        cache: &mut KvCache,
        want_q: bool,
    ) -> candle_core::Result<(Option<Tensor>, Tensor, Tensor)> {
        let (b, t) = (grid.b, grid.t);
        let (nh, nkv, hd) = (self.cfg.num_heads, self.cfg.num_kv_heads, self.cfg.head_dim);
        let (y, cos, sin) = (y.contiguous()?, cos.contiguous()?, sin.contiguous()?);
        // The norm weights are f32 here (the compute dtype): read in place, not copied.
        let q_norm = layer
            .q_norm
            .as_ref()
            .map(|w| crate::fused::f32_view(w, "q norm"))
            .transpose()?;
        let k_norm = layer
            .k_norm
            .as_ref()
            .map(|w| crate::fused::f32_view(w, "k norm"))
            .transpose()?;
        let (yg, cg, sg) = (
            crate::fused::f32_view(&y, "qkv")?,
            crate::fused::f32_view(&cos, "rope cos")?,
            crate::fused::f32_view(&sin, "rope sin")?,
        );
        let spread = crate::qkv::Spread {
            qkv: yg.slice(),
            row_of_slot: grid.packing.map(Packing::row_of_slot),
            b,
            t,
            heads: nh,
            kv_heads: nkv,
            hd,
            cos: cg.slice(),
            sin: sg.slice(),
            q_norm: q_norm.as_ref().map(crate::fused::F32View::slice),
            k_norm: k_norm.as_ref().map(crate::fused::F32View::slice),
            eps: self.cfg.rms_norm_eps as f32,
        };
        spread.check()?;
        let s = cache.len();
        let old = s - t;
        let (kb, vb) = cache.buffers(li, (b, nkv, hd), s, old, &y)?;
        for (buf, part) in [
            (&kb, crate::qkv::Part::Keys),
            (&vb, crate::qkv::Part::Values),
        ] {
            buf.inplace_op1(&crate::qkv::WriteCache {
                spread: &spread,
                part,
                old,
            })?;
        }
        let q = if want_q {
            Some(Tensor::from_vec(
                spread.queries(),
                (b, nh, t, hd),
                y.device(),
            )?)
        } else {
            None
        };
        Ok((q, kb.narrow(2, 0, s)?, vb.narrow(2, 0, s)?))
    }

    fn rope(
        &self,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        rotary_dim: usize,
    ) -> candle_core::Result<Tensor> {
        let hd = self.cfg.head_dim;
        let apply = |x: &Tensor| {
            if self.cfg.rope_interleaved {
                candle_nn::rotary_emb::rope_i(x, cos, sin)
            } else {
                candle_nn::rotary_emb::rope(x, cos, sin)
            }
        };
        if rotary_dim == hd {
            return apply(x);
        }
        let rot = apply(&x.narrow(D::Minus1, 0, rotary_dim)?.contiguous()?)?;
        let pass = x.narrow(D::Minus1, rotary_dim, hd - rotary_dim)?;
        Tensor::cat(&[&rot, &pass], D::Minus1)
    }
}

/// Additive mask `(b, 1, t, s)` from [`Visibility::sees`] (non-CPU devices). `None` when
/// nothing is masked.
fn build_mask(
    vis: &Visibility,
    window: Option<usize>,
    device: &Device,
) -> candle_core::Result<Option<Tensor>> {
    let (b, t, s) = (vis.b, vis.t, vis.s);
    let mut data = vec![0f32; b * t * s];
    let mut any = false;
    for r in 0..b {
        for i in 0..t {
            for j in 0..s {
                if !vis.sees(r, i, j, window) {
                    data[(r * t + i) * s + j] = -1e30;
                    any = true;
                }
            }
        }
    }
    if !any {
        return Ok(None);
    }
    Ok(Some(Tensor::from_vec(data, (b, 1, t, s), device)?))
}
