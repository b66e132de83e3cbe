//! The sending side of the event stream, which notices when nobody listens any more.

use sparkbench_protocol::MonitorEvent;
use tokio::sync::mpsc::UnboundedSender;

/// Sends [`MonitorEvent`]s; remembers when the receiver was dropped.
pub(crate) struct Output {
    tx: UnboundedSender<MonitorEvent>,
    gone: bool,
}

impl Output {
    /// Wrap a sender.
    pub(crate) fn new(tx: UnboundedSender<MonitorEvent>) -> Self {
        Self { tx, gone: false }
    }

    /// Send one event (dropped silently once the receiver is gone).
    pub(crate) fn send(&mut self, event: MonitorEvent) {
        if !self.gone && self.tx.send(event).is_err() {
            self.gone = true;
        }
    }

    /// Whether the receiver was dropped.
    pub(crate) fn receiver_gone(&self) -> bool {
        self.gone || self.tx.is_closed()
    }
}
