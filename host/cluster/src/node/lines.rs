//! Guest lines of jobs whose drivers run on other nodes: sent to the head,
//! which keeps them with the job beside its driver's lines, so a task's
//! lines reach the job's followers wherever it ran. They go in order, in
//! batches, from one task per node; the reply to a call of such a job waits
//! until the lines written before it are at the head ([`LineForwarder::flush`]),
//! so a job's outcome never overtakes the lines of the work it waited for.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tonic::transport::Channel;
use wrun_core::logs::{LogLine, LogSink};
use wrun_core::{JobId, NodeId};
use wrun_proto::pb::{self, head_client::HeadClient};
use wrun_proto::PROTOCOL_VERSION;

use crate::connections::Connections;

/// Lines gathered into one call at most, and their bytes (each line is at
/// most 16 KiB; the head takes 1 MiB per call).
const BATCH_LINES: usize = 1024;
const BATCH_BYTES: usize = 512 << 10;

/// How long one call to the head may take before its lines are dropped.
const SEND_WAIT: Duration = Duration::from_secs(10);

enum Forward {
    Line(JobId, pb::LogLine),
    /// Answered once every line before it was sent.
    Flush(oneshot::Sender<()>),
}

/// Sends this node's lines of other nodes' jobs to the head.
pub(crate) struct LineForwarder {
    tx: mpsc::UnboundedSender<Forward>,
    /// Lines given to the sender and not yet sent (a flush with none waits
    /// for nothing).
    unsent: Arc<AtomicU64>,
    /// This node, which each line names.
    node: NodeId,
}

impl LineForwarder {
    /// Starts the sender (on the current runtime).
    pub(crate) fn start(head: HeadClient<Channel>, conns: Arc<Connections>, node: NodeId) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let unsent = Arc::new(AtomicU64::new(0));
        tokio::spawn(send_lines(head, conns, rx, unsent.clone()));
        LineForwarder { tx, unsent, node }
    }

    /// Where the guests of `job` on this node write their lines.
    pub(crate) fn sink(&self, job: JobId) -> LogSink {
        let (tx, unsent, node) = (self.tx.clone(), self.unsent.clone(), self.node);
        Arc::new(move |l: LogLine| {
            let line = wrun_proto::to_log_line(l, node);
            unsent.fetch_add(1, Ordering::AcqRel);
            if tx.send(Forward::Line(job, line)).is_err() {
                unsent.fetch_sub(1, Ordering::AcqRel);
            }
        })
    }

    /// Waits until the lines given so far are at the head (or dropped).
    pub(crate) async fn flush(&self) {
        if self.unsent.load(Ordering::Acquire) == 0 {
            return;
        }
        let (done, sent) = oneshot::channel();
        if self.tx.send(Forward::Flush(done)).is_ok() {
            let _ = sent.await;
        }
    }
}

async fn send_lines(
    mut head: HeadClient<Channel>,
    conns: Arc<Connections>,
    mut rx: mpsc::UnboundedReceiver<Forward>,
    unsent: Arc<AtomicU64>,
) {
    while let Some(first) = rx.recv().await {
        let mut jobs: Vec<(JobId, Vec<pb::LogLine>)> = Vec::new();
        let mut flushes = Vec::new();
        let (mut lines, mut bytes) = (0usize, 0usize);
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                Forward::Line(job, line) => {
                    lines += 1;
                    bytes += line.message.len() + line.task.len();
                    match jobs.iter_mut().find(|(j, _)| *j == job) {
                        Some((_, l)) => l.push(line),
                        None => jobs.push((job, vec![line])),
                    }
                }
                Forward::Flush(done) => flushes.push(done),
            }
            if lines < BATCH_LINES && bytes < BATCH_BYTES {
                next = rx.try_recv().ok();
            }
        }
        let mut dropped: HashMap<JobId, usize> = HashMap::new();
        for (job, batch) in jobs {
            let n = batch.len();
            let sent = async {
                let req = conns.request(pb::JobLinesRequest {
                    protocol: PROTOCOL_VERSION,
                    job_id: job.to_string(),
                    lines: batch,
                })?;
                head.job_lines(req).await
            };
            match tokio::time::timeout(SEND_WAIT, sent).await {
                Ok(Ok(_)) => {}
                Ok(Err(s)) => {
                    tracing::warn!(%job, error = %s.message(), "the head did not take a job's lines");
                    *dropped.entry(job).or_default() += n;
                }
                Err(_) => *dropped.entry(job).or_default() += n,
            }
            unsent.fetch_sub(n as u64, Ordering::AcqRel);
        }
        for (job, n) in dropped {
            tracing::warn!(%job, lines = n, "dropped lines of a job the head could not take");
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}
