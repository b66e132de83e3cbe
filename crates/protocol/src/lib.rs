//! Shared vocabulary of sparkbench.
//!
//! Everything that crosses a crate boundary lives here and nowhere else: the two request kinds
//! lm-eval knows ([`LoglikelihoodRequest`], [`GenerateRequest`]) and their answers, the
//! [`LanguageModel`] trait every backend implements, the [`ChatTemplate`] renderer tasks use for
//! `--apply-chat-template`, the [`RunSpec`] that describes one evaluation run and its fingerprint,
//! and the [`RunEvent`] stream the worker process writes as JSON lines.
//!
//! This crate has no heavy dependencies on purpose: tasks, backends, the supervisor and the UI
//! all depend on it, and it depends on none of them.

pub mod cancel;
pub mod chat;
pub mod event;
pub mod headline;
pub mod model;
pub mod monitor;
pub mod request;
pub mod spec;

pub use cancel::Cancel;
pub use chat::{ChatMessage, ChatTemplate, ChatTemplateError, Role};
pub use event::{LogLevel, Phase, RunEvent, SampleVerdict, TaskPlan, TaskScore};
pub use model::{CallCtx, Capabilities, LanguageModel, ModelError, ModelInfo};
pub use monitor::{MonitorEvent, WatchdogEvent, WorkerExit};
pub use request::{
    GenerateRequest, Generation, Loglikelihood, LoglikelihoodRequest, Request, Response, StopReason,
};
pub use spec::{Backend, ModelSource, RunSpec, TaskSelection};
