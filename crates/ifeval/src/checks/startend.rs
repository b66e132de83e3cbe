//! `startend:*` checks: the ending phrase and wrapping in double quotes.

use crate::python::strings::{lower, strip};

/// `startend:end_checker`: `response.strip().strip('"').lower()` ends with the stripped,
/// lower-cased phrase.
pub fn end_checker(response: &str, end_phrase: &str) -> bool {
    let value = lower(strip(response).trim_matches('"'));
    value.ends_with(&lower(strip(end_phrase)))
}

/// `startend:quotation`: the stripped response is longer than one character and starts and
/// ends with `"`.
pub fn quotation(response: &str) -> bool {
    let v = strip(response);
    v.chars().count() > 1 && v.starts_with('"') && v.ends_with('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startend_checks() {
        assert!(end_checker(
            "Bye. Any other questions?\"  ",
            "Any other questions?"
        ));
        assert!(!end_checker(
            "Any other questions? Bye.",
            "Any other questions?"
        ));
        assert!(quotation(" \"hello\" "));
        assert!(!quotation("\""));
        assert!(!quotation("\"hello"));
    }
}
