//! A job as the head follows it. One task per job drains the event stream of
//! the node that runs its driver, whether or not anyone watches: it keeps
//! the guests' lines and the outcome in the store and tells the job's
//! followers how far it got. A follower reads lines from the store by
//! number, so the lines kept before it came and those that arrive while it
//! watches reach it exactly once, in order; a submitter that goes away
//! leaves the job running, and its lines are still kept.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use prost::Message;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};
use wrun_proto::pb::{self as proto, job_event::Event};

use super::store::{HeadStore, JobRecord, MAX_JOB_LINES};
use super::{internal, EventStream};

/// How far a running job got, for its followers.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Progress {
    /// Lines kept so far.
    lines: u64,
    /// Its outcome is in the store (every line before it too).
    done: bool,
}

/// A running job as its followers see it.
pub(super) struct JobFeed {
    progress: watch::Sender<Progress>,
    /// Lines kept, and those dropped past `MAX_JOB_LINES`; lines from the
    /// driver's node and from the others are numbered here, one at a time.
    counts: Mutex<(u64, u64)>,
}

impl JobFeed {
    /// Keeps a line as the job's next one.
    fn append(&self, store: &HeadStore, job_id: &str, line: &proto::LogLine) {
        let mut counts = self.counts.lock();
        let (kept, dropped) = &mut *counts;
        if *kept >= MAX_JOB_LINES {
            *dropped += 1;
            return;
        }
        if let Err(e) = store.put_line(job_id, *kept, &line.encode_to_vec()) {
            tracing::error!(job = %job_id, error = %e, "could not keep a job's line");
            return;
        }
        *kept += 1;
        let kept = *kept;
        drop(counts);
        self.progress.send_modify(|p| p.lines = kept);
    }

    /// Keeps a last line saying how many were dropped, if any; the count
    /// of lines kept.
    fn close(&self, store: &HeadStore, job_id: &str) -> u64 {
        let mut counts = self.counts.lock();
        let (kept, dropped) = &mut *counts;
        if *dropped > 0 {
            let note = proto::LogLine {
                task: "wrun".into(),
                message: format!(
                    "{dropped} more lines were not kept: the head keeps {MAX_JOB_LINES} per job"
                ),
                stderr: true,
                actor: String::new(),
                node: String::new(),
            };
            if store.put_line(job_id, *kept, &note.encode_to_vec()).is_ok() {
                *kept += 1;
            }
            *dropped = 0;
        }
        *kept
    }
}

/// The running jobs' progress, by job id.
#[derive(Default)]
pub(super) struct JobFeeds {
    feeds: Mutex<HashMap<String, Arc<JobFeed>>>,
    /// Lines that came for a job not running here (after its end), not
    /// kept: a job's end waits for its work everywhere to stop and its
    /// lines to arrive, so this stays 0 unless a node failed to.
    late: std::sync::atomic::AtomicU64,
}

impl JobFeeds {
    /// Opens a job's feed, before it starts (before anyone may follow it,
    /// and before its tasks on other nodes send lines).
    pub(super) fn open(&self, job_id: &str) -> Arc<JobFeed> {
        let feed = Arc::new(JobFeed {
            progress: watch::Sender::new(Progress::default()),
            counts: Mutex::new((0, 0)),
        });
        self.feeds.lock().insert(job_id.to_string(), feed.clone());
        feed
    }

    fn subscribe(&self, job_id: &str) -> Option<watch::Receiver<Progress>> {
        self.feeds
            .lock()
            .get(job_id)
            .map(|f| f.progress.subscribe())
    }

    /// Lines a running job has written so far.
    pub(super) fn lines(&self, job_id: &str) -> Option<u64> {
        self.feeds
            .lock()
            .get(job_id)
            .map(|f| f.progress.borrow().lines)
    }

    /// Keeps lines of a running job that another node sent; lines of a job
    /// that is not running here are dropped (how many).
    pub(super) fn append(
        &self,
        store: &HeadStore,
        job_id: &str,
        lines: &[proto::LogLine],
    ) -> usize {
        let Some(feed) = self.feeds.lock().get(job_id).cloned() else {
            self.late
                .fetch_add(lines.len() as u64, std::sync::atomic::Ordering::Relaxed);
            return lines.len();
        };
        for line in lines {
            feed.append(store, job_id, line);
        }
        0
    }

