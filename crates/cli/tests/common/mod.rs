//! Shared helpers for the `sparkbench` binary's process-level tests: where the data is, scripted
//! model scripts, a running `sparkbench run` whose stdout lines arrive with their arrival time,
//! the worker's pid and process group from /proc, signals, and reading a run folder's results,
//! samples and journals.
//!
//! Each test binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

pub mod procs;
pub mod results;
pub mod running;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

#[allow(unused_imports)]
pub use procs::*;
#[allow(unused_imports)]
pub use results::*;
#[allow(unused_imports)]
pub use running::*;

/// The `sparkbench` binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sparkbench")
}

/// The benchmark data folder (`SPARKBENCH_TEST_DATA`, else `<workspace>/../shared/data`), or
/// `None` after printing why the calling test is skipped.
pub fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SPARKBENCH_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    let needed = ["arc_easy/test.jsonl", "gsm8k/test.jsonl"];
    match needed.iter().find(|p| !dir.join(p).is_file()) {
        None => Some(dir),
        Some(missing) => {
            eprintln!(
                "skipped: benchmark data {} is missing (set SPARKBENCH_TEST_DATA to a folder laid out <dataset>/<split>.jsonl)",
                dir.join(missing).display()
            );
            None
        }
    }
}

/// Write a scripted-model script into `dir` and return its path.
pub fn write_script(dir: &Path, name: &str, script: &serde_json::Value) -> PathBuf {
    let path = dir.join(name);
    let text = serde_json::to_string_pretty(script).expect("a script serialises");
    std::fs::write(&path, text).expect("the script file can be written");
    path
}

/// `run --scripted SCRIPT --tasks TASKS --limit N --data-dir DATA --output OUT --yes --plain
/// --batch-size 1`, plus `extra`.
pub fn run_args(
    script: &Path,
    tasks: &str,
    limit: usize,
    data: &Path,
    out: &Path,
    extra: &[&str],
) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "run".into(),
        "--scripted".into(),
        script.display().to_string(),
        "--tasks".into(),
        tasks.into(),
        "--limit".into(),
        limit.to_string(),
        "--data-dir".into(),
        data.display().to_string(),
        "--output".into(),
        out.display().to_string(),
        "--yes".into(),
        "--plain".into(),
        "--batch-size".into(),
        "1".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// `run --resume OUT --yes --plain`.
pub fn resume_args(out: &Path) -> Vec<String> {
    vec![
        "run".into(),
        "--resume".into(),
        out.display().to_string(),
        "--yes".into(),
        "--plain".into(),
    ]
}

/// Run `sparkbench ARGS` to the end (killed after `limit`), with stdin closed.
pub fn run_to_end(args: &[String], cwd: &Path, limit: Duration) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .env_remove("SPARKBENCH_OUTPUTS")
        .env_remove("SPARKBENCH_DATA")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sparkbench binary starts");
    let started = Instant::now();
    loop {
        match child.try_wait().expect("waiting for sparkbench works") {
            Some(_) => break,
            None if started.elapsed() > limit => {
                let _ = child.kill();
                break;
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let out = child
        .wait_with_output()
        .expect("the output of sparkbench can be read");
    assert!(
        started.elapsed() <= limit + Duration::from_secs(1),
        "sparkbench {args:?} ran past {limit:?} and was killed"
    );
    out
}

/// stdout and stderr of `out` as one text (stdout first).
pub fn all_text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Fail when `stderr` shows a Rust panic.
pub fn assert_no_panic(stderr: &str, what: &str) {
    assert!(
        !stderr.contains("panicked"),
        "{what}: sparkbench panicked:\n{stderr}"
    );
}
