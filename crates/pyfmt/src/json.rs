//! `json.dumps` with the options lm-eval and chat templates use: `ensure_ascii`, `indent`,
//! `separators`, `sort_keys`. Items are separated by `", "` and `": "`, or by `","` and `": "`
//! with an indent; keys keep insertion order (serde_json's `preserve_order` is on in this
//! workspace); floats use Python's `repr`; non-ASCII is kept unless `ensure_ascii`.

use serde_json::Value;

/// Options of `json.dumps` that chat templates pass.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DumpOptions {
    /// `ensure_ascii`: escape every non-ASCII character as `\uXXXX`.
    pub ensure_ascii: bool,
    /// `indent`: pretty-print with this many spaces per level.
    pub indent: Option<usize>,
    /// `separators`: (item, key) separators; default `(", ", ": ")`, or `(",", ": ")` with indent.
    pub separators: Option<(String, String)>,
    /// `sort_keys`.
    pub sort_keys: bool,
}

/// `json.dumps(value, ...)`.
pub fn dumps(value: &Value, opts: &DumpOptions) -> String {
    let (item_sep, key_sep) = match &opts.separators {
        Some((i, k)) => (i.clone(), k.clone()),
        None if opts.indent.is_some() => (",".to_owned(), ": ".to_owned()),
        None => (", ".to_owned(), ": ".to_owned()),
    };
    let mut out = String::new();
    write_value(&mut out, value, opts, &item_sep, &key_sep, 0);
    out
}

fn newline_indent(out: &mut String, opts: &DumpOptions, level: usize) {
    if let Some(width) = opts.indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', width * level));
    }
}

fn write_value(
    out: &mut String,
    value: &Value,
    opts: &DumpOptions,
    item_sep: &str,
    key_sep: &str,
    level: usize,
) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s, opts.ensure_ascii),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline_indent(out, opts, level + 1);
                write_value(out, item, opts, item_sep, key_sep, level + 1);
            }
            newline_indent(out, opts, level);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if opts.sort_keys {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline_indent(out, opts, level + 1);
                write_string(out, k, opts.ensure_ascii);
                out.push_str(key_sep);
                write_value(out, v, opts, item_sep, key_sep, level + 1);
            }
            newline_indent(out, opts, level);
            out.push('}');
        }
    }
}

/// Python prints floats with `repr` (shortest round trip, `1.0` not `1`, `1e-05` style).
fn write_number(out: &mut String, n: &serde_json::Number) {
    if n.is_f64()
        && let Some(f) = n.as_f64()
    {
        out.push_str(&crate::json_float(f));
        return;
    }
    out.push_str(&n.to_string());
}

fn write_string(out: &mut String, s: &str, ensure_ascii: bool) {
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
            c if (c as u32) < 0x20 || (ensure_ascii && (c as u32) > 0x7e) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_layout_matches_python() {
        let v =
            json!({"name": "get_weather", "args": [1, 2.5, true, null], "desc": "café \"x\"\n"});
        assert_eq!(
            dumps(&v, &DumpOptions::default()),
            r#"{"name": "get_weather", "args": [1, 2.5, true, null], "desc": "café \"x\"\n"}"#
        );
    }

    #[test]
    fn indent_and_ensure_ascii() {
        let v = json!({"a": [1, {}], "é": "ü"});
        let opts = DumpOptions {
            ensure_ascii: true,
            indent: Some(2),
            ..DumpOptions::default()
        };
        assert_eq!(
            dumps(&v, &opts),
            "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"\\u00e9\": \"\\u00fc\"\n}"
        );
    }
}
