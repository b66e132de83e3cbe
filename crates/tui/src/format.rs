//! Numbers in words: durations, byte sizes, scores, rates, and text made safe to print.

use std::time::Duration;

/// `45s`, `3m05s`, `1h02m`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

/// `812 B`, `1.5 KiB`, `3.2 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// A score as lm-eval prints it: four decimals.
pub fn score(v: f64) -> String {
    format!("{v:.4}")
}

/// A score with its stderr: `0.4500 ± 0.0400`.
pub fn score_with_stderr(v: f64, stderr: Option<f64>) -> String {
    match stderr {
        Some(se) => format!("{v:.4} ± {se:.4}"),
        None => format!("{v:.4}"),
    }
}

/// A signed difference: `+0.0123`.
pub fn signed(v: f64) -> String {
    format!("{v:+.4}")
}

/// A signed percentage: `+2.7%`.
pub fn signed_percent(v: f64) -> String {
    format!("{v:+.1}%")
}

/// A rate with one decimal below 100 (`12.5/s`), none above (`1340/s`).
pub fn rate(v: f64) -> String {
    if v < 100.0 {
        format!("{v:.1}/s")
    } else {
        format!("{v:.0}/s")
    }
}

/// Text from the worker made safe for any terminal: escape sequences and other control
/// characters are dropped (tabs become spaces), so a line cannot move the cursor or change colours.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI: ESC [ params final-byte; OSC: ESC ] ... BEL or ESC \; else one char.
                match chars.peek() {
                    Some('[') => {
                        chars.next();
                        for c in chars.by_ref() {
                            if ('\u{40}'..='\u{7e}').contains(&c) {
                                break;
                            }
                        }
                    }
                    Some(']') => {
                        chars.next();
                        while let Some(c) = chars.next() {
                            if c == '\u{7}' {
                                break;
                            }
                            if c == '\u{1b}' {
                                chars.next();
                                break;
                            }
                        }
                    }
                    Some(_) => {
                        chars.next();
                    }
                    None => {}
                }
            }
            '\t' => out.push(' '),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The last `max` characters of `text`, with a leading `…` when cut.
pub fn tail(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    let skip = count - max.saturating_sub(1);
    let mut out = String::from("…");
    out.extend(text.chars().skip(skip));
    out
}

/// The first `max` characters of `text`, with a trailing `…` when cut.
pub fn head(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(Duration::from_secs(5)), "5s");
        assert_eq!(duration(Duration::from_secs(185)), "3m05s");
        assert_eq!(duration(Duration::from_secs(3720)), "1h02m");
    }

    #[test]
    fn byte_sizes_use_binary_units() {
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn scores_and_deltas() {
        assert_eq!(score_with_stderr(0.45, Some(0.04)), "0.4500 ± 0.0400");
        assert_eq!(score_with_stderr(0.45, None), "0.4500");
        assert_eq!(signed(0.0123), "+0.0123");
        assert_eq!(signed(-0.5), "-0.5000");
        assert_eq!(signed_percent(2.66), "+2.7%");
        assert_eq!(rate(12.54), "12.5/s");
        assert_eq!(rate(1340.2), "1340/s");
    }

    #[test]
    fn sanitize_drops_escape_sequences() {
        assert_eq!(sanitize("\u{1b}[31mred\u{1b}[0m text\tx"), "red text x");
        assert_eq!(sanitize("a\u{1b}]0;title\u{7}b"), "ab");
        assert_eq!(sanitize("bell\u{7}\r\nnext"), "bell  next");
        assert!(!sanitize("\u{1b}").contains('\u{1b}'));
    }

    #[test]
    fn tail_and_head_cut_with_ellipsis() {
        assert_eq!(tail("abcdef", 4), "…def");
        assert_eq!(tail("abc", 4), "abc");
        assert_eq!(head("abcdef", 4), "abc…");
    }
}
