//! Python `str` semantics that IFEval's checks depend on: `isspace`, `strip`, `split()`,
//! `isupper`/`islower`, and the character classes behind Python's `re` `\w` and `\s`.
//!
//! Rust's `char::is_whitespace`, `str::trim` and `char::is_alphanumeric` differ from Python's at
//! the edges (U+001C..U+001F are Python whitespace; Python's `\w` is the Unicode categories L* and
//! N* plus `_`, while Rust's is Alphabetic + marks + Nd + Pc), so every check goes through here.

use unicode_general_category::{GeneralCategory, get_general_category};

/// Python's `str.isspace()` for one character (`Py_UNICODE_ISSPACE`): bidi classes WS, B, S or
/// category Zs.
pub fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\u{0B}'
            | '\u{0C}'
            | '\r'
            | '\u{1C}'..='\u{1F}'
            | ' '
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
    )
}

/// Python's `str.strip()` with no argument.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python's `str.lstrip()` with no argument.
pub fn lstrip(s: &str) -> &str {
    s.trim_start_matches(is_space)
}

/// Python's `str.rstrip()` with no argument.
pub fn rstrip(s: &str) -> &str {
    s.trim_end_matches(is_space)
}

/// Python's blank test `not s.strip()`.
pub fn is_blank(s: &str) -> bool {
    s.chars().all(is_space)
}

/// Python's `str.split()` with no argument: runs of whitespace separate, no empty pieces.
pub fn split_whitespace(s: &str) -> Vec<&str> {
    s.split(is_space).filter(|p| !p.is_empty()).collect()
}

/// Python's `str.lower()` (the full Unicode mapping, with the final-sigma rule, as Rust's).
pub fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// Python's `isalpha()` for one character: general category Lu, Ll, Lt, Lm or Lo.
pub fn is_alpha(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::UppercaseLetter
            | GeneralCategory::LowercaseLetter
            | GeneralCategory::TitlecaseLetter
            | GeneralCategory::ModifierLetter
            | GeneralCategory::OtherLetter
    )
}

/// Python's `re` `\w` for `str` patterns: `isalnum()` or `_`. `isalnum` is `isalpha` or
/// `isnumeric`; every character with a numeric value outside the N* categories is a letter, so
/// this is L* | N* | `_`.
pub fn is_word(c: char) -> bool {
    c == '_' || c.is_numeric() || is_alpha(c)
}

/// Python's `re` `\d` for `str` patterns: general category Nd.
pub fn is_decimal(c: char) -> bool {
    get_general_category(c) == GeneralCategory::DecimalNumber
}

fn is_title(c: char) -> bool {
    get_general_category(c) == GeneralCategory::TitlecaseLetter
}

/// Python's `str.isupper()`: at least one cased character and no lowercase or titlecase one.
pub fn is_upper(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() || is_title(c) {
            return false;
        }
        if c.is_uppercase() {
            cased = true;
        }
    }
    cased
}

/// Python's `str.islower()`: at least one cased character and no uppercase or titlecase one.
pub fn is_lower(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_uppercase() || is_title(c) {
            return false;
        }
        if c.is_lowercase() {
            cased = true;
        }
    }
    cased
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_includes_information_separators() {
        assert!(is_space('\u{1F}'));
        assert!(!'\u{1F}'.is_whitespace());
        assert_eq!(strip("\u{1C} a \u{3000}"), "a");
        assert_eq!(split_whitespace(" a\u{1D}b  c "), vec!["a", "b", "c"]);
        assert!(!is_space('\u{200B}'));
    }

    #[test]
    fn word_chars_follow_python() {
        assert!(is_word('½'));
        assert!(is_word('²'));
        assert!(is_word('_'));
        assert!(is_word('é'));
        assert!(!is_word('\u{301}'));
        assert!(!is_word('-'));
        assert!(is_decimal('٣'));
        assert!(!is_decimal('²'));
    }

    #[test]
    fn case_predicates_follow_python() {
        assert!(is_upper("HELLO, WORLD 1"));
        assert!(!is_upper("HELLo"));
        assert!(!is_upper("123 !"));
        assert!(!is_upper("ǅ"));
        assert!(is_lower("hello, world"));
        assert!(!is_lower("Hello"));
        assert!(!is_lower(""));
        assert!(is_lower("ß"));
    }
}
