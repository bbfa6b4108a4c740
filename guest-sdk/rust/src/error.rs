//! The error every SDK call returns, mirroring the WIT `error` record.

use std::fmt;

use crate::bindings::wrun::runtime::types as wit;

/// A `Result` whose error defaults to [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a call failed (the WIT `error-kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The guest returned an error (an `Err` of a task or method).
    Application,
    /// The guest trapped (panic, unreachable, stack overflow, ...).
    Trap,
    /// The task ran past its timeout or CPU-time limit.
    Timeout,
    /// The guest hit its memory limit.
    MemoryLimit,
    /// The actor is dead (killed, or its constructor failed).
    ActorDied,
    /// A named function, class, method or actor does not exist.
    NotFound,
    /// An argument or option was invalid (including values that do not decode).
    InvalidArgument,
    /// A wait or get ran past its timeout.
    GetTimeout,
    /// The object was freed or otherwise lost.
    ObjectLost,
    /// The runtime failed for a reason unrelated to the guest.
    Internal,
    /// No node of the cluster can ever give what the call asks for.
    Infeasible,
    /// The placement group the call ran in, or waited for, was removed.
    PlacementGroupRemoved,
    /// The call was cancelled ([`crate::cancel`]), or an argument it waited
    /// for came from a cancelled call (Ray's `TaskCancelledError`).
    TaskCancelled,
}

impl ErrorKind {
    /// The WIT name of the kind, e.g. `actor-died`.
    pub fn as_str(self) -> &'static str {
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
            ErrorKind::Infeasible => "infeasible",
            ErrorKind::PlacementGroupRemoved => "placement-group-removed",
            ErrorKind::TaskCancelled => "task-cancelled",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error that reaches whoever gets a result: what failed, where, and why.
///
/// Displays as `<kind> in <task> (<language>): <message>`; the task and the
/// language are left out when unknown. Errors that crossed from a guest in
/// another language keep that language, so a Python exception reaching a
/// Rust caller reads `application in stats/mean (python): ValueError: ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// Why the call failed.
    pub kind: ErrorKind,
    /// The task or actor method that failed, e.g. `fib` or `Counter.incr`.
    pub task: String,
    /// The language of the guest that raised it (`rust` for errors made
    /// here); empty when the runtime raised it.
    pub language: String,
    /// A human-readable description.
    pub message: String,
    /// The names of the error's type and of those it derives from, most
    /// specific first: what [`crate::TaskOptions::retry_exception_types`]
    /// matches (Ray's `retry_exceptions=[..]`). A task's `Err(e)` of a type
    /// `E` other than [`Error`] carries `std::any::type_name::<E>()`; an error
    /// from a Python task carries the exception's class and bases
    /// (`app.Overdrawn`, `builtins.Exception`, ...).
    pub types: Vec<String>,
    /// The error in the raising guest's own language (a Python exception's
    /// pickle), empty for errors made here: kept when the error is passed on
    /// (`?`), so a Python caller still catches its own exception class.
    pub native: Vec<u8>,
}

