//! A private tmux server (own `-L` socket, so parallel tests never share one) with one detached
//! 120x40 pane running a plain bash; keys go in with `send-keys`, the screen comes back with
//! `capture-pane`. The server is killed when the value drops, also when a test panics.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Pane width in columns.
pub const WIDTH: u16 = 120;
/// Pane height in rows.
pub const HEIGHT: u16 = 40;
/// The prompt of the pane's shell.
pub const PROMPT: &str = "e2e$ ";
/// What the wrapper scripts print when the program has exited, followed by its exit code.
pub const DONE_MARKER: &str = "E2E-DONE rc=";

const SESSION: &str = "e2e";
const POLL: Duration = Duration::from_millis(250);

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// One tmux server with one pane.
pub struct Tmux {
    socket: String,
    socket_path: Option<PathBuf>,
    last_screen: String,
}

/// Whether a usable tmux is on PATH.
pub fn available() -> Result<(), String> {
    match Command::new("tmux").arg("-V").output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "`tmux -V` failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("tmux is not installed ({e})")),
    }
}

impl Tmux {
    /// Start a server named after `name` with a bash pane in `cwd`, and wait for its prompt.
    pub fn start(name: &str, cwd: &Path) -> Self {
        let socket = format!(
            "sparkbench-e2e-{}-{name}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let mut tmux = Self {
            socket,
            socket_path: None,
            last_screen: String::new(),
        };
        let shell = format!(
            "env -u INFERENCE_BASE_MODEL -u SPARKBENCH_DATA -u OLLAMA_BASE_URL \
             TERM=xterm-256color PS1='{PROMPT}' bash --norc --noprofile"
        );
        let cwd = cwd.to_string_lossy();
        let (w, h) = (WIDTH.to_string(), HEIGHT.to_string());
        tmux.checked(&[
            "new-session",
            "-d",
            "-s",
            SESSION,
            "-x",
            &w,
            "-y",
            &h,
            "-c",
            &cwd,
            &shell,
        ]);
        tmux.checked(&["set-option", "-g", "history-limit", "5000"]);
        let path = tmux.checked(&["display-message", "-p", "#{socket_path}"]);
        tmux.socket_path = Some(PathBuf::from(path.trim()));
        tmux.wait_until("the shell prompt", Duration::from_secs(20), |s| {
            s.contains(PROMPT)
        });
        tmux
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null")
            .args(args)
            .output()
            .expect("tmux runs (it answered `tmux -V` before)")
    }

    fn checked(&self, args: &[&str]) -> String {
        let out = self.tmux(args);
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Type `text` literally (no key names), without Enter.
    pub fn type_text(&self, text: &str) {
        self.checked(&["send-keys", "-t", SESSION, "-l", text]);
    }

    /// Press keys by tmux name (`Enter`, `Down`, `q`, ...).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend_from_slice(keys);
        self.checked(&args);
    }

    /// Type a shell command line and press Enter.
    pub fn run_line(&self, line: &str) {
        self.type_text(line);
        self.keys(&["Enter"]);
    }

    /// The visible screen, wrapped lines joined.
    pub fn screen(&mut self) -> String {
        let s = self.checked(&["capture-pane", "-p", "-J", "-t", SESSION]);
        self.last_screen.clone_from(&s);
        s
    }

    /// The main screen's scrollback and visible part, wrapped lines joined.
    pub fn history(&mut self) -> String {
        let s = self.checked(&["capture-pane", "-p", "-J", "-S", "-", "-t", SESSION]);
        self.last_screen.clone_from(&s);
        s
    }

    /// Whether the pane shows the alternate screen now.
    pub fn alternate_on(&self) -> bool {
        self.checked(&["display-message", "-p", "-t", SESSION, "#{alternate_on}"])
            .trim()
            == "1"
    }

    /// Poll the screen until `done` holds; panics with the last screen when `timeout` passes
    /// or when the program exits first (the wrapper's done marker shows up).
    pub fn wait_until(
        &mut self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if screen.contains(DONE_MARKER) {
                panic!("the program exited while waiting for {what}; last screen:\n{screen}");
            }
            if Instant::now() >= deadline {
                panic!("no {what} within {timeout:?}; last screen:\n{screen}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// Wait for the wrapper's done marker and return the program's exit code and the history.
    pub fn wait_exit(&mut self, timeout: Duration) -> (i32, String) {
        let deadline = Instant::now() + timeout;
        loop {
            let history = self.history();
            if let Some(rc) = exit_code(&history) {
                return (rc, history);
            }
            if Instant::now() >= deadline {
                panic!("the program did not exit within {timeout:?}; last screen:\n{history}");
            }
            std::thread::sleep(POLL);
        }
    }
}

/// The exit code the done marker reports, once it is on screen.
fn exit_code(screen: &str) -> Option<i32> {
    screen.lines().find_map(|l| {
        l.trim()
            .strip_prefix(DONE_MARKER)
            .and_then(|rc| rc.trim().parse().ok())
    })
}

impl Drop for Tmux {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.last_screen.is_empty() {
            eprintln!("last captured screen:\n{}", self.last_screen);
        }
        // Best effort and panic-free (this also runs while a failed test unwinds): a server
        // that is already gone is fine.
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
        // tmux 3.3 can leave the socket file behind.
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}
