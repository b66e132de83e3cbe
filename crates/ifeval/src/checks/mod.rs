//! The 25 registered IFEval checks (`check_following` of lm-eval's checker classes), one
//! function each, grouped by instruction family. Each takes the response and the instruction's
//! parameters after lm-eval's `build_description` normalisation (see [`crate::instruction`]).

pub mod case;
pub mod combination;
pub mod content;
pub mod format;
pub mod keywords;
pub mod length;
pub mod startend;

/// A `relation` kwarg: `"less than"` is `count < N`, `"at least"` is `count >= N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// `"less than"`
    LessThan,
    /// `"at least"`
    AtLeast,
}

impl Relation {
    /// Parses lm-eval's relation strings (exact match, as lm-eval compares).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "less than" => Some(Relation::LessThan),
            "at least" => Some(Relation::AtLeast),
            _ => None,
        }
    }

    /// Applies the relation.
    pub fn holds(self, count: usize, threshold: i64) -> bool {
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        match self {
            Relation::LessThan => count < threshold,
            Relation::AtLeast => count >= threshold,
        }
    }
}
