//! `--timeout` values: `30min`, `10m`, `600s`, `600`, `1h`, `1.5h`.
//!
//! The seed accepted `^\d+\s*(min|m|sec|s)?$` only and rejected `1h`; sparkbench also accepts
//! hours and fractional numbers, so every value the seed accepted still means the same thing.

use std::time::Duration;

use thiserror::Error;

/// The hint printed with every rejected value.
pub const TIMEOUT_HINT: &str = "Use format like: --timeout 10min, --timeout 30m, --timeout 600s, --timeout 1h, or --timeout 600";

/// A `--timeout` value that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TimeoutError {
    /// Nothing was given.
    #[error("empty --timeout value. {TIMEOUT_HINT}")]
    Empty,
    /// The number part is missing or is not a number.
    #[error("invalid --timeout value {value:?}: {reason}. {TIMEOUT_HINT}")]
    Invalid {
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The unit is not one of s, sec, m, min, h (and their long forms).
    #[error("invalid --timeout value {value:?}: unknown unit {unit:?}. {TIMEOUT_HINT}")]
    UnknownUnit {
        /// The value as given.
        value: String,
        /// The unit as given.
        unit: String,
    },
    /// Below one second (a zero timeout would end the worker at once).
    #[error("invalid --timeout value {value:?}: it must be at least 1 second. {TIMEOUT_HINT}")]
    TooShort {
        /// The value as given.
        value: String,
    },
}

/// Parse a `--timeout` value into a duration.
///
/// Accepted: a non-negative number (`600`, `1.5`) followed, optionally after spaces, by a unit:
/// none, `s`, `sec`, `secs`, `second`, `seconds` (seconds); `m`, `min`, `mins`, `minute`,
/// `minutes` (minutes); `h`, `hr`, `hrs`, `hour`, `hours` (hours). Case does not matter. The
/// result must be at least one second.
pub fn parse_timeout(text: &str) -> Result<Duration, TimeoutError> {
    let value = text.trim();
    if value.is_empty() {
        return Err(TimeoutError::Empty);
    }
    let lower = value.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(split);
    let unit = unit.trim_start();
    let invalid = |reason: &str| TimeoutError::Invalid {
        value: value.to_string(),
        reason: reason.to_string(),
    };
    if number.is_empty() {
        return Err(invalid("it must start with a number"));
    }
    if number.starts_with('.') || number.ends_with('.') || number.matches('.').count() > 1 {
        return Err(invalid("the number is malformed"));
    }
    let amount: f64 = number
        .parse()
        .map_err(|_| invalid("the number is malformed"))?;
    let scale = match unit {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        _ => {
            return Err(TimeoutError::UnknownUnit {
                value: value.to_string(),
                unit: unit.to_string(),
            });
        }
    };
    let seconds = amount * scale;
    if seconds < 1.0 {
        return Err(TimeoutError::TooShort {
            value: value.to_string(),
        });
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| invalid("it is too large"))
}
