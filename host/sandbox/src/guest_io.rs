//! Guest standard output and error, streamed to the user line by line and
//! prefixed by the task that wrote them.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use parking_lot::Mutex;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

use wrun_core::logs::{Label, Level, LogLine, LogSink};

/// The task an instance runs now, shared with its output streams so lines
/// are labelled by the current task even when the instance is reused (an
/// actor's calls, a warm task instance).
#[derive(Clone)]
pub(crate) struct LabelCell(Arc<Mutex<Label>>);

impl LabelCell {
    pub(crate) fn new(label: Label) -> Self {
        LabelCell(Arc::new(Mutex::new(label)))
    }

    pub(crate) fn get(&self) -> Label {
        self.0.lock().clone()
    }

    pub(crate) fn set(&self, label: Label) {
        *self.0.lock() = label;
    }
}

/// The last bytes a guest wrote to stderr, quoted in trap errors (a Rust
/// panic message lands there just before the trap).
#[derive(Clone, Default)]
pub(crate) struct StderrTail(Arc<Mutex<String>>);

const TAIL_BYTES: usize = 2048;

impl StderrTail {
    pub(crate) fn text(&self) -> String {
        self.0.lock().trim().to_string()
    }

    /// Forgets what earlier tasks of a reused instance wrote.
    pub(crate) fn clear(&self) {
        self.0.lock().clear();
    }

    fn push(&self, line: &str) {
        let mut t = self.0.lock();
        t.push_str(line);
        t.push('\n');
        if t.len() > TAIL_BYTES {
            let mut cut = t.len() - TAIL_BYTES;
            while !t.is_char_boundary(cut) {
                cut += 1;
            }
            t.drain(..cut);
        }
    }
}

/// A guest output stream (stdout or stderr) for one instance.
#[derive(Clone)]
pub(crate) struct GuestOutput {
    sink: LogSink,
    label: LabelCell,
    level: Level,
    tail: Option<StderrTail>,
}

impl GuestOutput {
    pub(crate) fn stdout(sink: LogSink, label: LabelCell) -> Self {
        GuestOutput {
            sink,
            label,
            level: Level::Info,
            tail: None,
        }
    }

    pub(crate) fn stderr(sink: LogSink, label: LabelCell, tail: StderrTail) -> Self {
        GuestOutput {
            sink,
            label,
            level: Level::Warn,
            tail: Some(tail),
        }
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineWriter {
            out: self.clone(),
            buf: Vec::new(),
        })
    }
}

struct LineWriter {
    out: GuestOutput,
    buf: Vec<u8>,
}

/// Lines longer than this are cut into several log lines.
const MAX_LINE: usize = 16 * 1024;

impl LineWriter {
    fn emit(&mut self, upto: usize) {
        let line: Vec<u8> = self.buf.drain(..upto).collect();
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        if let Some(t) = &self.out.tail {
            t.push(text);
        }
        (self.out.sink)(LogLine {
            actor: None,
            task: self.out.label.get(),
            level: self.out.level,
            message: text.to_string(),
        });
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.buf.extend_from_slice(data);
        while let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
            self.emit(pos + 1);
        }
        if self.buf.len() > MAX_LINE {
            let n = self.buf.len();
            self.emit(n);
        }
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            let n = self.buf.len();
            self.emit(n);
        }
    }
}
