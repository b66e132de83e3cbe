//! `detectable_format:*` checks: bullet lists, constrained answers, highlights, sections, JSON,
//! titles.

use std::sync::LazyLock;

use regex::Regex;

use crate::python::json::loads_ok;
use crate::python::regex::{Flags, PatternError, PyRegex};
use crate::python::strings::{is_blank, strip};

#[allow(clippy::unwrap_used)] // constant patterns, exercised by the tests
fn constant(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap()
}

/// `detectable_format:number_bullet_lists`: lines matching `^\s*\*[^\*].*$` plus lines matching
/// `^\s*-.*$` (MULTILINE) number exactly N.
pub fn number_bullet_lists(response: &str, num_bullets: i64) -> bool {
    static STAR: LazyLock<Regex> = LazyLock::new(|| constant(r"(?m)^[\s\x1C-\x1F]*\*[^*].*$"));
    static DASH: LazyLock<Regex> = LazyLock::new(|| constant(r"(?m)^[\s\x1C-\x1F]*-.*$"));
    let count = STAR.find_iter(response).count() + DASH.find_iter(response).count();
    i64::try_from(count).is_ok_and(|c| c == num_bullets)
}

/// `detectable_format:constrained_response`: the stripped response contains one of the three
/// "My answer is ..." options.
pub fn constrained_response(response: &str) -> bool {
    let v = strip(response);
    [
        "My answer is yes.",
        "My answer is no.",
        "My answer is maybe.",
    ]
    .iter()
    .any(|o| v.contains(o))
}

/// `detectable_format:number_highlighted_sections`: non-blank `*...*` spans plus non-blank
/// `**...**` spans number at least N.
pub fn number_highlighted_sections(response: &str, num_highlights: i64) -> bool {
    static SINGLE: LazyLock<Regex> = LazyLock::new(|| constant(r"\*[^\n*]*\*"));
    static DOUBLE: LazyLock<Regex> = LazyLock::new(|| constant(r"\*\*[^\n*]*\*\*"));
    let single = SINGLE
        .find_iter(response)
        .filter(|m| !is_blank(m.as_str().trim_matches('*')))
        .count();
    let double = DOUBLE
        .find_iter(response)
        .filter(|m| {
            let s = m.as_str();
            let s = s.strip_prefix("**").unwrap_or(s);
            let s = s.strip_suffix("**").unwrap_or(s);
            !is_blank(s)
        })
        .count();
    i64::try_from(single + double).is_ok_and(|c| c >= num_highlights)
}

/// `detectable_format:multiple_sections`: `len(re.split(r"\s?" + spliter + r"\s?\d+\s?",
/// response)) - 1 >= N`; the splitter (stripped) is a case-sensitive Python regex.
pub fn multiple_sections(
    response: &str,
    section_spliter: &str,
    num_sections: i64,
) -> Result<bool, PatternError> {
    let pattern = format!(r"\s?{section_spliter}\s?\d+\s?");
    let re = PyRegex::cached(&pattern, Flags::default())?;
    let sections = re.split_count(response)? - 1;
    Ok(i64::try_from(sections).is_ok_and(|c| c >= num_sections))
}

/// `detectable_format:json_format`: after stripping and removing one code-fence prefix
/// (```` ```json ````, ```` ```Json ````, ```` ```JSON ````, ```` ``` ````, in that order) and
/// one ```` ``` ```` suffix, `json.loads` succeeds.
pub fn json_format(response: &str) -> bool {
    let mut v = strip(response);
    for prefix in ["```json", "```Json", "```JSON", "```"] {
        v = v.strip_prefix(prefix).unwrap_or(v);
    }
    v = v.strip_suffix("```").unwrap_or(v);
    loads_ok(strip(v))
}

/// `detectable_format:title`: some `<<...>>` on one line has non-blank text inside.
pub fn title(response: &str) -> bool {
    static RE: LazyLock<Regex> = LazyLock::new(|| constant(r"<<[^\n]+>>"));
    RE.find_iter(response).any(|m| {
        let inner = m.as_str().trim_start_matches('<').trim_end_matches('>');
        !is_blank(inner)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_checks() {
        assert!(number_bullet_lists("* a\n* b\n- c", 3));
        assert!(!number_bullet_lists("* a\n** b\n- c", 3));
        assert!(constrained_response("  My answer is no.  "));
        assert!(!constrained_response("My answer is nope"));
        assert!(number_highlighted_sections("*a* and **b**", 2));
        assert!(!number_highlighted_sections("*a* and **b**", 3));
        assert!(!number_highlighted_sections("* * and ****", 1));
        assert_eq!(
            multiple_sections("Section 1\nx\nSection 2\ny", "Section", 2),
            Ok(true)
        );
        assert_eq!(multiple_sections("Section 1\nx", "Section", 2), Ok(false));
        assert!(json_format("```json\n{\"a\": NaN}\n```"));
        assert!(json_format("```\n[1, 2]\n```"));
        assert!(!json_format("```json\n{a: 1}\n```"));
        assert!(title("<<My Poem>>\ntext"));
        assert!(!title("<< >>\n<<\nx>>"));
    }
}
