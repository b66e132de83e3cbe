//! CPU and memory of the worker's process tree, sampled on a background thread.
//!
//! `sysinfo` needs two refreshes to compute CPU use, and a refresh reads every process's /proc
//! files, so it runs on its own thread once per interval and the supervisor's loop only reads the
//! latest value. The tree is the worker and all its descendants (found through parent pids), which
//! covers the process group and also helpers that left it.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// One reading of the worker's tree.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Usage {
    /// CPU use, percent of one core.
    pub cpu_percent: f32,
    /// Resident memory, bytes.
    pub rss_bytes: u64,
}

/// The sampling thread; it stops when this is dropped.
pub(crate) struct UsageSampler {
    latest: Arc<Mutex<Usage>>,
    _stop: Sender<()>,
}

impl UsageSampler {
    /// Start sampling the tree rooted at `pid` every `every`. When the thread cannot be started
    /// the readings stay at zero (the dashboard shows 0%, nothing else depends on it).
    pub(crate) fn start(pid: u32, every: Duration) -> Self {
        let latest = Arc::new(Mutex::new(Usage::default()));
        let (stop, stopped) = std::sync::mpsc::channel();
        let shared = Arc::clone(&latest);
        let _ = std::thread::Builder::new()
            .name("sparkbench-usage".into())
            .spawn(move || sample_loop(Pid::from_u32(pid), every, &shared, &stopped));
        Self {
            latest,
            _stop: stop,
        }
    }

    /// The latest reading.
    pub(crate) fn latest(&self) -> Usage {
        self.latest.lock().map(|u| *u).unwrap_or_default()
    }
}

fn sample_loop(root: Pid, every: Duration, shared: &Mutex<Usage>, stopped: &Receiver<()>) {
    let mut system = System::new();
    let kind = ProcessRefreshKind::nothing()
        .with_cpu()
        .with_memory()
        .without_tasks();
    loop {
        system.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
        let usage = tree_usage(&system, root);
        if let Ok(mut slot) = shared.lock() {
            *slot = usage;
        }
        match stopped.recv_timeout(every.max(Duration::from_millis(100))) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
    }
}

fn tree_usage(system: &System, root: Pid) -> Usage {
    let mut children: HashMap<Pid, Vec<Pid>> = HashMap::new();
    for (pid, process) in system.processes() {
        if process.thread_kind().is_some() {
            continue;
        }
        if let Some(parent) = process.parent() {
            children.entry(parent).or_default().push(*pid);
        }
    }
    let mut usage = Usage::default();
    let mut stack = vec![root];
    let mut seen = 0usize;
    while let Some(pid) = stack.pop() {
        seen += 1;
        if seen > 100_000 {
            break;
        }
        if let Some(process) = system.process(pid) {
            usage.cpu_percent += process.cpu_usage();
            usage.rss_bytes += process.memory();
        }
        if let Some(kids) = children.get(&pid) {
            stack.extend(kids.iter().copied());
        }
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_memory_of_a_live_tree() {
        let mut system = System::new();
        let kind = ProcessRefreshKind::nothing().with_memory().without_tasks();
        system.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
        let me = Pid::from_u32(std::process::id());
        assert!(tree_usage(&system, me).rss_bytes > 0);
        assert_eq!(
            tree_usage(&system, Pid::from_u32(u32::MAX - 7)),
            Usage::default()
        );
    }
}
