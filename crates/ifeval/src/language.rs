//! Language identification for `language:response_language`, `change_case:english_capital` and
//! `change_case:english_lowercase`.
//!
//! **Deviation from lm-eval.** lm-eval calls `langdetect.detect` (langdetect 1.0.9), which is
//! randomised and unseeded, so even lm-eval disagrees with itself on borderline texts. We use the
//! deterministic `whatlang` detector instead, restricted to the 50 languages both libraries know
//! and reported with langdetect's codes (ISO 639-1; Mandarin as `zh-cn`, Norwegian Bokmål as `no`).
//! langdetect's Welsh, Somali, Albanian, Swahili and Traditional Chinese (`cy`, `so`, `sq`, `sw`,
//! `zh-tw`) have no whatlang model: text in those languages is reported as some other language.
//! When nothing can be detected (no letters at all), the result is `None`; lm-eval's checks count
//! langdetect's `LangDetectException` in that case as *followed*, and so do ours.

use std::sync::LazyLock;

use whatlang::{Detector, Lang};

/// Whatlang languages with their langdetect codes.
const LANGS: &[(Lang, &str)] = &[
    (Lang::Afr, "af"),
    (Lang::Ara, "ar"),
    (Lang::Bul, "bg"),
    (Lang::Ben, "bn"),
    (Lang::Cat, "ca"),
    (Lang::Ces, "cs"),
    (Lang::Dan, "da"),
    (Lang::Deu, "de"),
    (Lang::Ell, "el"),
    (Lang::Eng, "en"),
    (Lang::Spa, "es"),
    (Lang::Est, "et"),
    (Lang::Pes, "fa"),
    (Lang::Fin, "fi"),
    (Lang::Fra, "fr"),
    (Lang::Guj, "gu"),
    (Lang::Heb, "he"),
    (Lang::Hin, "hi"),
    (Lang::Hrv, "hr"),
    (Lang::Hun, "hu"),
    (Lang::Ind, "id"),
    (Lang::Ita, "it"),
    (Lang::Jpn, "ja"),
    (Lang::Kan, "kn"),
    (Lang::Kor, "ko"),
    (Lang::Lit, "lt"),
    (Lang::Lav, "lv"),
    (Lang::Mkd, "mk"),
    (Lang::Mal, "ml"),
    (Lang::Mar, "mr"),
    (Lang::Nep, "ne"),
    (Lang::Nld, "nl"),
    (Lang::Nob, "no"),
    (Lang::Pan, "pa"),
    (Lang::Pol, "pl"),
    (Lang::Por, "pt"),
    (Lang::Ron, "ro"),
    (Lang::Rus, "ru"),
    (Lang::Slk, "sk"),
    (Lang::Slv, "sl"),
    (Lang::Tam, "ta"),
    (Lang::Tel, "te"),
    (Lang::Tha, "th"),
    (Lang::Tgl, "tl"),
    (Lang::Tur, "tr"),
    (Lang::Ukr, "uk"),
    (Lang::Urd, "ur"),
    (Lang::Vie, "vi"),
    (Lang::Cmn, "zh-cn"),
];

static DETECTOR: LazyLock<Detector> =
    LazyLock::new(|| Detector::with_allowlist(LANGS.iter().map(|(l, _)| *l).collect()));

/// The langdetect-style code of the language of `text`, or `None` when it cannot be detected.
pub fn detect(text: &str) -> Option<&'static str> {
    let lang = DETECTOR.detect_lang(text)?;
    LANGS
        .iter()
        .find(|(l, _)| *l == lang)
        .map(|(_, code)| *code)
}

/// lm-eval's `langdetect.detect(text) == code`, with "cannot detect" counting as a match.
pub fn is_language(text: &str, code: &str) -> bool {
    detect(text).is_none_or(|d| d == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_common_languages() {
        assert_eq!(
            detect("The quick brown fox jumps over the lazy dog near the river bank."),
            Some("en")
        );
        assert_eq!(
            detect("Le renard brun rapide saute par-dessus le chien paresseux."),
            Some("fr")
        );
        assert_eq!(
            detect("Быстрая коричневая лиса прыгает через ленивую собаку."),
            Some("ru")
        );
        assert_eq!(detect("12345 !!! ..."), None);
        assert!(is_language("12345 !!! ...", "de"));
    }
}
