//! lm-eval's filters and `exact_match` as gsm8k uses them: the `regex` filter (`re.findall`,
//! pick a match, first non-empty group, strip, `[invalid]` when nothing matches), `take_first`,
//! and `exact_match` with `regexes_to_ignore` applied in order with `re.sub`, Python's `$`
//! included.

use regex::Regex;

use crate::python;

/// lm-eval's `RegexFilter`.
pub struct RegexFilter {
    re: Regex,
    group_select: isize,
    fallback: &'static str,
}

impl RegexFilter {
    /// A filter with `regex_pattern` and `group_select` (negative counts from the end).
    pub fn new(pattern: &str, group_select: isize) -> Result<Self, regex::Error> {
        Ok(Self {
            re: Regex::new(pattern)?,
            group_select,
            fallback: "[invalid]",
        })
    }

    /// Apply to one response.
    pub fn apply(&self, resp: &str) -> String {
        // re.findall: one entry per match; with groups, the tuple of groups.
        let matches: Vec<Vec<String>> = self
            .re
            .captures_iter(resp)
            .map(|caps| {
                if caps.len() == 1 {
                    vec![
                        caps.get(0)
                            .map_or(String::new(), |m| m.as_str().to_string()),
                    ]
                } else {
                    (1..caps.len())
                        .map(|i| {
                            caps.get(i)
                                .map_or(String::new(), |m| m.as_str().to_string())
                        })
                        .collect()
                }
            })
            .collect();
        if matches.is_empty() {
            return self.fallback.to_string();
        }
        let n = matches.len() as isize;
        let idx = if self.group_select < 0 {
            n + self.group_select
        } else {
            self.group_select
        };
        if idx < 0 || idx >= n {
            // Python raises IndexError here, which lm-eval does not catch for in-range lists;
            // out of range only happens with group_select beyond the match count.
            return self.fallback.to_string();
        }
        let m = &matches[idx as usize];
        let chosen = if m.len() == 1 {
            m[0].clone()
        } else {
            m.iter()
                .find(|g| !g.is_empty())
                .cloned()
                .unwrap_or_else(|| m[0].clone())
        };
        python::strip(&chosen).to_string()
    }
}

/// One of `regexes_to_ignore`, with Python's `$` emulated where it matters.
enum Ignore {
    Re(Regex),
    FinalDot,
}

/// lm-eval's `exact_match` (HF `evaluate`'s) with `ignore_case` and `regexes_to_ignore`.
pub struct ExactMatch {
    ignore: Vec<Ignore>,
    ignore_case: bool,
}

impl ExactMatch {
    /// gsm8k's configuration: `ignore_case: true`, `regexes_to_ignore: [",", "\\$", "(?s).*#### ", "\\.$"]`.
    pub fn gsm8k() -> Result<Self, regex::Error> {
        Ok(Self {
            ignore: vec![
                Ignore::Re(Regex::new(",")?),
                Ignore::Re(Regex::new(r"\$")?),
                Ignore::Re(Regex::new(r"(?s).*#### ")?),
                Ignore::FinalDot,
            ],
            ignore_case: true,
        })
    }

    fn normalise(&self, s: &str) -> String {
        let mut s = s.to_string();
        for ig in &self.ignore {
            s = match ig {
                Ignore::Re(re) => re.replace_all(&s, "").into_owned(),
                Ignore::FinalDot => python::remove_final_dot(&s),
            };
        }
        if self.ignore_case {
            s.to_lowercase()
        } else {
            s
        }
    }

    /// 1.0 when prediction and reference agree after normalisation.
    pub fn score(&self, prediction: &str, reference: &str) -> f64 {
        if self.normalise(prediction) == self.normalise(reference) {
            1.0
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> RegexFilter {
        RegexFilter::new(r"#### (\-?[0-9\.\,]+)", 0).expect("re")
    }
    fn flexible() -> RegexFilter {
        RegexFilter::new(r"(-?[$0-9.,]{2,})|(-?[0-9]+)", -1).expect("re")
    }

    #[test]
    fn spec_examples() {
        let em = ExactMatch::gsm8k().expect("em");
        let reference = "so 3000 in total.\n#### 3,000";
        assert_eq!(strict().apply(" #### 3,000."), "3,000.");
        assert_eq!(em.score("3,000.", reference), 1.0);
        assert_eq!(strict().apply(" The answer is $2,000."), "[invalid]");
        assert_eq!(flexible().apply(" The answer is $2,000."), "$2,000.");
        assert_eq!(em.score("$2,000.", "#### 2000"), 1.0);
        assert_eq!(strict().apply(" 5000 or 4000"), "[invalid]");
        assert_eq!(flexible().apply(" 5000 or 4000"), "4000");
        assert_eq!(em.score("[invalid]", "#### 2000"), 0.0);
    }

    #[test]
    fn flexible_takes_first_nonempty_group_of_last_match() {
        assert_eq!(flexible().apply("a 7 b"), "7");
        assert_eq!(flexible().apply("x 12, then 3"), "3");
        assert_eq!(flexible().apply("no digits"), "[invalid]");
    }

    #[test]
    fn python_dollar_before_final_newline() {
        let em = ExactMatch::gsm8k().expect("em");
        // Python: re.sub(r"\.$", "", "12.\n") == "12\n"; so "12.\n" equals "12\n" but not "12".
        assert_eq!(em.normalise("12.\n"), "12\n");
        assert_eq!(em.score("12.\n", "12\n"), 1.0);
        assert_eq!(em.score("12.\n", "12"), 0.0);
        assert_eq!(em.normalise("Work...\n#### 1,000"), "1000");
        assert_eq!(em.normalise("$1,000."), "1000");
    }
}