impl Error {
    /// An error of any kind.
    pub fn new(kind: ErrorKind, task: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            kind,
            task: task.into(),
            language: "rust".into(),
            message: message.into(),
            types: Vec::new(),
            native: Vec::new(),
        }
    }

    /// An application error (what a task's `Err` becomes).
    pub fn application(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Application, "", message)
    }

    pub(crate) fn invalid(task: &str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, task, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if !self.task.is_empty() {
            write!(f, " in {}", self.task)?;
        }
        if !self.language.is_empty() {
            write!(f, " ({})", self.language)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::application(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error::application(message)
    }
}

/// Lets tasks that return `Result<T, String>` use `?` on SDK calls.
impl From<Error> for String {
    fn from(e: Error) -> Self {
        e.to_string()
    }
}

impl From<wit::ErrorKind> for ErrorKind {
    fn from(k: wit::ErrorKind) -> Self {
        match k {
            wit::ErrorKind::Application => ErrorKind::Application,
            wit::ErrorKind::Trap => ErrorKind::Trap,
            wit::ErrorKind::Timeout => ErrorKind::Timeout,
            wit::ErrorKind::MemoryLimit => ErrorKind::MemoryLimit,
            wit::ErrorKind::ActorDied => ErrorKind::ActorDied,
            wit::ErrorKind::NotFound => ErrorKind::NotFound,
            wit::ErrorKind::InvalidArgument => ErrorKind::InvalidArgument,
            wit::ErrorKind::GetTimeout => ErrorKind::GetTimeout,
            wit::ErrorKind::ObjectLost => ErrorKind::ObjectLost,
            wit::ErrorKind::Internal => ErrorKind::Internal,
            wit::ErrorKind::Infeasible => ErrorKind::Infeasible,
            wit::ErrorKind::PlacementGroupRemoved => ErrorKind::PlacementGroupRemoved,
            wit::ErrorKind::TaskCancelled => ErrorKind::TaskCancelled,
        }
    }
}

impl From<ErrorKind> for wit::ErrorKind {
    fn from(k: ErrorKind) -> Self {
        match k {
            ErrorKind::Application => wit::ErrorKind::Application,
            ErrorKind::Trap => wit::ErrorKind::Trap,
            ErrorKind::Timeout => wit::ErrorKind::Timeout,
            ErrorKind::MemoryLimit => wit::ErrorKind::MemoryLimit,
            ErrorKind::ActorDied => wit::ErrorKind::ActorDied,
            ErrorKind::NotFound => wit::ErrorKind::NotFound,
            ErrorKind::InvalidArgument => wit::ErrorKind::InvalidArgument,
            ErrorKind::GetTimeout => wit::ErrorKind::GetTimeout,
            ErrorKind::ObjectLost => wit::ErrorKind::ObjectLost,
            ErrorKind::Internal => wit::ErrorKind::Internal,
            ErrorKind::Infeasible => wit::ErrorKind::Infeasible,
            ErrorKind::PlacementGroupRemoved => wit::ErrorKind::PlacementGroupRemoved,
            ErrorKind::TaskCancelled => wit::ErrorKind::TaskCancelled,
        }
    }
}

impl From<wit::Error> for Error {
    fn from(e: wit::Error) -> Self {
        Error {
            kind: e.kind.into(),
            task: e.task,
            language: e.language,
            message: e.message,
            types: e.types,
            native: e.native,
        }
    }
}

impl From<Error> for wit::Error {
    fn from(e: Error) -> Self {
        wit::Error {
            kind: e.kind.into(),
            task: e.task,
            language: e.language,
            message: e.message,
            native: e.native,
            types: e.types,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_kind_task_and_message() {
        let e = Error::new(ErrorKind::ActorDied, "Counter.incr", "actor was killed");
        assert_eq!(
            e.to_string(),
            "actor-died in Counter.incr (rust): actor was killed"
        );
        assert_eq!(Error::from("boom").to_string(), "application (rust): boom");
        let from_host = Error {
            language: String::new(),
            ..Error::new(ErrorKind::ObjectLost, "get", "freed")
        };
        assert_eq!(from_host.to_string(), "object-lost in get: freed");
    }

    #[test]
    fn kinds_round_trip_through_wit() {
        for kind in [
            ErrorKind::Application,
            ErrorKind::Trap,
            ErrorKind::Timeout,
            ErrorKind::MemoryLimit,
            ErrorKind::ActorDied,
            ErrorKind::NotFound,
            ErrorKind::InvalidArgument,
            ErrorKind::GetTimeout,
            ErrorKind::ObjectLost,
            ErrorKind::Internal,
            ErrorKind::Infeasible,
            ErrorKind::PlacementGroupRemoved,
            ErrorKind::TaskCancelled,
        ] {
            let e = Error::new(kind, "t", "m");
            assert_eq!(Error::from(wit::Error::from(e.clone())), e);
        }
    }
}
