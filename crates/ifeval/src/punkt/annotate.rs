//! Punkt tokens and their annotation: the type-based first pass and the token-based second pass
//! (collocation, orthographic and frequent-sentence-starter heuristics, initials and ordinals),
//! as `PunktSentenceTokenizer._annotate_tokens` does with trained parameters.

use super::params::{ORTHO_BEG_LC, ORTHO_LC, ORTHO_MID_UC, ORTHO_UC, Params};
use crate::python::strings::{is_decimal, is_lower, is_upper, is_word, lower};

/// A word token with Punkt's annotations.
#[derive(Debug, Clone)]
pub struct Token<'a> {
    /// The token text.
    pub tok: &'a str,
    /// Lower-cased text, or `##number##` for numbers.
    pub typ: String,
    /// Ends in a period.
    pub period_final: bool,
    /// Marked as a sentence break.
    pub sentbreak: bool,
    /// Marked as an abbreviation.
    pub abbr: bool,
    /// Marked as an ellipsis.
    pub ellipsis: bool,
}

/// `^-?[\.,]?\d[\d,\.-]*\.?$` on the lower-cased token.
fn is_numeric(s: &str) -> bool {
    let mut chars = s.chars().peekable();
    if chars.peek() == Some(&'-') {
        chars.next();
    }
    if matches!(chars.peek(), Some('.' | ',')) {
        chars.next();
    }
    match chars.next() {
        Some(c) if is_decimal(c) => {}
        _ => return false,
    }
    chars.all(|c| is_decimal(c) || matches!(c, ',' | '.' | '-'))
}

impl<'a> Token<'a> {
    /// A fresh token.
    pub fn new(tok: &'a str) -> Self {
        let lowered = lower(tok);
        let typ = if is_numeric(&lowered) {
            "##number##".to_owned()
        } else {
            lowered
        };
        Token {
            tok,
            typ,
            period_final: tok.ends_with('.'),
            sentbreak: false,
            abbr: false,
            ellipsis: false,
        }
    }

    /// The type without a final period (when the type is longer than one character).
    pub fn type_no_period(&self) -> &str {
        if self.typ.chars().count() > 1 && self.typ.ends_with('.') {
            &self.typ[..self.typ.len() - 1]
        } else {
            &self.typ
        }
    }

    /// The type without its final period if this token is a sentence break.
    pub fn type_no_sentperiod(&self) -> &str {
        if self.sentbreak {
            self.type_no_period()
        } else {
            &self.typ
        }
    }

    fn first_char(&self) -> Option<char> {
        self.tok.chars().next()
    }

    /// `tok[0].isupper()`.
    pub fn first_upper(&self) -> bool {
        self.first_char()
            .is_some_and(|c| is_upper(c.encode_utf8(&mut [0; 4])))
    }

    /// `tok[0].islower()`.
    pub fn first_lower(&self) -> bool {
        self.first_char()
            .is_some_and(|c| is_lower(c.encode_utf8(&mut [0; 4])))
    }

    /// `\.\.+$`: two or more periods and nothing else.
    pub fn is_ellipsis(&self) -> bool {
        self.tok.len() >= 2 && self.tok.bytes().all(|b| b == b'.')
    }

    /// `[^\W\d]\.$`: one non-digit word character, then a period.
    pub fn is_initial(&self) -> bool {
        let mut chars = self.tok.chars();
        matches!(
            (chars.next(), chars.next(), chars.next()),
            (Some(c), Some('.'), None) if is_word(c) && !is_decimal(c)
        )
    }
}

/// The first pass: sentence-final punctuation, ellipses, known abbreviations.
pub fn first_pass(token: &mut Token<'_>, params: &Params) {
    let tok = token.tok;
    if matches!(tok, "." | "?" | "!") {
        token.sentbreak = true;
    } else if token.is_ellipsis() {
        token.ellipsis = true;
    } else if token.period_final && !tok.ends_with("..") {
        let stem = lower(&tok[..tok.len() - 1]);
        let last_part = stem.rsplit('-').next().unwrap_or(&stem);
        if params.abbrev_types.contains(&stem) || params.abbrev_types.contains(last_part) {
            token.abbr = true;
        } else {
            token.sentbreak = true;
        }
    }
}

/// Result of the orthographic heuristic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ortho {
    Starter,
    NotStarter,
    Unknown,
}

fn ortho_heuristic(token: &Token<'_>, params: &Params) -> Ortho {
    if matches!(token.tok, ";" | ":" | "," | "." | "!" | "?") {
        return Ortho::NotStarter;
    }
    let ctx = params.ortho(token.type_no_sentperiod());
    if token.first_upper() && ctx & ORTHO_LC != 0 && ctx & ORTHO_MID_UC == 0 {
        return Ortho::Starter;
    }
    if token.first_lower() && (ctx & ORTHO_UC != 0 || ctx & ORTHO_BEG_LC == 0) {
        return Ortho::NotStarter;
    }
    Ortho::Unknown
}

/// The second pass over the pair `(first, next)`, updating `first`.
pub fn second_pass(first: &mut Token<'_>, next: &Token<'_>, params: &Params) {
    if !first.period_final {
        return;
    }
    let typ = first.type_no_period().to_owned();
    let next_typ = next.type_no_sentperiod();
    let is_initial = first.is_initial();

    if params
        .collocations
        .contains(&(typ.clone(), next_typ.to_owned()))
    {
        first.sentbreak = false;
        first.abbr = true;
        return;
    }

    if (first.abbr || first.ellipsis) && !is_initial {
        if ortho_heuristic(next, params) == Ortho::Starter {
            first.sentbreak = true;
            return;
        }
        if next.first_upper() && params.sent_starters.contains(next_typ) {
            first.sentbreak = true;
            return;
        }
    }

    if is_initial || typ == "##number##" {
        let ortho = ortho_heuristic(next, params);
        if ortho == Ortho::NotStarter {
            first.sentbreak = false;
            first.abbr = true;
            return;
        }
        if ortho == Ortho::Unknown
            && is_initial
            && next.first_upper()
            && params.ortho(next_typ) & ORTHO_LC == 0
        {
            first.sentbreak = false;
            first.abbr = true;
        }
    }
}

/// Both passes over a token sequence.
pub fn annotate<'a>(words: &[&'a str], params: &Params) -> Vec<Token<'a>> {
    let mut tokens: Vec<Token<'a>> = words.iter().map(|w| Token::new(w)).collect();
    for t in &mut tokens {
        first_pass(t, params);
    }
    for i in 1..tokens.len() {
        let (head, tail) = tokens.split_at_mut(i);
        second_pass(&mut head[i - 1], &tail[0], params);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_types() {
        assert_eq!(Token::new("3.14").typ, "##number##");
        assert_eq!(Token::new("-1,000.").typ, "##number##");
        assert_eq!(Token::new("1st").typ, "1st");
        assert_eq!(Token::new("Dr.").type_no_period(), "dr");
        assert!(Token::new("J.").is_initial());
        assert!(!Token::new("5.").is_initial());
        assert!(Token::new("...").is_ellipsis());
    }
}
