//! PEFT LoRA adapters applied at load: `adapter_config.json` + `adapter_model.safetensors` are
//! read, every `lora_A`/`lora_B` pair is merged into its base weight in f32 as
//! `W + scale·B·A` (scale `alpha/r`, or `alpha/√r` with rsLoRA; `rank_pattern`/`alpha_pattern`
//! honoured), `modules_to_save` replace their base tensors, and adapter features we cannot
//! reproduce exactly (DoRA, LoRA biases, ...) are refused with a clear error.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use serde_json::Value;

use crate::error::LoadError;

#[derive(Debug)]
struct Delta {
    a: Tensor,
    b: Tensor,
    scale: f64,
    embedding: bool,
}

/// An adapter ready to be merged into base weights as they are loaded.
#[derive(Debug)]
pub struct LoraOverlay {
    dir: PathBuf,
    deltas: HashMap<String, Delta>,
    replacements: HashMap<String, Tensor>,
    used: RefCell<HashSet<String>>,
    /// `base_model_name_or_path` from the adapter config.
    pub base_model_name_or_path: Option<String>,
}

fn refuse(path: &Path, what: &str) -> LoadError {
    LoadError::Unsupported(format!(
        "{}: {what} is not supported; merge the adapter with PEFT and load the merged folder",
        path.display()
    ))
}

fn pattern_value(patterns: Option<&Value>, module: &str) -> Result<Option<f64>, String> {
    let Some(map) = patterns.and_then(Value::as_object) else {
        return Ok(None);
    };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
    for k in keys {
        let re = regex::Regex::new(&format!(r"^(.*\.)?({k})$"))
            .map_err(|e| format!("pattern `{k}`: {e}"))?;
        if re.is_match(module) {
            return Ok(map.get(k).and_then(Value::as_f64));
        }
    }
    Ok(None)
}

fn targets(cfg: &Value, module: &str) -> Result<bool, String> {
    let leaf_match = |t: &str| module == t || module.ends_with(&format!(".{t}"));
    if let Some(ex) = cfg.get("exclude_modules") {
        match ex {
            Value::String(s) => {
                let re = regex::Regex::new(&format!("^(?:{s})$"))
                    .map_err(|e| format!("exclude_modules: {e}"))?;
                if re.is_match(module) {
                    return Ok(false);
                }
            }
            Value::Array(items) if items.iter().filter_map(Value::as_str).any(leaf_match) => {
                return Ok(false);
            }
            _ => {}
        }
    }
    match cfg.get("target_modules") {
        Some(Value::String(s)) if s == "all-linear" => Ok(true),
        Some(Value::String(s)) => {
            let re = regex::Regex::new(&format!("^(?:{s})$"))
                .map_err(|e| format!("target_modules: {e}"))?;
            Ok(re.is_match(module))
        }
        Some(Value::Array(items)) => Ok(items.iter().filter_map(Value::as_str).any(leaf_match)),
        _ => Ok(true),
    }
}

