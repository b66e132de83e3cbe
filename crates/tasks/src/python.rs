//! Python semantics the tasks depend on (lm-eval spec section 9): `str.isspace`, `strip`,
//! `split()`, `capitalize`, `repr(float)`, `str(bool)`, and the one regex quirk that matters
//! (`$` also matching before a final newline).

/// Python's `str.isspace()` for one character: Unicode White_Space plus the separators
/// U+001C..U+001F that Python counts and Rust does not.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` with no argument.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python's `str.split()` with no argument: runs of whitespace separate, no empty parts.
pub fn split_whitespace(s: &str) -> Vec<&str> {
    s.split(is_space).filter(|p| !p.is_empty()).collect()
}

/// Python's `str.capitalize()`: the first character upper-cased (title case in Python 3.8+),
/// the rest lower-cased.
pub fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let mut out: String = title_case(first);
            for c in chars {
                out.extend(c.to_lowercase());
            }
            out
        }
    }
}

/// Title case of one character: Rust has no title-case mapping, so the few digraphs whose title
/// form differs from the upper form are handled here; everything else uses upper case.
fn title_case(c: char) -> String {
    match c {
        '\u{01C4}'..='\u{01C6}' => "\u{01C5}".to_string(),
        '\u{01C7}'..='\u{01C9}' => "\u{01C8}".to_string(),
        '\u{01CA}'..='\u{01CC}' => "\u{01CB}".to_string(),
        '\u{01F1}'..='\u{01F3}' => "\u{01F2}".to_string(),
        _ => c.to_uppercase().collect(),
    }
}

/// Python's `len()` of a string: code points.
pub fn len(s: &str) -> usize {
    s.chars().count()
}

/// Python's `str(bool)`.
pub fn bool_str(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

pub use sparkbench_pyfmt::float_repr;

/// Python `re.sub(r"\.$", "", s)` without MULTILINE: `$` matches at the very end and also just
/// before a final `\n`, and `re.sub` replaces every match (at most these two positions).
pub fn remove_final_dot(s: &str) -> String {
    // Positions where `\.$` can match: a dot at the end, or a dot before a final "\n".
    let bytes = s.as_bytes();
    let n = bytes.len();
    let mut cut: Vec<usize> = Vec::new();
    if n >= 2 && bytes[n - 1] == b'\n' && bytes[n - 2] == b'.' {
        cut.push(n - 2);
    }
    if n >= 1 && bytes[n - 1] == b'.' {
        cut.push(n - 1);
    }
    let mut out = String::with_capacity(n);
    for (i, c) in s.char_indices() {
        if !cut.contains(&i) {
            out.push(c);
        }
    }
    out
}

/// Numpy's pairwise summation (`np.sum` over a contiguous float64 array), so that sums match
/// numpy bit for bit.
pub fn numpy_sum(a: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= BLOCK {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i + 8 <= n {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        numpy_sum(&a[..n2]) + numpy_sum(&a[n2..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_and_capitalize_follow_python() {
        assert_eq!(strip("\u{1f} a b \n"), "a b");
        assert_eq!(split_whitespace(" a \u{1c} b\tc "), vec!["a", "b", "c"]);
        assert_eq!(capitalize("a PERSON"), "A person");
        assert_eq!(capitalize("ǆemal"), "ǅemal");
        assert_eq!(capitalize(""), "");
        assert_eq!(len("héllo"), 5);
    }

    #[test]
    fn final_dot_follows_python_dollar() {
        assert_eq!(remove_final_dot("12."), "12");
        assert_eq!(remove_final_dot("12.\n"), "12\n");
        assert_eq!(remove_final_dot("12.\n\n"), "12.\n\n");
        assert_eq!(remove_final_dot("1.2"), "1.2");
        assert_eq!(remove_final_dot(".\n."), ".\n");
    }

    #[test]
    fn numpy_sum_is_pairwise() {
        let v: Vec<f64> = (0..20).map(|i| 0.1 * i as f64).collect();
        let mut r = [0.0; 8];
        r.copy_from_slice(&v[..8]);
        for j in 0..8 {
            r[j] += v[8 + j];
        }
        let expect = ((r[0] + r[1]) + (r[2] + r[3]))
            + ((r[4] + r[5]) + (r[6] + r[7]))
            + v[16]
            + v[17]
            + v[18]
            + v[19];
        assert_eq!(numpy_sum(&v), expect);
        assert_eq!(numpy_sum(&[1.0, 2.0]), 3.0);
    }
}
