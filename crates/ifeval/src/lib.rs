//! IFEval's instruction checks as lm-eval v0.4.12 implements them (`lm_eval/tasks/ifeval`):
//! the 25 registered instructions, strict and loose, with Python's string, regex and JSON
//! semantics, NLTK's Punkt sentence splitter (English punkt_tab parameters, embedded) and
//! `nltk.word_tokenize`.
//!
//! [`evaluate`] is lm-eval's `process_results` per document: for each instruction, *strict* is
//! `response.strip() and check(response)`; *loose* passes when any of eight variants (the
//! response, without its first line, without its last, without both, each also with every `*`
//! removed) is non-blank and passes.
//!
//! Deviations from lm-eval (both unavoidable for reproducibility):
//! - language detection uses `whatlang`, not the randomised `langdetect` ([`language`]);
//! - a `letter_frequency` letter that is not an ASCII letter is counted as given instead of
//!   being replaced by a random letter ([`instruction`]).

pub mod checks;
pub mod error;
pub mod instruction;
pub mod language;
pub mod punkt;
pub mod python;
pub mod word_tokenize;

use serde_json::{Map, Value};

pub use checks::Relation;
pub use error::IfevalError;
pub use instruction::{INSTRUCTION_IDS, Instruction};
pub use word_tokenize::word_tokenize;

use python::strings::{is_blank, strip};

/// Per-instruction results of one response, in the order of the instruction ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `inst_level_strict_acc` items; `prompt_level_strict_acc` is `strict.iter().all()`.
    pub strict: Vec<bool>,
    /// `inst_level_loose_acc` items; `prompt_level_loose_acc` is `loose.iter().all()`.
    pub loose: Vec<bool>,
}

/// lm-eval's `count_sentences`: the number of Punkt (English) sentences.
pub fn sentence_count(text: &str) -> usize {
    punkt::sentences(text).len()
}

/// The eight loose-mode variants of a response, in lm-eval's order.
pub fn loose_variants(response: &str) -> Vec<String> {
    let lines: Vec<&str> = response.split('\n').collect();
    let n = lines.len();
    let remove_first = strip(&lines[1.min(n)..].join("\n")).to_owned();
    let remove_last = strip(&lines[..n.saturating_sub(1)].join("\n")).to_owned();
    let remove_both = if n >= 2 {
        strip(&lines[1..n - 1].join("\n")).to_owned()
    } else {
        String::new()
    };
    vec![
        response.to_owned(),
        response.replace('*', ""),
        remove_first.clone(),
        remove_last.clone(),
        remove_both.clone(),
        remove_first.replace('*', ""),
        remove_last.replace('*', ""),
        remove_both.replace('*', ""),
    ]
}

/// Checks `response` against a document's instructions (`instruction_id_list`, `kwargs`).
///
/// Falsy kwargs values (null, 0, "", empty lists) are dropped first, as lm-eval does. Errors
/// name the instruction id and kwarg when a record cannot be checked.
pub fn evaluate(
    response: &str,
    instruction_ids: &[String],
    kwargs: &[Map<String, Value>],
) -> Result<Outcome, IfevalError> {
    if instruction_ids.len() != kwargs.len() {
        return Err(IfevalError::KwargsLength {
            instructions: instruction_ids.len(),
            kwargs: kwargs.len(),
        });
    }
    let instructions = instruction_ids
        .iter()
        .zip(kwargs)
        .map(|(id, k)| Instruction::parse(id, k))
        .collect::<Result<Vec<_>, _>>()?;

    let variants = loose_variants(response);
    let mut strict = Vec::with_capacity(instructions.len());
    let mut loose = Vec::with_capacity(instructions.len());
    for inst in &instructions {
        strict.push(!is_blank(response) && inst.check(response)?);
        let mut followed = false;
        for v in &variants {
            if !is_blank(v) && inst.check(v)? {
                followed = true;
                break;
            }
        }
        loose.push(followed);
    }
    Ok(Outcome { strict, loose })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_variants_match_lm_eval() {
        let v = loose_variants("Sure!\n*Body*\nBye");
        assert_eq!(
            v,
            vec![
                "Sure!\n*Body*\nBye",
                "Sure!\nBody\nBye",
                "*Body*\nBye",
                "Sure!\n*Body*",
                "*Body*",
                "Body\nBye",
                "Sure!\nBody",
                "Body",
            ]
        );
        let v = loose_variants("one line");
        assert_eq!(v[2], "");
        assert_eq!(v[3], "");
        assert_eq!(v[4], "");
    }

    #[test]
    fn empty_response_fails_everything() {
        let out = evaluate("  ", &["punctuation:no_comma".to_owned()], &[Map::new()]);
        assert_eq!(
            out,
            Ok(Outcome {
                strict: vec![false],
                loose: vec![false]
            })
        );
    }

    #[test]
    fn mismatched_lengths_are_an_error() {
        let out = evaluate("x", &["punctuation:no_comma".to_owned()], &[]);
        assert!(matches!(out, Err(IfevalError::KwargsLength { .. })));
    }
}
