//! Where documents come from: a local folder laid out `<dataset>/<split>.jsonl|.parquet` with
//! the Hub's field names, or the parquet files of the Hugging Face dataset repos lm-eval uses,
//! in the standard HF cache. Every split read is hashed (sha256 of the file bytes) so results
//! can record exactly which data produced them.

mod hub;
mod jsonl;
mod parquet_rows;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use crate::TaskError;

pub use hub::{HubDataset, HubSettings, hub_dataset};

/// One document: a JSON object, keys in dataset column order.
pub type Doc = serde_json::Map<String, serde_json::Value>;

/// Where to read data from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataSource {
    /// A local folder `<dataset>/<split>.jsonl|.parquet` (`--data-dir`, `SPARKBENCH_DATA`).
    /// Checked first.
    pub data_dir: Option<PathBuf>,
    /// The Hugging Face Hub and its cache.
    pub hub: HubSettings,
}

impl DataSource {
    /// From the environment: `SPARKBENCH_DATA` (local folder), `HF_HOME`, `HF_TOKEN`,
    /// `HF_HUB_OFFLINE`, `HF_ENDPOINT`.
    pub fn from_env() -> Self {
        let data_dir = std::env::var_os("SPARKBENCH_DATA")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Self {
            data_dir,
            hub: HubSettings::from_env(),
        }
    }

    /// Only a local folder; never touches the Hub or its cache.
    pub fn local(dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: Some(dir.into()),
            hub: HubSettings::disabled(),
        }
    }

    /// `from_env`, with `data_dir` replaced when given (the `--data-dir` flag wins).
    pub fn with_data_dir(mut self, dir: Option<PathBuf>) -> Self {
        if dir.is_some() {
            self.data_dir = dir;
        }
        self
    }

    /// Read `<dataset>/<split>`, from the local folder if it has the file, else from the Hub
    /// cache (downloading unless offline). Results are cached for the life of the process.
    pub fn split(&self, dataset: &str, split: &str) -> Result<Arc<Split>, TaskError> {
        let mut tried: Vec<String> = Vec::new();
        if let Some(dir) = &self.data_dir {
            for ext in ["jsonl", "parquet"] {
                let path = dir.join(dataset).join(format!("{split}.{ext}"));
                if path.is_file() {
                    return cached(&path, || read_split_file(dataset, split, &path));
                }
                tried.push(path.display().to_string());
            }
        }
        let hub_result = match hub_dataset(dataset) {
            Some(hd) if self.hub.enabled => match hub::locate_split(&self.hub, &hd, split) {
                Ok(paths) => {
                    let key = paths.first().cloned().unwrap_or_default();
                    return cached(&key, || read_hub_split(dataset, split, &paths));
                }
                Err(why) => Some(format!(
                    "Hugging Face Hub `{}` (config `{}`): {why}",
                    hd.repo, hd.config
                )),
            },
            Some(hd) => Some(format!(
                "Hugging Face Hub `{}` not consulted (Hub access is disabled)",
                hd.repo
            )),
            None => None,
        };
        let mut msg = format!("no data for `{dataset}` split `{split}`.");
        if tried.is_empty() {
            msg.push_str(" No local data folder is set.");
        } else {
            msg.push_str(&format!(" Looked for: {}.", tried.join(", ")));
        }
        if let Some(h) = hub_result {
            msg.push_str(&format!(" {h}."));
        }
        msg.push_str(&format!(
            " Provide `{dataset}/{split}.jsonl` (or .parquet, with the Hugging Face field names) under a folder given by --data-dir or SPARKBENCH_DATA, or allow Hub downloads (unset HF_HUB_OFFLINE; set HF_TOKEN if the dataset is gated)."
        ));
        Err(TaskError::MissingData(msg))
    }
}

/// One split of one dataset, read and hashed.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Dataset folder name (`gsm8k`, `mmlu`).
    pub dataset: String,
    /// Split name (`test`, `train`).
    pub split: String,
    /// The file(s) read, for messages.
    pub source: String,
    /// The documents, in file order.
    pub docs: Vec<Doc>,
    /// Where each document sits in `source` (1-based line of a JSONL file, row of a parquet file).
    pub lines: Vec<usize>,
    /// sha256 hex of the bytes of the file(s) read, in order.
    pub sha256: String,
}

impl Split {
    /// "file line N" for document `i`, for error messages.
    pub fn location(&self, i: usize) -> String {
        let unit = if self.source.ends_with(".parquet") {
            "row"
        } else {
            "line"
        };
        match self.lines.get(i) {
            Some(n) => format!("{} {unit} {n}", self.source),
            None => format!("{} document {i}", self.source),
        }
    }
}

