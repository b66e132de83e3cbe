//! `detectable_content:*` checks: placeholders and postscripts.

use std::sync::LazyLock;

use regex::Regex;

use crate::python::regex::{Flags, PatternError, PyRegex};
use crate::python::strings::lower;

/// `detectable_content:number_placeholders`: at least N matches of `\[.*?\]`.
pub fn number_placeholders(response: &str, num_placeholders: i64) -> bool {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::unwrap_used)] // a constant pattern, exercised by the tests
        Regex::new(r"\[.*?\]").unwrap()
    });
    i64::try_from(RE.find_iter(response).count()).is_ok_and(|n| n >= num_placeholders)
}

/// The postscript pattern lm-eval uses for a (stripped) marker.
pub fn postscript_pattern(marker: &str) -> String {
    match marker {
        "P.P.S" => r"\s*p\.\s?p\.\s?s.*$".to_owned(),
        "P.S." => r"\s*p\.\s?s\..*$".to_owned(),
        other => format!(r"\s*{}.*$", lower(other)),
    }
}

/// `detectable_content:postscript`: the lower-cased response has a MULTILINE match of the
/// marker's pattern.
pub fn postscript(response: &str, marker: &str) -> Result<bool, PatternError> {
    let re = PyRegex::cached(
        &postscript_pattern(marker),
        Flags {
            ignorecase: false,
            multiline: true,
        },
    )?;
    re.search(&lower(response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_postscripts() {
        assert!(number_placeholders("[name] at [address]", 2));
        assert!(!number_placeholders("[name] at address]", 2));
        assert_eq!(postscript("Hi.\nP.S. bye", "P.S."), Ok(true));
        assert_eq!(postscript("Hi.\nPS bye", "P.S."), Ok(false));
        assert_eq!(postscript("Hi.\np. p. s. more", "P.P.S"), Ok(true));
        assert_eq!(postscript("Hi.\nNote: x", "Note:"), Ok(true));
    }
}
