//! One caller's calls to an actor run in the order it made them, and a call
//! waiting for its arguments holds back only that caller's later calls (as
//! Ray orders actor calls per caller): such a call waits here, not in the
//! actor's mailbox, where it would hold back every caller.
//!
//! The fast path — arguments ready and nothing of this caller waiting here —
//! costs one atomic load; a waiting call is a spawned task that waits for
//! the caller's previous waiting call to reach the mailbox, then for its own
//! arguments, then goes in.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};
use wrun_core::TaskId;
use wrun_objects::{ObjectStore, TaskArg};

use crate::args::local_args_ready;
use crate::returns::Returns;

/// One method call waiting in an actor's mailbox.
pub(crate) struct ActorCall {
    pub(crate) method: String,
    pub(crate) args: Vec<TaskArg>,
    pub(crate) returns: Returns,
    /// Cancelled while queued, it does not run (none: from the host API).
    pub(crate) control: Option<Arc<wrun_sandbox::TaskControl>>,
}

impl ActorCall {
    /// Its arguments are ready: it waits for the actor's earlier calls.
    fn queued(&self) {
        if let Some(t) = &self.returns.tracked {
            t.waiting_for(crate::ledger::Waiting::ActorQueue);
        }
    }
}

/// Who made a call: the instance's task (`None`: the host API, or calls
/// another node sends, which arrive in order already).
pub(crate) type Submitter = Option<TaskId>;

/// The calls of an actor waiting for their arguments, per caller.
#[derive(Default)]
pub(crate) struct Gate {
    /// Calls waiting here, over all callers.
    waiting: AtomicUsize,
    /// Per caller with calls waiting: its newest one's number, and the
    /// signal that call gives once it is in the mailbox.
    tails: Mutex<HashMap<Submitter, (u64, oneshot::Receiver<()>)>>,
    next: AtomicU64,
}

/// Whether every argument this node computes is ready.
pub(crate) fn args_ready(store: &ObjectStore, args: &[TaskArg]) -> bool {
    let here = store.node();
    args.iter().all(|a| match a {
        TaskArg::Ref(h) => h.owner() != here || h.is_ready(),
        TaskArg::Value(_) => true,
    })
}

impl Gate {
    /// Puts `call` in the actor's `mailbox` now, or once its arguments are
    /// ready and `submitter`'s earlier calls are in. A call the mailbox
    /// refuses (the actor died) is dropped, which fails its results; the
    /// error is its label.
    pub(crate) fn send(
        gate: &Arc<Gate>,
        mailbox: &mpsc::UnboundedSender<ActorCall>,
        store: &Arc<ObjectStore>,
        submitter: Submitter,
        call: ActorCall,
    ) -> Result<(), String> {
        let queued_before =
            gate.waiting.load(Ordering::Acquire) > 0 && gate.tails.lock().contains_key(&submitter);
        if !queued_before && args_ready(store, &call.args) {
            return mailbox
                .send(call)
                .map_err(|e| e.0.returns.label().to_string());
        }
        let (tx, rx) = oneshot::channel();
        let number = gate.next.fetch_add(1, Ordering::Relaxed);
        let before = gate
            .tails
            .lock()
            .insert(submitter, (number, rx))
            .map(|(_, rx)| rx);
        gate.waiting.fetch_add(1, Ordering::AcqRel);
        let (gate, mailbox, store) = (gate.clone(), mailbox.clone(), store.clone());
        tokio::spawn(async move {
            if let Some(before) = before {
                // Err: the earlier call was dropped; this one may go on.
                let _ = before.await;
            }
            // A cancel of the call sends it on at once (the actor fails it
            // when its turn comes), so it never waits here for good.
            match call.control.clone() {
                Some(c) => tokio::select! {
                    () = local_args_ready(&store, &call.args) => {}
                    () = c.cancelled() => {}
                },
                None => local_args_ready(&store, &call.args).await,
            }
            // Refused: the actor died; dropping the call fails it.
            call.queued();
            let _ = mailbox.send(call);
            let _ = tx.send(());
            let mut tails = gate.tails.lock();
            if tails.get(&submitter).is_some_and(|(n, _)| *n == number) {
                tails.remove(&submitter);
            }
            drop(tails);
            gate.waiting.fetch_sub(1, Ordering::AcqRel);
        });
        Ok(())
    }
}
