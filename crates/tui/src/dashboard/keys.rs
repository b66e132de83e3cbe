//! Key help: one list per situation, used by both the footer and the help overlay, so the hints
//! always match what `update` does.

use crate::dashboard::state::{AppState, Overlay};

/// A key and what it does: (key, short hint, longer description).
pub type KeyHelp = (&'static str, &'static str, &'static str);

/// The keys that work now.
pub fn keys(state: &AppState) -> Vec<KeyHelp> {
    match state.overlay {
        Overlay::ConfirmAbort => vec![
            ("y", "abort", "abort the run (finished documents are kept)"),
            ("n/Esc", "keep running", "close this question"),
        ],
        Overlay::Help => vec![("Esc/?", "close help", "close this help")],
        Overlay::None if state.exited() => vec![
            if state.header.continues {
                (
                    "Enter",
                    "next run",
                    "leave the dashboard and start the next run",
                )
            } else {
                (
                    "Enter",
                    "results",
                    "leave the dashboard and show the results",
                )
            },
            ("q", "quit", "leave without the results screen"),
            ("Tab", "pane", "switch the pane that scrolls"),
            ("↑↓ PgUp/PgDn", "scroll", "scroll the focused pane"),
            ("?", "help", "show this help"),
        ],
        Overlay::None => vec![
            (
                "q/Esc",
                "abort",
                "abort the run (asks first; finished documents are kept)",
            ),
            (
                "Tab",
                "pane",
                "switch the pane that scrolls (tasks, sample, log)",
            ),
            (
                "↑↓ PgUp/PgDn",
                "scroll",
                "scroll the focused pane; Home/End jump",
            ),
            ("?", "help", "show this help"),
        ],
    }
}
