//! Generation kwargs: the task's YAML `generation_kwargs` merged with `--gen-kwargs` (logged
//! as is in samples files), and the request fields a backend needs from them (`until`, and
//! `max_gen_toks` or its aliases `max_new_tokens`, `max_tokens`, `max_completion_tokens`,
//! default 256).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::TaskError;

/// HFLM's default `max_gen_toks`.
pub const DEFAULT_MAX_GEN_TOKS: usize = 256;

/// The YAML dict with the user's keys merged in (existing keys keep their place).
pub fn merge(yaml: &Map<String, Value>, user: &BTreeMap<String, Value>) -> Map<String, Value> {
    let mut out = yaml.clone();
    for (k, v) in user {
        out.insert(k.clone(), v.clone());
    }
    out
}

/// `(until, max_gen_toks)` from merged kwargs.
pub fn request_fields(kwargs: &Map<String, Value>) -> Result<(Vec<String>, usize), TaskError> {
    let until = match kwargs.get("until") {
        None | Some(Value::Null) => vec!["\n\n".to_string()],
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(String::from).ok_or_else(|| {
                    TaskError::Other(format!(
                        "generation kwarg `until` must be a list of strings, found element {v}"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(TaskError::Other(format!(
                "generation kwarg `until` must be a string or a list of strings, found {other}"
            )));
        }
    };
    let mut max = DEFAULT_MAX_GEN_TOKS;
    for key in [
        "max_gen_toks",
        "max_new_tokens",
        "max_tokens",
        "max_completion_tokens",
    ] {
        if let Some(v) = kwargs.get(key) {
            let n = v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .or_else(|| {
                    v.as_f64()
                        .filter(|x| x.fract() == 0.0 && *x >= 0.0)
                        .map(|x| x as u64)
                })
                .ok_or_else(|| {
                    TaskError::Other(format!(
                        "generation kwarg `{key}` must be a non-negative integer, found {v}"
                    ))
                })?;
            max = n as usize;
            break;
        }
    }
    Ok((until, max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn merge_keeps_order_and_overrides() {
        let yaml = map(json!({"until": ["Question:"], "do_sample": false, "temperature": 0.0}));
        let mut user = BTreeMap::new();
        user.insert("temperature".to_string(), json!(0.5));
        user.insert("max_new_tokens".to_string(), json!(64));
        let m = merge(&yaml, &user);
        assert_eq!(
            m.keys().collect::<Vec<_>>(),
            vec!["until", "do_sample", "temperature", "max_new_tokens"]
        );
        assert_eq!(
            request_fields(&m).expect("fields"),
            (vec!["Question:".to_string()], 64)
        );
    }

    #[test]
    fn defaults_and_priority() {
        assert_eq!(
            request_fields(&map(json!({"until": []}))).expect("f"),
            (vec![], 256)
        );
        let m = map(json!({"max_tokens": 10, "max_gen_toks": 20}));
        assert_eq!(request_fields(&m).expect("f").1, 20);
        assert!(request_fields(&map(json!({"max_gen_toks": "x"}))).is_err());
        assert_eq!(
            request_fields(&map(json!({"until": "END"}))).expect("f").0,
            vec!["END"]
        );
    }
}
