//! A job's life on this node: its driver runs, it may be stopped (`wrun job
//! stop`), and it ends, taking its actors, warm instances and placement
//! groups with it.

use std::sync::Arc;

use wrun_core::logs::Label;
use wrun_core::{JobId, TaskError, TaskId};
use wrun_objects::ObjectValue;
use wrun_sandbox::{InstanceSpec, LoadedJob};

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
                control: None,
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
        self.end_job(job.id);
        self.inner.remote.end_job(job.id);
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

    /// A job's driver finished (here or on another node): its actors here
    /// die, its warm instances go, and the placement groups its calls made
    /// here are released on every node that holds a bundle.
    pub fn end_job(&self, job: JobId) {
        self.inner.loaded.end(job);
        self.inner.actors.kill_job(job, "its job ended");
        self.inner.sandbox.drop_job(job);
        self.inner.remove_job_groups(job);
    }
}
