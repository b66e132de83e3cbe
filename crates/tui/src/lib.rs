//! sparkbench's terminal UI: the inquire wizard, the ratatui dashboard and results screen, and
//! the plain printer for pipes and CI.
//!
//! It sees only [`sparkbench_protocol::MonitorEvent`] streams and the plain view models in
//! [`view`], which the CLI fills; never the engine, the supervisor or the runs crate.
//!
//! - [`wizard`]: the questions, as a state machine over steps behind a [`wizard::Prompter`] trait.
//! - [`dashboard`]: `AppState`, the pure `update` and `render`, and [`run_dashboard`].
//! - [`results`]: the comparison screen ([`show_results`]) and the plain table printed after it.
//! - [`plain`]: progress lines without escape codes, for output that is not a terminal.
//! - [`theme`]: colours, honouring `NO_COLOR`; [`format`]: numbers and text in words.

pub mod dashboard;
pub mod error;
pub mod format;
mod input;
pub mod plain;
pub mod results;
pub mod theme;
pub mod view;
pub mod wizard;

pub use dashboard::{DashboardOutcome, run_dashboard};
pub use error::TuiError;
pub use plain::{PlainPrinter, print_plain};
pub use results::{comparison_text, show_results};
pub use theme::Theme;
pub use view::{
    Arrow, BackendChoice, BaseInfo, ComparisonRow, ComparisonView, HeaderInfo, LastBenchmark,
    ModelChoice, SuiteChoice, TaskChoice,
};
pub use wizard::{WizardAnswers, WizardOutcome, WizardSource, run_wizard};
