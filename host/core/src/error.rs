//! The error that reaches whoever reads a result: what kind of failure, in
//! which task, raised by which language, and why.

use std::fmt;

/// Why a task, actor call or driver failed (mirrors the WIT `error-kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The guest returned an error.
    Application,
    /// The guest trapped.
    Trap,
    /// It ran past its timeout or CPU-time limit.
    Timeout,
    /// The guest hit its memory limit.
    MemoryLimit,
    /// The actor is dead.
    ActorDied,
    /// A named function, class, method, actor or group does not exist.
    NotFound,
    /// An argument or option was invalid.
    InvalidArgument,
    /// A get or wait ran past its timeout.
    GetTimeout,
    /// The object was freed or lost.
    ObjectLost,
    /// The runtime failed for a reason unrelated to the guest.
    Internal,
    /// No node can ever give what the call asks for.
    Infeasible,
    /// The placement group the call ran in, or waited for, was removed.
    PlacementGroupRemoved,
    /// The call was cancelled (`tasks.cancel`), or an argument it waited
    /// for came from a cancelled call.
    TaskCancelled,
}

impl ErrorKind {
    /// Every kind, in WIT order.
    pub const ALL: [ErrorKind; 13] = [
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
    ];

    /// The kind as people read it in an error message.
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
            ErrorKind::Infeasible => "infeasible",
            ErrorKind::PlacementGroupRemoved => "placement group removed",
            ErrorKind::TaskCancelled => "task cancelled",
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
            ErrorKind::Infeasible => "infeasible",
            ErrorKind::PlacementGroupRemoved => "placement-group-removed",
            ErrorKind::TaskCancelled => "task-cancelled",
        }
    }

    /// The kind a WIT `error-kind` name stands for (`Internal` if unknown).
    pub fn from_wit_name(name: &str) -> ErrorKind {
        Self::ALL
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
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The task or method that failed, e.g. `fib` or `Counter.incr`.
    pub task: String,
    /// The language of the guest that raised it; empty when the runtime did.
    pub language: String,
    /// What went wrong.
    pub message: String,
    /// The error in the raising guest's own encoding (Python: the pickled
    /// exception), for a guest of that language; empty when none. Bounded by
    /// [`TaskError::MAX_NATIVE`].
    pub native: Vec<u8>,
    /// The names of the error's type and of those it derives from, most
    /// specific first (what `retry_exceptions=[..]` matches); empty for the
    /// runtime's errors. Bounded by [`TaskError::bounded_types`]. (A boxed
    /// slice: an error travels in every failed result, kept small.)
    pub types: Box<[String]>,
}

impl TaskError {
    /// An error the runtime raises (no guest language).
    pub fn new(kind: ErrorKind, task: impl Into<String>, message: impl Into<String>) -> Self {
        TaskError {
            kind,
            task: task.into(),
            language: String::new(),
            message: message.into(),
            native: Vec::new(),
            types: Box::default(),
        }
    }

    /// The most type names kept.
    pub const MAX_TYPES: usize = 32;
    /// The longest type name kept, in bytes.
    pub const MAX_TYPE_NAME: usize = 256;

    /// A guest's type names as the host keeps them: the first
    /// [`Self::MAX_TYPES`], each at most [`Self::MAX_TYPE_NAME`] bytes (a
    /// longer one is dropped).
    pub fn bounded_types(mut types: Vec<String>) -> Box<[String]> {
        types.truncate(Self::MAX_TYPES);
        types.retain(|t| t.len() <= Self::MAX_TYPE_NAME);
        types.into_boxed_slice()
    }

    /// Whether `types` are within the bounds [`Self::bounded_types`] keeps.
    pub fn types_fit(types: &[String]) -> bool {
        types.len() <= Self::MAX_TYPES && types.iter().all(|t| t.len() <= Self::MAX_TYPE_NAME)
    }

    /// Whether one of its types is among `names`.
    pub fn is_one_of(&self, names: &[String]) -> bool {
        self.types.iter().any(|t| names.contains(t))
    }

    /// The most bytes of `native` kept: a guest's error must not make the
    /// host hold more (a larger one is dropped; the message still says what
    /// went wrong).
    pub const MAX_NATIVE: usize = 64 << 10;

    /// A failure of the runtime itself.
    pub fn internal(task: impl Into<String>, message: impl fmt::Display) -> Self {
        TaskError::new(ErrorKind::Internal, task, message.to_string())
    }

    /// What a kill of an actor that is not there, or not the caller's to
    /// see, is told, by every node in the same words (no oracle).
    pub fn no_live_actor(actor: crate::ActorId) -> Self {
        TaskError::new(
            ErrorKind::NotFound,
            "kill",
            format!("no live actor with id {actor}"),
        )
    }

    /// Fills in the task name of an error that did not set one.
    pub fn in_task(mut self, task: &str) -> Self {
        if self.task.is_empty() {
            self.task = task.to_string();
        }
        self
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_wit_names() {
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_wit_name(k.wit_name()), k);
        }
        assert_eq!(ErrorKind::from_wit_name("bogus"), ErrorKind::Internal);
    }

    #[test]
    fn an_error_names_its_task_and_language() {
        let mut e = TaskError::new(ErrorKind::Application, "fib", "boom");
        assert_eq!(e.to_string(), "application error in `fib`: boom");
        e.language = "python".into();
        assert_eq!(e.to_string(), "application error in `fib` (python): boom");
        let e = TaskError::new(ErrorKind::Trap, "", "x").in_task("main");
        assert_eq!(e.task, "main");
    }

    #[test]
    fn type_names_are_bounded_and_matched_by_name() {
        let many: Vec<String> = (0..40).map(|i| format!("t{i}")).collect();
        assert!(!TaskError::types_fit(&many));
        assert_eq!(TaskError::bounded_types(many).len(), TaskError::MAX_TYPES);
        let long = vec!["x".repeat(300), "ok".into()];
        assert!(!TaskError::types_fit(&long));
        assert_eq!(&*TaskError::bounded_types(long), ["ok".to_string()]);
        assert!(TaskError::types_fit(&["ok".to_string()]));
        let mut e = TaskError::new(ErrorKind::Application, "t", "m");
        e.types = ["app.Sub".into(), "app.Base".into()].into();
        assert!(e.is_one_of(&["app.Base".into()]));
        assert!(!e.is_one_of(&["builtins.ValueError".into()]));
    }
}
