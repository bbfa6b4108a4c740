//! A job's life on this node: its driver runs, it may be stopped (`wrun job
//! stop`), and it ends, taking its actors, warm instances and placement
//! groups with it. As in Ray, a driver's end ends its job's work
//! everywhere: what it submitted and still runs is cancelled, on every
//! node, and the job ends only once that work has stopped, so no line of it
//! comes after the job's outcome.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustc_hash::FxHashSet;
use wrun_core::logs::Label;
use wrun_core::{ActorId, JobId, TaskError, TaskId};
use wrun_objects::ObjectValue;
use wrun_sandbox::{CallKind, CancelCause, InstanceSpec, LoadedJob, TaskControl};

use crate::Runtime;

impl Runtime {
    /// Runs the job's driver (`main`) with `args` and returns its value.
    /// Actors the job created die with it.
    pub async fn run_main(
        &self,
        job: &Arc<LoadedJob>,
        args: Vec<String>,
    ) -> Result<ObjectValue, TaskError> {
        // The driver runs on a runtime worker like its tasks, so waking it
        // when a result arrives does not cross to the caller's thread.
        let (rt, job2) = (self.inner.clone(), job.clone());
        // What the driver submits is adopted here, to be ended with it.
        let driver = TaskControl::new(job.id, CallKind::Task);
        let control = driver.clone();
        let out = tokio::spawn(async move {
            let spec = InstanceSpec {
                job: job2.clone(),
                component: 0,
                task: TaskId(rt.ids.next()),
                actor: None,
                label: Label::named("main"),
                depth: 0,
                grant: None,
                env: job2.env.clone(),
                calls: rt.clone(),
                control: Some(control),
            };
            rt.sandbox.run_main(spec, &args).await
        });
        // A stopped job's driver ends at once, even blocked in a host call
        // (`get` of work that will never finish).
        let abort = out.abort_handle();
        let out = tokio::select! {
            out = out => out.unwrap_or_else(|e| {
                Err(TaskError::internal(
                    "main",
                    format!("the driver's task failed: {e}"),
                ))
            }),
            () = job.cpu.stopped() => {
                abort.abort();
                Err(TaskError::new(
                    wrun_core::ErrorKind::TaskCancelled,
                    "main",
                    "its job was stopped (wrun job stop)",
                ))
            }
        };
        self.inner
            .cancel_because(&driver, true, true, CancelCause::DriverEnded);
        let here = self.end_job(job.id);
        tokio::join!(here, self.inner.remote.end_job(job.id));
        out
    }

    /// Stops a job on this node (`wrun job stop` tells every node): its
    /// running guests here stop at their next epoch tick with
    /// `task-cancelled` (never retried), its driver, if here, ends at once,
    /// its actors here die, and its work that starts here later stops at
    /// once, until the job ends.
    pub fn stop_job(&self, job: JobId) {
        self.inner.loaded.stop(job);
        self.inner
            .actors
            .kill_job(job, "its job was stopped (wrun job stop)");
    }

    /// A job's driver finished (here or on another node): its calls run
    /// here for other nodes are cancelled (forced, with what they
    /// submitted), its actors here die, its warm instances go, and the
    /// placement groups its calls made here are released on every node that
    /// holds a bundle. The future resolves once none of that work runs here
    /// any more (or after [`END_WAIT`], logged): its last lines are written.
    pub fn end_job(&self, job: JobId) -> impl Future<Output = ()> + Send + 'static {
        let inner = &self.inner;
        for control in inner.for_peers.of_job(job) {
            inner.cancel_because(&control, true, true, CancelCause::DriverEnded);
        }
        inner.loaded.end(job);
        let actors: FxHashSet<ActorId> = inner
            .actors
            .kill_job(job, "its job ended")
            .into_iter()
            .collect();
        inner.sandbox.drop_job(job);
        inner.remove_job_groups(job);
        let ledger = inner.ledger.clone();
        async move {
            let deadline = Instant::now() + END_WAIT;
            loop {
                let left = ledger.unended(job, &actors);
                if left == 0 {
                    return;
                }
                if Instant::now() >= deadline {
                    tracing::warn!(%job, calls = left, "calls of an ended job still run here");
                    return;
                }
                tokio::time::sleep(END_POLL).await;
            }
        }
    }
}

/// How long a job's end waits for its cancelled calls to stop here (a
/// forced cancel lands at the guest's next epoch tick, 5 ms).
pub const END_WAIT: Duration = Duration::from_secs(5);

/// How often it looks.
const END_POLL: Duration = Duration::from_millis(2);
