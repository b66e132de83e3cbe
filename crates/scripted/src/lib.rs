//! A [`LanguageModel`](sparkbench_protocol::LanguageModel) driven by a JSON script, for tests
//! and demos.
//!
//! Every answer depends only on the request itself (a hash of its text), so results do not
//! depend on batch size, order or deduplication. The script can add latency, make the model
//! hang without honouring cancel (a hung kernel), abort the process (a crash) or fail a call
//! (a backend error) at a given request number, so the engine, the supervisor and the watchdog
//! can be tested against the real worker binary.
//!
//! The script (the `script` of `ModelSource::Scripted`), every field optional:
//!
//! ```json
//! {
//!   "name": "scripted",
//!   "latency_ms": 0,
//!   "slow": false,
//!   "hang_at_request": null,
//!   "crash_at_request": null,
//!   "fail_at_request": null,
//!   "greedy_rate": 0.25,
//!   "answers": ["The answer is {n}.\n#### {n}"],
//!   "rules": [{"contains": "Question: 2+2", "text": "#### 4"}],
//!   "chat_template": true,
//!   "max_length": 2048,
//!   "loglikelihood": true,
//!   "generate": true
//! }
//! ```
//!
//! Request numbers count from 1 over the life of one model (so one worker process); they are
//! never persisted, so a resumed worker counts from 1 again.

mod chatml;
mod hash;
mod model;
mod script;

pub use chatml::{CHATML_TEMPLATE, ChatMl};
pub use model::ScriptedModel;
pub use script::{Rule, Script, ScriptError};
