//! An IFEval instruction parsed from its id and kwargs, as lm-eval's `build_description` would
//! configure the checker: falsy values dropped, strings stripped or lower-cased where lm-eval
//! does so, relations and language codes validated.
//!
//! Where lm-eval would substitute a random value (a needed kwarg missing or falsy, a negative
//! count, `nth_paragraph > num_paragraphs`), we return [`IfevalError::MissingKwarg`] or
//! [`IfevalError::InvalidKwarg`] instead: such results cannot be reproduced.
//!
//! **Deviation.** For `keywords:letter_frequency`, lm-eval replaces a `letter` that is not one
//! ASCII letter by a random letter (the published data has `"#"` and `"!"`); we count the given
//! character, lower-cased, which is what the prompt asked for.

use serde_json::{Map, Value};

use crate::checks::{self, Relation};
use crate::error::IfevalError;
use crate::python::regex::{Flags, PatternError, PyRegex};
use crate::python::strings::{lower, strip};

/// The 30 language codes of lm-eval's `LANGUAGE_CODES` (a code outside it makes lm-eval fail).
pub const LANGUAGE_CODES: &[&str] = &[
    "en", "es", "pt", "ar", "hi", "fr", "ru", "de", "ja", "it", "bn", "uk", "th", "ur", "ta", "te",
    "bg", "ko", "pl", "he", "fa", "vi", "ne", "sw", "kn", "mr", "gu", "pa", "ml", "fi",
];

/// The 25 registered instruction ids.
pub const INSTRUCTION_IDS: &[&str] = &[
    "keywords:existence",
    "keywords:frequency",
    "keywords:forbidden_words",
    "keywords:letter_frequency",
    "language:response_language",
    "length_constraints:number_sentences",
    "length_constraints:number_paragraphs",
    "length_constraints:number_words",
    "length_constraints:nth_paragraph_first_word",
    "detectable_content:number_placeholders",
    "detectable_content:postscript",
    "detectable_format:number_bullet_lists",
    "detectable_format:constrained_response",
    "detectable_format:number_highlighted_sections",
    "detectable_format:multiple_sections",
    "detectable_format:json_format",
    "detectable_format:title",
    "combination:two_responses",
    "combination:repeat_prompt",
    "startend:end_checker",
    "change_case:capital_word_frequency",
    "change_case:english_capital",
    "change_case:english_lowercase",
    "punctuation:no_comma",
    "startend:quotation",
];

/// A configured instruction checker.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Instruction {
    KeywordExistence {
        keywords: Vec<String>,
    },
    KeywordFrequency {
        keyword: String,
        frequency: i64,
        relation: Relation,
    },
    ForbiddenWords {
        forbidden_words: Vec<String>,
    },
    LetterFrequency {
        letter: char,
        frequency: i64,
        relation: Relation,
    },
    ResponseLanguage {
        language: String,
    },
    NumberSentences {
        num_sentences: i64,
        relation: Relation,
    },
    NumberParagraphs {
        num_paragraphs: i64,
    },
    NumberWords {
        num_words: i64,
        relation: Relation,
    },
    NthParagraphFirstWord {
        num_paragraphs: i64,
        nth_paragraph: usize,
        first_word: String,
    },
    NumberPlaceholders {
        num_placeholders: i64,
    },
    Postscript {
        marker: String,
    },
    NumberBulletLists {
        num_bullets: i64,
    },
    ConstrainedResponse,
    NumberHighlightedSections {
        num_highlights: i64,
    },
    MultipleSections {
        section_spliter: String,
        num_sections: i64,
    },
    JsonFormat,
    Title,
    TwoResponses,
    RepeatPrompt {
        prompt_to_repeat: String,
    },
    EndChecker {
        end_phrase: String,
    },
    CapitalWordFrequency {
        capital_frequency: i64,
        relation: Relation,
    },
    EnglishCapital,
    EnglishLowercase,
    NoComma,
    Quotation,
}

/// Python truthiness of a JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Reads the (truthy) kwargs of one instruction.
struct Kwargs<'a> {
    id: &'a str,
    map: Vec<(&'a str, &'a Value)>,
}

impl<'a> Kwargs<'a> {
    fn new(id: &'a str, map: &'a Map<String, Value>) -> Self {
        let map = map
            .iter()
            .filter(|(_, v)| truthy(v))
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        Kwargs { id, map }
    }

