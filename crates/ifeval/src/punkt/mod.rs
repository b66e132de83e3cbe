//! NLTK's Punkt sentence tokenizer for English, inference only, ported from the behaviour of
//! `PunktSentenceTokenizer.tokenize(text)` (NLTK 3.9.1, default `PunktLanguageVars`,
//! `realign_boundaries=True`) with the punkt_tab English parameters.
//!
//! The steps, as NLTK runs them:
//! 1. every `.`, `?` or `!` followed by a non-word punctuation mark or by whitespace and a
//!    token is a candidate (the period-context regex);
//! 2. each candidate's context (the word before it, the mark, what follows) is word-tokenized
//!    and annotated (first pass, second pass); it splits when some token after a sentence-break
//!    token exists;
//! 3. closing quotes and brackets right after a break move into the sentence before it.
//!
//! Positions are byte offsets; NLTK's code-point offsets map onto them one to one because the
//! only arithmetic (`+ 1` after a whitespace character) involves ASCII whitespace.

pub mod annotate;
pub mod params;
pub mod words;

use crate::python::strings::{is_space, rstrip};

/// One candidate break: the mark at `mark`, what follows it up to `after_end`, and where the
/// next token starts when whitespace follows.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    mark: usize,
    after_end: usize,
    next_tok: Option<usize>,
}

impl Candidate {
    fn end(&self) -> usize {
        self.mark + 1
    }
}

/// `period_context_re().finditer(text)`:
/// `[\.\?!](?=(?P<after_tok>NonWord|\s+(?P<next_tok>\S+)))`.
fn candidates(text: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        if !matches!(c, '.' | '?' | '!') {
            continue;
        }
        let after = &text[i + 1..];
        let Some(n) = after.chars().next() else {
            continue;
        };
        if words::is_non_word(n) {
            out.push(Candidate {
                mark: i,
                after_end: i + 1 + n.len_utf8(),
                next_tok: None,
            });
        } else if is_space(n) {
            let spaces: usize = after
                .chars()
                .take_while(|&c| is_space(c))
                .map(char::len_utf8)
                .sum();
            let rest = &after[spaces..];
            let word: usize = rest
                .chars()
                .take_while(|&c| !is_space(c))
                .map(char::len_utf8)
                .sum();
            if word > 0 {
                let start = i + 1 + spaces;
                out.push(Candidate {
                    mark: i,
                    after_end: start + word,
                    next_tok: Some(start),
                });
            }
        }
    }
    out
}

/// `_get_last_whitespace_index`: the last ASCII whitespace (`string.whitespace`) in `text`,
/// or 0 when there is none.
fn last_whitespace_index(text: &str) -> usize {
    text.bytes()
        .rposition(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C))
        .unwrap_or(0)
}

/// `_match_potential_end_contexts`: candidates with their context string, dropping a candidate
/// whose preceding word overlaps the next candidate's (as in `acting!!!`).
fn end_contexts(text: &str) -> Vec<(Candidate, String)> {
    let mut out = Vec::new();
    let mut prev_slice = (0usize, 0usize);
    let mut prev: Option<Candidate> = None;
    let context = |slice: (usize, usize), m: &Candidate| {
        let mut s = String::new();
        s.push_str(text.get(slice.0..slice.1).unwrap_or(""));
        s.push_str(&text[m.mark..m.after_end]);
        s
    };
    for m in candidates(text) {
        let before = text.get(prev_slice.1..m.mark).unwrap_or("");
        let mut idx = last_whitespace_index(before);
        if idx != 0 {
            idx += prev_slice.1 + 1;
        } else {
            idx = prev_slice.0;
        }
        let word_slice = (idx, m.mark);
        if let Some(p) = prev
            && prev_slice.1 <= word_slice.0
        {
            out.push((p, context(prev_slice, &p)));
        }
        prev = Some(m);
        prev_slice = word_slice;
    }
    if let Some(p) = prev {
        out.push((p, context(prev_slice, &p)));
    }
    out
}

/// `text_contains_sentbreak`: some token follows a token annotated as a sentence break.
fn contains_sentbreak(context: &str) -> bool {
    let words = words::tokenize(context);
    let tokens = annotate::annotate(&words, params::english());
    let mut found = false;
    for t in &tokens {
        if found {
            return true;
        }
        if t.sentbreak {
            found = true;
        }
    }
    false
}

/// `_slices_from_text`.
fn slices(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut last_break = 0;
    for (m, context) in end_contexts(text) {
        if contains_sentbreak(&context) {
            out.push((last_break, m.end()));
            last_break = m.next_tok.unwrap_or(m.end());
        }
    }
    out.push((last_break, rstrip(text).len()));
    out
}

/// `re_boundary_realignment.match(s)`: `["\')\]}]+?(?:\s+|(?=--)|$)` (MULTILINE); returns the
/// match length.
fn realignment_match(s: &str) -> Option<usize> {
    let mut p = 0;
    for c in s.chars() {
        if !matches!(c, '"' | '\'' | ')' | ']' | '}') {
            break;
        }
        p += 1;
        let rest = &s[p..];
        let spaces: usize = rest
            .chars()
            .take_while(|&c| is_space(c))
            .map(char::len_utf8)
            .sum();
        if spaces > 0 {
            return Some(p + spaces);
        }
        if rest.starts_with("--") || rest.is_empty() {
            return Some(p);
        }
    }
    None
}

fn slice_text(text: &str, (s, e): (usize, usize)) -> &str {
    if s >= e {
        ""
    } else {
        text.get(s..e).unwrap_or("")
    }
}

/// `_realign_boundaries`.
fn realign(text: &str, slices: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut shift = 0;
    for (k, &(start, stop)) in slices.iter().enumerate() {
        let sentence1 = (start + shift, stop);
        let Some(&sentence2) = slices.get(k + 1) else {
            if !slice_text(text, sentence1).is_empty() {
                out.push(sentence1);
            }
            continue;
        };
        match realignment_match(slice_text(text, sentence2)) {
            Some(len) => {
                let matched = &text[sentence2.0..sentence2.0 + len];
                out.push((sentence1.0, sentence2.0 + rstrip(matched).len()));
                shift = len;
            }
            None => {
                shift = 0;
                if !slice_text(text, sentence1).is_empty() {
                    out.push(sentence1);
                }
            }
        }
    }
    out
}

/// The sentences of `text` as `PunktSentenceTokenizer("english").tokenize(text)` returns them.
pub fn sentences(text: &str) -> Vec<&str> {
    realign(text, &slices(text))
        .into_iter()
        .map(|s| slice_text(text, s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::sentences;

    #[test]
    fn splits_simple_sentences() {
        assert_eq!(
            sentences("Hello! How are you? I am fine."),
            vec!["Hello!", "How are you?", "I am fine."]
        );
        assert!(sentences("").is_empty());
        assert!(sentences("   \n ").is_empty());
    }

    #[test]
    fn realigns_closing_brackets() {
        assert_eq!(
            sentences("(He left.) Then she came."),
            vec!["(He left.)", "Then she came."]
        );
    }
}