impl LoraOverlay {
    /// Read and validate the adapter in `dir`.
    pub fn open(dir: &Path) -> Result<Self, LoadError> {
        let cfg_path = dir.join("adapter_config.json");
        let text = std::fs::read_to_string(&cfg_path).map_err(|e| {
            LoadError::file(&cfg_path, format!("cannot read the adapter config ({e}); a PEFT adapter folder needs adapter_config.json"))
        })?;
        let cfg: Value = serde_json::from_str(&text)
            .map_err(|e| LoadError::file(&cfg_path, format!("not valid JSON: {e}")))?;
        let s = |k: &str| cfg.get(k).and_then(Value::as_str);
        let truthy = |k: &str| {
            cfg.get(k).is_some_and(|v| match v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Array(a) => !a.is_empty(),
                Value::Object(o) => !o.is_empty(),
                _ => true,
            })
        };
        if let Some(t) = s("peft_type").filter(|t| *t != "LORA") {
            return Err(refuse(&cfg_path, &format!("peft_type `{t}` (only LORA)")));
        }
        for (key, what) in [
            ("use_dora", "DoRA (`use_dora: true`)"),
            ("lora_bias", "LoRA bias (`lora_bias: true`)"),
            ("fan_in_fan_out", "`fan_in_fan_out: true` (Conv1D bases)"),
            ("layer_replication", "`layer_replication`"),
            ("trainable_token_indices", "`trainable_token_indices`"),
            ("target_parameters", "`target_parameters`"),
            ("use_qalora", "QA-LoRA"),
            ("alora_invocation_tokens", "aLoRA"),
        ] {
            if truthy(key) {
                return Err(refuse(&cfg_path, what));
            }
        }
        if let Some(b) = s("bias").filter(|b| *b != "none") {
            return Err(refuse(&cfg_path, &format!("`bias: {b}`")));
        }
        let r = cfg.get("r").and_then(Value::as_f64).unwrap_or(8.0);
        let alpha = cfg.get("lora_alpha").and_then(Value::as_f64).unwrap_or(8.0);
        let rslora = cfg
            .get("use_rslora")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let to_save: Vec<String> = cfg
            .get("modules_to_save")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();

