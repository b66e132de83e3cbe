//! [`InputThread`]: reads terminal events (keys, resizes) on a thread of its own and hands them
//! to a callback, until told to stop.
//!
//! Stopping waits a short while for the thread and then leaves it: crossterm's reader can spin
//! without returning once the terminal has hung up (a closed tmux pane, a dropped SSH session),
//! and a UI that joined it then would never exit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossterm::event::{self, Event};

/// How long a poll waits before checking the stop flag.
const POLL: Duration = Duration::from_millis(50);
/// How long stopping waits for the thread before leaving it.
const STOP_WAIT: Duration = Duration::from_millis(300);

/// The reading thread; stops when dropped.
pub struct InputThread {
    stop: Arc<AtomicBool>,
    finished: mpsc::Receiver<()>,
    handle: Option<JoinHandle<()>>,
}

impl InputThread {
    /// Start reading; `deliver` gets every key and resize and returns false to stop.
    pub fn start(deliver: impl Fn(Event) -> bool + Send + 'static) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let (done_tx, finished) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match event::poll(POLL) {
                    Ok(true) => match event::read() {
                        Ok(ev @ (Event::Key(_) | Event::Resize(..))) => {
                            if !deliver(ev) {
                                break;
                            }
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    },
                    Ok(false) => {}
                    Err(_) => break,
                }
            }
            let _ = done_tx.send(());
        });
        Self {
            stop,
            finished,
            handle: Some(handle),
        }
    }
}

impl Drop for InputThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Joining keeps the thread from eating the next screen's keys; a hung reader is left.
        if self.finished.recv_timeout(STOP_WAIT).is_ok()
            && let Some(handle) = self.handle.take()
        {
            let _ = handle.join();
        }
    }
}
