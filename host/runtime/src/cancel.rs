//! Cancelling calls (`tasks.cancel`, Ray's `ray.cancel`): which call
//! produces an object, and how a cancel reaches it — here, on the node a
//! task was sent to, or on the node that owns the object.
//!
//! A call's results are registered under its [`TaskControl`] while it is
//! unfinished ([`crate::returns::Returns`] removes them when it completes or
//! is dropped), so a cancel of a finished call, or of an object no call
//! produces, finds nothing and does nothing.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use wrun_core::{ErrorKind, JobId, NodeId, ObjectId, TaskError, TaskId};
use wrun_sandbox::TaskControl;

use crate::inner::RuntimeInner;

/// What kind of call a control belongs to (what a cancel may do to it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallKind {
    /// A task: cancelled waiting or running, forced or not.
    Task,
    /// A method of an actor of this node: cancelled while queued.
    ActorCall,
    /// A method of an actor of another node.
    RemoteActorCall,
}

/// What a cancel names on another node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelTarget {
    /// The call that produces an object that node owns.
    Object(ObjectId),
    /// A task that node runs for this one (this node's id of it).
    Task(TaskId),
}

#[derive(Clone)]
struct Registered {
    control: Arc<TaskControl>,
    kind: CallKind,
    job: JobId,
}

/// The unfinished calls of this node that can be cancelled.
#[derive(Default)]
pub(crate) struct Cancels {
    /// By each of their results.
    by_object: Mutex<HashMap<ObjectId, Registered>>,
    /// Tasks this node runs for others, by the sender's task id.
    for_peers: Mutex<HashMap<TaskId, Arc<TaskControl>>>,
}

impl Cancels {
    /// Registers a call's results under its control.
    pub(crate) fn register(
        &self,
        ids: impl Iterator<Item = ObjectId>,
        control: &Arc<TaskControl>,
        kind: CallKind,
        job: JobId,
    ) {
        let mut map = self.by_object.lock();
        for id in ids {
            map.insert(
                id,
                Registered {
                    control: control.clone(),
                    kind,
                    job,
                },
            );
        }
    }

    /// Forgets a finished call's results.
    pub(crate) fn unregister(&self, ids: impl Iterator<Item = ObjectId>) {
        let mut map = self.by_object.lock();
        for id in ids {
            map.remove(&id);
        }
    }

    /// The control of the unfinished call that produces `object`.
    pub(crate) fn control_of(&self, object: ObjectId) -> Option<Arc<TaskControl>> {
        self.by_object
            .lock()
            .get(&object)
            .map(|r| r.control.clone())
    }

    /// Records a task run here for another node, under that node's id.
    pub(crate) fn run_for_peer(&self, task: TaskId, control: Arc<TaskControl>) {
        self.for_peers.lock().insert(task, control);
    }

    /// Forgets a task run for another node.
    pub(crate) fn done_for_peer(&self, task: TaskId) {
        self.for_peers.lock().remove(&task);
    }
}

impl RuntimeInner {
    /// Cancels the call that produces `object` for `job` (another job's
    /// calls are as unknown as finished ones). Objects of another node are
    /// cancelled there.
    pub(crate) fn cancel_object(
        &self,
        job: JobId,
        object: ObjectId,
        owner: NodeId,
        force: bool,
        recursive: bool,
    ) -> Result<(), TaskError> {
        if owner != self.node() {
            self.remote
                .cancel(owner, job, CancelTarget::Object(object), force, recursive);
            return Ok(());
        }
        let found = self.cancels.by_object.lock().get(&object).cloned();
        let Some(r) = found.filter(|r| r.job == job) else {
            return Ok(());
        };
        match r.kind {
            CallKind::ActorCall if force => Err(TaskError::new(
                ErrorKind::InvalidArgument,
                "cancel",
                "force is not supported for actor methods (as in Ray): a queued call can be cancelled, a running one finishes; kill the actor to stop it",
            )),
            CallKind::RemoteActorCall => Err(TaskError::new(
                ErrorKind::InvalidArgument,
                "cancel",
                "cancelling a call to an actor on another node is not supported yet; kill the actor to stop it",
            )),
            _ => {
                self.cancel_control(&r.control, force, recursive);
                Ok(())
            }
        }
    }

    /// Cancels a task this node runs for another (`task`: that node's id).
    pub(crate) fn cancel_for_peer(&self, task: TaskId, force: bool, recursive: bool) {
        let found = self.cancels.for_peers.lock().get(&task).cloned();
        if let Some(control) = found {
            self.cancel_control(&control, force, recursive);
        }
    }

    /// Cancels a call and, when `recursive`, what it submitted; a task sent
    /// to another node is cancelled there too.
    pub(crate) fn cancel_control(&self, control: &Arc<TaskControl>, force: bool, recursive: bool) {
        let mut stack = vec![control.clone()];
        while let Some(c) = stack.pop() {
            c.cancel(force, recursive);
            if let Some(run) = c.peer() {
                // The node it runs on finds it by this node's id of it,
                // which it was sent with.
                self.remote.cancel(
                    run.node,
                    run.job,
                    CancelTarget::Task(run.task),
                    force,
                    recursive,
                );
            }
            if recursive {
                stack.extend(c.children());
            }
        }
    }
}
