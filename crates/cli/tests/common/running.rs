//! A `sparkbench` process the test watches while it runs: stdout lines arrive with the instant
//! they were read, stderr is collected, and dropping it ends the process and any worker group
//! it left behind, so a failing test leaks nothing.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::procs::{kill_group, proc_info, worker_of};

/// One stdout line and when the test read it.
#[derive(Debug, Clone)]
pub struct Line {
    /// When it was read.
    pub at: Instant,
    /// The line without its newline.
    pub text: String,
}

/// A running `sparkbench` with its output streams.
pub struct Running {
    child: Child,
    lines: Receiver<Line>,
    stderr: Option<JoinHandle<String>>,
    /// Every stdout line read so far.
    pub seen: Vec<Line>,
    /// Raw stdout bytes read so far (for escape-byte checks).
    raw: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    /// Worker process groups seen, ended on drop when still alive.
    groups: GroupCleanup,
}

/// Worker process groups (leader pid and its command line) to end when dropped, if the leader
/// is still that worker: whatever a failed test leaves behind.
#[derive(Debug, Default)]
pub struct GroupCleanup(Vec<(u32, String)>);

impl GroupCleanup {
    /// Remember a group.
    pub fn add(&mut self, pgid: u32, cmdline: &str) {
        if !self.0.iter().any(|(g, _)| *g == pgid) {
            self.0.push((pgid, cmdline.to_string()));
        }
    }

    /// The groups remembered.
    pub fn pgids(&self) -> Vec<u32> {
        self.0.iter().map(|(g, _)| *g).collect()
    }
}

impl Drop for GroupCleanup {
    fn drop(&mut self) {
        for (pgid, cmdline) in &self.0 {
            // Only a group whose leader is still the worker we saw (pids are reused).
            if proc_info(*pgid).is_some_and(|p| p.running() && &p.cmdline == cmdline) {
                kill_group(*pgid);
            }
        }
    }
}

/// How a watched process ended.
#[derive(Debug)]
pub struct Ended {
    /// Its exit status.
    pub status: ExitStatus,
    /// Every stdout line.
    pub lines: Vec<Line>,
    /// Raw stdout.
    pub stdout: Vec<u8>,
    /// All of stderr.
    pub stderr: String,
    /// The worker groups seen; ended on drop if still alive.
    pub groups: GroupCleanup,
}

impl Ended {
    /// stdout as text.
    pub fn stdout_text(&self) -> String {
        self.lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// stdout and stderr as one text.
    pub fn all_text(&self) -> String {
        format!("{}\n{}", self.stdout_text(), self.stderr)
    }
}

impl Running {
    /// Start `sparkbench ARGS` in `cwd` with stdin closed.
    pub fn spawn(args: &[String], cwd: &Path) -> Self {
        Self::spawn_with_env(args, cwd, &[])
    }

    /// [`Running::spawn`] with extra environment variables.
    pub fn spawn_with_env(args: &[String], cwd: &Path, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(super::bin())
            .args(args)
            .current_dir(cwd)
            .envs(env.iter().copied())
            .env_remove("SPARKBENCH_OUTPUTS")
            .env_remove("SPARKBENCH_DATA")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the sparkbench binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let (tx, lines) = channel();
        let raw = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let raw_in = raw.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let at = Instant::now();
                        raw_in
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .extend_from_slice(&buf);
                        let text = String::from_utf8_lossy(&buf).trim_end().to_string();
                        if tx.send(Line { at, text }).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Self {
            child,
            lines,
            stderr: Some(stderr),
            seen: Vec::new(),
            raw,
            groups: GroupCleanup::default(),
        }
    }

    /// The pid of the `sparkbench` process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait up to `limit` for a stdout line for which `pred` holds; every line read is kept in
    /// [`Running::seen`]. `None` when the output ended or the time ran out first.
    pub fn wait_line(&mut self, limit: Duration, pred: impl Fn(&str) -> bool) -> Option<Line> {
        let until = Instant::now() + limit;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line.text) {
                        return Some(line);
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return None;
                }
            }
        }
    }

    /// The worker this process started, waiting up to `limit` for it; its group is ended on drop
    /// if it outlives the test.
    pub fn worker(&mut self, limit: Duration) -> Option<u32> {
        let found = super::procs::wait_for_worker(self.pid(), limit)?;
        self.remember_group(found.pid, &found.cmdline);
        Some(found.pid)
    }

    /// Remember a worker group to clean up on drop.
    pub fn remember_group(&mut self, pgid: u32, cmdline: &str) {
        self.groups.add(pgid, cmdline);
    }

    /// Wait up to `limit` for the process to exit; read the rest of its output.
    pub fn finish(mut self, limit: Duration) -> Ended {
        let until = Instant::now() + limit;
        let status = loop {
            if let Some(w) = worker_of(self.pid()) {
                let (pid, cmdline) = (w.pid, w.cmdline);
                self.remember_group(pid, &cmdline);
            }
            match self.child.try_wait().expect("waiting for sparkbench works") {
                Some(status) => break status,
                None if Instant::now() >= until => {
                    let _ = self.child.kill();
                    let status = self.child.wait().expect("a killed sparkbench is reaped");
                    let stderr = self.take_stderr();
                    panic!(
                        "sparkbench did not exit within {limit:?} ({status}); output so far:\n{}\n{stderr}",
                        self.seen_text()
                    );
                }
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        // The stdout reader ends at end of file; a straggler holding the pipe open is cut off.
        let drain_until = Instant::now() + Duration::from_secs(5);
        while let Ok(line) = self
            .lines
            .recv_timeout(drain_until.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line);
        }
        let stderr = self.take_stderr();
        let stdout = self.raw.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Ended {
            status,
            lines: std::mem::take(&mut self.seen),
            stdout,
            stderr,
            groups: std::mem::take(&mut self.groups),
        }
    }

    fn take_stderr(&mut self) -> String {
        self.stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }

    /// Every stdout line read so far, as text.
    pub fn seen_text(&self) -> String {
        self.seen
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            if let Some(w) = worker_of(self.pid()) {
                self.groups.add(w.pid, &w.cmdline);
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // `self.groups` ends what is left of the worker groups when it is dropped next.
    }
}

/// The largest `done` of `[TASK] DONE/TOTAL documents` progress lines in `lines`, per task.
pub fn reported_done(lines: &[Line]) -> std::collections::BTreeMap<String, usize> {
    let mut done = std::collections::BTreeMap::new();
    for l in lines {
        if let Some((task, n)) = parse_progress(&l.text) {
            let slot = done.entry(task).or_insert(0);
            *slot = (*slot).max(n);
        }
    }
    done
}

/// `sparkbench: [arc_easy] 12/20 documents (60%) ...` -> (`arc_easy`, 12).
pub fn parse_progress(line: &str) -> Option<(String, usize)> {
    let rest = line.strip_prefix("sparkbench: [")?;
    let (task, rest) = rest.split_once("] ")?;
    let (done, rest) = rest.split_once('/')?;
    let (_total, rest) = rest.split_once(' ')?;
    if !rest.starts_with("documents") {
        return None;
    }
    Some((task.to_string(), done.parse().ok()?))
}
