//! Every registered IFEval instruction with a response that follows it and one that violates it
//! (strict), plus responses that only the loose variants accept. Expected values come from
//! running lm-eval v0.4.12's checkers (`test_instruction_following_strict` / `_loose`) with NLTK
//! 3.9.1; the language checks, where we use whatlang instead of langdetect, use texts both
//! detectors agree on.

use serde_json::{Map, Value};
use sparkbench_ifeval::{INSTRUCTION_IDS, IfevalError, Outcome, evaluate};

struct Case {
    id: &'static str,
    kwargs: &'static str,
    follow: &'static str,
    violate: &'static str,
    violate_loose: bool,
    loose_only: Option<&'static str>,
}

fn kwargs(json: &str) -> Map<String, Value> {
    match serde_json::from_str(json) {
        Ok(Value::Object(m)) => m,
        other => panic!("bad kwargs literal {json}: {other:?}"),
    }
}

fn run(id: &str, kw: &str, response: &str) -> (bool, bool) {
    match evaluate(response, &[id.to_owned()], &[kwargs(kw)]) {
        Ok(Outcome { strict, loose }) => (strict[0], loose[0]),
        Err(e) => panic!("{id}: {e}"),
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            id: "keywords:existence",
            kwargs: r#"{"keywords": ["pizza", "pasta"]}"#,
            follow: "I love pizza and Pasta.",
            violate: "I love pizza only.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "keywords:frequency",
            kwargs: r#"{"keyword": "cat", "frequency": 3, "relation": "at least"}"#,
            follow: "Cat, cat, CAT.",
            violate: "One cat, two cats.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "keywords:frequency",
            kwargs: r#"{"keyword": "dog", "frequency": 2, "relation": "less than"}"#,
            follow: "A dog.",
            violate: "Dog and dog.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "keywords:forbidden_words",
            kwargs: r#"{"forbidden_words": ["cat", "dog"]}"#,
            follow: "A category of dogma.",
            violate: "A Dog barked.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "keywords:letter_frequency",
            kwargs: r#"{"letter": "z", "let_frequency": 3, "let_relation": "at least"}"#,
            follow: "Zany zebras buzz.",
            violate: "Zero.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "length_constraints:number_sentences",
            kwargs: r#"{"num_sentences": 3, "relation": "less than"}"#,
            follow: "Dr. Smith arrived. He left.",
            violate: "One. Two. Three.",
            violate_loose: false,
            loose_only: Some("Intro.\nOne. Two.\nThree."),
        },
        Case {
            id: "length_constraints:number_sentences",
            kwargs: r#"{"num_sentences": 2, "relation": "at least"}"#,
            follow: "It is 3.5 km. Walk.",
            violate: "It is 3.5 km away from Dr. Who.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "length_constraints:number_paragraphs",
            kwargs: r#"{"num_paragraphs": 2}"#,
            follow: "First.\n***\nSecond.",
            violate: "First.\n***\n\n***\nSecond.",
            violate_loose: false,
            loose_only: Some("Sure, here:\n***\nFirst.\n***\nSecond."),
        },
        Case {
            id: "length_constraints:number_words",
            kwargs: r#"{"num_words": 5, "relation": "less than"}"#,
            follow: "Just four words here.",
            violate: "These are exactly five words.",
            violate_loose: false,
            loose_only: Some("Here is my answer\nTwo words."),
        },
        Case {
            id: "length_constraints:number_words",
            kwargs: r#"{"num_words": 3, "relation": "at least"}"#,
            follow: "one two three",
            violate: "one two",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "length_constraints:nth_paragraph_first_word",
            kwargs: r#"{"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "Then"}"#,
            follow: "First part.\n\n\"Then, the end.",
            violate: "First part.\n\nAfter that, the end.",
            violate_loose: false,
            loose_only: Some("Title\n\nFirst part.\n\nThen the end."),
        },
        Case {
            id: "detectable_content:number_placeholders",
            kwargs: r#"{"num_placeholders": 2}"#,
            follow: "Dear [name], at [address].",
            violate: "Dear [name], at address.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "detectable_content:postscript",
            kwargs: r#"{"postscript_marker": "P.S."}"#,
            follow: "Bye.\nP.S. See you.",
            violate: "Bye. PS see you.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "detectable_content:postscript",
            kwargs: r#"{"postscript_marker": "P.P.S"}"#,
            follow: "Bye.\np.p.s. later",
            violate: "Bye.\nP.S. later",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "detectable_format:number_bullet_lists",
            kwargs: r#"{"num_bullets": 2}"#,
            follow: "* one\n- two",
            violate: "* one\n* two\n* three",
            violate_loose: true,
            loose_only: Some("- Here they are:\n* one\n* two"),
        },
        Case {
            id: "detectable_format:constrained_response",
            kwargs: r#"{}"#,
            follow: "Well... My answer is maybe.",
            violate: "My answer is probably.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "detectable_format:number_highlighted_sections",
            kwargs: r#"{"num_highlights": 2}"#,
            follow: "*First* and *second*.",
            violate: "*First* and * *.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "detectable_format:multiple_sections",
            kwargs: r#"{"section_spliter": "SECTION", "num_sections": 2}"#,
            follow: "SECTION 1\nA\nSECTION 2\nB",
            violate: "SECTION 1\nA\nSection 2\nB",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "detectable_format:json_format",
            kwargs: r#"{}"#,
            follow: "```json\n{\"a\": [1, NaN]}\n```",
            violate: "{\"a\": 1,}",
            violate_loose: false,
            loose_only: Some("Here is the JSON:\n{\"a\": 1}"),
        },
        Case {
            id: "detectable_format:title",
            kwargs: r#"{}"#,
            follow: "<<Ode to Joy>>\nLa la.",
            violate: "<< >>\nLa la.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "combination:two_responses",
            kwargs: r#"{}"#,
            follow: "Answer one.\n******\nAnswer two.",
            violate: "Same.\n******\nSame.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "combination:repeat_prompt",
            kwargs: r#"{"prompt_to_repeat": "Write a haiku."}"#,
            follow: "write a haiku. Leaves fall.",
            violate: "Sure! Write a haiku. Leaves fall.",
            violate_loose: false,
            loose_only: Some("Sure!\nWrite a haiku. Leaves fall."),
        },
        Case {
            id: "startend:end_checker",
            kwargs: r#"{"end_phrase": "Any other questions?"}"#,
            follow: "Done. Any other questions?",
            violate: "Any other questions? Done.",
            violate_loose: false,
            loose_only: Some("Done. Any other questions?\n(Generated text)"),
        },
        Case {
            id: "change_case:capital_word_frequency",
            kwargs: r#"{"capital_frequency": 2, "capital_relation": "at least"}"#,
            follow: "The NASA and ESA agencies.",
            violate: "The Nasa agency is BIG.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "change_case:capital_word_frequency",
            kwargs: r#"{"capital_frequency": 2, "capital_relation": "less than"}"#,
            follow: "Only one WORD.",
            violate: "TWO BIG words.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "punctuation:no_comma",
            kwargs: r#"{}"#,
            follow: "No commas here.",
            violate: "Yes, commas.",
            violate_loose: false,
            loose_only: Some("Sure, here it is:\nNo commas here."),
        },
        Case {
            id: "startend:quotation",
            kwargs: r#"{}"#,
            follow: "  \"Wrapped.\"  ",
            violate: "\"Not closed.",
            violate_loose: false,
            loose_only: Some("Here you go:\n\"Wrapped.\""),
        },
        Case {
            id: "startend:quotation",
            kwargs: r#"{}"#,
            follow: "\"\"",
            violate: "\"",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "language:response_language",
            kwargs: r#"{"language": "de"}"#,
            follow: "Hallo, wie geht es dir? Ich heiße Anna und wohne seit zehn Jahren in Berlin.",
            violate: "Hello, how are you? My name is Anna and I have lived in Berlin for ten years.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "language:response_language",
            kwargs: r#"{"language": "ru"}"#,
            follow: "Привет, как дела? Меня зовут Иван, я живу в Москве.",
            violate: "Привіт, як справи? Мене звати Олена, я живу в Києві.",
            violate_loose: false,
            loose_only: None,
        },
        Case {
            id: "change_case:english_capital",
            kwargs: r#"{}"#,
            follow: "THE WEATHER TODAY IS SUNNY AND WARM, SO WE WILL GO TO THE PARK.",
            violate: "THE WEATHER TODAY IS SUNNY and WARM, SO WE WILL GO TO THE PARK.",
            violate_loose: false,
            loose_only: Some(
                "Here is my answer:\nTHE WEATHER TODAY IS SUNNY AND WARM, SO WE WILL GO TO THE PARK.",
            ),
        },
        Case {
            id: "change_case:english_lowercase",
            kwargs: r#"{}"#,
            follow: "the weather today is sunny and warm, so we will go to the park.",
            violate: "The weather today is sunny and warm, so we will go to the park.",
            violate_loose: false,
            loose_only: Some(
                "The Answer\nthe weather today is sunny and warm, so we will go to the park.",
            ),
        },
    ]
}