    fn only(&self, allowed: &[&str]) -> Result<(), IfevalError> {
        match self.map.iter().find(|(k, _)| !allowed.contains(k)) {
            Some((k, _)) => Err(IfevalError::UnexpectedKwarg {
                id: self.id.to_owned(),
                field: (*k).to_owned(),
            }),
            None => Ok(()),
        }
    }

    fn get(&self, field: &str) -> Result<&'a Value, IfevalError> {
        self.map
            .iter()
            .find(|(k, _)| *k == field)
            .map(|(_, v)| *v)
            .ok_or_else(|| IfevalError::MissingKwarg {
                id: self.id.to_owned(),
                field: field.to_owned(),
            })
    }

    fn invalid(&self, field: &str, value: &Value, expected: &str) -> IfevalError {
        IfevalError::InvalidKwarg {
            id: self.id.to_owned(),
            field: field.to_owned(),
            value: value.to_string(),
            expected: expected.to_owned(),
        }
    }

    fn string(&self, field: &str) -> Result<String, IfevalError> {
        let v = self.get(field)?;
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.invalid(field, v, "a string"))
    }

    fn strings(&self, field: &str) -> Result<Vec<String>, IfevalError> {
        let v = self.get(field)?;
        let err = || self.invalid(field, v, "a list of strings");
        v.as_array()
            .ok_or_else(err)?
            .iter()
            .map(|s| s.as_str().map(str::to_owned).ok_or_else(err))
            .collect()
    }

    /// An integer; `non_negative` when lm-eval replaces negative values by random ones.
    fn int(&self, field: &str, non_negative: bool) -> Result<i64, IfevalError> {
        let v = self.get(field)?;
        match v.as_i64() {
            Some(n) if n >= 0 || !non_negative => Ok(n),
            _ => Err(self.invalid(
                field,
                v,
                if non_negative {
                    "a non-negative integer"
                } else {
                    "an integer"
                },
            )),
        }
    }

    fn relation(&self, field: &str) -> Result<Relation, IfevalError> {
        let v = self.get(field)?;
        v.as_str()
            .and_then(Relation::parse)
            .ok_or_else(|| self.invalid(field, v, "\"less than\" or \"at least\""))
    }

    fn pattern(&self, field: &str, pattern: &str, flags: Flags) -> Result<(), IfevalError> {
        PyRegex::cached(pattern, flags)
            .map(|_| ())
            .map_err(|e| pattern_error(self.id, field, e))
    }
}

fn pattern_error(id: &str, field: &str, e: PatternError) -> IfevalError {
    IfevalError::Pattern {
        id: id.to_owned(),
        field: field.to_owned(),
        message: e.0,
    }
}

const IGNORECASE: Flags = Flags {
    ignorecase: true,
    multiline: false,
};

