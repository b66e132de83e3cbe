//! Signals to the worker's process group, and how a process ended, in words.
//!
//! The worker is started as the leader of its own process group (pgid = its pid), so one
//! `kill(-pgid, sig)` reaches it and every grandchild that did not leave the group (tokenizer
//! threads are threads, but a backend may fork helpers). The seed signalled only its direct child.

use std::process::ExitStatus;

/// Send `signal` to every process in the group `pgid`. Returns false when the group is gone.
pub(crate) fn signal_group(pgid: u32, signal: libc::c_int) -> bool {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return false;
    };
    if pgid <= 1 {
        // Never signal "every process" (-1) or our own group (0).
        return false;
    }
    // SAFETY: kill(2) has no memory-safety preconditions; a negative pid names a process group.
    unsafe { libc::kill(-pgid, signal) == 0 }
}

/// Whether any process (zombies included) is still in the group `pgid`.
pub(crate) fn group_exists(pgid: u32) -> bool {
    signal_group(pgid, 0)
}

/// The conventional name of a signal number (`SIGSEGV`), or `signal N`.
pub(crate) fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGSYS => "SIGSYS",
        _ => return format!("signal {signal}"),
    };
    name.to_string()
}

/// How a process ended, in words: `exited with code 3`, `killed by signal SIGSEGV (11), core dumped`.
pub(crate) fn describe_status(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    if let Some(signal) = status.signal() {
        let core = if status.core_dumped() {
            ", core dumped"
        } else {
            ""
        };
        let hint = if signal == libc::SIGKILL {
            " (possibly the out-of-memory killer; see `dmesg`)"
        } else {
            ""
        };
        return format!(
            "was killed by signal {} ({signal}){core}{hint}",
            signal_name(signal)
        );
    }
    format!("ended with status {status}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_are_conventional() {
        assert_eq!(signal_name(libc::SIGSEGV), "SIGSEGV");
        assert_eq!(signal_name(libc::SIGKILL), "SIGKILL");
        assert_eq!(signal_name(200), "signal 200");
    }

    #[test]
    fn refuses_to_signal_all_processes_or_own_group() {
        assert!(!signal_group(0, 0));
        assert!(!signal_group(1, 0));
        assert!(!signal_group(u32::MAX, 0));
    }

    #[test]
    fn statuses_in_words() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            describe_status(&ExitStatus::from_raw(3 << 8)),
            "exited with code 3"
        );
        let segv = describe_status(&ExitStatus::from_raw(libc::SIGSEGV));
        assert!(
            segv.starts_with("was killed by signal SIGSEGV (11)"),
            "{segv}"
        );
    }
}
