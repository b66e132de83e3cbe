//! `nltk.word_tokenize(text)`: Punkt sentences, then `NLTKWordTokenizer` (the improved
//! Treebank regex cascade) on each sentence.
//!
//! The cascade runs, in NLTK's order: starting quotes, punctuation, parentheses and brackets,
//! double dashes, padding with one space on each side, ending quotes and clitics, then the
//! MacIntyre contractions; the result is split on whitespace. Python-only regex features are
//! emulated: `$` also matching before a final `\n`, Python's `\s` and `\w`, `\b` and the
//! `(?!re|ve|ll|m|t|s|d|n)` lookahead.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::punkt;
use crate::python::strings::{is_space, is_word, split_whitespace};

struct Rule {
    re: Regex,
    rep: &'static str,
}

fn rule(pattern: &str, rep: &'static str) -> Rule {
    // The patterns are constants of this file, checked by the tests below.
    #[allow(clippy::unwrap_used)]
    let re = Regex::new(pattern).unwrap();
    Rule { re, rep }
}

struct Rules {
    quotes_open: Rule,
    backticks: Rule,
    open_then_quote: Rule,
    final_period_quoted: Rule,
    colon_comma: Rule,
    colon_comma_end: Rule,
    ellipsis: Rule,
    symbols: Rule,
    final_period: Rule,
    question_bang: Rule,
    quote_space: Rule,
    star: Rule,
    brackets: Rule,
    double_dash: Rule,
    quotes_close: Rule,
    two_single_quotes: Rule,
    double_quote: Rule,
    spaces: Rule,
    clitic_short: Rule,
    clitic_long: Rule,
    contractions2: Vec<(Regex, RightEdge)>,
    contractions3: Vec<Regex>,
}

/// What must follow a contraction match.
#[derive(Clone, Copy)]
enum RightEdge {
    /// `\b`
    Boundary,
    /// `(?=\s)`
    Space,
}

#[allow(clippy::unwrap_used)]
static RULES: LazyLock<Rules> = LazyLock::new(|| Rules {
    quotes_open: rule("([«“‘„]|`+)", " ${1} "),
    backticks: rule("``", " `` "),
    open_then_quote: rule(r#"([ (\[{<])("|'')"#, "${1} `` "),
    final_period_quoted: rule(
        r#"([^.])(\.)([\])}>"'»”’ ]*)[\s\x1C-\x1F]*\z"#,
        "${1} ${2} ${3} ",
    ),
    colon_comma: rule(r"([:,])([^\d])", " ${1} ${2}"),
    colon_comma_end: rule(r"([:,])(\n?)\z", " ${1} ${2}"),
    ellipsis: rule(r"\.{2,}", " ${0} "),
    symbols: rule(r"[;@#$%&]", " ${0} "),
    final_period: rule(
        r#"([^.])(\.)([\])}>"']*)[\s\x1C-\x1F]*\z"#,
        "${1} ${2}${3} ",
    ),
    question_bang: rule(r"[?!]", " ${0} "),
    quote_space: rule(r"([^'])' ", "${1} ' "),
    star: rule(r"\*", " ${0} "),
    brackets: rule(r"[\]\[(){}<>]", " ${0} "),
    double_dash: rule("--", " -- "),
    quotes_close: rule("([»”’])", " ${1} "),
    two_single_quotes: rule("''", " '' "),
    double_quote: rule("\"", " '' "),
    spaces: rule(r"[\s\x1C-\x1F]+", " "),
    clitic_short: rule(r"([^' ])('[sS]|'[mM]|'[dD]|') ", "${1} ${2} "),
    clitic_long: rule(r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "${1} ${2} "),
    contractions2: [
        ("(?i)(can)(not)", RightEdge::Boundary),
        ("(?i)(d)('ye)", RightEdge::Boundary),
        ("(?i)(gim)(me)", RightEdge::Boundary),
        ("(?i)(gon)(na)", RightEdge::Boundary),
        ("(?i)(got)(ta)", RightEdge::Boundary),
        ("(?i)(lem)(me)", RightEdge::Boundary),
        ("(?i)(more)('n)", RightEdge::Boundary),
        ("(?i)(wan)(na)", RightEdge::Space),
    ]
    .into_iter()
    .map(|(p, edge)| (Regex::new(p).unwrap(), edge))
    .collect(),
    contractions3: ["(?i) ('t)(is)", "(?i) ('t)(was)"]
        .into_iter()
        .map(|p| Regex::new(p).unwrap())
        .collect(),
});

fn apply(text: String, r: &Rule) -> String {
    match r.re.replace_all(&text, r.rep) {
        Cow::Borrowed(_) => text,
        Cow::Owned(s) => s,
    }
}

fn word_before(text: &str, at: usize) -> bool {
    text[..at].chars().next_back().is_some_and(is_word)
}

fn word_after(text: &str, at: usize) -> bool {
    text[at..].chars().next().is_some_and(is_word)
}

/// `re.sub(pattern, r" \1 \2 ", text)` where the pattern is `regex` wrapped in optional `\b`
/// on the left and a right edge condition; the core match has a fixed length, so testing the
/// edges at the leftmost core match is Python's search.
fn sub_with_edges(text: String, regex: &Regex, left_boundary: bool, right: RightEdge) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut last = 0;
    let mut pos = 0;
    while let Some(caps) = regex.captures_at(&text, pos) {
        let Some(m) = caps.get(0) else { break };
        // Every core starts and ends with a word character (or a space for CONTRACTIONS3),
        // so `\b` reduces to "no word character outside".
        let left_ok = !left_boundary || !word_before(&text, m.start());
        let right_ok = match right {
            RightEdge::Boundary => !word_after(&text, m.end()),
            RightEdge::Space => text[m.end()..].chars().next().is_some_and(is_space),
        };
        if left_ok && right_ok {
            out.push_str(&text[last..m.start()]);
            push_groups(&mut out, &caps);
            last = m.end();
            pos = m.end();
        } else {
            pos = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8);
        }
        if pos > text.len() {
            break;
        }
    }
    if last == 0 {
        return text;
    }
    out.push_str(&text[last..]);
    out
}