impl Instruction {
    /// Configures the checker for `id` from its kwargs.
    pub fn parse(id: &str, kwargs: &Map<String, Value>) -> Result<Self, IfevalError> {
        let k = Kwargs::new(id, kwargs);
        let inst = match id {
            "keywords:existence" => {
                k.only(&["keywords"])?;
                let keywords = k.strings("keywords")?;
                for w in &keywords {
                    k.pattern("keywords", w, IGNORECASE)?;
                }
                Instruction::KeywordExistence { keywords }
            }
            "keywords:frequency" => {
                k.only(&["keyword", "frequency", "relation"])?;
                let keyword = strip(&k.string("keyword")?).to_owned();
                k.pattern("keyword", &keyword, IGNORECASE)?;
                Instruction::KeywordFrequency {
                    keyword,
                    frequency: k.int("frequency", true)?,
                    relation: k.relation("relation")?,
                }
            }
            "keywords:forbidden_words" => {
                k.only(&["forbidden_words"])?;
                let mut forbidden_words = k.strings("forbidden_words")?;
                forbidden_words.sort();
                forbidden_words.dedup();
                for w in &forbidden_words {
                    k.pattern("forbidden_words", &format!(r"\b{w}\b"), IGNORECASE)?;
                }
                Instruction::ForbiddenWords { forbidden_words }
            }
            "keywords:letter_frequency" => {
                k.only(&["letter", "let_frequency", "let_relation"])?;
                let raw = k.string("letter")?;
                let lowered = lower(strip(&raw));
                let mut chars = lowered.chars();
                let letter = match (chars.next(), chars.next()) {
                    (Some(c), None) => c,
                    _ => {
                        return Err(k.invalid("letter", k.get("letter")?, "a single character"));
                    }
                };
                Instruction::LetterFrequency {
                    letter,
                    frequency: k.int("let_frequency", true)?,
                    relation: k.relation("let_relation")?,
                }
            }
            "language:response_language" => {
                k.only(&["language"])?;
                let language = k.string("language")?;
                if !LANGUAGE_CODES.contains(&language.as_str()) {
                    return Err(k.invalid(
                        "language",
                        k.get("language")?,
                        "one of lm-eval's 30 ISO 639-1 codes (en, es, pt, ar, hi, fr, ru, de, ja, it, bn, uk, th, ur, ta, te, bg, ko, pl, he, fa, vi, ne, sw, kn, mr, gu, pa, ml, fi)",
                    ));
                }
                Instruction::ResponseLanguage { language }
            }
            "length_constraints:number_sentences" => {
                k.only(&["num_sentences", "relation"])?;
                Instruction::NumberSentences {
                    num_sentences: k.int("num_sentences", true)?,
                    relation: k.relation("relation")?,
                }
            }
            "length_constraints:number_paragraphs" => {
                k.only(&["num_paragraphs"])?;
                Instruction::NumberParagraphs {
                    num_paragraphs: k.int("num_paragraphs", true)?,
                }
            }
            "length_constraints:number_words" => {
                k.only(&["num_words", "relation"])?;
                Instruction::NumberWords {
                    num_words: k.int("num_words", true)?,
                    relation: k.relation("relation")?,
                }
            }
            "length_constraints:nth_paragraph_first_word" => {
                k.only(&["num_paragraphs", "nth_paragraph", "first_word"])?;
                let num_paragraphs = k.int("num_paragraphs", true)?;
                let nth = k.int("nth_paragraph", true)?;
                if nth > num_paragraphs {
                    return Err(k.invalid(
                        "nth_paragraph",
                        k.get("nth_paragraph")?,
                        "a paragraph number from 1 to num_paragraphs",
                    ));
                }
                let nth_paragraph =
                    usize::try_from(nth).map_err(|_| IfevalError::InvalidKwarg {
                        id: id.to_owned(),
                        field: "nth_paragraph".to_owned(),
                        value: nth.to_string(),
                        expected: "a paragraph number from 1 to num_paragraphs".to_owned(),
                    })?;
                Instruction::NthParagraphFirstWord {
                    num_paragraphs,
                    nth_paragraph,
                    first_word: lower(&k.string("first_word")?),
                }
            }
            "detectable_content:number_placeholders" => {
                k.only(&["num_placeholders"])?;
                Instruction::NumberPlaceholders {
                    num_placeholders: k.int("num_placeholders", true)?,
                }
            }
            "detectable_content:postscript" => {
                k.only(&["postscript_marker"])?;
                let marker = strip(&k.string("postscript_marker")?).to_owned();
                k.pattern(
                    "postscript_marker",
                    &checks::content::postscript_pattern(&marker),
                    Flags {
                        ignorecase: false,
                        multiline: true,
                    },
                )?;
                Instruction::Postscript { marker }
            }
            "detectable_format:number_bullet_lists" => {
                k.only(&["num_bullets"])?;
                Instruction::NumberBulletLists {
                    num_bullets: k.int("num_bullets", true)?,
                }
            }
            "detectable_format:constrained_response" => {
                k.only(&[])?;
                Instruction::ConstrainedResponse
            }
            "detectable_format:number_highlighted_sections" => {
                k.only(&["num_highlights"])?;
                Instruction::NumberHighlightedSections {
                    num_highlights: k.int("num_highlights", true)?,
                }
            }
            "detectable_format:multiple_sections" => {
                k.only(&["section_spliter", "num_sections"])?;
                let section_spliter = strip(&k.string("section_spliter")?).to_owned();
                k.pattern(
                    "section_spliter",
                    &format!(r"\s?{section_spliter}\s?\d+\s?"),
                    Flags::default(),
                )?;
                Instruction::MultipleSections {
                    section_spliter,
                    num_sections: k.int("num_sections", true)?,
                }
            }
            "detectable_format:json_format" => {
                k.only(&[])?;
                Instruction::JsonFormat
            }
            "detectable_format:title" => {
                k.only(&[])?;
                Instruction::Title
            }
            "combination:two_responses" => {
                k.only(&[])?;
                Instruction::TwoResponses
            }
            "combination:repeat_prompt" => {
                k.only(&["prompt_to_repeat"])?;
                Instruction::RepeatPrompt {
                    prompt_to_repeat: k.string("prompt_to_repeat")?,
                }
            }
            "startend:end_checker" => {
                k.only(&["end_phrase"])?;
                Instruction::EndChecker {
                    end_phrase: strip(&k.string("end_phrase")?).to_owned(),
                }
            }
            "change_case:capital_word_frequency" => {
                k.only(&["capital_frequency", "capital_relation"])?;
                Instruction::CapitalWordFrequency {
                    capital_frequency: k.int("capital_frequency", false)?,
                    relation: k.relation("capital_relation")?,
                }
            }
            "change_case:english_capital" => {
                k.only(&[])?;
                Instruction::EnglishCapital
            }
            "change_case:english_lowercase" => {
                k.only(&[])?;
                Instruction::EnglishLowercase
            }
            "punctuation:no_comma" => {
                k.only(&[])?;
                Instruction::NoComma
            }
            "startend:quotation" => {
                k.only(&[])?;
                Instruction::Quotation
            }
            other => {
                return Err(IfevalError::UnknownInstruction {
                    id: other.to_owned(),
                });
            }
        };
        Ok(inst)
    }

