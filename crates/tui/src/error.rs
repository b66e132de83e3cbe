//! [`TuiError`]: what can go wrong while drawing the wizard, the dashboard or the results screen.

use std::io;

/// Errors of the terminal UI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TuiError {
    /// The terminal could not be set up, drawn on or restored.
    #[error("terminal error: {0}")]
    Terminal(#[from] io::Error),
    /// A wizard prompt failed for a reason other than Esc or Ctrl-C.
    #[error("wizard prompt failed: {0}")]
    Prompt(String),
    /// A signal handler could not be installed.
    #[error("could not listen for {signal}: {source}")]
    Signal {
        /// The signal's name.
        signal: &'static str,
        /// The cause.
        source: io::Error,
    },
    /// The wizard needs an interactive terminal.
    #[error(
        "the wizard needs an interactive terminal; pass the choices as flags instead (see `sparkbench run --help`)"
    )]
    NotATerminal,
}
