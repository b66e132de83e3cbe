//! Python `re` patterns run with Python's semantics.
//!
//! IFEval splices dataset strings (keywords, forbidden words, section splitters, postscript
//! markers) into regexes unescaped, so they are Python regex syntax. [`PyRegex::new`] rewrites
//! such a pattern into `fancy_regex` syntax so that it means what it means in Python:
//!
//! - `\w`, `\W`, `\b`, `\B` use Python's word characters (L*, N*, `_`; see
//!   [`super::strings::is_word`]), written as explicit classes and lookarounds;
//! - `\s`, `\S` include U+001C..U+001F;
//! - `$` without MULTILINE matches at the end *or before a final `\n`*; `\Z` is the very end;
//! - a `{` that does not open a valid quantifier is a literal, `{,n}` means `{0,n}`;
//! - `(?#...)` comments are dropped, `(?P=name)` becomes a named backreference.
//!
//! [`PyRegex::findall_count`] and [`PyRegex::split_count`] reproduce the counts of Python 3.7+'s
//! `re.findall` / `re.split`, including how they treat empty matches.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock, Mutex};

/// The class body of Python's `\w`.
pub const WORD_CLASS_BODY: &str = r"\p{L}\p{N}_";
/// The class body of Python's `\s`.
pub const SPACE_CLASS_BODY: &str = r"\s\x1C-\x1F";

/// Python's `\w` as a Rust regex class.
pub const WORD: &str = r"[\p{L}\p{N}_]";
/// Python's `\s` as a Rust regex class.
pub const SPACE: &str = r"[\s\x1C-\x1F]";

const BOUNDARY: &str =
    r"(?:(?<=[\p{L}\p{N}_])(?![\p{L}\p{N}_])|(?<![\p{L}\p{N}_])(?=[\p{L}\p{N}_]))";
const END: &str = r"(?=\n?\z)";
const NOT_BOUNDARY: &str =
    r"(?:(?<=[\p{L}\p{N}_])(?=[\p{L}\p{N}_])|(?<![\p{L}\p{N}_])(?![\p{L}\p{N}_]))";

/// Flags of a Python pattern that matter here.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    /// `re.IGNORECASE`
    pub ignorecase: bool,
    /// `re.MULTILINE`
    pub multiline: bool,
}

/// A compiled Python pattern.
#[derive(Debug)]
pub struct PyRegex {
    re: fancy_regex::Regex,
    /// The pattern without its emulated zero-width assertions (`\b`, `\B`, `$`), for the plain
    /// `regex` engine: it matches wherever the full pattern does (and more), so the slow
    /// backtracking search only starts where it finds a candidate. `None` when the pattern
    /// needs `fancy_regex` for other reasons (lookarounds, backreferences).
    prefilter: Option<regex::Regex>,
    groups: usize,
}

