//! Tasks and actor calls this node runs for other nodes, by the sender's id
//! of each: a cancel the sender forwards names the call so. The sender forwards a
//! cancel as soon as it has sent the task, so the cancel may arrive first:
//! it is kept until the task does (and then applied at once), for the most
//! recent `EARLY_CANCELS` such cancels.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use wrun_core::{ActorId, JobId, TaskError, TaskId, TaskOptions};
use wrun_objects::{Held, TaskArg};
use wrun_sandbox::{LoadedJob, TaskControl};

use crate::Runtime;

/// How many cancels of tasks not arrived (yet) are kept; a task id is never
/// reused, so one whose task never comes only takes room until pushed out.
const EARLY_CANCELS: usize = 10_000;

/// A cancel as the sender asked for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CancelAsked {
    /// The job that asked (only its own calls are cancelled).
    pub(crate) job: JobId,
    pub(crate) force: bool,
    pub(crate) recursive: bool,
}

#[derive(Default)]
struct Inner {
    running: HashMap<TaskId, Arc<TaskControl>>,
    early: HashMap<TaskId, CancelAsked>,
    early_order: VecDeque<TaskId>,
}

/// The controls of tasks run here for other nodes, and the cancels that
/// came before their task.
#[derive(Default)]
pub(crate) struct ForPeers(Mutex<Inner>);

impl ForPeers {
    /// Records a task run here for another node, under that node's id; a
    /// cancel of its job that came before it is returned, to be applied now
    /// (another job's is dropped: it cannot cancel this job's calls).
    pub(crate) fn insert(&self, task: TaskId, control: Arc<TaskControl>) -> Option<CancelAsked> {
        let mut inner = self.0.lock();
        let job = control.job;
        inner.running.insert(task, control);
        inner.early.remove(&task).filter(|asked| asked.job == job)
    }

    /// Forgets a task run for another node.
    pub(crate) fn remove(&self, task: TaskId) {
        self.0.lock().running.remove(&task);
    }

    /// The controls of the calls of `job` run here for other nodes.
    pub(crate) fn of_job(&self, job: JobId) -> Vec<Arc<TaskControl>> {
        let inner = self.0.lock();
        inner
            .running
            .values()
            .filter(|c| c.job == job)
            .cloned()
            .collect()
    }

    /// The control of a task run here for another node, when it is of the
    /// asking job (another job's is as unknown as a finished one); when it
    /// has not arrived, the cancel is kept for it and `None` returned.
    pub(crate) fn cancel(&self, task: TaskId, asked: CancelAsked) -> Option<Arc<TaskControl>> {
        let mut inner = self.0.lock();
        if let Some(control) = inner.running.get(&task) {
            return (control.job == asked.job).then(|| control.clone());
        }
        if inner.early.insert(task, asked).is_none() {
            inner.early_order.push_back(task);
            while inner.early_order.len() > EARLY_CANCELS {
                if let Some(old) = inner.early_order.pop_front() {
                    inner.early.remove(&old);
                }
            }
        }
        None
    }
}

/// The runtime as other nodes reach it: calls they placed here, tracked
/// under their own ids so that the cancels they forward find them.
impl Runtime {
    /// Submits, for another node, a task it placed here: as [`Runtime::submit`],
    /// and a cancel that node sends for `sender_task` (its id of the task)
    /// reaches it until [`Runtime::done_for_peer`].
    pub fn submit_for_peer(
        &self,
        job: &Arc<LoadedJob>,
        function: &str,
        args: Vec<TaskArg>,
        options: TaskOptions,
        sender_task: TaskId,
    ) -> Result<Vec<Held>, TaskError> {
        // Recorded under the sender's id: this node reports it.
        let held = self.inner.submit_task(
            &Self::driver(job),
            function.to_string(),
            args,
            options,
            Some(sender_task),
        )?;
        self.track_for_peer(&held, sender_task);
        Ok(held)
    }

