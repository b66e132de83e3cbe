//! JSON over HTTP with the retry policy every backend shares.
//!
//! Retries (with exponential backoff) on 429, 5xx and connection errors; a per-request timeout
//! bounds every attempt, so a hung server costs at most `attempts x timeout`, never a hang. The
//! API key travels only in the Authorization header and is never logged or written.

use std::time::Duration;

use serde_json::Value;

use crate::error::HttpError;
use sparkbench_protocol::Cancel;

/// Retry and timeout settings.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in total (1 = no retry).
    pub attempts: u32,
    /// Delay before the first retry; doubled each time.
    pub backoff: Duration,
    /// Timeout of one attempt (connect + read).
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(300),
        }
    }
}

/// A JSON client bound to one base URL.
#[derive(Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
    api_key: Option<String>,
    policy: RetryPolicy,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("policy", &self.policy)
            .finish()
    }
}

/// Whether a failed attempt may succeed when repeated.
fn retryable(status: u16) -> bool {
    status == 429 || status >= 500
}

impl Client {
    /// A client for `base` (no trailing slash needed).
    pub fn new(
        base: &str,
        api_key: Option<String>,
        policy: RetryPolicy,
    ) -> Result<Self, HttpError> {
        let base = base.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(HttpError::Config(format!(
                "endpoint `{base}` must start with http:// or https:// (for example http://localhost:11434)"
            )));
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(policy.timeout.min(Duration::from_secs(10)))
            .timeout(policy.timeout)
            .build();
        Ok(Self {
            base,
            agent,
            api_key,
            policy,
        })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The retry policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// GET `path` and parse JSON, with retries.
    pub fn get(&self, path: &str, cancel: &Cancel) -> Result<Value, HttpError> {
        self.with_retries(path, cancel, |url| {
            let mut req = self.agent.get(url);
            if let Some(key) = &self.api_key {
                req = req.set("Authorization", &format!("Bearer {key}"));
            }
            req.call().map_err(Box::new)
        })
    }

    /// POST `body` as JSON to `path` and parse the JSON answer, with retries.
    pub fn post(&self, path: &str, body: &Value, cancel: &Cancel) -> Result<Value, HttpError> {
        self.with_retries(path, cancel, |url| {
            let mut req = self.agent.post(url).set("Content-Type", "application/json");
            if let Some(key) = &self.api_key {
                req = req.set("Authorization", &format!("Bearer {key}"));
            }
            req.send_json(body.clone()).map_err(Box::new)
        })
    }

    fn with_retries(
        &self,
        path: &str,
        cancel: &Cancel,
        send: impl Fn(&str) -> Result<ureq::Response, Box<ureq::Error>>,
    ) -> Result<Value, HttpError> {
        let url = self.url(path);
        let mut delay = self.policy.backoff;
        let mut last = None;
        for attempt in 0..self.policy.attempts.max(1) {
            if cancel.is_set() {
                return Err(HttpError::Cancelled);
            }
            if attempt > 0 {
                sleep_unless_cancelled(delay, cancel)?;
                delay *= 2;
            }
            match send(&url) {
                Ok(resp) => {
                    let text = resp.into_string().map_err(|e| HttpError::Unreachable {
                        url: url.clone(),
                        cause: format!("the connection broke while reading the answer: {e}"),
                    });
                    match text {
                        Ok(text) => {
                            return serde_json::from_str(&text).map_err(|e| {
                                HttpError::BadResponse {
                                    url: url.clone(),
                                    what: format!("not JSON ({e}): {}", snippet(&text)),
                                }
                            });
                        }
                        Err(e) => last = Some(e),
                    }
                }
                Err(e) => match *e {
                    ureq::Error::Status(status, resp) => {
                        let body = resp.into_string().unwrap_or_default();
                        let err = HttpError::Status {
                            url: url.clone(),
                            status,
                            body: snippet(&body),
                        };
                        if !retryable(status) {
                            return Err(err);
                        }
                        last = Some(err);
                    }
                    ureq::Error::Transport(t) => {
                        last = Some(HttpError::Unreachable {
                            url: url.clone(),
                            cause: t.to_string(),
                        });
                    }
                },
            }
        }
        Err(last.unwrap_or(HttpError::Unreachable {
            url,
            cause: "no attempt was made".into(),
        }))
    }
}

fn sleep_unless_cancelled(total: Duration, cancel: &Cancel) -> Result<(), HttpError> {
    let step = Duration::from_millis(50);
    let mut left = total;
    while !left.is_zero() {
        if cancel.is_set() {
            return Err(HttpError::Cancelled);
        }
        let d = left.min(step);
        std::thread::sleep(d);
        left -= d;
    }
    Ok(())
}

/// The first 300 characters of a body, for error messages.
pub(crate) fn snippet(text: &str) -> String {
    let mut s: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_must_be_http() {
        let err =
            Client::new("localhost:11434", None, RetryPolicy::default()).expect_err("must fail");
        assert!(err.to_string().contains("must start with http://"), "{err}");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let c = Client::new("http://x", Some("sk-secret".into()), RetryPolicy::default())
            .expect("client");
        assert!(!format!("{c:?}").contains("sk-secret"));
    }

    #[test]
    fn retry_classes() {
        assert!(retryable(429));
        assert!(retryable(503));
        assert!(!retryable(400));
        assert!(!retryable(404));
    }
}