/// Why a pattern could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PyRegex {
    /// Compiles a Python pattern. Errors are Python's `re.error` cases we detect, or patterns
    /// `fancy_regex` cannot express.
    pub fn new(pattern: &str, flags: Flags) -> Result<Self, PatternError> {
        let (translated, groups) = translate(pattern, flags)?;
        let re = fancy_regex::RegexBuilder::new(&translated)
            .backtrack_limit(50_000_000)
            .build()
            .map_err(|e| PatternError(format!("cannot compile {pattern:?}: {e}")))?;
        let relaxed = translated
            .replace(BOUNDARY, "")
            .replace(NOT_BOUNDARY, "")
            .replace(END, "");
        let prefilter = if relaxed == translated {
            None
        } else {
            regex::Regex::new(&relaxed).ok()
        };
        Ok(PyRegex {
            re,
            prefilter,
            groups,
        })
    }

    /// [`PyRegex::new`], memoised: compiling the Unicode lookarounds costs milliseconds, and each
    /// instruction is checked against up to nine response variants.
    pub fn cached(pattern: &str, flags: Flags) -> Result<Arc<Self>, PatternError> {
        type Cache = Mutex<HashMap<(String, bool, bool), Arc<PyRegex>>>;
        static CACHE: LazyLock<Cache> = LazyLock::new(|| Mutex::new(HashMap::new()));
        let key = (pattern.to_owned(), flags.ignorecase, flags.multiline);
        if let Some(re) = CACHE.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(Arc::clone(re));
        }
        let re = Arc::new(PyRegex::new(pattern, flags)?);
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= 4096 {
            cache.clear();
        }
        cache.insert(key, Arc::clone(&re));
        Ok(re)
    }

    fn find_at(&self, text: &str, pos: usize) -> Result<Option<(usize, usize)>, PatternError> {
        let pos = match &self.prefilter {
            Some(pre) => match pre.find_at(text, pos) {
                Some(m) => m.start(),
                None => return Ok(None),
            },
            None => pos,
        };
        self.re
            .find_from_pos(text, pos)
            .map(|m| m.map(|m| (m.start(), m.end())))
            .map_err(|e| PatternError(format!("matching failed: {e}")))
    }

    /// `re.search(pattern, text) is not None`.
    pub fn search(&self, text: &str) -> Result<bool, PatternError> {
        Ok(self.find_at(text, 0)?.is_some())
    }

    /// The matches `re.finditer` reports (Python 3.7+): after an empty match the next match may
    /// not be empty at the same place; after a non-empty one it may.
    pub fn find_all(&self, text: &str) -> Result<Vec<(usize, usize)>, PatternError> {
        let mut out = Vec::new();
        let mut pos = 0;
        let mut must_advance = false;
        while pos <= text.len() {
            let Some((mut s, mut e)) = self.find_at(text, pos)? else {
                break;
            };
            if must_advance && s == pos && e == pos {
                // Python would still accept a non-empty match starting here; leftmost-first
                // gave the empty one, so look from the next character instead.
                let Some(next) = text[pos..].chars().next() else {
                    break;
                };
                match self.find_at(text, pos + next.len_utf8())? {
                    Some((s2, e2)) => (s, e) = (s2, e2),
                    None => break,
                }
            }
            out.push((s, e));
            must_advance = s == e;
            pos = e;
        }
        Ok(out)
    }

    /// `len(re.findall(pattern, text))`.
    pub fn findall_count(&self, text: &str) -> Result<usize, PatternError> {
        Ok(self.find_all(text)?.len())
    }

    /// `len(re.split(pattern, text))`: each match adds one piece plus one per capture group.
    pub fn split_count(&self, text: &str) -> Result<usize, PatternError> {
        Ok(1 + self.find_all(text)?.len() * (1 + self.groups))
    }

    /// `re.findall(pattern, text)` as whole-match strings (for patterns without groups).
    pub fn find_strings<'t>(&self, text: &'t str) -> Result<Vec<&'t str>, PatternError> {
        Ok(self
            .find_all(text)?
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect())
    }
}

