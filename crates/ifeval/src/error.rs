//! Errors of IFEval evaluation: bad records (unknown instruction ids, missing or malformed
//! kwargs, patterns Python would reject).

/// Why an IFEval record could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IfevalError {
    /// The instruction id is not one of lm-eval's 25 registered ids.
    #[error(
        "unknown IFEval instruction id {id:?}: expected one of the 25 ids lm-eval registers (e.g. \"punctuation:no_comma\")"
    )]
    UnknownInstruction {
        /// The id as given.
        id: String,
    },
    /// `instruction_id_list` and `kwargs` differ in length.
    #[error(
        "the record has {instructions} instruction ids but {kwargs} kwargs entries: they must pair up one to one"
    )]
    KwargsLength {
        /// Number of instruction ids.
        instructions: usize,
        /// Number of kwargs maps.
        kwargs: usize,
    },
    /// A kwarg the instruction needs is absent, null or falsy (lm-eval would pick a random value).
    #[error(
        "instruction {id:?} needs kwarg {field:?}, which is missing, null or empty (lm-eval would substitute a random value, which cannot be reproduced)"
    )]
    MissingKwarg {
        /// Instruction id.
        id: String,
        /// Kwarg name.
        field: String,
    },
    /// A kwarg has the wrong type or a value lm-eval rejects.
    #[error("instruction {id:?} has kwarg {field:?} = {value}: expected {expected}")]
    InvalidKwarg {
        /// Instruction id.
        id: String,
        /// Kwarg name.
        field: String,
        /// The value as JSON.
        value: String,
        /// What is accepted.
        expected: String,
    },
    /// A truthy kwarg the instruction does not take (lm-eval raises `TypeError`).
    #[error("instruction {id:?} does not take kwarg {field:?}: remove it or set it to null")]
    UnexpectedKwarg {
        /// Instruction id.
        id: String,
        /// Kwarg name.
        field: String,
    },
    /// A kwarg used as a regex is not a usable Python pattern, or matching it failed.
    #[error("instruction {id:?}, kwarg {field:?}: {message}")]
    Pattern {
        /// Instruction id.
        id: String,
        /// Kwarg name.
        field: String,
        /// What went wrong.
        message: String,
    },
}
