//! lm-eval's post-processing of generated text: cut at the earliest stop string.

/// Cut `text` before the first occurrence of any non-empty stop string (lm-eval applies
/// `s.split(stop)[0]` for each stop in turn, which amounts to the earliest occurrence).
/// Returns the text and whether anything was cut.
pub fn cut_at_stops(text: &str, stops: &[String]) -> (String, bool) {
    let cut = stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()))
        .min();
    match cut {
        Some(i) => (text[..i].to_string(), true),
        None => (text.to_string(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_the_earliest_stop() {
        let stops = vec!["Question:".to_string(), "\n\n".to_string(), String::new()];
        assert_eq!(
            cut_at_stops(" 42\n\nQuestion: x", &stops),
            (" 42".to_string(), true)
        );
        assert_eq!(
            cut_at_stops(" 42 Question:\n\n", &stops),
            (" 42 ".to_string(), true)
        );
        assert_eq!(cut_at_stops(" 42", &stops), (" 42".to_string(), false));
    }
}