    /// Records the call behind `held` as `sender_call` for cancels from its
    /// sender, and applies one that came before it.
    fn track_for_peer(&self, held: &[Held], sender_call: TaskId) {
        if let Some(control) = held.first().and_then(|h| self.inner.control_of(h.id())) {
            if let Some(asked) = self.inner.for_peers.insert(sender_call, control.clone()) {
                self.inner
                    .cancel_control(&control, asked.force, asked.recursive);
            }
        }
    }

    /// The task or actor call run for another node as `sender_task` finished.
    pub fn done_for_peer(&self, sender_task: TaskId) {
        self.inner.for_peers.remove(sender_task);
    }

    /// Cancels a task or actor call run here for another node
    /// (`sender_task`: its id of it), of `job`.
    pub fn cancel_for_peer(&self, job: JobId, sender_task: TaskId, force: bool, recursive: bool) {
        self.inner
            .cancel_for_peer(job, sender_task, force, recursive);
    }

    /// Calls an actor method for another node, as [`Runtime::call_actor_for`]:
    /// a cancel that node sends for `sender_call` (its id of the call)
    /// reaches it until [`Runtime::done_for_peer`].
    pub fn call_actor_for_peer(
        &self,
        caller: Option<JobId>,
        actor: ActorId,
        method: &str,
        args: Vec<TaskArg>,
        num_returns: u32,
        sender_call: TaskId,
    ) -> Result<Vec<Held>, TaskError> {
        let held = self.call_actor_for(caller, actor, method, args, num_returns)?;
        self.track_for_peer(&held, sender_call);
        Ok(held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wrun_core::{Id, JobId};
    use wrun_sandbox::CallKind;

    fn control() -> Arc<TaskControl> {
        TaskControl::new(JobId(Id::new(1, 1)), CallKind::Task)
    }

    const ASKED: CancelAsked = CancelAsked {
        job: JobId(Id { hi: 1, lo: 1 }),
        force: false,
        recursive: true,
    };

    #[test]
    fn a_cancel_before_its_task_is_applied_when_the_task_arrives() {
        let peers = ForPeers::default();
        let task = TaskId(Id::new(7, 1));
        assert!(peers.cancel(task, ASKED).is_none());
        assert_eq!(peers.insert(task, control()), Some(ASKED));
        // Applied once: a later task of another id finds nothing.
        assert_eq!(peers.insert(TaskId(Id::new(7, 2)), control()), None);
    }

    #[test]
    fn a_cancel_after_its_task_finds_its_control() {
        let peers = ForPeers::default();
        let task = TaskId(Id::new(7, 1));
        let c = control();
        assert_eq!(peers.insert(task, c.clone()), None);
        assert!(Arc::ptr_eq(&peers.cancel(task, ASKED).unwrap(), &c));
        peers.remove(task);
        assert!(peers.cancel(task, ASKED).is_none());
    }

    #[test]
    fn another_jobs_cancel_finds_nothing_before_or_after_the_task() {
        let peers = ForPeers::default();
        let other = CancelAsked {
            job: JobId(Id::new(2, 2)),
            ..ASKED
        };
        let (early, late) = (TaskId(Id::new(7, 1)), TaskId(Id::new(7, 2)));
        assert!(peers.cancel(early, other).is_none());
        assert_eq!(
            peers.insert(early, control()),
            None,
            "another job's early cancel is not applied"
        );
        peers.insert(late, control());
        assert!(
            peers.cancel(late, other).is_none(),
            "another job's cancel does not find the task"
        );
        assert!(peers.cancel(late, ASKED).is_some(), "its own job's does");
    }

    #[test]
    fn early_cancels_are_bounded() {
        let peers = ForPeers::default();
        for i in 0..(EARLY_CANCELS as u64 + 10) {
            peers.cancel(TaskId(Id::new(9, i)), ASKED);
        }
        let inner = peers.0.lock();
        assert_eq!(inner.early.len(), EARLY_CANCELS);
        assert_eq!(inner.early_order.len(), EARLY_CANCELS);
        // The oldest went first.
        assert!(!inner.early.contains_key(&TaskId(Id::new(9, 0))));
    }
}