    /// The id this instruction was parsed from.
    pub fn id(&self) -> &'static str {
        match self {
            Instruction::KeywordExistence { .. } => "keywords:existence",
            Instruction::KeywordFrequency { .. } => "keywords:frequency",
            Instruction::ForbiddenWords { .. } => "keywords:forbidden_words",
            Instruction::LetterFrequency { .. } => "keywords:letter_frequency",
            Instruction::ResponseLanguage { .. } => "language:response_language",
            Instruction::NumberSentences { .. } => "length_constraints:number_sentences",
            Instruction::NumberParagraphs { .. } => "length_constraints:number_paragraphs",
            Instruction::NumberWords { .. } => "length_constraints:number_words",
            Instruction::NthParagraphFirstWord { .. } => {
                "length_constraints:nth_paragraph_first_word"
            }
            Instruction::NumberPlaceholders { .. } => "detectable_content:number_placeholders",
            Instruction::Postscript { .. } => "detectable_content:postscript",
            Instruction::NumberBulletLists { .. } => "detectable_format:number_bullet_lists",
            Instruction::ConstrainedResponse => "detectable_format:constrained_response",
            Instruction::NumberHighlightedSections { .. } => {
                "detectable_format:number_highlighted_sections"
            }
            Instruction::MultipleSections { .. } => "detectable_format:multiple_sections",
            Instruction::JsonFormat => "detectable_format:json_format",
            Instruction::Title => "detectable_format:title",
            Instruction::TwoResponses => "combination:two_responses",
            Instruction::RepeatPrompt { .. } => "combination:repeat_prompt",
            Instruction::EndChecker { .. } => "startend:end_checker",
            Instruction::CapitalWordFrequency { .. } => "change_case:capital_word_frequency",
            Instruction::EnglishCapital => "change_case:english_capital",
            Instruction::EnglishLowercase => "change_case:english_lowercase",
            Instruction::NoComma => "punctuation:no_comma",
            Instruction::Quotation => "startend:quotation",
        }
    }

    /// `check_following(response)`.
    pub fn check(&self, response: &str) -> Result<bool, IfevalError> {
        use checks::{case, combination, content, format, keywords, length, startend};
        let r = response;
        let pat = |field: &'static str| move |e: PatternError| pattern_error(self.id(), field, e);
        Ok(match self {
            Instruction::KeywordExistence { keywords } => {
                keywords::existence(r, keywords).map_err(pat("keywords"))?
            }
            Instruction::KeywordFrequency {
                keyword,
                frequency,
                relation,
            } => keywords::frequency(r, keyword, *frequency, *relation).map_err(pat("keyword"))?,
            Instruction::ForbiddenWords { forbidden_words } => {
                keywords::forbidden_words(r, forbidden_words).map_err(pat("forbidden_words"))?
            }
            Instruction::LetterFrequency {
                letter,
                frequency,
                relation,
            } => keywords::letter_frequency(r, *letter, *frequency, *relation),
            Instruction::ResponseLanguage { language } => case::response_language(r, language),
            Instruction::NumberSentences {
                num_sentences,
                relation,
            } => length::number_sentences(r, *num_sentences, *relation),
            Instruction::NumberParagraphs { num_paragraphs } => {
                length::number_paragraphs(r, *num_paragraphs)
            }
            Instruction::NumberWords {
                num_words,
                relation,
            } => length::number_words(r, *num_words, *relation),
            Instruction::NthParagraphFirstWord {
                num_paragraphs,
                nth_paragraph,
                first_word,
            } => length::nth_paragraph_first_word(r, *num_paragraphs, *nth_paragraph, first_word),
            Instruction::NumberPlaceholders { num_placeholders } => {
                content::number_placeholders(r, *num_placeholders)
            }
            Instruction::Postscript { marker } => {
                content::postscript(r, marker).map_err(pat("postscript_marker"))?
            }
            Instruction::NumberBulletLists { num_bullets } => {
                format::number_bullet_lists(r, *num_bullets)
            }
            Instruction::ConstrainedResponse => format::constrained_response(r),
            Instruction::NumberHighlightedSections { num_highlights } => {
                format::number_highlighted_sections(r, *num_highlights)
            }
            Instruction::MultipleSections {
                section_spliter,
                num_sections,
            } => format::multiple_sections(r, section_spliter, *num_sections)
                .map_err(pat("section_spliter"))?,
            Instruction::JsonFormat => format::json_format(r),
            Instruction::Title => format::title(r),
            Instruction::TwoResponses => combination::two_responses(r),
            Instruction::RepeatPrompt { prompt_to_repeat } => {
                combination::repeat_prompt(r, prompt_to_repeat)
            }
            Instruction::EndChecker { end_phrase } => startend::end_checker(r, end_phrase),
            Instruction::CapitalWordFrequency {
                capital_frequency,
                relation,
            } => case::capital_word_frequency(r, *capital_frequency, *relation),
            Instruction::EnglishCapital => case::english_capital(r),
            Instruction::EnglishLowercase => case::english_lowercase(r),
            Instruction::NoComma => case::no_comma(r),
            Instruction::Quotation => startend::quotation(r),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn every_registered_id_parses_or_names_its_missing_field() {
        for id in INSTRUCTION_IDS {
            match Instruction::parse(id, &Map::new()) {
                Ok(inst) => assert_eq!(inst.id(), *id),
                Err(IfevalError::MissingKwarg { id: got, .. }) => assert_eq!(got, *id),
                Err(e) => panic!("{id}: {e}"),
            }
        }
    }

    #[test]
    fn falsy_values_are_dropped() {
        let m = map(json!({"keywords": null, "num_highlights": 2, "relation": "", "x": 0}));
        assert_eq!(
            Instruction::parse("detectable_format:number_highlighted_sections", &m),
            Ok(Instruction::NumberHighlightedSections { num_highlights: 2 })
        );
        let m = map(json!({"num_highlights": 2, "extra": "yes"}));
        assert_eq!(
            Instruction::parse("detectable_format:number_highlighted_sections", &m),
            Err(IfevalError::UnexpectedKwarg {
                id: "detectable_format:number_highlighted_sections".into(),
                field: "extra".into()
            })
        );
    }

    #[test]
    fn bad_kwargs_name_the_field() {
        let m = map(json!({"num_sentences": 3, "relation": "at most"}));
        let e = Instruction::parse("length_constraints:number_sentences", &m);
        assert!(
            matches!(e, Err(IfevalError::InvalidKwarg { ref field, .. }) if field == "relation")
        );
        let m = map(json!({"num_words": "ten", "relation": "at least"}));
        let e = Instruction::parse("length_constraints:number_words", &m);
        assert!(
            matches!(e, Err(IfevalError::InvalidKwarg { ref field, .. }) if field == "num_words")
        );
        let m = map(json!({"language": "xx"}));
        let e = Instruction::parse("language:response_language", &m);
        assert!(
            matches!(e, Err(IfevalError::InvalidKwarg { ref field, .. }) if field == "language")
        );
        let m = map(json!({"keywords": ["(unclosed"]}));
        let e = Instruction::parse("keywords:existence", &m);
        assert!(matches!(e, Err(IfevalError::Pattern { ref field, .. }) if field == "keywords"));
        let e = Instruction::parse("keywords:nonexistent", &Map::new());
        assert!(matches!(e, Err(IfevalError::UnknownInstruction { .. })));
    }
}