fn cache() -> &'static Mutex<HashMap<PathBuf, Arc<Split>>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Split>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn cached(
    key: &Path,
    read: impl FnOnce() -> Result<Split, TaskError>,
) -> Result<Arc<Split>, TaskError> {
    if let Ok(map) = cache().lock()
        && let Some(s) = map.get(key)
    {
        return Ok(Arc::clone(s));
    }
    let split = Arc::new(read()?);
    if let Ok(mut map) = cache().lock() {
        map.insert(key.to_path_buf(), Arc::clone(&split));
    }
    Ok(split)
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, TaskError> {
    std::fs::read(path).map_err(|e| TaskError::Data {
        location: path.display().to_string(),
        message: format!("cannot read the file: {e}"),
    })
}

/// Read one local split file (`.jsonl` or `.parquet`).
pub fn read_split_file(dataset: &str, split: &str, path: &Path) -> Result<Split, TaskError> {
    read_hub_split(dataset, split, &[path.to_path_buf()])
}

fn read_hub_split(dataset: &str, split: &str, paths: &[PathBuf]) -> Result<Split, TaskError> {
    let mut hasher = Sha256::new();
    let mut docs = Vec::new();
    let mut lines = Vec::new();
    for path in paths {
        let bytes = read_bytes(path)?;
        hasher.update(&bytes);
        let is_parquet = path.extension().is_some_and(|e| e == "parquet");
        let rows = if is_parquet {
            parquet_rows::read(path)?
        } else if path.extension().is_some_and(|e| e == "json") && bytes.first() == Some(&b'[') {
            jsonl::parse_array(path, &bytes)?
        } else {
            jsonl::parse(path, &bytes)?
        };
        for (line, doc) in rows {
            lines.push(line);
            docs.push(doc);
        }
    }
    let source = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if docs.is_empty() {
        return Err(TaskError::Data {
            location: source,
            message: format!("split `{split}` of `{dataset}` has no documents"),
        });
    }
    Ok(Split {
        dataset: dataset.to_string(),
        split: split.to_string(),
        source,
        docs,
        lines,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Typed access to a document's fields, with errors naming file, line and field.
pub struct Fields<'a> {
    pub(crate) doc: &'a Doc,
    pub(crate) location: &'a dyn Fn() -> String,
}

impl<'a> Fields<'a> {
    /// Wrap a document; `location` describes it (file and line) for error messages.
    pub fn new(doc: &'a Doc, location: &'a dyn Fn() -> String) -> Self {
        Self { doc, location }
    }

    fn err(&self, field: &str, message: String) -> TaskError {
        TaskError::Data {
            location: format!("{}, field `{field}`", (self.location)()),
            message,
        }
    }

    /// The raw value of `field`.
    pub fn get(&self, field: &str) -> Result<&'a serde_json::Value, TaskError> {
        self.doc
            .get(field)
            .ok_or_else(|| self.err(field, "missing field".to_string()))
    }

    /// A string field.
    pub fn str(&self, field: &str) -> Result<&'a str, TaskError> {
        let v = self.get(field)?;
        v.as_str()
            .ok_or_else(|| self.err(field, format!("expected a string, found {}", kind(v))))
    }

    /// An integer field.
    pub fn int(&self, field: &str) -> Result<i64, TaskError> {
        let v = self.get(field)?;
        v.as_i64()
            .ok_or_else(|| self.err(field, format!("expected an integer, found {}", kind(v))))
    }

    /// A list of strings.
    pub fn str_list(&self, field: &str) -> Result<Vec<&'a str>, TaskError> {
        let v = self.get(field)?;
        let arr = v.as_array().ok_or_else(|| {
            self.err(
                field,
                format!("expected a list of strings, found {}", kind(v)),
            )
        })?;
        arr.iter()
            .map(|e| {
                e.as_str().ok_or_else(|| {
                    self.err(
                        field,
                        format!(
                            "expected a list of strings, found an element that is {}",
                            kind(e)
                        ),
                    )
                })
            })
            .collect()
    }

    /// A list of integers.
    pub fn int_list(&self, field: &str) -> Result<Vec<i64>, TaskError> {
        let v = self.get(field)?;
        let arr = v.as_array().ok_or_else(|| {
            self.err(
                field,
                format!("expected a list of integers, found {}", kind(v)),
            )
        })?;
        arr.iter()
            .map(|e| {
                e.as_i64().ok_or_else(|| {
                    self.err(
                        field,
                        format!(
                            "expected a list of integers, found an element that is {}",
                            kind(e)
                        ),
                    )
                })
            })
            .collect()
    }

    /// A nested object field, as `Fields` (location extended with the field name).
    pub fn object(&self, field: &str) -> Result<&'a Doc, TaskError> {
        let v = self.get(field)?;
        v.as_object()
            .ok_or_else(|| self.err(field, format!("expected an object, found {}", kind(v))))
    }

    /// Report a bad value of `field`.
    pub fn invalid(&self, field: &str, message: impl Into<String>) -> TaskError {
        self.err(field, message.into())
    }
}

/// The JSON kind of a value, for messages.
pub fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a bool",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn reads_jsonl_and_hashes_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = "{\"b\": 1, \"a\": \"x\"}\n{\"b\": 2, \"a\": \"y\"}\n";
        write(dir.path(), "ds/test.jsonl", text);
        let src = DataSource::local(dir.path());
        let split = src.split("ds", "test").expect("split");
        assert_eq!(split.docs.len(), 2);
        let keys: Vec<&String> = split.docs[0].keys().collect();
        assert_eq!(keys, vec!["b", "a"]);
        assert_eq!(split.sha256, hex::encode(Sha256::digest(text.as_bytes())));
    }

    #[test]
    fn missing_split_names_the_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = DataSource::local(dir.path())
            .split("gsm8k", "test")
            .expect_err("missing");
        let msg = err.to_string();
        assert!(matches!(err, TaskError::MissingData(_)));
        assert!(msg.contains("gsm8k/test.jsonl"), "{msg}");
        assert!(msg.contains("--data-dir"), "{msg}");
    }

    #[test]
    fn empty_split_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "ds/test.jsonl", "\n\n");
        let err = DataSource::local(dir.path())
            .split("ds", "test")
            .expect_err("empty");
        assert!(err.to_string().contains("no documents"), "{err}");
    }

    #[test]
    fn field_errors_name_location_and_field() {
        let doc: Doc = serde_json::from_str("{\"a\": 1}").expect("json");
        let loc = || "f.jsonl line 3".to_string();
        let f = Fields::new(&doc, &loc);
        let e = f.str("a").expect_err("type");
        assert_eq!(
            e.to_string(),
            "f.jsonl line 3, field `a`: expected a string, found a number"
        );
        let e = f.str("b").expect_err("missing");
        assert_eq!(e.to_string(), "f.jsonl line 3, field `b`: missing field");
    }
}
