//! Python string semantics the tokenization needs: `str.isspace`, `str.rstrip()`, `str.strip()`.

/// Python's `str.isspace` for one character: Unicode White_Space plus the separators U+001C to
/// U+001F, which Python counts as whitespace and Rust's `char::is_whitespace` does not.
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `s.rstrip()` (no argument).
pub fn rstrip(s: &str) -> &str {
    s.trim_end_matches(is_py_space)
}

/// Python's `s.lstrip()` (no argument).
pub fn lstrip(s: &str) -> &str {
    s.trim_start_matches(is_py_space)
}

/// Python's `s.strip()` (no argument).
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rstrip_removes_python_whitespace_only() {
        assert_eq!(rstrip("abc \n\t\u{a0}\u{1f}"), "abc");
        assert_eq!(rstrip("abc\u{200b}"), "abc\u{200b}");
        assert_eq!(strip("  x y  "), "x y");
        assert_eq!(lstrip("\u{3000}x "), "x ");
    }
}
