//! JSON Lines (and plain JSON array) reading with errors that name the file and line.

use std::path::Path;

use super::Doc;
use crate::TaskError;

/// Parse JSON Lines: one object per non-blank line. Returns (1-based line, doc).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<(usize, Doc)>, TaskError> {
    let text = std::str::from_utf8(bytes).map_err(|e| TaskError::Data {
        location: path.display().to_string(),
        message: format!("not UTF-8 text: {e}"),
    })?;
    let mut docs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line).map_err(|e| TaskError::Data {
            location: format!("{} line {}", path.display(), i + 1),
            message: format!("not valid JSON ({e}); each line must be one JSON object"),
        })?;
        match value {
            serde_json::Value::Object(map) => docs.push((i + 1, map)),
            other => {
                return Err(TaskError::Data {
                    location: format!("{} line {}", path.display(), i + 1),
                    message: format!("expected a JSON object, found {}", super::kind(&other)),
                });
            }
        }
    }
    Ok(docs)
}

/// Parse a JSON file holding one array of objects. Returns (1-based index, doc).
pub fn parse_array(path: &Path, bytes: &[u8]) -> Result<Vec<(usize, Doc)>, TaskError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| TaskError::Data {
        location: path.display().to_string(),
        message: format!("not valid JSON: {e}"),
    })?;
    let serde_json::Value::Array(items) = value else {
        return Err(TaskError::Data {
            location: path.display().to_string(),
            message: "expected a JSON array of objects".into(),
        });
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            serde_json::Value::Object(map) => Ok((i + 1, map)),
            other => Err(TaskError::Data {
                location: format!("{} element {}", path.display(), i + 1),
                message: format!("expected a JSON object, found {}", super::kind(&other)),
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_line_is_named() {
        let err = parse(Path::new("x/test.jsonl"), b"{\"a\": 1}\n\n{\"a\": \n").expect_err("bad");
        let msg = err.to_string();
        assert!(msg.starts_with("x/test.jsonl line 3:"), "{msg}");
        let err = parse(Path::new("x/test.jsonl"), b"[1]\n").expect_err("not object");
        assert!(
            err.to_string()
                .contains("expected a JSON object, found a list"),
            "{err}"
        );
    }

    #[test]
    fn keeps_line_numbers_and_order() {
        let docs = parse(Path::new("t.jsonl"), b"\n{\"z\": 1, \"a\": 2}\n").expect("parse");
        assert_eq!(docs[0].0, 2);
        assert_eq!(docs[0].1.keys().collect::<Vec<_>>(), vec!["z", "a"]);
    }
}
