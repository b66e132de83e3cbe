//! Fake workers (bash scripts written into a temp dir) and helpers to collect events and check
//! that a process group is gone.

#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sparkbench_protocol::{LogLevel, MonitorEvent, RunEvent, WatchdogEvent, WorkerExit};
use sparkbench_supervisor::{Supervised, WorkerCommand};
use tempfile::TempDir;

/// The default finaliser part of a fake script: a log line first (its arrival time bounds the
/// worker's death, since the finaliser starts only once the worker is gone), then counts and
/// the partial results file.
pub const FINALISER_OK: &str = r#"
echo '{"event":"log","level":"info","message":"finaliser started"}'
echo '{"event":"progress","task":"gsm8k","done":3,"total":10,"tokens":0}'
echo '{"event":"finished","results_file":"/tmp/partial/results_partial.json"}'
exit 0
"#;

/// A fake worker: `worker_body` runs for `worker --spec FILE`, `finaliser_body` for
/// `worker --finalize --spec FILE`. Returns the temp dir (keep it alive) and the command.
pub fn fake(worker_body: &str, finaliser_body: &str) -> (TempDir, WorkerCommand) {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("worker.sh");
    let text = format!(
        "ulimit -c 0\nDIR='{}'\nif [ \"$2\" = \"--finalize\" ]; then\n{finaliser_body}\nfi\n{worker_body}\n",
        dir.path().display()
    );
    std::fs::write(&script, text).expect("write script");
    let spec = dir.path().join("spec.json");
    std::fs::write(&spec, "{}").expect("write spec");
    let mut cmd = WorkerCommand::new("bash", &spec);
    // Run the script through bash rather than executing it: no exec bit, no "text file busy".
    cmd.args = prepend(&script, &cmd.args);
    cmd.finalize_args = cmd
        .finalize_args
        .as_deref()
        .map(|args| prepend(&script, args));
    (dir, cmd)
}

fn prepend(script: &Path, args: &[OsString]) -> Vec<OsString> {
    let mut all = vec![script.as_os_str().to_owned()];
    all.extend(args.iter().cloned());
    all
}

/// An event and when the test received it.
pub type Timed = (Instant, MonitorEvent);

/// Read events until `Exited` (included); panics after `limit` with what arrived.
pub async fn collect(sup: &mut Supervised, limit: Duration) -> Vec<Timed> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, sup.events().recv()).await {
            Ok(Some(event)) => {
                let last = matches!(event, MonitorEvent::Exited { .. });
                got.push((Instant::now(), event));
                if last {
                    // Nothing may follow Exited: the channel must close.
                    let rest =
                        tokio::time::timeout(Duration::from_secs(5), sup.events().recv()).await;
                    assert!(matches!(rest, Ok(None)), "an event after Exited: {rest:?}");
                    return got;
                }
            }
            Ok(None) => panic!("the stream closed without Exited: {got:#?}"),
            Err(_) => panic!("no Exited within {limit:?}: {got:#?}"),
        }
    }
}

/// Wait for the first event matching `pred`, returning it with its arrival time (the events
/// before it are returned too).
pub async fn wait_for(
    sup: &mut Supervised,
    limit: Duration,
    pred: impl Fn(&MonitorEvent) -> bool,
) -> (Vec<Timed>, Instant) {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, sup.events().recv()).await {
            Ok(Some(event)) => {
                let hit = pred(&event);
                got.push((Instant::now(), event));
                if hit {
                    return (got, Instant::now());
                }
            }
            Ok(None) => panic!("the stream closed early: {got:#?}"),
            Err(_) => panic!("the awaited event did not come within {limit:?}: {got:#?}"),
        }
    }
}

/// The worker events only, in order.
pub fn run_events(events: &[Timed]) -> Vec<RunEvent> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            MonitorEvent::Run { event } => Some(event.clone()),
            _ => None,
        })
        .collect()
}

/// The watchdog events only, in order, with their times.
pub fn watchdog_events(events: &[Timed]) -> Vec<(Instant, WatchdogEvent)> {
    events
        .iter()
        .filter_map(|(t, e)| match e {
            MonitorEvent::Watchdog { event } => Some((*t, event.clone())),
            _ => None,
        })
        .collect()
}

/// The stderr lines only.
pub fn stderr_lines(events: &[Timed]) -> Vec<String> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            MonitorEvent::Stderr { line } => Some(line.clone()),
            _ => None,
        })
        .collect()
}

/// How the stream says the worker ended (the last event must be `Exited`).
pub fn exit_of(events: &[Timed]) -> WorkerExit {
    match events.last() {
        Some((_, MonitorEvent::Exited { exit })) => exit.clone(),
        other => panic!("the last event is not Exited: {other:?}"),
    }
}

/// When the fake finaliser's first log line arrived.
pub fn finaliser_started(events: &[Timed]) -> Option<Instant> {
    events.iter().find_map(|(t, e)| match e {
        MonitorEvent::Run {
            event:
                RunEvent::Log {
                    level: LogLevel::Info,
                    message,
                },
        } if message == "finaliser started" => Some(*t),
        _ => None,
    })
}

/// Whether `kill(-pgid, 0)` says the group still has members (zombies included).
pub fn group_signalable(pgid: u32) -> bool {
    let pgid = libc::pid_t::try_from(pgid).expect("pid fits");
    // SAFETY: kill(2) with signal 0 only checks for existence.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

/// Whether `kill(pid, 0)` says the process exists.
pub fn process_signalable(pid: u32) -> bool {
    let pid = libc::pid_t::try_from(pid).expect("pid fits");
    // SAFETY: as above.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Members of the group that are not zombies, from /proc (Linux).
pub fn live_members(pgid: u32) -> Vec<u32> {
    let mut live = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return live;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the parenthesised command: state ppid pgrp ...
        let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
            continue;
        };
        let fields: Vec<&str> = after.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" && fields[0] != "X"
        {
            live.push(pid);
        }
    }
    live
}

/// Assert the group is gone: no live member now, and `kill(-pgid, 0)` fails once the last
/// zombies are reaped by init (polled for up to 2 s).
pub async fn assert_group_gone(pgid: u32) {
    assert_eq!(
        live_members(pgid),
        Vec::<u32>::new(),
        "live processes left in group {pgid}"
    );
    let until = Instant::now() + Duration::from_secs(2);
    while group_signalable(pgid) {
        assert!(Instant::now() < until, "kill(-{pgid}, 0) still succeeds");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Read a pid the fake script wrote into `dir/name`, waiting up to 5 s for it.
pub async fn read_pid(dir: &Path, name: &str) -> u32 {
    let path: PathBuf = dir.join(name);
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        assert!(Instant::now() < until, "{} was not written", path.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Kill a stray process a test started (cleanup only).
pub fn kill_stray(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid)
        && pid > 1
    {
        // SAFETY: kill(2) on a pid this test's fake worker started and reported.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Shorthand.
pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}
