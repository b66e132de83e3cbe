//! Helpers of the tmux end-to-end test: a private tmux server driving the real binary in a
//! fixed-size pane, screen polling with deadlines, and checks of the files a run leaves.

pub mod files;
pub mod tmux;

use std::path::PathBuf;

/// The sparkbench binary cargo built for this test.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sparkbench"))
}

/// The shared real benchmark data: `SPARKBENCH_TEST_DATA`, else `<workspace>/../shared/data`.
pub fn real_data_dir() -> PathBuf {
    std::env::var_os("SPARKBENCH_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        })
}

/// `text` quoted for a POSIX shell command line.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
