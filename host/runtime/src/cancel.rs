//! Cancelling calls (`tasks.cancel`, Ray's `ray.cancel`): how a cancel
//! reaches a call — here, on the node a task was sent to, or on the node
//! that owns the object.
//!
//! A call's [`TaskControl`] is the object store's producer of each of its
//! pending results ([`crate::returns::Returns::new`]), dropped when they
//! are fulfilled: a cancel finds the call from any result without a table
//! of calls on the task path, and a cancel of a finished call, or of an
//! object no call produces, finds nothing and does nothing.

use crate::for_peers::CancelAsked;
use std::sync::Arc;

use wrun_core::{ErrorKind, JobId, NodeId, ObjectId, TaskError, TaskId};
use wrun_sandbox::{CallKind, CancelCause, TaskControl};

use crate::cluster::CancelTarget;
use crate::inner::RuntimeInner;

impl RuntimeInner {
    /// The control of the unfinished call that produces `object` here.
    pub(crate) fn control_of(&self, object: ObjectId) -> Option<Arc<TaskControl>> {
        self.objects
            .producer_of(object)?
            .downcast::<TaskControl>()
            .ok()
    }

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
        let Some(control) = self.control_of(object).filter(|c| c.job == job) else {
            return Ok(());
        };
        match control.kind {
            CallKind::ActorMethod | CallKind::RemoteActorMethod if force => Err(TaskError::new(
                ErrorKind::InvalidArgument,
                "cancel",
                "force is not supported for actor methods (as in Ray): a queued call can be cancelled, a running one finishes; kill the actor to stop it",
            )),
            // A call to an actor on another node: cancelled there
            // (`cancel_control` sends it on to the node in its `peer`).
            _ => {
                self.cancel_control(&control, force, recursive);
                Ok(())
            }
        }
    }

    /// Cancels a task or actor call this node runs for another (`task`:
    /// that node's id of it), of `job` (another job's is left alone). One
    /// that has not arrived yet is cancelled when it does.
    pub(crate) fn cancel_for_peer(&self, job: JobId, task: TaskId, force: bool, recursive: bool) {
        let asked = CancelAsked {
            job,
            force,
            recursive,
        };
        if let Some(control) = self.for_peers.cancel(task, asked) {
            self.cancel_control(&control, force, recursive);
        }
    }

    /// Cancels a call and, when `recursive`, what it submitted; a task sent
    /// to another node is cancelled there too.
    pub(crate) fn cancel_control(&self, control: &Arc<TaskControl>, force: bool, recursive: bool) {
        self.cancel_because(control, force, recursive, CancelCause::Asked);
    }

    /// As [`Self::cancel_control`], saying why.
    pub(crate) fn cancel_because(
        &self,
        control: &Arc<TaskControl>,
        force: bool,
        recursive: bool,
        cause: CancelCause,
    ) {
        let mut stack = vec![control.clone()];
        while let Some(c) = stack.pop() {
            c.cancel_because(force, recursive, cause);
            // A driver's end reaches every node by itself (`Remote::end_job`).
            let peer = c.peer().filter(|_| cause == CancelCause::Asked);
            if let Some(run) = peer {
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
