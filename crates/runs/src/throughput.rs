//! This machine's own speed history, for the wizard's time estimates: documents per second per
//! (task, backend, model size bucket), kept in `outputs/.sparkbench/throughput.json` (written
//! atomically). A new measurement moves the stored rate halfway towards it, so the estimate
//! follows the machine without jumping on one odd run.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic::write_json_atomic;
use crate::error::{Result, RunsError};

/// Model size classes (parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeBucket {
    /// Under 1 B.
    Under1b,
    /// 1 to 3 B.
    B1To3,
    /// 3 to 8 B.
    B3To8,
    /// 8 to 15 B.
    B8To15,
    /// 15 to 35 B.
    B15To35,
    /// 35 B and more.
    Over35b,
}

impl SizeBucket {
    /// All buckets, small to large.
    pub const ALL: [SizeBucket; 6] = [
        SizeBucket::Under1b,
        SizeBucket::B1To3,
        SizeBucket::B3To8,
        SizeBucket::B8To15,
        SizeBucket::B15To35,
        SizeBucket::Over35b,
    ];

    /// The bucket of a parameter count.
    pub fn from_params(params: u64) -> SizeBucket {
        let b = params as f64 / 1e9;
        match b {
            x if x < 1.0 => SizeBucket::Under1b,
            x if x < 3.0 => SizeBucket::B1To3,
            x if x < 8.0 => SizeBucket::B3To8,
            x if x < 15.0 => SizeBucket::B8To15,
            x if x < 35.0 => SizeBucket::B15To35,
            _ => SizeBucket::Over35b,
        }
    }

    /// The bucket from bytes of weights on disk and the bytes per parameter of their format
    /// (2 for 16-bit, about 0.56 for Q4_K_M GGUF), when the parameter count is unknown.
    pub fn from_bytes(bytes: u64, bytes_per_param: f64) -> SizeBucket {
        let per = if bytes_per_param > 0.0 {
            bytes_per_param
        } else {
            2.0
        };
        SizeBucket::from_params((bytes as f64 / per) as u64)
    }

    /// A typical size in billions, to scale rates between buckets.
    fn typical_b(self) -> f64 {
        match self {
            SizeBucket::Under1b => 0.5,
            SizeBucket::B1To3 => 1.7,
            SizeBucket::B3To8 => 5.0,
            SizeBucket::B8To15 => 11.0,
            SizeBucket::B15To35 => 25.0,
            SizeBucket::Over35b => 70.0,
        }
    }

    /// In words (`1-3B`).
    pub fn label(self) -> &'static str {
        match self {
            SizeBucket::Under1b => "<1B",
            SizeBucket::B1To3 => "1-3B",
            SizeBucket::B3To8 => "3-8B",
            SizeBucket::B8To15 => "8-15B",
            SizeBucket::B15To35 => "15-35B",
            SizeBucket::Over35b => "35B+",
        }
    }
}

/// One stored rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThroughputEntry {
    /// Task name.
    pub task: String,
    /// Backend id.
    pub backend: String,
    /// Model size class.
    pub size: SizeBucket,
    /// Documents per second (smoothed).
    pub docs_per_s: f64,
    /// Measurements folded in.
    pub samples: u32,
    /// RFC 3339 time of the last measurement.
    pub updated_at: String,
}

/// The content of `throughput.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThroughputStore {
    /// The rates.
    #[serde(default)]
    pub entries: Vec<ThroughputEntry>,
}

/// How an estimate was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EstimateBasis {
    /// Same task, backend and size class.
    Measured,
    /// Same task and backend, another size class, scaled by size.
    Scaled,
    /// Nothing known.
    Unknown,
}

/// One task's estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskEstimate {
    /// Task.
    pub task: String,
    /// Documents planned.
    pub docs: usize,
    /// Seconds, when known.
    pub seconds: Option<f64>,
    /// Where the number comes from.
    pub basis: EstimateBasis,
}

/// A suite's estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteEstimate {
    /// Per task.
    pub tasks: Vec<TaskEstimate>,
    /// Sum of the known tasks.
    pub known_seconds: f64,
    /// Whether every task had an estimate (then `known_seconds` is the total).
    pub complete: bool,
}

impl SuiteEstimate {
    /// `~12 min`, `~12 min + unknown`, `unknown`.
    pub fn label(&self) -> String {
        if self.tasks.iter().all(|t| t.seconds.is_none()) {
            return "unknown (no past runs on this machine)".into();
        }
        let t = format_duration(self.known_seconds);
        if self.complete {
            format!("~{t}")
        } else {
            format!("~{t} + tasks never run here")
        }
    }
}

/// `45 s`, `12 min`, `2 h 05 min`.
pub fn format_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s < 90 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", (s + 30) / 60)
    } else {
        let m = (s + 30) / 60;
        format!("{} h {:02} min", m / 60, m % 60)
    }
}

/// `outputs/.sparkbench/throughput.json`.
pub fn throughput_path(outputs_dir: &Path) -> PathBuf {
    outputs_dir.join(".sparkbench").join("throughput.json")
}

