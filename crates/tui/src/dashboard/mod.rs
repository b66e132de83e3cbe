//! The live dashboard: [`state`] (what is shown), [`update`] (events in, state changed, an action
//! out), [`render`] (state drawn, nothing changed), [`keys`] (the key help both footer and help
//! overlay show), [`run`] (terminal lifecycle, the event loop, signals).

pub mod keys;
pub mod render;
pub mod run;
pub mod state;
pub mod update;

pub use render::render;
pub use run::{DashboardOutcome, drive, run_dashboard};
pub use state::{AppState, Overlay, Pane, RunStatus, WatchdogStatus};
pub use update::{Action, AppEvent, update};
