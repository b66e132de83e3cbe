//! Python semantics IFEval depends on: `str` methods, `re` patterns, `json.loads`.

pub mod json;
pub mod regex;
pub mod strings;
