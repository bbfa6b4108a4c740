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

/// One line a guest logged or printed.
#[derive(Clone, Debug)]
pub struct LogLine {
    /// The task that wrote it, e.g. `fib#0000002a` or `Counter.incr`.
    pub task: Arc<str>,
    /// How important it is.
    pub level: Level,
    /// The line, without its newline.
    pub message: String,
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