#[test]
fn every_instruction_follows_and_violates_strictly() {
    let all = cases();
    for id in INSTRUCTION_IDS {
        assert!(all.iter().any(|c| c.id == *id), "no case for {id}");
    }
    for c in &all {
        assert_eq!(
            run(c.id, c.kwargs, c.follow),
            (true, true),
            "{}: following response {:?}",
            c.id,
            c.follow
        );
        assert_eq!(
            run(c.id, c.kwargs, c.violate),
            (false, c.violate_loose),
            "{}: violating response {:?}",
            c.id,
            c.violate
        );
    }
}

#[test]
fn loose_variants_rescue_preambles_and_trailers() {
    let mut n = 0;
    for c in cases() {
        if let Some(r) = c.loose_only {
            assert_eq!(
                run(c.id, c.kwargs, r),
                (false, true),
                "{}: loose-only response {r:?}",
                c.id
            );
            n += 1;
        }
    }
    assert!(n >= 10);
}

#[test]
fn blank_responses_fail_every_instruction() {
    for c in cases() {
        assert_eq!(run(c.id, c.kwargs, " \n\t"), (false, false), "{}", c.id);
    }
}

#[test]
fn language_detection_failure_counts_as_followed() {
    // No letters: langdetect raises, lm-eval counts that as followed.
    assert_eq!(
        run(
            "language:response_language",
            r#"{"language": "ja"}"#,
            "12345 !!! 678"
        ),
        (true, true)
    );
    // isupper() is false for text without cased letters, so english_capital fails first.
    assert_eq!(
        run("change_case:english_capital", "{}", "12345 !!! 678"),
        (false, false)
    );
}

#[test]
fn several_instructions_and_record_errors() {
    let ids: Vec<String> = [
        "punctuation:no_comma",
        "startend:quotation",
        "detectable_format:title",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let kws = vec![
        Map::new(),
        Map::new(),
        kwargs(r#"{"num_highlights": null, "keywords": []}"#),
    ];
    let out = evaluate("\"<<A Title>> without commas\"", &ids, &kws);
    assert_eq!(
        out,
        Ok(Outcome {
            strict: vec![true, true, true],
            loose: vec![true, true, true]
        })
    );

    let out = evaluate(
        "x",
        &["keywords:frequency".to_owned()],
        &[kwargs(r#"{"keyword": "x", "frequency": 2}"#)],
    );
    assert_eq!(
        out,
        Err(IfevalError::MissingKwarg {
            id: "keywords:frequency".into(),
            field: "relation".into()
        })
    );
}
