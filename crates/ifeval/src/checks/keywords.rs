//! `keywords:*` checks. Keywords are Python regexes, spliced in unescaped as lm-eval does.

use super::Relation;
use crate::python::regex::{Flags, PatternError, PyRegex};
use crate::python::strings::lower;

const IGNORECASE: Flags = Flags {
    ignorecase: true,
    multiline: false,
};

/// `keywords:existence`: every keyword is found (`re.search(keyword, response, IGNORECASE)`).
pub fn existence(response: &str, keywords: &[String]) -> Result<bool, PatternError> {
    for k in keywords {
        if !PyRegex::cached(k, IGNORECASE)?.search(response)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `keywords:frequency`: `len(re.findall(keyword, response, IGNORECASE))` compared by relation.
/// `keyword` is already stripped (lm-eval strips it when building the instruction).
pub fn frequency(
    response: &str,
    keyword: &str,
    frequency: i64,
    relation: Relation,
) -> Result<bool, PatternError> {
    let count = PyRegex::cached(keyword, IGNORECASE)?.findall_count(response)?;
    Ok(relation.holds(count, frequency))
}

/// `keywords:forbidden_words`: no `\bword\b` match, ignoring case.
pub fn forbidden_words(response: &str, words: &[String]) -> Result<bool, PatternError> {
    for w in words {
        let pattern = format!(r"\b{w}\b");
        if PyRegex::cached(&pattern, IGNORECASE)?.search(response)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `keywords:letter_frequency`: `Counter(response.lower())[letter]` compared by relation;
/// `letter` is the lower-cased single character.
pub fn letter_frequency(response: &str, letter: char, frequency: i64, relation: Relation) -> bool {
    let count = lower(response).chars().filter(|&c| c == letter).count();
    relation.holds(count, frequency)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn keyword_checks() {
        assert_eq!(
            existence("I like Pizza and pasta", &s(&["pizza", "past"])),
            Ok(true)
        );
        assert_eq!(
            existence("I like pizza", &s(&["pizza", "pasta"])),
            Ok(false)
        );
        assert_eq!(
            frequency("Cat cat CAT", "cat", 3, Relation::AtLeast),
            Ok(true)
        );
        assert_eq!(frequency("Cat cat", "cat", 3, Relation::AtLeast), Ok(false));
        assert_eq!(forbidden_words("a category", &s(&["cat"])), Ok(true));
        assert_eq!(forbidden_words("a Cat!", &s(&["cat"])), Ok(false));
        assert!(letter_frequency("Aardvark", 'a', 3, Relation::AtLeast));
        assert!(!letter_frequency("Aardvark", 'a', 3, Relation::LessThan));
    }
}