impl ThroughputStore {
    /// Read the store; an absent file is an empty store.
    pub fn load(outputs_dir: &Path) -> Result<ThroughputStore> {
        let path = throughput_path(outputs_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ThroughputStore::default());
            }
            Err(e) => return Err(RunsError::io("reading", &path, e)),
        };
        serde_json::from_str(&text).map_err(|source| RunsError::Json {
            path,
            what: "throughput history",
            source,
        })
    }

    /// Write the store atomically.
    pub fn save(&self, outputs_dir: &Path) -> Result<()> {
        write_json_atomic(&throughput_path(outputs_dir), self, "throughput history")
    }

    /// Fold in one measurement (ignored unless docs > 0 and seconds > 0).
    pub fn record(
        &mut self,
        task: &str,
        backend: &str,
        size: SizeBucket,
        docs: usize,
        seconds: f64,
    ) {
        if docs == 0 || seconds.is_nan() || seconds <= 0.0 {
            return;
        }
        let rate = docs as f64 / seconds;
        let now = crate::record::now_rfc3339();
        match self
            .entries
            .iter_mut()
            .find(|e| e.task == task && e.backend == backend && e.size == size)
        {
            Some(e) => {
                e.docs_per_s = 0.5 * e.docs_per_s + 0.5 * rate;
                e.samples = e.samples.saturating_add(1);
                e.updated_at = now;
            }
            None => self.entries.push(ThroughputEntry {
                task: task.into(),
                backend: backend.into(),
                size,
                docs_per_s: rate,
                samples: 1,
                updated_at: now,
            }),
        }
    }

    /// The rate for a task, measured or scaled from the nearest size class of the same backend
    /// (time assumed proportional to model size).
    pub fn rate(
        &self,
        task: &str,
        backend: &str,
        size: SizeBucket,
    ) -> Option<(f64, EstimateBasis)> {
        let same: Vec<&ThroughputEntry> = self
            .entries
            .iter()
            .filter(|e| e.task == task && e.backend == backend)
            .collect();
        if let Some(e) = same.iter().find(|e| e.size == size) {
            return Some((e.docs_per_s, EstimateBasis::Measured));
        }
        let nearest = same.iter().min_by(|a, b| {
            let d = |e: &ThroughputEntry| (e.size.typical_b().ln() - size.typical_b().ln()).abs();
            d(a).total_cmp(&d(b))
        })?;
        Some((
            nearest.docs_per_s * nearest.size.typical_b() / size.typical_b(),
            EstimateBasis::Scaled,
        ))
    }

    /// Estimate a suite: `tasks` are (task, documents planned).
    pub fn estimate(
        &self,
        tasks: &[(String, usize)],
        backend: &str,
        size: SizeBucket,
    ) -> SuiteEstimate {
        let mut out = Vec::new();
        for (task, docs) in tasks {
            let (seconds, basis) = match self.rate(task, backend, size) {
                Some((r, b)) if r > 0.0 => (Some(*docs as f64 / r), b),
                _ => (None, EstimateBasis::Unknown),
            };
            out.push(TaskEstimate {
                task: task.clone(),
                docs: *docs,
                seconds,
                basis,
            });
        }
        SuiteEstimate {
            known_seconds: out.iter().filter_map(|t| t.seconds).sum(),
            complete: out.iter().all(|t| t.seconds.is_some()),
            tasks: out,
        }
    }
}

/// Load, record one measurement, save: what the CLI calls after each task finishes.
pub fn record_throughput(
    outputs_dir: &Path,
    task: &str,
    backend: &str,
    size: SizeBucket,
    docs: usize,
    seconds: f64,
) -> Result<()> {
    let mut store = ThroughputStore::load(outputs_dir)?;
    store.record(task, backend, size, docs, seconds);
    store.save(outputs_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets() {
        assert_eq!(SizeBucket::from_params(600_000_000), SizeBucket::Under1b);
        assert_eq!(SizeBucket::from_params(1_700_000_000), SizeBucket::B1To3);
        assert_eq!(SizeBucket::from_params(8_000_000_000), SizeBucket::B8To15);
        assert_eq!(
            SizeBucket::from_bytes(3_400_000_000, 2.0),
            SizeBucket::B1To3
        );
    }

    #[test]
    fn records_smooths_persists_and_estimates() -> Result<()> {
        let t = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        record_throughput(
            t.path(),
            "gsm8k",
            "safetensors",
            SizeBucket::B1To3,
            100,
            50.0,
        )?; // 2 docs/s
        record_throughput(
            t.path(),
            "gsm8k",
            "safetensors",
            SizeBucket::B1To3,
            400,
            100.0,
        )?; // 4 docs/s
        record_throughput(
            t.path(),
            "gsm8k",
            "safetensors",
            SizeBucket::B1To3,
            0,
            100.0,
        )?; // ignored
        let store = ThroughputStore::load(t.path())?;
        assert_eq!(store.entries.len(), 1);
        assert_eq!(
            (store.entries[0].docs_per_s, store.entries[0].samples),
            (3.0, 2)
        );
        let tasks = vec![("gsm8k".to_string(), 1319), ("ifeval".to_string(), 541)];
        let e = store.estimate(&tasks, "safetensors", SizeBucket::B1To3);
        assert_eq!(e.tasks[0].seconds, Some(1319.0 / 3.0));
        assert_eq!(e.tasks[1].basis, EstimateBasis::Unknown);
        assert!(!e.complete);
        assert_eq!(e.label(), "~7 min + tasks never run here");
        // Scaled from 1.7B to a 5B model: a third of the rate roughly.
        let (r, b) = store
            .rate("gsm8k", "safetensors", SizeBucket::B3To8)
            .unwrap_or((0.0, EstimateBasis::Unknown));
        assert_eq!(b, EstimateBasis::Scaled);
        assert!((r - 3.0 * 1.7 / 5.0).abs() < 1e-9);
        assert!(store.rate("gsm8k", "ollama", SizeBucket::B1To3).is_none());
        Ok(())
    }

    #[test]
    fn a_broken_store_names_the_file() {
        let Ok(t) = tempfile::tempdir() else { return };
        crate::testutil::write(&throughput_path(t.path()), "[1,");
        let err = ThroughputStore::load(t.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("throughput.json"), "{err}");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(45.0), "45 s");
        assert_eq!(format_duration(720.0), "12 min");
        assert_eq!(format_duration(7500.0), "2 h 05 min");
    }
}
