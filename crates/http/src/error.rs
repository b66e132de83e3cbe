//! Errors of the HTTP backends, each saying what to check.

/// Why an HTTP backend could not be reached or could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The server did not answer at all (connection refused, DNS, timeout).
    #[error(
        "cannot reach {url}: {cause}. Is the server running? (Ollama: `ollama serve`; vLLM: `vllm serve MODEL`)"
    )]
    Unreachable {
        /// The URL tried.
        url: String,
        /// The transport error.
        cause: String,
    },
    /// The server answered with an error status after all retries.
    #[error("{url} answered HTTP {status}: {body}")]
    Status {
        /// The URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// The answer was not the JSON we expect; `what` names the missing or misshapen field.
    #[error("{url} sent an unexpected answer: {what}")]
    BadResponse {
        /// The URL.
        url: String,
        /// What is wrong.
        what: String,
    },
    /// The backend cannot do what was asked (e.g. loglikelihood on Ollama); the message says why.
    #[error("{0}")]
    Unsupported(String),
    /// A configuration problem (missing API key variable, bad endpoint, tokenizer).
    #[error("{0}")]
    Config(String),
    /// The cancel flag was set.
    #[error("cancelled")]
    Cancelled,
}

impl From<HttpError> for sparkbench_protocol::ModelError {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Cancelled => sparkbench_protocol::ModelError::Cancelled,
            HttpError::Unsupported(m) => sparkbench_protocol::ModelError::Unsupported(m),
            other => sparkbench_protocol::ModelError::Backend(other.to_string()),
        }
    }
}
