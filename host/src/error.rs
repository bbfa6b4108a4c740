//! Errors: the task error that reaches whoever gets a result, and the host's
//! own library errors.

use std::fmt;

/// Why a task, actor call or driver failed (mirrors the WIT `error-kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Application,
    Trap,
    Timeout,
    MemoryLimit,
    ActorDied,
    NotFound,
    InvalidArgument,
    GetTimeout,
    ObjectLost,
    Internal,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Application => "application error",
            ErrorKind::Trap => "trap",
            ErrorKind::Timeout => "timeout",
            ErrorKind::MemoryLimit => "memory limit",
            ErrorKind::ActorDied => "actor died",
            ErrorKind::NotFound => "not found",
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::GetTimeout => "get timeout",
            ErrorKind::ObjectLost => "object lost",
            ErrorKind::Internal => "internal error",
        }
    }

    /// The WIT `error-kind` name (`actor-died`), as errors cross processes.
    pub fn wit_name(self) -> &'static str {
        match self {
            ErrorKind::Application => "application",
            ErrorKind::Trap => "trap",
            ErrorKind::Timeout => "timeout",
            ErrorKind::MemoryLimit => "memory-limit",
            ErrorKind::ActorDied => "actor-died",
            ErrorKind::NotFound => "not-found",
            ErrorKind::InvalidArgument => "invalid-argument",
            ErrorKind::GetTimeout => "get-timeout",
            ErrorKind::ObjectLost => "object-lost",
            ErrorKind::Internal => "internal",
        }
    }

    /// The kind a WIT `error-kind` name stands for (`Internal` if unknown).
    pub fn from_wit_name(name: &str) -> ErrorKind {
        [
            ErrorKind::Application,
            ErrorKind::Trap,
            ErrorKind::Timeout,
            ErrorKind::MemoryLimit,
            ErrorKind::ActorDied,
            ErrorKind::NotFound,
            ErrorKind::InvalidArgument,
            ErrorKind::GetTimeout,
            ErrorKind::ObjectLost,
        ]
        .into_iter()
        .find(|k| k.wit_name() == name)
        .unwrap_or(ErrorKind::Internal)
    }

    /// Failures of the instance (not of the guest's logic) that retries cover
    /// by default.
    pub fn is_system_failure(self) -> bool {
        matches!(
            self,
            ErrorKind::Trap | ErrorKind::Timeout | ErrorKind::MemoryLimit | ErrorKind::Internal
        )
    }
}

/// An error value stored in place of a result: it names the task and the cause.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct TaskError {
    pub kind: ErrorKind,
    /// The task or method that failed, e.g. `fib` or `Counter.incr`.
    pub task: String,
    /// The language of the guest that raised it; empty when the runtime did.
    pub language: String,
    pub message: String,
}

impl TaskError {
    pub fn new(kind: ErrorKind, task: impl Into<String>, message: impl Into<String>) -> Self {
        TaskError {
            kind,
            task: task.into(),
            language: String::new(),
            message: message.into(),
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in `{}`", self.kind.as_str(), self.task)?;
        if !self.language.is_empty() {
            write!(f, " ({})", self.language)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A component refused at load time.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{what} is a core WebAssembly module, not a component; build it for the wasm32-wasip2 target (or wrap it with `wasm-tools component new`)")]
    CoreModule { what: String },
    #[error("{what} is not a valid WebAssembly component: {reason}")]
    Malformed { what: String, reason: String },
    #[error("{what} does not fit the wrun:runtime/job world ({reason}); build it with the wrun guest SDK and `wrun::export_job!`")]
    WrongWorld { what: String, reason: String },
    #[error("{what}: {reason}")]
    ComponentName { what: String, reason: String },
    #[error("compiled-component cache at {path}: {reason}")]
    Cache { path: String, reason: String },
}
