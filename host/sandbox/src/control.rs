//! Cancelling a call (`tasks.cancel`, Ray's `ray.cancel`): the flag the
//! runtime raises and an instance watches.
//!
//! One [`TaskControl`] per call. The runtime raises it; what happens then
//! depends on how far the call got:
//! - not started (waiting for arguments, resources or a slot): the runtime
//!   drops it, so it never runs ([`TaskControl::stopped`] resolves);
//! - running, not forced: a guest running its own code stops at its next
//!   epoch tick; a `get` it is blocked in fails with `task-cancelled` (the
//!   guest may then clean up and return: it is not interrupted after that,
//!   as after Ray's `KeyboardInterrupt`), a `wait` returns;
//! - forced: the runtime drops the instance wherever it is.
//!
//! It also remembers the calls the task submitted (`recursive` cancels
//! them) and, for a task placed on another node, which node runs it.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use tokio::sync::Notify;
use wrun_core::{JobId, NodeId, TaskId};

const LIVE: u8 = 0;
const CANCELLED: u8 = 1;
const FORCED: u8 = 2;

/// The cancellation state of one call.
#[derive(Default)]
pub struct TaskControl {
    state: AtomicU8,
    /// Whether an instance of it has started (past this, an unforced cancel
    /// interrupts the instance instead of dropping the call).
    started: AtomicBool,
    /// Whether `recursive` was asked (what a node running it for this one
    /// is told).
    recursive: AtomicBool,
    changed: Notify,
    /// What it submitted, while they live.
    children: Mutex<Vec<Weak<TaskControl>>>,
    /// Where it was sent, when it runs on another node.
    peer: Mutex<Option<PeerRun>>,
}

/// A task sent to another node: which, and what that node knows it by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerRun {
    /// The node running it.
    pub node: NodeId,
    /// Its job.
    pub job: JobId,
    /// The sender's id of it (sent with it).
    pub task: TaskId,
}

impl TaskControl {
    /// A live call.
    pub fn new() -> Arc<Self> {
        Arc::new(TaskControl::default())
    }

    /// Cancels it (`force`: drop its instance at once); whether this
    /// changed anything (a second, weaker cancel does not).
    pub fn cancel(&self, force: bool, recursive: bool) -> bool {
        let to = if force { FORCED } else { CANCELLED };
        if recursive {
            self.recursive.store(true, Ordering::Relaxed);
        }
        let before = self.state.fetch_max(to, Ordering::AcqRel);
        if before >= to {
            return false;
        }
        self.changed.notify_waiters();
        true
    }

    /// Whether it was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.state.load(Ordering::Acquire) != LIVE
    }

    /// Whether the cancel asked for its tasks too.
    pub fn is_recursive(&self) -> bool {
        self.recursive.load(Ordering::Relaxed)
    }

    /// Whether it must be dropped where it is: forced, or cancelled before
    /// an instance of it started.
    pub fn must_stop(&self) -> bool {
        match self.state.load(Ordering::Acquire) {
            LIVE => false,
            FORCED => true,
            _ => !self.started.load(Ordering::Acquire),
        }
    }

    /// Marks it running in an instance (an unforced cancel now interrupts).
    pub fn start(&self) {
        self.started.store(true, Ordering::Release);
        // A cancel that came just before still stops it where it is.
        self.changed.notify_waiters();
    }

    /// Resolves once it must be dropped where it is ([`Self::must_stop`]).
    pub async fn stopped(&self) {
        self.until(Self::must_stop).await;
    }

    /// Resolves once it is cancelled.
    pub async fn cancelled(&self) {
        self.until(Self::is_cancelled).await;
    }

    async fn until(&self, done: fn(&Self) -> bool) {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if done(self) {
                return;
            }
            changed.await;
        }
    }

    /// Records a call it submitted (cancelled with it when `recursive`).
    pub fn adopt(&self, child: &Arc<TaskControl>) {
        let mut children = self.children.lock();
        // Finished children are dropped as the list grows, so a long task
        // that submits many holds only the live ones.
        if children.len() >= 64 && children.len().is_power_of_two() {
            children.retain(|c| c.strong_count() > 0);
        }
        children.push(Arc::downgrade(child));
    }

    /// The calls it submitted that still run or wait.
    pub fn children(&self) -> Vec<Arc<TaskControl>> {
        self.children
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// Records where it runs (`None`: back here, or done there).
    pub fn set_peer(&self, run: Option<PeerRun>) {
        *self.peer.lock() = run;
    }

    /// Where it runs, when on another node.
    pub fn peer(&self) -> Option<PeerRun> {
        *self.peer.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_cancel_before_start_stops_it_and_after_start_only_a_force_does() {
        let waiting = TaskControl::new();
        assert!(!waiting.must_stop());
        assert!(waiting.cancel(false, false));
        assert!(
            !waiting.cancel(false, false),
            "a second cancel changes nothing"
        );
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting.stopped())
            .await
            .expect("a call cancelled before it started stops");

        let running = TaskControl::new();
        running.start();
        running.cancel(false, true);
        assert!(running.is_cancelled() && running.is_recursive());
        assert!(
            !running.must_stop(),
            "a running call is interrupted, not dropped"
        );
        let stop = tokio::spawn({
            let r = running.clone();
            async move { r.stopped().await }
        });
        tokio::task::yield_now().await;
        assert!(running.cancel(true, false), "force is stronger");
        tokio::time::timeout(std::time::Duration::from_secs(5), stop)
            .await
            .expect("a forced cancel stops a running call")
            .unwrap();
    }

    #[test]
    fn children_are_kept_while_they_live() {
        let parent = TaskControl::new();
        let kept = TaskControl::new();
        parent.adopt(&kept);
        for _ in 0..200 {
            parent.adopt(&TaskControl::new());
        }
        let live = parent.children();
        assert_eq!(live.len(), 1);
        assert!(Arc::ptr_eq(&live[0], &kept));
        assert!(
            parent.children.lock().len() < 200,
            "dead children are pruned"
        );
    }
}
