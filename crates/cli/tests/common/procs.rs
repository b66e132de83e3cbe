//! Processes as /proc shows them (Linux): parent, process group, state and command line, so a
//! test can find the worker a `sparkbench run` started and tell whether its group is gone; and
//! signals sent with the `kill` program (the tests have no libc).

use std::process::Command;
use std::time::{Duration, Instant};

/// One process from `/proc/<pid>/stat` and `/proc/<pid>/cmdline`.
#[derive(Debug, Clone)]
pub struct ProcInfo {
    /// Its pid.
    pub pid: u32,
    /// Its parent's pid.
    pub ppid: u32,
    /// Its process group.
    pub pgid: u32,
    /// Its state letter (`R`, `S`, `Z`, ...).
    pub state: char,
    /// Its arguments joined by spaces.
    pub cmdline: String,
}

impl ProcInfo {
    /// Whether it is still running (a zombie has ended and only waits to be reaped).
    pub fn running(&self) -> bool {
        self.state != 'Z' && self.state != 'X'
    }
}

/// The process `pid`, if it exists.
pub fn proc_info(pid: u32) -> Option<ProcInfo> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may itself hold spaces or parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let ppid = fields.get(1)?.parse().ok()?;
    let pgid = fields.get(2)?.parse().ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|&c| c == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    Some(ProcInfo {
        pid,
        ppid,
        pgid,
        state,
        cmdline,
    })
}

/// Every process /proc lists now.
pub fn all_procs() -> Vec<ProcInfo> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter_map(proc_info)
        .collect()
}

/// Whether `pid` exists and has not ended.
pub fn is_running(pid: u32) -> bool {
    proc_info(pid).is_some_and(|p| p.running())
}

/// The processes of group `pgid` that have not ended.
pub fn group_members(pgid: u32) -> Vec<ProcInfo> {
    all_procs()
        .into_iter()
        .filter(|p| p.pgid == pgid && p.running())
        .collect()
}

/// The evaluation worker (`sparkbench worker --spec ...`, not the finaliser) that `parent`
/// started, if one is running now.
pub fn worker_of(parent: u32) -> Option<ProcInfo> {
    all_procs().into_iter().find(|p| {
        p.ppid == parent
            && p.running()
            && p.cmdline.contains(" worker ")
            && p.cmdline.contains("--spec")
            && !p.cmdline.contains("--finalize")
    })
}

/// Poll for `parent`'s worker for up to `limit`.
pub fn wait_for_worker(parent: u32, limit: Duration) -> Option<ProcInfo> {
    let until = Instant::now() + limit;
    loop {
        if let Some(w) = worker_of(parent) {
            return Some(w);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Poll until `pid` has ended (gone or a zombie); returns when that was seen, or `None` after
/// `limit`.
pub fn wait_until_ended(pid: u32, limit: Duration) -> Option<Instant> {
    let until = Instant::now() + limit;
    loop {
        if !is_running(pid) {
            return Some(Instant::now());
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Poll until no running process is left in group `pgid`; returns what is left after `limit`.
pub fn wait_group_gone(pgid: u32, limit: Duration) -> Vec<ProcInfo> {
    let until = Instant::now() + limit;
    loop {
        let left = group_members(pgid);
        if left.is_empty() || Instant::now() >= until {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Send `signal` (`TERM`, `INT`, `KILL`) to `pid`; false when it could not be delivered.
pub fn send_signal(pid: u32, signal: &str) -> bool {
    Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// SIGKILL every process of group `pgid` (cleanup after a failed test).
pub fn kill_group(pgid: u32) {
    if pgid <= 1 {
        return;
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .output();
}