/// Rewrites a Python pattern into `fancy_regex` syntax; returns it with its capture-group count.
pub fn translate(pattern: &str, flags: Flags) -> Result<(String, usize), PatternError> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 16);
    if flags.ignorecase {
        out.push_str("(?i)");
    }
    let mut groups = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err(PatternError(format!(
                        "{pattern:?} ends with a lone backslash"
                    )));
                };
                i += 2;
                match n {
                    'w' => out.push_str(WORD),
                    'W' => out.push_str(r"[^\p{L}\p{N}_]"),
                    's' => out.push_str(SPACE),
                    'S' => out.push_str(r"[^\s\x1C-\x1F]"),
                    'b' => out.push_str(BOUNDARY),
                    'B' => out.push_str(NOT_BOUNDARY),
                    'Z' => out.push_str(r"\z"),
                    'A' => out.push_str(r"\A"),
                    _ => i = escape(pattern, &chars, i, n, &mut out, false)?,
                }
            }
            '[' => {
                i = class(pattern, &chars, i, &mut out)?;
            }
            '$' => {
                out.push_str(if flags.multiline { "(?m:$)" } else { END });
                i += 1;
            }
            '^' => {
                out.push_str(if flags.multiline { "(?m:^)" } else { "^" });
                i += 1;
            }
            '{' => match quantifier(&chars, i) {
                Some((text, end)) => {
                    out.push_str(&text);
                    i = end;
                }
                None => {
                    out.push_str(r"\{");
                    i += 1;
                }
            },
            '}' => {
                out.push_str(r"\}");
                i += 1;
            }
            '(' => {
                let rest: String = chars[i..chars.len().min(i + 4)].iter().collect();
                if rest.starts_with("(?#") {
                    match chars[i..].iter().position(|&c| c == ')') {
                        Some(p) => i += p + 1,
                        None => {
                            return Err(PatternError(format!(
                                "{pattern:?} has an unterminated comment"
                            )));
                        }
                    }
                } else if rest.starts_with("(?P=") {
                    let Some(p) = chars[i..].iter().position(|&c| c == ')') else {
                        return Err(PatternError(format!(
                            "{pattern:?} has an unterminated backreference"
                        )));
                    };
                    let name: String = chars[i + 4..i + p].iter().collect();
                    let _ = write!(out, r"\k<{name}>");
                    i += p + 1;
                } else {
                    let named = rest.starts_with("(?P<")
                        || (rest.starts_with("(?<")
                            && !rest.starts_with("(?<=")
                            && !rest.starts_with("(?<!"));
                    if !rest.starts_with("(?") || named {
                        groups += 1;
                    }
                    out.push('(');
                    i += 1;
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok((out, groups))
}

/// Handles `\n` (the escaped char `n` already consumed; `i` points after it). Returns the new `i`.
fn escape(
    pattern: &str,
    chars: &[char],
    mut i: usize,
    n: char,
    out: &mut String,
    in_class: bool,
) -> Result<usize, PatternError> {
    match n {
        'd' | 'D' => {
            out.push('\\');
            out.push(n);
        }
        'n' => out.push_str(r"\n"),
        't' => out.push_str(r"\t"),
        'r' => out.push_str(r"\r"),
        'f' => out.push_str(r"\x0C"),
        'v' => out.push_str(r"\x0B"),
        'a' => out.push_str(r"\x07"),
        'b' if in_class => out.push_str(r"\x08"),
        'x' | 'u' | 'U' => {
            let len = match n {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let hex: String = chars.get(i..i + len).unwrap_or(&[]).iter().collect();
            if hex.len() != len || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(PatternError(format!(
                    "{pattern:?} has an incomplete \\{n} escape"
                )));
            }
            let _ = write!(out, r"\x{{{hex}}}");
            i += len;
        }
        '0' => {
            // Octal escape: up to two more octal digits.
            let mut value = 0u32;
            let mut taken = 0;
            while taken < 2 && i < chars.len() && ('0'..='7').contains(&chars[i]) {
                value = value * 8 + (chars[i] as u32 - '0' as u32);
                i += 1;
                taken += 1;
            }
            let _ = write!(out, r"\x{{{value:X}}}");
        }
        '1'..='9' if !in_class => {
            out.push('\\');
            out.push(n);
            while i < chars.len() && chars[i].is_ascii_digit() {
                out.push(chars[i]);
                i += 1;
            }
        }
        c if c.is_ascii_alphanumeric() => {
            return Err(PatternError(format!("{pattern:?} has a bad escape \\{c}")));
        }
        c => {
            if c.is_ascii() {
                out.push('\\');
                out.push(c);
            } else {
                out.push(c);
            }
        }
    }
    Ok(i)
}

/// Copies a `[...]` class starting at `chars[start] == '['`; returns the index after `]`.
fn class(
    pattern: &str,
    chars: &[char],
    start: usize,
    out: &mut String,
) -> Result<usize, PatternError> {
    let mut i = start + 1;
    out.push('[');
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(PatternError(format!(
                "{pattern:?} has an unterminated character set"
            )));
        };
        match c {
            ']' if !first => {
                out.push(']');
                return Ok(i + 1);
            }
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err(PatternError(format!(
                        "{pattern:?} ends with a lone backslash"
                    )));
                };
                i += 2;
                match n {
                    'w' => out.push_str(WORD_CLASS_BODY),
                    'W' => out.push_str(r"[^\p{L}\p{N}_]"),
                    's' => out.push_str(SPACE_CLASS_BODY),
                    'S' => out.push_str(r"[^\s\x1C-\x1F]"),
                    _ => i = escape(pattern, chars, i, n, out, true)?,
                }
            }
            '[' | ']' | '&' | '~' | '^' => {
                out.push('\\');
                out.push(c);
                i += 1;
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                out.push_str(r"\-");
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
        first = false;
    }
}

