//! Atomic file writes: every file this crate writes goes through [`write_atomic`], so a reader
//! (or a crash, or a full disk) never sees a half-written `benchmark.json`, `run.json`, README or
//! throughput file. The bytes go to a temporary file in the same folder (same file system, so
//! the rename is atomic), are fsynced, and the temporary file is renamed over the target; the
//! folder is fsynced afterwards so the rename itself survives a power cut.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Result, RunsError};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Prefix of the temporary files; readers of run folders skip names starting with a dot.
pub const TEMP_PREFIX: &str = ".sparkbench-tmp-";

/// Write `bytes` to `path` atomically: the target holds either its old content or the new one,
/// never a mix. Creates the parent folder when missing.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, bytes, || Ok(()))
}

/// Serialise `value` as pretty JSON (two-space indent, like Python's `json.dumps(indent=2)`)
/// with a trailing newline, and write it atomically.
pub fn write_json_atomic<T: serde::Serialize>(
    path: &Path,
    value: &T,
    what: &'static str,
) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|source| RunsError::Serialize { what, source })?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// The temporary file name used for `path` by this process.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!("{TEMP_PREFIX}{name}.{}.{n}", std::process::id()))
}

/// [`write_atomic`] with a hook run after the data is durable and before the rename; tests use
/// it to simulate a crash at the worst moment.
pub(crate) fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    before_rename: impl FnOnce() -> std::io::Result<()>,
) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| RunsError::io("creating folder", &parent, e))?;
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| RunsError::io("creating", &tmp, e))?;
        file.write_all(bytes)
            .map_err(|e| RunsError::io("writing", &tmp, e))?;
        // A replaced file keeps its permissions (a README the user made read-only for others).
        if let Ok(meta) = fs::metadata(path) {
            let _ = fs::set_permissions(&tmp, meta.permissions());
        }
        file.sync_all()
            .map_err(|e| RunsError::io("syncing", &tmp, e))?;
        drop(file);
        before_rename().map_err(|e| RunsError::io("writing", path, e))?;
        fs::rename(&tmp, path).map_err(|e| RunsError::io("renaming into place", path, e))?;
        // Make the rename durable; some file systems refuse fsync on a folder, which is harmless.
        if let Ok(dir) = File::open(&parent) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    #[test]
    fn writes_new_and_replaces_old() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let target = dir.path().join("sub/benchmark.json");
        write_atomic(&target, b"{\"a\": 1}\n")?;
        assert_eq!(read(&target), "{\"a\": 1}\n");
        write_atomic(&target, b"{\"a\": 2}\n")?;
        assert_eq!(read(&target), "{\"a\": 2}\n");
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(target.parent().unwrap_or(dir.path()))
            .map_err(|e| RunsError::io("listing", dir.path(), e))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["benchmark.json".to_string()]);
        Ok(())
    }

    #[test]
    fn crash_between_write_and_rename_keeps_the_old_file() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let target = dir.path().join("benchmark.json");
        let old = "{\"model_name\": \"old\"}\n";
        write_atomic(&target, old.as_bytes())?;
        let new = "{\"model_name\": \"new\", \"comparison\": {}}\n".repeat(1000);
        let seen_during = std::cell::RefCell::new(String::new());
        let outcome = write_atomic_with(&target, new.as_bytes(), || {
            // At the worst moment the new bytes are on disk in the temp file, and the target
            // still holds the complete old version.
            *seen_during.borrow_mut() = read(&target);
            Err(std::io::Error::other("simulated crash"))
        });
        assert!(outcome.is_err());
        assert_eq!(*seen_during.borrow(), old);
        assert_eq!(read(&target), old);
        // After a successful write the target is exactly the new version.
        write_atomic(&target, new.as_bytes())?;
        assert_eq!(read(&target), new);
        Ok(())
    }

    #[test]
    fn json_is_pretty_with_trailing_newline() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| RunsError::io("tempdir", "/tmp", e))?;
        let target = dir.path().join("x.json");
        write_json_atomic(&target, &serde_json::json!({"a": [1]}), "test")?;
        assert_eq!(read(&target), "{\n  \"a\": [\n    1\n  ]\n}\n");
        Ok(())
    }
}
