//! Where decoder weights come from. [`WeightSource`] hands the decoder tensors by their Hugging
//! Face names; [`SafetensorsWeights`] serves them from memory-mapped (possibly sharded)
//! safetensors with shape checks, an optional LoRA overlay merged in f32, and optional
//! quantization at load (`q8_0`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::safetensors::MmapedSafetensors;
use candle_core::{DType, Device, Tensor};

use crate::error::LoadError;
use crate::linear::Lin;
use crate::lora::LoraOverlay;

/// Tensors by Hugging Face name (`model.layers.0.self_attn.q_proj.weight`).
pub trait WeightSource {
    /// Whether a tensor exists.
    fn has(&self, name: &str) -> bool;
    /// A linear layer `name.weight` of shape `(out, inp)`, with `name.bias` when present.
    fn linear(&self, name: &str, out: usize, inp: usize) -> Result<Lin, LoadError>;
    /// A norm weight of length `dim` in f32; `plus_one` for Gemma's `(1 + w)` when not baked in.
    fn norm(&self, name: &str, dim: usize, plus_one: bool) -> Result<Tensor, LoadError>;
    /// The embedding matrix `(vocab, hidden)` in the compute dtype.
    fn embedding(&self, name: &str, vocab: usize, hidden: usize) -> Result<Tensor, LoadError>;
    /// The output head; `embed` is used when the checkpoint ties it.
    fn head(&self, embed: &Tensor, vocab: usize, hidden: usize) -> Result<Lin, LoadError>;
    /// Compute dtype.
    fn dtype(&self) -> DType;
    /// Device.
    fn device(&self) -> &Device;
    /// Total parameters of the checkpoint.
    fn num_parameters(&self) -> u64;
}

/// Safetensors weights of a Hugging Face folder.
pub struct SafetensorsWeights {
    st: MmapedSafetensors,
    files: HashMap<String, PathBuf>,
    prefix: String,
    head_name: Option<String>,
    dtype: DType,
    device: Device,
    quantize: Option<GgmlDType>,
    lora: Option<LoraOverlay>,
    num_parameters: u64,
}

/// The safetensors files of `dir`: the index's shards, or `model.safetensors`.
pub fn safetensors_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let index = dir.join("model.safetensors.index.json");
    if index.is_file() {
        let text = std::fs::read_to_string(&index)
            .map_err(|e| LoadError::file(&index, format!("cannot read: {e}")))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| LoadError::file(&index, format!("not valid JSON: {e}")))?;
        let map = v
            .get("weight_map")
            .and_then(|m| m.as_object())
            .ok_or_else(|| LoadError::file(&index, "has no `weight_map` object"))?;
        let mut files: Vec<String> = map
            .values()
            .filter_map(|f| f.as_str().map(str::to_string))
            .collect();
        files.sort();
        files.dedup();
        let mut out = Vec::new();
        for f in files {
            let p = dir.join(&f);
            if !p.is_file() {
                return Err(LoadError::file(
                    &p,
                    "shard listed in model.safetensors.index.json is missing",
                ));
            }
            out.push(p);
        }
        return Ok(out);
    }
    let single = dir.join("model.safetensors");
    if single.is_file() {
        return Ok(vec![single]);
    }
    Err(LoadError::file(
        dir,
        "no model.safetensors or model.safetensors.index.json; only safetensors checkpoints are supported (convert .bin/.pt first)",
    ))
}

