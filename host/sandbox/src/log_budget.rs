//! A job's guest output, bounded: its lines (stdout, stderr, `logging`)
//! pass while the job stays under `limits.log_rate` bytes a second, with
//! bursts of a few seconds' worth; past it they are dropped and counted. The
//! first line dropped is replaced by one saying so, and the next line that
//! passes is preceded by how many went, so a flooding guest cannot make a
//! node (or its job's followers) carry unbounded output, and nothing is
//! held back: other jobs have budgets of their own and are not slowed.

use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use wrun_core::logs::{Level, LogLine, LogSink};

/// Seconds of the rate a burst may use at once.
const BURST_SECONDS: f64 = 4.0;

/// One job's output budget on one node (a token bucket of bytes).
pub struct LogBudget {
    rate: f64,
    burst: f64,
    bucket: Mutex<Bucket>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
    /// Lines and bytes dropped since the last line that passed.
    dropped: (u64, u64),
}

/// What to do with one line.
#[derive(Debug, PartialEq)]
enum Admit {
    /// Send it, after a notice of the lines dropped before it, if any.
    Pass(Option<(u64, u64)>),
    /// Drop it; the first of a run is replaced by a notice.
    Drop { first: bool },
}

impl LogBudget {
    /// A budget of `rate` bytes a second.
    pub fn new(rate: usize) -> LogBudget {
        let rate = rate.max(1) as f64;
        LogBudget {
            rate,
            burst: rate * BURST_SECONDS,
            bucket: Mutex::new(Bucket {
                tokens: rate * BURST_SECONDS,
                last: Instant::now(),
                dropped: (0, 0),
            }),
        }
    }

    fn admit(&self, len: usize, now: Instant) -> Admit {
        let mut b = self.bucket.lock();
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate).min(self.burst);
        b.last = now;
        let cost = len.max(1) as f64;
        if b.tokens >= cost {
            b.tokens -= cost;
            let dropped = std::mem::take(&mut b.dropped);
            Admit::Pass((dropped.0 > 0).then_some(dropped))
        } else {
            let first = b.dropped.0 == 0;
            b.dropped.0 += 1;
            b.dropped.1 += len as u64;
            Admit::Drop { first }
        }
    }
}

/// `sink` with the job's budget in front of it.
pub(crate) fn bounded(sink: LogSink, budget: Arc<LogBudget>, rate: usize) -> LogSink {
    Arc::new(move |line: LogLine| {
        let notice = |message: String| LogLine {
            actor: line.actor,
            task: line.task.clone(),
            level: Level::Warn,
            message,
        };
        match budget.admit(line.message.len(), Instant::now()) {
            Admit::Pass(None) => sink(line),
            Admit::Pass(Some((lines, bytes))) => {
                sink(notice(format!(
                    "wrun: {lines} lines ({bytes} bytes) of this job's output were dropped: past its limit of {rate} bytes/s (limits.log_rate)"
                )));
                sink(line);
            }
            Admit::Drop { first: true } => sink(notice(format!(
                "wrun: this job's output is past its limit of {rate} bytes/s (limits.log_rate); lines are dropped until it slows down"
            ))),
            Admit::Drop { first: false } => {}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_passes_then_lines_drop_and_are_counted_when_the_rate_allows() {
        let b = LogBudget::new(100);
        let t0 = Instant::now();
        // 400 bytes of burst.
        for _ in 0..4 {
            assert_eq!(b.admit(100, t0), Admit::Pass(None));
        }
        assert_eq!(b.admit(100, t0), Admit::Drop { first: true });
        assert_eq!(b.admit(50, t0), Admit::Drop { first: false });
        // A second later, 100 bytes more may pass.
        let later = t0 + Duration::from_secs(1);
        assert_eq!(b.admit(100, later), Admit::Pass(Some((2, 150))));
        assert_eq!(b.admit(1, later), Admit::Drop { first: true });
    }

    #[test]
    fn the_sink_says_when_it_drops() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let sink: LogSink = Arc::new(move |l: LogLine| into.lock().push(l.message));
        let bounded = bounded(sink, Arc::new(LogBudget::new(10)), 10);
        for i in 0..10 {
            bounded(LogLine {
                actor: None,
                task: wrun_core::logs::Label::named("job"),
                level: Level::Info,
                message: format!("line {i:04}"),
            });
        }
        let seen = seen.lock();
        assert_eq!(
            seen.len(),
            5,
            "four 9-byte lines fit 40 bytes, then one notice: {seen:?}"
        );
        assert!(seen[4].contains("limits.log_rate"), "{seen:?}");
    }
}
