//! The per-task journal: `journal/<task>.jsonl` in the run's output folder, one JSON line per
//! finished document, synced to disk before the document is reported. Plus `journal/run-meta.json`
//! with what the results file needs besides the journals (model info, task tree, chat template).
//!
//! Line 1 is a [`JournalHeader`] (format version, the run's fingerprint, the task's metadata);
//! every further line is a [`DocRecord`]. A last line without its newline is what a kill -9
//! mid-write leaves: it is ignored on reading and cut off before appending. Any other
//! unreadable line is an error naming the file and line.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sparkbench_protocol::{ModelInfo, Request, Response};
use sparkbench_tasks::{FilterOutcome, MetricSpec, OutputType};

use crate::error::EngineError;
use crate::plan::TaskNode;
use crate::write::write_atomic;

/// Journal format version.
pub const JOURNAL_VERSION: u32 = 1;

/// What the results file needs to know about a task, recorded once per journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskMeta {
    /// Task name.
    pub name: String,
    /// Alias.
    pub alias: String,
    /// `metadata.version`.
    pub version: f64,
    /// Output type.
    pub output_type: OutputType,
    /// Few-shot examples used.
    pub n_shot: usize,
    /// Documents in the evaluation split.
    pub original: usize,
    /// Documents planned (after `--limit`).
    pub effective: usize,
    /// Metrics per filter, in lm-eval's order.
    pub metrics: Vec<MetricSpec>,
    /// `configs[task]` of the results file.
    pub config: serde_json::Value,
    /// Data split hashes, `<dataset>/<split>` -> sha256.
    pub data_hashes: Vec<(String, String)>,
}

/// The first line of a journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalHeader {
    /// Format version ([`JOURNAL_VERSION`]).
    pub sparkbench_journal: u32,
    /// The run's fingerprint.
    pub fingerprint: String,
    /// The task.
    pub task: TaskMeta,
}

/// One finished document: everything its samples-file lines need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocRecord {
    /// Index in the evaluation split.
    pub doc_id: usize,
    /// The processed document.
    pub doc: serde_json::Value,
    /// `str(doc_to_target(doc))`.
    pub target: String,
    /// The requests in lm-eval's order.
    pub requests: Vec<Request>,
    /// Generation kwargs as logged in `arguments`.
    pub gen_kwargs: Option<serde_json::Value>,
    /// One response per request.
    pub responses: Vec<Response>,
    /// One outcome per filter.
    pub outcomes: Vec<FilterOutcome>,
}

/// A journal read back: header, records sorted by `doc_id` (first occurrence wins), and the
/// length of its intact part.
#[derive(Debug, Clone)]
pub struct Journal {
    /// The header.
    pub header: JournalHeader,
    /// The finished documents.
    pub records: Vec<DocRecord>,
    /// Bytes up to and including the last complete line.
    pub intact_len: u64,
}

/// Run-level facts written at the start of every run attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// The run's fingerprint.
    pub fingerprint: String,
    /// The model.
    pub model: ModelInfo,
    /// The task tree.
    pub tree: Vec<TaskNode>,
    /// Leaf tasks in evaluation order.
    pub tasks: Vec<String>,
    /// The chat template source, when prompts were rendered with one.
    pub chat_template: Option<String>,
    /// Unix time the run attempt started.
    pub started_at: f64,
}

/// `journal/` of an output folder.
pub fn journal_dir(output_dir: &Path) -> PathBuf {
    output_dir.join("journal")
}

/// The journal file of `task`.
pub fn journal_path(output_dir: &Path, task: &str) -> PathBuf {
    journal_dir(output_dir).join(format!("{task}.jsonl"))
}

/// `journal/run-meta.json`.
pub fn meta_path(output_dir: &Path) -> PathBuf {
    journal_dir(output_dir).join("run-meta.json")
}

/// Read `journal/run-meta.json`, if present.
pub fn read_meta(output_dir: &Path) -> Result<Option<RunMeta>, EngineError> {
    let path = meta_path(output_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(EngineError::io(path, e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| EngineError::Journal {
            path,
            line: e.line(),
            message: format!("unreadable run metadata: {e}"),
        })
}

/// Write `journal/run-meta.json` atomically.
pub fn write_meta(output_dir: &Path, meta: &RunMeta) -> Result<(), EngineError> {
    let path = meta_path(output_dir);
    let text = serde_json::to_string_pretty(meta).map_err(|e| EngineError::Journal {
        path: path.clone(),
        line: 0,
        message: e.to_string(),
    })?;
    write_atomic(&path, text.as_bytes())
}

/// Read a journal. `None` when the file is missing or holds no complete header line.
pub fn read_journal(path: &Path) -> Result<Option<Journal>, EngineError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(EngineError::io(path, e)),
    };
    let intact_len = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let intact = &bytes[..intact_len];
    let mut lines = intact
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate();
    let Some((_, first)) = lines.next() else {
        return Ok(None);
    };
    let bad = |line: usize, message: String| EngineError::Journal {
        path: path.to_path_buf(),
        line,
        message,
    };
    let header: JournalHeader = serde_json::from_slice(first)
        .map_err(|e| bad(1, format!("unreadable journal header: {e}")))?;
    if header.sparkbench_journal != JOURNAL_VERSION {
        return Err(bad(
            1,
            format!(
                "journal format {} is not the supported {JOURNAL_VERSION}",
                header.sparkbench_journal
            ),
        ));
    }
    let mut records: Vec<DocRecord> = Vec::new();
    for (i, line) in lines {
        let rec: DocRecord = serde_json::from_slice(line)
            .map_err(|e| bad(i + 1, format!("unreadable document record: {e}")))?;
        records.push(rec);
    }
    records.sort_by_key(|r| r.doc_id);
    records.dedup_by_key(|r| r.doc_id);
    Ok(Some(Journal {
        header,
        records,
        intact_len: intact_len as u64,
    }))
}