impl SafetensorsWeights {
    /// Open the folder's safetensors (memory-mapped).
    pub fn open(
        dir: &Path,
        dtype: DType,
        device: &Device,
        quantize: Option<GgmlDType>,
        lora: Option<LoraOverlay>,
    ) -> Result<Self, LoadError> {
        let paths = safetensors_files(dir)?;
        let mut files = HashMap::new();
        for p in &paths {
            // Validate each file on its own first so a bad shard is named.
            // SAFETY: the file is mapped read-only; like every mmap loader we rely on it not being
            // truncated or rewritten while the model is loaded.
            let one = unsafe { MmapedSafetensors::new(p) }.map_err(|e| {
                LoadError::file(
                    p,
                    format!("not a valid safetensors file (truncated or corrupt?): {e}"),
                )
            })?;
            for (name, _) in one.tensors() {
                files.insert(name, p.clone());
            }
        }
        // SAFETY: as above.
        let st = unsafe { MmapedSafetensors::multi(&paths) }
            .map_err(|e| LoadError::file(dir, format!("cannot map safetensors: {e}")))?;
        let mut num_parameters = 0u64;
        for (_, view) in st.tensors() {
            num_parameters += view.shape().iter().product::<usize>() as u64;
        }
        let prefix = files
            .keys()
            .find_map(|k| k.strip_suffix("embed_tokens.weight").map(str::to_string))
            .ok_or_else(|| {
                LoadError::file(
                    &paths[0],
                    "no `*embed_tokens.weight` tensor; is this a decoder checkpoint?",
                )
            })?;
        // `model.` -> "", `model.language_model.` / `language_model.model.` -> their head prefix.
        let outer = prefix.strip_suffix("model.").unwrap_or(&prefix).to_string();
        let head_name = [
            format!("{outer}lm_head.weight"),
            "lm_head.weight".to_string(),
        ]
        .into_iter()
        .find(|n| files.contains_key(n));
        Ok(Self {
            st,
            files,
            prefix,
            head_name,
            dtype,
            device: device.clone(),
            quantize,
            lora,
            num_parameters,
        })
    }

    fn real_name(&self, name: &str) -> String {
        match name.strip_prefix("model.") {
            Some(rest) => format!("{}{rest}", self.prefix),
            None => name.to_string(),
        }
    }

    /// Load `name` in f32 with its shape checked, LoRA applied.
    fn load_f32(&self, name: &str, shape: &[usize]) -> Result<Tensor, LoadError> {
        let real = self.real_name(name);
        let file = self.files.get(&real).cloned().unwrap_or_default();
        let Some(path) = self.files.get(&real) else {
            return Err(LoadError::File {
                path: self.files.values().next().cloned().unwrap_or_default(),
                message: format!("tensor `{real}` is missing from the checkpoint"),
            });
        };
        let view = self
            .st
            .get(&real)
            .map_err(|e| LoadError::file(path, format!("tensor `{real}`: {e}")))?;
        if view.shape() != shape {
            return Err(LoadError::file(
                path,
                format!(
                    "tensor `{real}` has shape {:?} but config.json implies {:?}; the config does not match the weights",
                    view.shape(),
                    shape
                ),
            ));
        }
        let t = self
            .st
            .load(&real, &Device::Cpu)
            .map_err(|e| LoadError::file(&file, format!("tensor `{real}`: {e}")))?
            .to_dtype(DType::F32)?;
        release_pages(view.data());
        match &self.lora {
            Some(l) => l.apply(&real, t),
            None => Ok(t),
        }
    }
}

impl WeightSource for SafetensorsWeights {
    fn has(&self, name: &str) -> bool {
        self.files.contains_key(&self.real_name(name))
    }

    fn linear(&self, name: &str, out: usize, inp: usize) -> Result<Lin, LoadError> {
        let w = self.load_f32(&format!("{name}.weight"), &[out, inp])?;
        let bias_name = format!("{name}.bias");
        let bias = if self.has(&bias_name) {
            Some(
                self.load_f32(&bias_name, &[out])?
                    .to_dtype(self.dtype)?
                    .to_device(&self.device)?,
            )
        } else {
            None
        };
        if let Some(q) = self.quantize.filter(|q| inp.is_multiple_of(q.block_size())) {
            let qt = QTensor::quantize_onto(&w, q, &self.device)?;
            return Ok(Lin::Quant {
                q: QMatMul::from_qtensor(qt)?,
                bias,
                out,
            });
        }
        let w = w.to_dtype(self.dtype)?.to_device(&self.device)?;
        Ok(Lin::Dense {
            inner: candle_nn::Linear::new(w, bias),
        })
    }

