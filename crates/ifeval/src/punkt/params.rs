//! The English Punkt parameters (NLTK's punkt_tab data in `assets/punkt/`), embedded in the
//! binary and parsed once.
//!
//! File formats as NLTK's `PunktDecoder` reads them: one entry per line (`\n`-terminated, only
//! the final `\n` removed); `collocations.tab` holds `first<TAB>second`, `ortho_context.tab`
//! holds `type<TAB>flags`.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

const ABBREV_TYPES: &str = include_str!("../../../../assets/punkt/abbrev_types.txt");
const COLLOCATIONS: &str = include_str!("../../../../assets/punkt/collocations.tab");
const SENT_STARTERS: &str = include_str!("../../../../assets/punkt/sent_starters.txt");
const ORTHO_CONTEXT: &str = include_str!("../../../../assets/punkt/ortho_context.tab");

/// Orthographic context: beginning of a sentence with upper case.
pub const ORTHO_BEG_UC: u32 = 1 << 1;
/// Orthographic context: middle of a sentence with upper case.
pub const ORTHO_MID_UC: u32 = 1 << 2;
/// Orthographic context: unknown position with upper case.
pub const ORTHO_UNK_UC: u32 = 1 << 3;
/// Orthographic context: beginning of a sentence with lower case.
pub const ORTHO_BEG_LC: u32 = 1 << 4;
/// Orthographic context: middle of a sentence with lower case.
pub const ORTHO_MID_LC: u32 = 1 << 5;
/// Orthographic context: unknown position with lower case.
pub const ORTHO_UNK_LC: u32 = 1 << 6;
/// Occurs with upper case.
pub const ORTHO_UC: u32 = ORTHO_BEG_UC | ORTHO_MID_UC | ORTHO_UNK_UC;
/// Occurs with lower case.
pub const ORTHO_LC: u32 = ORTHO_BEG_LC | ORTHO_MID_LC | ORTHO_UNK_LC;

/// Punkt's learned parameters.
#[derive(Debug)]
pub struct Params {
    /// Known abbreviation types (lower case, without the final period).
    pub abbrev_types: HashSet<String>,
    /// Known `(type before period, type after)` collocations.
    pub collocations: HashSet<(String, String)>,
    /// Frequent sentence starters.
    pub sent_starters: HashSet<String>,
    /// Orthographic context flags per type (missing types have 0).
    pub ortho_context: HashMap<String, u32>,
}

impl Params {
    /// The flags of a type, 0 when it was never seen.
    pub fn ortho(&self, typ: &str) -> u32 {
        self.ortho_context.get(typ).copied().unwrap_or(0)
    }
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split_terminator('\n')
}

fn parse() -> Params {
    let abbrev_types = lines(ABBREV_TYPES).map(str::to_owned).collect();
    let sent_starters = lines(SENT_STARTERS).map(str::to_owned).collect();
    let collocations = lines(COLLOCATIONS)
        .filter_map(|l| {
            let mut parts = l.split('\t');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(a), Some(b), None) => Some((a.to_owned(), b.to_owned())),
                _ => None,
            }
        })
        .collect();
    let ortho_context = lines(ORTHO_CONTEXT)
        .filter_map(|l| {
            let (typ, flags) = l.split_once('\t')?;
            Some((typ.to_owned(), flags.trim().parse().ok()?))
        })
        .collect();
    Params {
        abbrev_types,
        collocations,
        sent_starters,
        ortho_context,
    }
}

/// The embedded English parameters.
pub fn english() -> &'static Params {
    static PARAMS: LazyLock<Params> = LazyLock::new(parse);
    &PARAMS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_parameters_parse_completely() {
        let p = english();
        assert_eq!(p.abbrev_types.len(), 156);
        assert_eq!(p.sent_starters.len(), 39);
        assert_eq!(p.collocations.len(), 37);
        assert_eq!(p.ortho_context.len(), 20366);
        assert!(p.abbrev_types.contains("dr"));
        assert!(p.abbrev_types.contains("u.s"));
        assert!(!p.abbrev_types.contains("e.g"));
        assert_ne!(p.ortho("the") & ORTHO_LC, 0);
        assert_eq!(p.ortho("no-such-type-xyz"), 0);
    }
}
