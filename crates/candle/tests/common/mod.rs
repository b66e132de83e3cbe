//! Shared helpers for the integration tests: fixture paths (env `SPARKBENCH_FIXTURES`), golden
//! files, loading, and a no-op call context.

#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;
use sparkbench_candle::{CandleModel, LoadOptions, load_candle};
use sparkbench_protocol::{Cancel, ModelSource};

/// The fixtures folder, or `None` (the test prints why and returns).
pub fn fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("SPARKBENCH_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/fixtures"
            ))
        });
    if dir.join("models").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: fixtures not found at {} (set SPARKBENCH_FIXTURES)",
            dir.display()
        );
        None
    }
}

pub fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn opts(batch_size: usize) -> LoadOptions {
    LoadOptions {
        dtype: None,
        device: Some("cpu".into()),
        batch_size,
        max_length: None,
    }
}

pub fn load(source: &ModelSource, batch_size: usize) -> CandleModel {
    load_candle(source, &opts(batch_size), &|m| eprintln!("{m}"))
        .unwrap_or_else(|e| panic!("load failed: {e}"))
}

pub fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("id list")
        .iter()
        .map(|x| x.as_u64().expect("id") as u32)
        .collect()
}

pub fn with_ctx<T>(f: impl FnOnce(&sparkbench_protocol::CallCtx<'_>) -> T) -> T {
    let cancel = Cancel::new();
    let beat = |_n: u64| {};
    let cx = sparkbench_protocol::CallCtx::new(&cancel, &beat);
    f(&cx)
}