fn push_groups(out: &mut String, caps: &Captures<'_>) {
    out.push(' ');
    out.push_str(caps.get(1).map_or("", |m| m.as_str()));
    out.push(' ');
    out.push_str(caps.get(2).map_or("", |m| m.as_str()));
    out.push(' ');
}

/// `(?i)(\')(?!re|ve|ll|m|t|s|d|n)(\w)\b` → `\1 \2`.
fn split_leading_apostrophe(text: String) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut last = 0;
    for (i, c) in text.char_indices() {
        if c != '\'' || i < last {
            continue;
        }
        let rest = &text[i + 1..];
        let mut it = rest.chars();
        let Some(w) = it.next() else { continue };
        let excluded = matches!(
            w,
            'm' | 'M' | 't' | 'T' | 's' | 'S' | 'ſ' | 'd' | 'D' | 'n' | 'N'
        );
        let after_is_word = it.next().is_some_and(is_word);
        if is_word(w) && !excluded && !after_is_word {
            out.push_str(&text[last..=i]);
            out.push(' ');
            out.push(w);
            last = i + 1 + w.len_utf8();
        }
    }
    if last == 0 {
        return text;
    }
    out.push_str(&text[last..]);
    out
}

/// `NLTKWordTokenizer().tokenize(sentence)`.
pub fn treebank_tokenize(sentence: &str) -> Vec<String> {
    let r = &*RULES;
    let mut text = apply(sentence.to_owned(), &r.quotes_open);
    if text.starts_with('"') {
        text.replace_range(0..1, "``");
    }
    text = apply(text, &r.backticks);
    text = apply(text, &r.open_then_quote);
    text = split_leading_apostrophe(text);

    for rule in [
        &r.final_period_quoted,
        &r.colon_comma,
        &r.colon_comma_end,
        &r.ellipsis,
        &r.symbols,
        &r.final_period,
        &r.question_bang,
        &r.quote_space,
        &r.star,
        &r.brackets,
        &r.double_dash,
    ] {
        text = apply(text, rule);
    }

    text = format!(" {text} ");
    for rule in [
        &r.quotes_close,
        &r.two_single_quotes,
        &r.double_quote,
        &r.spaces,
        &r.clitic_short,
        &r.clitic_long,
    ] {
        text = apply(text, rule);
    }
    for (re, edge) in &r.contractions2 {
        text = sub_with_edges(text, re, true, *edge);
    }
    for re in &r.contractions3 {
        text = sub_with_edges(text, re, false, RightEdge::Boundary);
    }
    split_whitespace(&text)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// `nltk.word_tokenize(text)` (English, `preserve_line=False`).
pub fn word_tokenize(text: &str) -> Vec<String> {
    punkt::sentences(text)
        .into_iter()
        .flat_map(treebank_tokenize)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_compile() {
        let r = &*RULES;
        assert_eq!(r.contractions2.len(), 8);
        assert_eq!(r.contractions3.len(), 2);
    }

    #[test]
    fn nltk_docstring_example() {
        let s = "Good muffins cost $3.88 (roughly 3,36 euros)\nin New York.  Please buy me\ntwo of them.\nThanks.";
        assert_eq!(
            treebank_tokenize(s),
            vec![
                "Good", "muffins", "cost", "$", "3.88", "(", "roughly", "3,36", "euros", ")", "in",
                "New", "York.", "Please", "buy", "me", "two", "of", "them.", "Thanks", "."
            ]
        );
    }

    #[test]
    fn contractions_and_quotes() {
        assert_eq!(
            treebank_tokenize("\"I cannot go,\" he said. Don't!"),
            vec![
                "``", "I", "can", "not", "go", ",", "''", "he", "said.", "Do", "n't", "!"
            ]
        );
    }
}
