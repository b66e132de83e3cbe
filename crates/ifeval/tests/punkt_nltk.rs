//! Punkt sentence splitting and `word_tokenize` against NLTK 3.9.1 with the punkt_tab English
//! parameters. Expected values were produced by `PunktTokenizer("english").tokenize(text)` and
//! `nltk.word_tokenize(text)`; the texts exercise abbreviations (`Dr.`, `e.g.`, `etc.`),
//! initials, ordinals and decimals, ellipses, quotes and brackets after a period, and clitics.

use sparkbench_ifeval::{punkt, sentence_count, word_tokenize};

const SENTENCES: &[(&str, &[&str])] = &[
    (
        "Dr. Smith went to Washington. He arrived at 3 p.m. on Jan. 5th.",
        &[
            "Dr. Smith went to Washington.",
            "He arrived at 3 p.m. on Jan. 5th.",
        ],
    ),
    (
        "E.g. this is a test. I.e. another one. Mr. and Mrs. Jones left, etc. Then they came back.",
        &[
            "E.g.",
            "this is a test.",
            "I.e.",
            "another one.",
            "Mr. and Mrs. Jones left, etc.",
            "Then they came back.",
        ],
    ),
    (
        "The price is $3.50. That's cheap! Isn't it?",
        &["The price is $3.50.", "That's cheap!", "Isn't it?"],
    ),
    (
        "Wait... what? No way... I can't believe it.",
        &["Wait... what?", "No way...", "I can't believe it."],
    ),
    (
        "\"Stop!\" he shouted. \"Now!\" She stopped.",
        &["\"Stop!\"", "he shouted.", "\"Now!\"", "She stopped."],
    ),
    (
        "He said (quietly.) Then left. [Really.] Yes.",
        &["He said (quietly.)", "Then left.", "[Really.]", "Yes."],
    ),
    (
        "U.S.A. is big. The U.S. is big too. J. R. R. Tolkien wrote books.",
        &[
            "U.S.A. is big.",
            "The U.S. is big too.",
            "J. R. R. Tolkien wrote books.",
        ],
    ),
    (
        "Version 2.0 was released. Version 3. was not.",
        &["Version 2.0 was released.", "Version 3. was not."],
    ),
    (
        "1. First item. 2. Second item. 3. Third item.",
        &[
            "1.",
            "First item.",
            "2.",
            "Second item.",
            "3.",
            "Third item.",
        ],
    ),
    (
        "What?! Really?! Yes!!! OK.",
        &["What?!", "Really?!", "Yes!!!", "OK."],
    ),
    (
        "This ends with an ellipsis...",
        &["This ends with an ellipsis..."],
    ),
    ("No punctuation at all", &["No punctuation at all"]),
    (
        "A sentence.\n\nAnother paragraph. And more.\n* bullet one.\n* bullet two.",
        &[
            "A sentence.",
            "Another paragraph.",
            "And more.",
            "* bullet one.",
            "* bullet two.",
        ],
    ),
    (
        "It costs 5 dollars. e.g. the other thing costs more.",
        &["It costs 5 dollars.", "e.g.", "the other thing costs more."],
    ),
    (
        "I saw St. Peter's church. Ms. Lee was there. Prof. X also.",
        &[
            "I saw St. Peter's church.",
            "Ms. Lee was there.",
            "Prof. X also.",
        ],
    ),
    (
        "She said 'hello.' Then she left.",
        &["She said 'hello.'", "Then she left."],
    ),
    (
        "Look at Fig. 3. It shows results. See also Sec. 4.2 for details.",
        &[
            "Look at Fig.",
            "3.",
            "It shows results.",
            "See also Sec.",
            "4.2 for details.",
        ],
    ),
    (
        "Dr.Smith is here.Mr.Jones too.",
        &["Dr.Smith is here.Mr.Jones too."],
    ),
    (
        "I like it ... a lot . Really !",
        &["I like it ... a lot .", "Really !"],
    ),
    (
        "The end.)  Next one starts here. (Another.) And (yet another).",
        &[
            "The end.)",
            "Next one starts here.",
            "(Another.)",
            "And (yet another).",
        ],
    ),
    (
        "Very bad acting!!! I promise.",
        &["Very bad acting!!!", "I promise."],
    ),
];

const WORDS: &[(&str, &[&str])] = &[
    (
        "\"I cannot go,\" he said. Don't!",
        &[
            "``", "I", "can", "not", "go", ",", "''", "he", "said", ".", "Do", "n't", "!",
        ],
    ),
    (
        "They'll gimme 3.5 kg -- maybe more'n that... OK?",
        &[
            "They", "'ll", "gim", "me", "3.5", "kg", "--", "maybe", "more", "'n", "that", "...",
            "OK", "?",
        ],
    ),
    (
        "‘Quoted’ and “double quoted” words [with] (brackets) & symbols: #1, 50%!",
        &[
            "‘", "Quoted", "’", "and", "“", "double", "quoted", "”", "words", "[", "with", "]",
            "(", "brackets", ")", "&", "symbols", ":", "#", "1", ",", "50", "%", "!",
        ],
    ),
    (
        "THE NASA PROGRAM (USA) is BIG. Dr. Who's 'TARDIS' isn't.",
        &[
            "THE", "NASA", "PROGRAM", "(", "USA", ")", "is", "BIG", ".", "Dr.", "Who", "'s",
            "'TARDIS", "'", "is", "n't", ".",
        ],
    ),
    (
        "I'm gonna wanna say 'tis fine; e.g., it's O.K.",
        &[
            "I", "'m", "gon", "na", "wan", "na", "say", "'t", "is", "fine", ";", "e.g.", ",", "it",
            "'s", "O.K", ".",
        ],
    ),
];

#[test]
fn sentences_match_nltk() {
    for (text, want) in SENTENCES {
        assert_eq!(punkt::sentences(text), *want, "text {text:?}");
        assert_eq!(sentence_count(text), want.len(), "text {text:?}");
    }
}

#[test]
fn sentence_count_of_blank_text_is_zero() {
    assert_eq!(sentence_count(""), 0);
    assert_eq!(sentence_count(" \n\n "), 0);
}

#[test]
fn word_tokenize_matches_nltk() {
    for (text, want) in WORDS {
        assert_eq!(word_tokenize(text), *want, "text {text:?}");
    }
}
