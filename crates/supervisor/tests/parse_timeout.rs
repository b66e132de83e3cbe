//! `--timeout` parsing: every form the seed accepted keeps its meaning; hours and fractions are
//! new; everything else is a clear error carrying the usage hint.

use std::time::Duration;

use sparkbench_supervisor::{TIMEOUT_HINT, TimeoutError, parse_timeout};

#[test]
fn seed_forms_keep_their_meaning() {
    for (text, secs) in [
        ("30min", 1800),
        ("10m", 600),
        ("600s", 600),
        ("600", 600),
        ("600sec", 600),
        ("10 min", 600),
        ("10MIN", 600),
        ("  45s  ", 45),
    ] {
        assert_eq!(parse_timeout(text), Ok(Duration::from_secs(secs)), "{text}");
    }
}

#[test]
fn hours_and_fractions_are_accepted() {
    for (text, secs) in [
        ("1h", 3600.0),
        ("1.5h", 5400.0),
        ("2 hours", 7200.0),
        ("1.5m", 90.0),
        ("2.5", 2.5),
    ] {
        assert_eq!(
            parse_timeout(text),
            Ok(Duration::from_secs_f64(secs)),
            "{text}"
        );
    }
}

#[test]
fn bad_values_are_rejected_with_the_hint() {
    for text in [
        "", "   ", "abc", "10x", "1d", "-5", "1..5m", ".5h", "5.", "0", "0.5s", "10m30s", "1e9",
    ] {
        let err = parse_timeout(text).expect_err(text);
        let message = err.to_string();
        assert!(message.contains(TIMEOUT_HINT), "{text}: {message}");
        if !text.trim().is_empty() {
            assert!(
                message.contains(text.trim()),
                "the message names the value: {message}"
            );
        }
    }
    assert_eq!(parse_timeout(""), Err(TimeoutError::Empty));
    assert!(
        matches!(parse_timeout("10x"), Err(TimeoutError::UnknownUnit { unit, .. }) if unit == "x")
    );
    assert!(matches!(
        parse_timeout("0"),
        Err(TimeoutError::TooShort { .. })
    ));
}

#[test]
fn the_hint_lists_hours() {
    assert!(TIMEOUT_HINT.contains("--timeout 1h"));
    assert!(TIMEOUT_HINT.starts_with("Use format like: --timeout 10min"));
}
