//! `length_constraints:*` checks: sentences (Punkt), `***`-separated paragraphs, `\w+` words,
//! and the first word of the n-th `\n\n`-separated paragraph.

use std::sync::LazyLock;

use regex::Regex;

use super::Relation;
use crate::python::regex::WORD;
use crate::python::strings::{is_blank, split_whitespace, strip};

/// `length_constraints:number_sentences`.
pub fn number_sentences(response: &str, num_sentences: i64, relation: Relation) -> bool {
    relation.holds(crate::sentence_count(response), num_sentences)
}

/// `re.split(r"\s?\*\*\*\s?", text)` (Python `\s`).
fn split_paragraphs(text: &str) -> Vec<&str> {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::unwrap_used)] // a constant pattern, exercised by the tests
        Regex::new(r"[\s\x1C-\x1F]?\*\*\*[\s\x1C-\x1F]?").unwrap()
    });
    RE.split(text).collect()
}

/// `length_constraints:number_paragraphs`: paragraphs split on `***`; a blank first or last
/// piece is not counted, a blank middle piece fails the check.
pub fn number_paragraphs(response: &str, num_paragraphs: i64) -> bool {
    let parts = split_paragraphs(response);
    let mut count = parts.len();
    for (i, p) in parts.iter().enumerate() {
        if is_blank(p) {
            if i == 0 || i == parts.len() - 1 {
                count -= 1;
            } else {
                return false;
            }
        }
    }
    i64::try_from(count).is_ok_and(|c| c == num_paragraphs)
}

/// `count_words`: `len(RegexpTokenizer(r"\w+").tokenize(text))`.
pub fn count_words(text: &str) -> usize {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::unwrap_used)] // a constant pattern, exercised by the tests
        Regex::new(&format!("{WORD}+")).unwrap()
    });
    RE.find_iter(text).count()
}

/// `length_constraints:number_words`.
pub fn number_words(response: &str, num_words: i64, relation: Relation) -> bool {
    relation.holds(count_words(response), num_words)
}

/// `length_constraints:nth_paragraph_first_word`: `num_paragraphs` non-blank `\n\n`-separated
/// paragraphs and paragraph `nth` (1-based, indexing the raw split) starting with `first_word`
/// (already lower-cased).
pub fn nth_paragraph_first_word(
    response: &str,
    num_paragraphs: i64,
    nth_paragraph: usize,
    first_word: &str,
) -> bool {
    let paragraphs: Vec<&str> = response.split("\n\n").collect();
    let count = paragraphs.iter().filter(|p| !is_blank(p)).count();
    if nth_paragraph == 0 || nth_paragraph > count {
        return false;
    }
    let paragraph = strip(paragraphs[nth_paragraph - 1]);
    let Some(&word) = split_whitespace(paragraph).first() else {
        return false;
    };
    let word = strip(word).trim_start_matches('\'').trim_start_matches('"');
    let stop = word
        .find(['.', ',', '?', '!', '\'', '"'])
        .unwrap_or(word.len());
    // Python lowers letter by letter here, so no final-sigma rule.
    let found: String = word[..stop].chars().flat_map(char::to_lowercase).collect();
    i64::try_from(count).is_ok_and(|c| c == num_paragraphs) && found == first_word
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_words() {
        assert!(number_paragraphs("a\n***\nb\n***\nc", 3));
        assert!(number_paragraphs("***\na\n***\nb\n***", 2));
        assert!(!number_paragraphs("a\n***\n\n***\nb", 2));
        assert_eq!(count_words("It's 3½ o'clock — naïve_x!"), 6);
        assert!(nth_paragraph_first_word(
            "One.\n\n\"Two, three\n\nFour",
            3,
            2,
            "two"
        ));
        assert!(!nth_paragraph_first_word("One.\n\nTwo", 3, 2, "two"));
        assert!(!nth_paragraph_first_word("One.\n\n\n\nTwo", 2, 2, "two"));
    }
}
