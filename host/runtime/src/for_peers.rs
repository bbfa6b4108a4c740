//! Tasks (and actor calls) this node runs for other nodes, by the sender's id of each: a
//! cancel the sender forwards names the task so. The sender forwards a
//! cancel as soon as it has sent the task, so the cancel may arrive first:
//! it is kept until the task does (and then applied at once), for the most
//! recent `EARLY_CANCELS` such cancels.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use wrun_core::{JobId, TaskId};
use wrun_sandbox::TaskControl;

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
    /// cancel that came before it is returned, to be applied now.
    pub(crate) fn insert(&self, task: TaskId, control: Arc<TaskControl>) -> Option<CancelAsked> {
        let mut inner = self.0.lock();
        inner.running.insert(task, control);
        inner.early.remove(&task)
    }

    /// Forgets a task run for another node.
    pub(crate) fn remove(&self, task: TaskId) {
        self.0.lock().running.remove(&task);
    }

    /// The control of a task run here for another node; when it has not
    /// arrived, the cancel is kept for it and `None` returned.
    pub(crate) fn cancel(&self, task: TaskId, asked: CancelAsked) -> Option<Arc<TaskControl>> {
        let mut inner = self.0.lock();
        if let Some(control) = inner.running.get(&task) {
            return Some(control.clone());
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