    fn norm(&self, name: &str, dim: usize, plus_one: bool) -> Result<Tensor, LoadError> {
        let w = self.load_f32(name, &[dim])?;
        let w = if plus_one { (w + 1.0)? } else { w };
        Ok(w.to_device(&self.device)?)
    }

    fn embedding(&self, name: &str, vocab: usize, hidden: usize) -> Result<Tensor, LoadError> {
        Ok(self
            .load_f32(name, &[vocab, hidden])?
            .to_dtype(self.dtype)?
            .to_device(&self.device)?)
    }

    fn head(&self, embed: &Tensor, vocab: usize, hidden: usize) -> Result<Lin, LoadError> {
        let w = match &self.head_name {
            Some(n) => {
                let n = n.clone();
                let w = self.load_f32_raw(&n, &[vocab, hidden])?;
                match &self.lora {
                    Some(l) => l.apply(&n, w)?,
                    None => w,
                }
            }
            None => match self
                .lora
                .as_ref()
                .and_then(|l| l.replacement("lm_head.weight"))
            {
                Some(t) => t?,
                None => {
                    if self.quantize.is_none() {
                        return Ok(Lin::Dense {
                            inner: candle_nn::Linear::new(embed.clone(), None),
                        });
                    }
                    embed.to_dtype(DType::F32)?.to_device(&Device::Cpu)?
                }
            },
        };
        if let Some(q) = self
            .quantize
            .filter(|q| hidden.is_multiple_of(q.block_size()))
        {
            let qt = QTensor::quantize_onto(&w, q, &self.device)?;
            return Ok(Lin::Quant {
                q: QMatMul::from_qtensor(qt)?,
                bias: None,
                out: vocab,
            });
        }
        Ok(Lin::Dense {
            inner: candle_nn::Linear::new(w.to_dtype(self.dtype)?.to_device(&self.device)?, None),
        })
    }

    fn dtype(&self) -> DType {
        self.dtype
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn num_parameters(&self) -> u64 {
        self.num_parameters
    }
}

impl SafetensorsWeights {
    fn load_f32_raw(&self, real: &str, shape: &[usize]) -> Result<Tensor, LoadError> {
        let path = self.files.get(real).cloned().unwrap_or_default();
        let view = self
            .st
            .get(real)
            .map_err(|e| LoadError::file(&path, format!("tensor `{real}`: {e}")))?;
        if view.shape() != shape {
            return Err(LoadError::file(
                &path,
                format!(
                    "tensor `{real}` has shape {:?} but config.json implies {shape:?}",
                    view.shape()
                ),
            ));
        }
        let t = self
            .st
            .load(real, &Device::Cpu)
            .map_err(|e| LoadError::file(&path, format!("tensor `{real}`: {e}")))?
            .to_dtype(DType::F32)?;
        release_pages(view.data());
        Ok(t)
    }
}

/// `madvise(MADV_DONTNEED)` on the whole pages inside `bytes` (a read-only file mapping, so
/// the content stays the same; only residency changes), called once a tensor is copied into
/// its compute tensor so the weights are never resident twice. Best effort: failure changes
/// nothing.
fn release_pages(bytes: &[u8]) {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
        let start = bytes.as_ptr() as usize;
        let first = start.div_ceil(page) * page;
        let end = (start + bytes.len()) / page * page;
        if end > first {
            // SAFETY: [first, end) lies inside `bytes`, which is part of a read-only shared file
            // mapping; dropping its pages does not change what a later read returns.
            unsafe {
                libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_DONTNEED);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = bytes;
}

impl SafetensorsWeights {
    /// LoRA entries that matched no base tensor.
    pub fn lora_unused(&self) -> Vec<String> {
        self.lora
            .as_ref()
            .map(LoraOverlay::unused)
            .unwrap_or_default()
    }
}