/// Recognises a Python repetition `{m}`, `{m,}`, `{,n}`, `{m,n}`, `{,}` at `chars[start]`.
fn quantifier(chars: &[char], start: usize) -> Option<(String, usize)> {
    let mut i = start + 1;
    let mut lo = String::new();
    while let Some(&c) = chars.get(i).filter(|c| c.is_ascii_digit()) {
        lo.push(c);
        i += 1;
    }
    let mut hi = None;
    if chars.get(i) == Some(&',') {
        i += 1;
        let mut h = String::new();
        while let Some(&c) = chars.get(i).filter(|c| c.is_ascii_digit()) {
            h.push(c);
            i += 1;
        }
        hi = Some(h);
    }
    if chars.get(i) != Some(&'}') {
        return None;
    }
    if lo.is_empty() && hi.is_none() {
        return None;
    }
    let lo = if lo.is_empty() { "0".to_string() } else { lo };
    let text = match hi {
        None => format!("{{{lo}}}"),
        Some(h) => format!("{{{lo},{h}}}"),
    };
    // A lazy/possessive suffix after the brace is copied by the main loop.
    Some((text, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str) -> PyRegex {
        match PyRegex::new(p, Flags::default()) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn dollar_matches_before_final_newline() {
        assert_eq!(re(r"b$").findall_count("ab\n"), Ok(1));
        assert_eq!(re(r"b$").findall_count("ab\nc"), Ok(0));
        assert_eq!(re(r"b\Z").findall_count("ab\n"), Ok(0));
    }

    #[test]
    fn word_boundary_uses_python_word_chars() {
        // U+0301 (combining acute) is not a Python word char, so there is a boundary before it.
        assert_eq!(re(r"\bcafe\b").findall_count("cafe\u{301}"), Ok(1));
        // '½' is a Python word char, so no boundary between 'x' and '½'.
        assert_eq!(re(r"\bx\b").findall_count("x½"), Ok(0));
        assert_eq!(re(r"\w+").findall_count("a½ b\u{301}c"), Ok(3));
    }

    #[test]
    fn empty_matches_follow_python_37() {
        // Python: re.findall(r'x*', 'axb') == ['', 'x', '', '']
        assert_eq!(re(r"x*").findall_count("axb"), Ok(4));
        // Python: len(re.split(r'(,)', 'a,b')) == 3
        assert_eq!(re(r"(,)").split_count("a,b"), Ok(3));
        assert_eq!(re(r",").split_count("a,b,c"), Ok(3));
    }

    #[test]
    fn odd_python_syntax() {
        assert_eq!(re(r"a{b").findall_count("a{b"), Ok(1));
        assert_eq!(re(r"a{,2}").find_strings("aaa"), Ok(vec!["aa", "a", ""]));
        assert_eq!(re(r"(?#note)ab").findall_count("ab"), Ok(1));
        assert_eq!(re(r"[\w-]+").find_strings("a-b c"), Ok(vec!["a-b", "c"]));
        assert_eq!(re(r"\é").findall_count("é"), Ok(1));
        assert!(PyRegex::new(r"\q", Flags::default()).is_err());
        assert!(PyRegex::new(r"(a", Flags::default()).is_err());
    }

    #[test]
    fn ignorecase_and_multiline() {
        let f = Flags {
            ignorecase: true,
            multiline: true,
        };
        let r = PyRegex::new(r"^x.*$", f).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.findall_count("X1\nx2\ny"), Ok(2));
    }
}