    /// Lines that came for jobs not running here, since the head started.
    pub(super) fn late_lines(&self) -> u64 {
        self.late.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Closes a job's feed (it ended, or never started).
    pub(super) fn close(&self, job_id: &str) {
        self.feeds.lock().remove(job_id);
    }
}

/// Milliseconds since the Unix epoch.
pub(super) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The error event of a job that ended without saying how.
fn lost(message: String) -> Event {
    Event::Error(proto::JobError {
        kind: "internal".into(),
        task: "main".into(),
        message,
        ..Default::default()
    })
}

/// Keeps a job that `events` (its driver's node's stream) tells of, in
/// its `feed` (opened before it started), until it ends.
pub(super) fn keep(
    store: Arc<HeadStore>,
    feeds: Arc<JobFeeds>,
    feed: Arc<JobFeed>,
    record: JobRecord,
    mut events: Streaming<proto::JobEvent>,
    keep_jobs: usize,
) {
    tokio::spawn(async move {
        let id = record.job_id.clone();
        let outcome = loop {
            match events.message().await {
                Ok(Some(proto::JobEvent {
                    event: Some(Event::Log(line)),
                })) => feed.append(&store, &id, &line),
                Ok(Some(proto::JobEvent {
                    event: Some(e @ (Event::Result(_) | Event::Error(_))),
                })) => break e,
                Ok(Some(_)) => {}
                Ok(None) => {
                    break lost(format!(
                        "node {} ended the job's stream without its outcome",
                        record.node_id
                    ))
                }
                Err(s) => {
                    break lost(format!(
                        "node {} (running its driver) was lost: {}",
                        record.node_id,
                        s.message()
                    ))
                }
            }
        };
        let kept = feed.close(&store, &id);
        // `wrun job stop` may have marked it since it was placed.
        let mut record = store.job(&id).ok().flatten().unwrap_or(record);
        (record.state, record.detail) = match &outcome {
            Event::Result(r) => {
                record.value_bytes = r.value.len() as u64;
                ("succeeded".into(), String::new())
            }
            Event::Error(e) => {
                let state = if record.stop_requested {
                    "stopped"
                } else {
                    "failed"
                };
                (
                    state.into(),
                    format!("{} in {}: {}", e.kind, e.task, e.message),
                )
            }
            _ => unreachable!("the loop breaks with an outcome"),
        };
        record.ended_ms = now_ms();
        record.log_lines = kept;
        let event = proto::JobEvent {
            event: Some(outcome),
        };
        let stored = store
            .put_outcome(&id, &event.encode_to_vec())
            .and_then(|()| store.put_job(&record))
            .and_then(|()| store.flush());
        if let Err(e) = stored {
            tracing::error!(job = %id, error = %e, "could not record how a job ended");
        }
        tracing::info!(job = %id, state = %record.state, lines = kept, "job ended");
        feed.progress.send_modify(|p| p.done = true);
        feeds.close(&id);
        match store.prune_jobs(keep_jobs) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                forgotten = n,
                keep = keep_jobs,
                "forgot the oldest ended jobs"
            ),
            Err(e) => tracing::warn!(error = %e, "could not forget old jobs"),
        }
    });
}

/// Lines read from the store at a time.
const BATCH: usize = 512;

/// A job's lines from line `from` on and then its outcome; with `live`,
/// waiting for them while it runs, else only what is there now (the
/// outcome only if it has ended).
#[allow(
    clippy::result_large_err,
    reason = "tonic's Status is what handlers return"
)]
pub(super) fn follow(
    store: Arc<HeadStore>,
    feeds: &JobFeeds,
    job_id: String,
    from: u64,
    live: bool,
) -> Result<EventStream, Status> {
    let Some(record) = store.job(&job_id).map_err(internal)? else {
        return Err(Status::not_found(format!(
            "no job {job_id} at this head (`wrun job list` lists those it keeps)"
        )));
    };
    let mut progress = feeds.subscribe(&job_id);
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut next = from;
        loop {
            // Whether the outcome was in before these lines were read: then
            // every line is too.
            let done = progress.as_mut().is_none_or(|p| p.borrow_and_update().done);
            loop {
                let batch = match store.lines(&job_id, next, BATCH) {
                    Ok(b) => b,
                    Err(e) => {
                        let _ = tx.send(Err(internal(e))).await;
                        return;
                    }
                };
                let full = batch.len() == BATCH;
                for (n, bytes) in batch {
                    next = n + 1;
                    let Ok(line) = proto::LogLine::decode(&bytes[..]) else {
                        continue;
                    };
                    let event = proto::JobEvent {
                        event: Some(Event::Log(line)),
                    };
                    if tx.send(Ok(event)).await.is_err() {
                        return;
                    }
                }
                if !full {
                    break;
                }
            }
            if done {
                let _ = tx.send(Ok(outcome(&store, &record))).await;
                return;
            }
            if !live {
                return;
            }
            let Some(p) = progress.as_mut() else { return };
            if p.changed().await.is_err() {
                // The keeper went without marking it done (the head is
                // stopping): what is stored is all there is.
                progress = None;
            }
        }
    });
    Ok(Box::pin(ReceiverStream::new(rx)))
}

/// How a job that has ended ended: its stored outcome, or what its record
/// says (a job the head lost track of).
fn outcome(store: &HeadStore, record: &JobRecord) -> proto::JobEvent {
    if let Ok(Some(bytes)) = store.outcome(&record.job_id) {
        if let Ok(e) = proto::JobEvent::decode(&bytes[..]) {
            return e;
        }
    }
    let record = store
        .job(&record.job_id)
        .ok()
        .flatten()
        .unwrap_or_else(|| record.clone());
    proto::JobEvent {
        event: Some(lost(format!(
            "job {} is {}: {}",
            record.job_id, record.state, record.detail
        ))),
    }
}
