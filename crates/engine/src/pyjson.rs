//! Python's `json.dumps(..., ensure_ascii=False)` byte for byte, with and without `indent=2`:
//! lm-eval's results files, samples lines and `doc_hash` are all written this way.
//!
//! Differences from serde_json that matter: floats use Python's `repr` (`1.0`, `1e-07`),
//! NaN/Infinity are written bare, separators are `", "`/`": "` (`","` + newline when indented),
//! and keys keep insertion order (serde_json's `preserve_order` is on in this workspace).

use serde_json::Value;
use sha2::{Digest, Sha256};

/// `json.dumps(value, ensure_ascii=False)`.
pub fn dumps(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, None, 0);
    out
}

/// `json.dumps(value, indent=2, ensure_ascii=False)`.
pub fn dumps_indent2(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, Some(2), 0);
    out
}

/// Hex sha256 of a string's UTF-8 bytes (lm-eval's `hash_string`).
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A float as Python's `json` writes it: `repr(float)` (shortest round-trip digits, `1e-07`,
/// `1.0`), with `NaN` and `Infinity` bare.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    sparkbench_tasks::python::float_repr(x)
}

fn newline(out: &mut String, indent: Option<usize>, level: usize) {
    if let Some(step) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', step * level));
    }
}

fn write_value(out: &mut String, value: &Value, indent: Option<usize>, level: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_f64() {
                out.push_str(&float_repr(n.as_f64().unwrap_or(f64::NAN)));
            } else {
                out.push_str(&n.to_string());
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(if indent.is_some() { "," } else { ", " });
                }
                newline(out, indent, level + 1);
                write_value(out, item, indent, level + 1);
            }
            newline(out, indent, level);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(if indent.is_some() { "," } else { ", " });
                }
                newline(out, indent, level + 1);
                write_str(out, k);
                out.push_str(": ");
                write_value(out, v, indent, level + 1);
            }
            newline(out, indent, level);
            out.push('}');
        }
    }
}

/// A JSON string as Python writes it with `ensure_ascii=False`: only `"`, `\` and C0 controls
/// are escaped.
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_follow_python_repr() {
        for (x, want) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e-7, "1e-07"),
            (1e16, "1e+16"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (2.5e-5, "2.5e-05"),
            (0.0001, "0.0001"),
            (-1.5, "-1.5"),
            (1234567890123456.0, "1234567890123456.0"),
            (0.33333333333333337, "0.33333333333333337"),
        ] {
            assert_eq!(float_repr(x), want, "{x}");
        }
        assert_eq!(float_repr(f64::NAN), "NaN");
    }

    /// Expected text printed by python3:
    /// `json.dumps(d, indent=2, ensure_ascii=False)` and `json.dumps(d, ensure_ascii=False)`.
    #[test]
    fn matches_python_json_dumps() {
        let d: Value = serde_json::from_str(
            r#"{"q": "héllo \u2028 \u007f \u0001 \"x\"\n", "f": [1.0, 0.1, 1e-07, 1e16, 2.5e-05], "e": [], "o": {}, "n": null, "b": true, "i": 3}"#,
        )
        .expect("json");
        assert_eq!(
            dumps(&d),
            "{\"q\": \"héllo \u{2028} \u{7f} \\u0001 \\\"x\\\"\\n\", \"f\": [1.0, 0.1, 1e-07, 1e+16, 2.5e-05], \"e\": [], \"o\": {}, \"n\": null, \"b\": true, \"i\": 3}"
        );
        assert_eq!(
            dumps_indent2(&d),
            "{\n  \"q\": \"héllo \u{2028} \u{7f} \\u0001 \\\"x\\\"\\n\",\n  \"f\": [\n    1.0,\n    0.1,\n    1e-07,\n    1e+16,\n    2.5e-05\n  ],\n  \"e\": [],\n  \"o\": {},\n  \"n\": null,\n  \"b\": true,\n  \"i\": 3\n}"
        );
    }

    /// The expected hash was computed with python3:
    /// `hashlib.sha256(json.dumps(d, indent=2, ensure_ascii=False).encode()).hexdigest()`.
    #[test]
    fn doc_hash_matches_python() {
        let d: Value = serde_json::from_str(
            r#"{"question": "Combien coûte le café? «ça» 😀", "choices": ["a", "b"], "score": 0.1, "ratio": 1e-07, "big": 1e16, "n": 3, "w": 2.0, "nested": {"k": []}}"#,
        )
        .expect("json");
        assert_eq!(
            sha256_hex(&dumps_indent2(&d)),
            "20fc4ca9600f0366035671a04836d78bf6f659dc38e5565870dc9a5bf07c4e49"
        );
    }
}
