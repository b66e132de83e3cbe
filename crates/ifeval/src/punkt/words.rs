//! Punkt's word tokenizer (`PunktLanguageVars.word_tokenize` with the default English
//! variables), written as a scanner equivalent to its regex:
//!
//! ```text
//! ( (?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)                     multi-character punctuation
//! | (?=[^\(\"\`{\[:;&\#\*@\)}\]\-,])\S+?                a word, up to the first of:
//!   (?= \s | $ | NonWord | MultiChar | ,(?=$|\s|NonWord|MultiChar) )
//! | \S )                                                  any other single character
//! ```
//!
//! with `NonWord = [)";}\]\*:@'({\[?!]` and Python's `\s`. Periods stay attached to words.

use crate::python::strings::is_space;

/// Characters that cannot appear within words (`_re_non_word_chars`).
pub fn is_non_word(c: char) -> bool {
    matches!(
        c,
        ')' | '"' | ';' | '}' | ']' | '*' | ':' | '@' | '\'' | '(' | '{' | '[' | '?' | '!'
    )
}

/// Characters a word may start with (`_re_word_start`), for non-space characters.
fn is_word_start(c: char) -> bool {
    !matches!(
        c,
        '(' | '"'
            | '`'
            | '{'
            | '['
            | ':'
            | ';'
            | '&'
            | '#'
            | '*'
            | '@'
            | ')'
            | '}'
            | ']'
            | '-'
            | ','
    )
}

fn char_at(s: &str, i: usize) -> Option<char> {
    s.get(i..).and_then(|r| r.chars().next())
}

/// Length in bytes of `(?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)` matched at byte `i`, if it matches.
fn multi_char_len(s: &str, i: usize) -> Option<usize> {
    let rest = s.get(i..)?;
    let hyphens = rest.bytes().take_while(|&b| b == b'-').count();
    if hyphens >= 2 {
        return Some(hyphens);
    }
    let dots = rest.bytes().take_while(|&b| b == b'.').count();
    if dots >= 2 {
        return Some(dots);
    }
    // (?:\.\s){2,}\. : greedy pairs, then back off until a final '.' follows.
    let mut pair_ends = Vec::new();
    let mut p = 0;
    while rest[p..].starts_with('.') {
        match char_at(rest, p + 1) {
            Some(c) if is_space(c) => {
                p += 1 + c.len_utf8();
                pair_ends.push(p);
            }
            _ => break,
        }
    }
    while pair_ends.len() >= 2 {
        let end = pair_ends[pair_ends.len() - 1];
        if rest[end..].starts_with('.') {
            return Some(end + 1);
        }
        pair_ends.pop();
    }
    None
}

/// The lookahead that ends a word at byte `j`.
fn word_ends_at(s: &str, j: usize) -> bool {
    let Some(c) = char_at(s, j) else {
        return true;
    };
    if is_space(c) || is_non_word(c) || multi_char_len(s, j).is_some() {
        return true;
    }
    if c == ',' {
        let k = j + 1;
        return match char_at(s, k) {
            None => true,
            Some(n) => is_space(n) || is_non_word(n) || multi_char_len(s, k).is_some(),
        };
    }
    false
}

/// Punkt's word tokens of one line (a line holds no `\n`), as byte ranges.
pub fn tokenize_line(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = char_at(line, i) {
        if is_space(c) {
            i += c.len_utf8();
            continue;
        }
        if let Some(len) = multi_char_len(line, i) {
            out.push(&line[i..i + len]);
            i += len;
            continue;
        }
        let mut j = i + c.len_utf8();
        if is_word_start(c) {
            while !word_ends_at(line, j) {
                j += char_at(line, j).map_or(1, char::len_utf8);
            }
        }
        out.push(&line[i..j]);
        i = j;
    }
    out
}

/// Punkt's word tokens of a text: lines split on `\n`, blank lines skipped
/// (`PunktBaseClass._tokenize_words` without the unused line/paragraph flags).
pub fn tokenize(text: &str) -> Vec<&str> {
    text.split('\n')
        .filter(|line| !crate::python::strings::is_blank(line))
        .flat_map(tokenize_line)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::tokenize;

    #[test]
    fn splits_like_punkt() {
        assert_eq!(
            tokenize("Hello, world... (Dr. Smith) said \"hi\"--ok. 3,000 U.S.A."),
            vec![
                "Hello", ",", "world", "...", "(", "Dr.", "Smith", ")", "said", "\"", "hi", "\"",
                "--", "ok.", "3,000", "U.S.A."
            ]
        );
        assert_eq!(tokenize("a . . . b"), vec!["a", ". . .", "b"]);
        assert_eq!(tokenize("end,\nnext"), vec!["end", ",", "next"]);
        assert_eq!(tokenize("x-y --z"), vec!["x-y", "--", "z"]);
    }
}
