//! `combination:*` checks: two responses separated by `******`, and repeating the prompt.

use crate::python::strings::{is_blank, lower, strip};

/// `combination:two_responses`: splitting on `******` gives exactly two non-blank, different
/// (after stripping) parts; a blank part other than the first or last fails.
pub fn two_responses(response: &str) -> bool {
    let parts: Vec<&str> = response.split("******").collect();
    let mut valid = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if is_blank(p) {
            if i != 0 && i != parts.len() - 1 {
                return false;
            }
        } else {
            valid.push(*p);
        }
    }
    valid.len() == 2 && strip(valid[0]) != strip(valid[1])
}

/// `combination:repeat_prompt`: the stripped, lower-cased response starts with the stripped,
/// lower-cased prompt.
pub fn repeat_prompt(response: &str, prompt_to_repeat: &str) -> bool {
    lower(strip(response)).starts_with(&lower(strip(prompt_to_repeat)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combination_checks() {
        assert!(two_responses("A\n******\nB"));
        assert!(!two_responses("A\n******\nA"));
        assert!(!two_responses("A\n******\n\n******\nB"));
        assert!(two_responses("******A******B******"));
        assert!(repeat_prompt("  write A POEM. Here it is", "Write a poem."));
        assert!(!repeat_prompt("Here: write a poem.", "Write a poem."));
    }
}
