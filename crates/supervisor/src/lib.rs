//! sparkbench-supervisor: starts the worker process, streams its events, runs the watchdog,
//! aborts, and finalises partial results.
//!
//! The parent (the dashboard or the plain CLI) calls [`start`] with a [`WorkerCommand`]
//! (`sparkbench worker --spec FILE` by default) and reads [`MonitorEvent`]s from
//! [`Supervised::events`] until [`MonitorEvent::Exited`]. The worker runs in its own process
//! group, so an abort ([`Supervised::abort`] or the watchdog's timeout) ends the whole tree:
//! `cancel` on its stdin, a short grace, SIGTERM to the group, SIGKILL to the group. After any
//! end without a `Finished` event, `sparkbench worker --finalize --spec FILE` computes partial
//! results from the journals and [`MonitorEvent::PartialFinalised`] reports them.
//!
//! The worker side of the same protocol (the stdin cancel listener and the stdout event writer)
//! is in [`worker_side`]. [`parse_timeout`] reads `--timeout` values.
//!
//! [`MonitorEvent`]: sparkbench_protocol::MonitorEvent
//! [`MonitorEvent::Exited`]: sparkbench_protocol::MonitorEvent::Exited
//! [`MonitorEvent::PartialFinalised`]: sparkbench_protocol::MonitorEvent::PartialFinalised

mod command;
mod error;
mod finalize;
mod group;
mod lines;
mod outcome;
mod output;
mod spawn;
mod supervise;
mod timeout;
mod usage;
mod watchdog;
pub mod worker_side;

pub use command::{
    DEFAULT_FINALIZE_TIMEOUT, DEFAULT_GRACE, DEFAULT_STATUS_EVERY, DEFAULT_TERM_WAIT,
    DEFAULT_TICK_EVERY, DEFAULT_WARNING_AFTER, WorkerCommand, write_spec_file,
};
pub use error::SupervisorError;
pub use supervise::{AbortHandle, Supervised, start};
pub use timeout::{TIMEOUT_HINT, TimeoutError, parse_timeout};
pub use worker_side::{StdoutSink, stdin_cancel_listener};
