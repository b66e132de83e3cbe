//! The worker's half of the protocol: a stdin listener that turns `cancel` (or end of file,
//! meaning the parent is gone) into a set [`Cancel`] flag, and [`StdoutSink`], which writes one
//! [`RunEvent`] JSON line at a time to stdout and flushes it, so the parent sees events at once.

use std::io::{self, BufRead, Write};
use std::sync::Mutex;
use std::thread::JoinHandle;

use sparkbench_protocol::{Cancel, RunEvent};

/// Start a thread that reads the process's stdin line by line and sets `cancel` on a line
/// `cancel` or at end of file (or a read error). Other lines are ignored.
pub fn stdin_cancel_listener(cancel: Cancel) -> io::Result<JoinHandle<()>> {
    cancel_listener(io::BufReader::new(io::stdin()), cancel)
}

/// [`stdin_cancel_listener`] over any reader.
pub fn cancel_listener<R>(reader: R, cancel: Cancel) -> io::Result<JoinHandle<()>>
where
    R: BufRead + Send + 'static,
{
    std::thread::Builder::new()
        .name("sparkbench-cancel".into())
        .spawn(move || {
            for line in reader.lines() {
                match line {
                    Ok(line) if line.trim() == "cancel" => break,
                    Ok(_) => continue,
                    Err(_) => break,
                }
            }
            cancel.set();
        })
}

/// Writes [`RunEvent`]s as JSON lines, one whole line per write under a mutex, flushed each time.
pub struct StdoutSink {
    out: Mutex<Box<dyn Write + Send>>,
}

impl Default for StdoutSink {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for StdoutSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StdoutSink").finish_non_exhaustive()
    }
}

impl StdoutSink {
    /// A sink writing to the process's stdout.
    pub fn new() -> Self {
        Self::with_writer(io::stdout())
    }

    /// A sink writing to `writer` (tests, or a file).
    pub fn with_writer(writer: impl Write + Send + 'static) -> Self {
        Self {
            out: Mutex::new(Box::new(writer)),
        }
    }

    /// Write one event line and flush. An error usually means the parent is gone (broken pipe);
    /// the caller should then stop the run.
    pub fn emit(&self, event: &RunEvent) -> io::Result<()> {
        let mut line = event.to_line();
        line.push('\n');
        // A panic while holding the lock cannot leave half a line behind in our buffer, so a
        // poisoned lock is still usable.
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        out.write_all(line.as_bytes())?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::sync::Arc;

    use super::*;

    #[test]
    fn cancel_line_sets_the_flag() {
        let cancel = Cancel::new();
        let reader = Cursor::new(b"hello\n cancel \nmore\n".to_vec());
        let handle = cancel_listener(reader, cancel.clone()).expect("thread");
        handle.join().expect("join");
        assert!(cancel.is_set());
    }

    #[test]
    fn end_of_file_sets_the_flag() {
        let cancel = Cancel::new();
        let handle = cancel_listener(Cursor::new(Vec::new()), cancel.clone()).expect("thread");
        handle.join().expect("join");
        assert!(cancel.is_set());
    }

    #[test]
    fn other_lines_do_not_cancel_before_the_end() {
        let cancel = Cancel::new();
        let (rx, mut tx) = std::io::pipe().expect("pipe");
        let handle = cancel_listener(io::BufReader::new(rx), cancel.clone()).expect("thread");
        tx.write_all(b"status\n").expect("write");
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!cancel.is_set());
        drop(tx);
        handle.join().expect("join");
        assert!(cancel.is_set());
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn sink_writes_whole_lines_from_many_threads() {
        let buf = Shared::default();
        let sink = Arc::new(StdoutSink::with_writer(buf.clone()));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let sink = Arc::clone(&sink);
                std::thread::spawn(move || {
                    for i in 0..50 {
                        sink.emit(&RunEvent::Heartbeat {
                            tokens: t * 1000 + i,
                        })
                        .expect("emit");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("join");
        }
        let text = String::from_utf8(buf.0.lock().expect("lock").clone()).expect("utf8");
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 200);
        for line in lines {
            assert!(
                matches!(RunEvent::from_line(line), Ok(RunEvent::Heartbeat { .. })),
                "{line}"
            );
        }
    }
}