        let st_path = dir.join("adapter_model.safetensors");
        if !st_path.is_file() {
            return Err(LoadError::file(
                &st_path,
                "missing; only safetensors adapters are supported (save with safe_serialization=True)",
            ));
        }
        let tensors = candle_core::safetensors::load(&st_path, &Device::Cpu)
            .map_err(|e| LoadError::file(&st_path, format!("not a valid safetensors file: {e}")))?;
        let mut pairs: HashMap<String, (Option<Tensor>, Option<Tensor>, bool)> = HashMap::new();
        let mut replacements = HashMap::new();
        for (name, t) in tensors {
            let t = t.to_dtype(DType::F32)?;
            let n = name
                .strip_prefix("base_model.model.")
                .unwrap_or(&name)
                .to_string();
            let n = n.replace(".modules_to_save.default.", ".");
            let n = n.replace(".default.", ".");
            let slot = |suffix: &str| n.strip_suffix(suffix).map(str::to_string);
            if n.contains("lora_magnitude_vector") {
                return Err(refuse(&st_path, "DoRA (`lora_magnitude_vector`)"));
            }
            if let Some(m) = slot(".lora_A.weight") {
                pairs.entry(m).or_default().0 = Some(t);
            } else if let Some(m) = slot(".lora_B.weight") {
                pairs.entry(m).or_default().1 = Some(t);
            } else if let Some(m) = slot(".lora_embedding_A") {
                let e = pairs.entry(m).or_default();
                e.0 = Some(t);
                e.2 = true;
            } else if let Some(m) = slot(".lora_embedding_B") {
                let e = pairs.entry(m).or_default();
                e.1 = Some(t);
                e.2 = true;
            } else if to_save
                .iter()
                .any(|m| n.starts_with(&format!("{m}.")) || n.contains(&format!(".{m}.")))
            {
                replacements.insert(n, t);
            } else if n.ends_with(".bias") {
                return Err(refuse(&st_path, &format!("LoRA bias tensor `{name}`")));
            } else {
                return Err(LoadError::file(
                    &st_path,
                    format!("unexpected tensor `{name}` (not lora_A/lora_B or modules_to_save)"),
                ));
            }
        }
        let mut deltas = HashMap::new();
        for (module, (a, b, embedding)) in pairs {
            let (Some(a), Some(b)) = (a, b) else {
                return Err(LoadError::file(
                    &st_path,
                    format!("module `{module}` has only one of lora_A/lora_B"),
                ));
            };
            if !targets(&cfg, &module).map_err(|m| LoadError::file(&cfg_path, m))? {
                return Err(LoadError::file(
                    &cfg_path,
                    format!(
                        "the weights adapt `{module}`, which target_modules does not cover; the config and weights disagree"
                    ),
                ));
            }
            let rank = pattern_value(cfg.get("rank_pattern"), &module)
                .map_err(|m| LoadError::file(&cfg_path, m))?
                .unwrap_or(r);
            let alp = pattern_value(cfg.get("alpha_pattern"), &module)
                .map_err(|m| LoadError::file(&cfg_path, m))?
                .unwrap_or(alpha);
            let (ar, br) = (a.dim(0)?, b.dim(1)?);
            if ar as f64 != rank || br as f64 != rank {
                return Err(LoadError::file(
                    &st_path,
                    format!(
                        "module `{module}`: lora_A has {ar} rows and lora_B {br} columns but the config's rank is {rank}"
                    ),
                ));
            }
            let scale = if rslora {
                alp / rank.sqrt()
            } else {
                alp / rank
            };
            let key = format!("{module}.weight");
            deltas.insert(
                key,
                Delta {
                    a,
                    b,
                    scale,
                    embedding,
                },
            );
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            deltas,
            replacements,
            used: RefCell::new(HashSet::new()),
            base_model_name_or_path: s("base_model_name_or_path").map(str::to_string),
        })
    }

    /// The full replacement for `name` (modules_to_save), if any.
    pub fn replacement(&self, name: &str) -> Option<Result<Tensor, LoadError>> {
        let t = self.replacements.get(name)?;
        self.used.borrow_mut().insert(name.to_string());
        Some(Ok(t.clone()))
    }

    /// `w` (f32, HF name `name`) with the adapter applied.
    pub fn apply(&self, name: &str, w: Tensor) -> Result<Tensor, LoadError> {
        if let Some(t) = self.replacements.get(name) {
            self.used.borrow_mut().insert(name.to_string());
            if t.dims() != w.dims() {
                return Err(LoadError::file(
                    &self.dir,
                    format!(
                        "modules_to_save tensor `{name}` has shape {:?}, base has {:?}",
                        t.dims(),
                        w.dims()
                    ),
                ));
            }
            return Ok(t.clone());
        }
        let Some(d) = self.deltas.get(name) else {
            return Ok(w);
        };
        self.used.borrow_mut().insert(name.to_string());
        let ba = d.b.matmul(&d.a)?;
        let delta = if d.embedding {
            ba.t()?.contiguous()?
        } else {
            ba
        };
        if delta.dims() != w.dims() {
            return Err(LoadError::file(
                &self.dir,
                format!(
                    "LoRA for `{name}` gives a {:?} update but the base weight is {:?}; adapter for another base?",
                    delta.dims(),
                    w.dims()
                ),
            ));
        }
        Ok((w + (delta * d.scale)?)?)
    }

    /// Adapter entries no base weight picked up (an adapter for another architecture).
    pub fn unused(&self) -> Vec<String> {
        let used = self.used.borrow();
        let mut v: Vec<String> = self
            .deltas
            .keys()
            .chain(self.replacements.keys())
            .filter(|k| !used.contains(*k))
            .cloned()
            .collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patterns_match_module_suffix() {
        let p = json!({"q_proj": 4, "layers.1.self_attn.v_proj": 2});
        assert_eq!(
            pattern_value(Some(&p), "model.layers.0.self_attn.q_proj").expect("ok"),
            Some(4.0)
        );
        assert_eq!(
            pattern_value(Some(&p), "model.layers.1.self_attn.v_proj").expect("ok"),
            Some(2.0)
        );
        assert_eq!(
            pattern_value(Some(&p), "model.layers.0.self_attn.v_proj").expect("ok"),
            None
        );
    }

    #[test]
    fn target_modules_list_regex_and_exclude() {
        let c = json!({"target_modules": ["q_proj"]});
        assert!(targets(&c, "model.layers.0.self_attn.q_proj").expect("ok"));
        assert!(!targets(&c, "model.layers.0.self_attn.k_proj").expect("ok"));
        let c = json!({"target_modules": ".*\\.(q|v)_proj", "exclude_modules": ["v_proj"]});
        assert!(targets(&c, "model.layers.0.self_attn.q_proj").expect("ok"));
        assert!(!targets(&c, "model.layers.0.self_attn.v_proj").expect("ok"));
    }
}
