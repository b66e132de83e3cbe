//! Reading a child's stdout and stderr as lines on background tasks.
//!
//! Both pipes feed one channel, so the supervisor's loop has a single place to wait on; the
//! channel closes when both pipes reached end of file. Bytes that are not UTF-8 are replaced
//! rather than failing the run, and a trailing `\r` (Windows-style or tqdm output) is dropped.

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

/// One line from a child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    /// A stdout line.
    Out(String),
    /// A stderr line.
    Err(String),
}

/// The reader tasks of one child; dropping this stops them (a grandchild that escaped the
/// process group may hold a pipe open forever).
pub(crate) struct Readers {
    pub rx: UnboundedReceiver<Line>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Readers {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Start reading `stdout` and `stderr`.
pub(crate) fn spawn_readers<O, E>(stdout: O, stderr: E) -> Readers
where
    O: AsyncRead + Unpin + Send + 'static,
    E: AsyncRead + Unpin + Send + 'static,
{
    let (tx, rx) = unbounded_channel();
    let out = tokio::spawn(read_lines(stdout, tx.clone(), Line::Out));
    let err = tokio::spawn(read_lines(stderr, tx, Line::Err));
    Readers {
        rx,
        tasks: vec![out, err],
    }
}

async fn read_lines<R>(pipe: R, tx: UnboundedSender<Line>, wrap: fn(String) -> Line)
where
    R: AsyncRead + Unpin,
{
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                while matches!(buf.last(), Some(b'\n' | b'\r')) {
                    buf.pop();
                }
                let line = String::from_utf8_lossy(&buf).into_owned();
                if tx.send(wrap(line)).is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn splits_lines_and_tolerates_bad_bytes() {
        let out: &[u8] = b"one\r\ntwo\n\xffthree";
        let err: &[u8] = b"";
        let mut readers = spawn_readers(out, err);
        let mut got = Vec::new();
        while let Some(line) = readers.rx.recv().await {
            got.push(line);
        }
        assert_eq!(
            got,
            vec![
                Line::Out("one".into()),
                Line::Out("two".into()),
                Line::Out("\u{fffd}three".into())
            ]
        );
    }
}
