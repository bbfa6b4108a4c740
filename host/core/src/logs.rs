//! Guest log lines and where they go.

use std::sync::Arc;

/// How important a line is; guest stderr is `Warn`, stdout `Info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[allow(missing_docs, reason = "the usual levels")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    /// The level as log lines print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

/// What runs in an instance, for logs and errors: a task (`fib#2a`), an
/// actor method (`Counter.incr`) or a plain name (`main`). Cheap to make and
/// clone; rendered only when a line or an error is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    base: Arc<str>,
    detail: Detail,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Detail {
    None,
    Task(u64),
    Method(Arc<str>),
}

impl Label {
    /// A plain name.
    pub fn named(name: impl Into<Arc<str>>) -> Self {
        Label {
            base: name.into(),
            detail: Detail::None,
        }
    }

    /// One run of task `function` (`function#<counter in hex>`).
    pub fn task(function: Arc<str>, id: crate::TaskId) -> Self {
        Label {
            base: function,
            detail: Detail::Task(id.0.lo),
        }
    }

    /// A method of an actor class (`Class.method`).
    pub fn method(class: Arc<str>, method: impl Into<Arc<str>>) -> Self {
        Label {
            base: class,
            detail: Detail::Method(method.into()),
        }
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.detail {
            Detail::None => f.write_str(&self.base),
            Detail::Task(n) => write!(f, "{}#{n:x}", self.base),
            Detail::Method(m) => write!(f, "{}.{m}", self.base),
        }
    }
}

/// One line a guest logged or printed.
#[derive(Clone, Debug)]
pub struct LogLine {
    /// The task that wrote it, e.g. `fib#2a` or `Counter.incr`.
    pub task: Label,
    /// How important it is.
    pub level: Level,
    /// The line, without its newline.
    pub message: String,
    /// The actor whose instance wrote it (`wrun logs --actor`).
    pub actor: Option<crate::ActorId>,
}

/// Receives every guest log line (the CLI prints them; tests collect them).
pub type LogSink = Arc<dyn Fn(LogLine) + Send + Sync>;

/// A sink that forwards guest lines to `tracing` under the `guest` target.
pub fn tracing_sink() -> LogSink {
    Arc::new(|l: LogLine| match l.level {
        Level::Trace => tracing::trace!(target: "guest", task = %l.task, "{}", l.message),
        Level::Debug => tracing::debug!(target: "guest", task = %l.task, "{}", l.message),
        Level::Info => tracing::info!(target: "guest", task = %l.task, "{}", l.message),
        Level::Warn => tracing::warn!(target: "guest", task = %l.task, "{}", l.message),
        Level::Error => tracing::error!(target: "guest", task = %l.task, "{}", l.message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Id, TaskId};

    #[test]
    fn labels_render_as_people_read_them() {
        assert_eq!(Label::named("main").to_string(), "main");
        let t = Label::task(Arc::from("fib"), TaskId(Id::new(1, 42)));
        assert_eq!(t.to_string(), "fib#2a");
        assert_eq!(
            Label::method(Arc::from("Counter"), "incr").to_string(),
            "Counter.incr"
        );
    }
}