/// An open journal, appending.
pub struct JournalWriter {
    file: File,
    path: PathBuf,
}

impl JournalWriter {
    /// Open `path` for appending: create it with `header` when `existing` is `None`, otherwise
    /// cut it to its intact length (dropping a torn last line) and append after it.
    pub fn open(
        path: &Path,
        header: &JournalHeader,
        existing: Option<&Journal>,
    ) -> Result<Self, EngineError> {
        let io = |e| EngineError::io(path, e);
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        match existing {
            Some(j) => {
                file.set_len(j.intact_len).map_err(io)?;
            }
            None => {
                file.set_len(0).map_err(io)?;
                let line = to_line(path, header)?;
                file.write_all(line.as_bytes()).map_err(io)?;
                file.sync_data().map_err(io)?;
            }
        }
        let mut w = Self {
            file,
            path: path.to_path_buf(),
        };
        w.seek_end()?;
        Ok(w)
    }

    fn seek_end(&mut self) -> Result<(), EngineError> {
        use std::io::Seek;
        self.file
            .seek(std::io::SeekFrom::End(0))
            .map_err(|e| EngineError::io(&self.path, e))?;
        Ok(())
    }

    /// Append `records` and sync them to disk.
    pub fn append(&mut self, records: &[DocRecord]) -> Result<(), EngineError> {
        let mut text = String::new();
        for r in records {
            text.push_str(&to_line(&self.path, r)?);
        }
        let io = |e| EngineError::io(&self.path, e);
        self.file.write_all(text.as_bytes()).map_err(io)?;
        self.file.sync_data().map_err(io)
    }
}

fn to_line<T: Serialize>(path: &Path, value: &T) -> Result<String, EngineError> {
    let mut line = serde_json::to_string(value).map_err(|e| EngineError::Journal {
        path: path.to_path_buf(),
        line: 0,
        message: format!("cannot serialise: {e}"),
    })?;
    line.push('\n');
    Ok(line)
}

#[cfg(test)]
mod tests {
    use sparkbench_protocol::{Loglikelihood, LoglikelihoodRequest};
    use sparkbench_tasks::{Aggregation, MetricValue};

    use super::*;

    fn header() -> JournalHeader {
        JournalHeader {
            sparkbench_journal: JOURNAL_VERSION,
            fingerprint: "fp".into(),
            task: TaskMeta {
                name: "t".into(),
                alias: "t".into(),
                version: 1.0,
                output_type: OutputType::MultipleChoice,
                n_shot: 0,
                original: 3,
                effective: 3,
                metrics: vec![MetricSpec {
                    name: "acc".into(),
                    filter: "none".into(),
                    aggregation: Aggregation::Mean,
                    higher_is_better: true,
                }],
                config: serde_json::json!({"task": "t"}),
                data_hashes: vec![],
            },
        }
    }

    fn record(doc_id: usize) -> DocRecord {
        DocRecord {
            doc_id,
            doc: serde_json::json!({"q": doc_id}),
            target: "0".into(),
            requests: vec![Request::Loglikelihood(LoglikelihoodRequest {
                context: "c".into(),
                continuation: " a".into(),
            })],
            gen_kwargs: None,
            responses: vec![Response::Loglikelihood(Loglikelihood {
                logprob: -1.5,
                is_greedy: true,
                n_tokens: 1,
            })],
            outcomes: vec![FilterOutcome {
                filter: "none".into(),
                filtered_resps: serde_json::json!([["-1.5", "True"]]),
                metrics: vec![("acc".into(), MetricValue::Float(1.0))],
            }],
        }
    }

    #[test]
    fn round_trips_and_ignores_a_torn_last_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        let mut w = JournalWriter::open(&path, &header(), None).expect("open");
        w.append(&[record(1), record(0)]).expect("append");
        drop(w);
        // A kill -9 mid-write leaves half a line.
        let mut f = OpenOptions::new().append(true).open(&path).expect("reopen");
        f.write_all(b"{\"doc_id\":2,\"doc\":{\"q\"")
            .expect("torn write");
        drop(f);
        let j = read_journal(&path).expect("read").expect("present");
        assert_eq!(j.header, header());
        assert_eq!(
            j.records.iter().map(|r| r.doc_id).collect::<Vec<_>>(),
            vec![0, 1]
        );
        // Appending after the torn line cuts it off first.
        let mut w = JournalWriter::open(&path, &header(), Some(&j)).expect("reopen");
        w.append(&[record(2)]).expect("append");
        let j = read_journal(&path).expect("read").expect("present");
        assert_eq!(j.records.len(), 3);
        assert_eq!(j.records[2], record(2));
    }

    #[test]
    fn a_bad_complete_line_is_an_error_naming_the_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        let mut w = JournalWriter::open(&path, &header(), None).expect("open");
        w.append(&[record(0)]).expect("append");
        drop(w);
        let mut f = OpenOptions::new().append(true).open(&path).expect("reopen");
        f.write_all(b"garbage\n").expect("write");
        drop(f);
        let err = read_journal(&path).expect_err("must fail");
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    #[test]
    fn missing_or_headerless_journal_reads_as_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        assert!(read_journal(&path).expect("read").is_none());
        std::fs::write(&path, b"{\"sparkbench_jou").expect("write");
        assert!(read_journal(&path).expect("read").is_none());
    }
}
