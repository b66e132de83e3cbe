//! transformers' `clean_up_tokenization`: applied by `decode` when `tokenizer_config.json` sets
//! `clean_up_tokenization_spaces` (English tokenization artefacts such as a space before
//! punctuation or a contraction).

/// The replacements, in transformers' order. Each is a plain non-overlapping `str.replace`.
const REPLACEMENTS: [(&str, &str); 10] = [
    (" .", "."),
    (" ?", "?"),
    (" !", "!"),
    (" ,", ","),
    (" ' ", "'"),
    (" n't", "n't"),
    (" 'm", "'m"),
    (" 's", "'s"),
    (" 've", "'ve"),
    (" 're", "'re"),
];

/// Applies transformers' `clean_up_tokenization` to `text`.
pub fn clean_up_tokenization(text: &str) -> String {
    let mut out = text.to_owned();
    for (from, to) in REPLACEMENTS {
        if out.contains(from) {
            out = out.replace(from, to);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_spaces_before_punctuation_and_contractions() {
        assert_eq!(
            clean_up_tokenization("Hello , world ! Is it ? Yes . I do n't know , he 's here"),
            "Hello, world! Is it? Yes. I don't know, he's here"
        );
        assert_eq!(
            clean_up_tokenization("we 've they 're I 'm"),
            "we've they're I'm"
        );
        assert_eq!(clean_up_tokenization("it ' s"), "it's");
    }

    #[test]
    fn replacements_run_in_order_once_each() {
        // " ." is replaced before " ?" and each pass is non-overlapping, as Python's replace.
        assert_eq!(clean_up_tokenization("a  ."), "a .");
        assert_eq!(clean_up_tokenization("no change"), "no change");
    }
}
