//! `change_case:*` checks (capital-word counts via `nltk.word_tokenize`, all-capital and
//! all-lowercase English), `language:response_language` and `punctuation:no_comma`.
//!
//! Language detection uses whatlang instead of langdetect; see [`crate::language`].

use super::Relation;
use crate::language::is_language;
use crate::python::strings::{is_lower, is_upper};

/// `change_case:capital_word_frequency`: tokens of `nltk.word_tokenize` with `isupper()`,
/// compared by relation.
pub fn capital_word_frequency(response: &str, capital_frequency: i64, relation: Relation) -> bool {
    let count = crate::word_tokenize(response)
        .iter()
        .filter(|w| is_upper(w))
        .count();
    relation.holds(count, capital_frequency)
}

/// `change_case:english_capital`: `isupper()` and detected as English.
pub fn english_capital(response: &str) -> bool {
    is_upper(response) && is_language(response, "en")
}

/// `change_case:english_lowercase`: `islower()` and detected as English.
pub fn english_lowercase(response: &str) -> bool {
    is_lower(response) && is_language(response, "en")
}

/// `language:response_language`: detected as `language` (or not detectable).
pub fn response_language(response: &str, language: &str) -> bool {
    is_language(response, language)
}

/// `punctuation:no_comma`: no `,` anywhere.
pub fn no_comma(response: &str) -> bool {
    !response.contains(',')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_checks() {
        assert!(capital_word_frequency(
            "THE CAT sat. OK?",
            3,
            Relation::AtLeast
        ));
        assert!(!capital_word_frequency(
            "The Cat sat.",
            1,
            Relation::AtLeast
        ));
        assert!(english_capital(
            "THIS IS AN ENGLISH SENTENCE ABOUT THE WEATHER TODAY."
        ));
        assert!(!english_capital("THIS IS an ENGLISH SENTENCE."));
        assert!(english_lowercase(
            "this is an english sentence about the weather today."
        ));
        assert!(no_comma("no commas here"));
        assert!(!no_comma("one, two"));
    }
}
