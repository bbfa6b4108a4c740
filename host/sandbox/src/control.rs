//! Cancelling a call (`tasks.cancel`, Ray's `ray.cancel`): the flag the
//! runtime raises and an instance watches.
//!
//! One [`TaskControl`] per call, kept beside its pending results (the
//! object store's producer of each), so a cancel finds it from any of them
//! without a table of calls. The runtime raises it; what happens then
//! depends on how far the call got:
//! - not started (waiting for arguments, resources or a slot): its task is
//!   aborted where it waits, so it never runs;
//! - running, not forced: a guest running its own code stops at its next
//!   epoch tick; a `get` it is blocked in fails with `task-cancelled` (the
//!   guest may then clean up and return: it is not interrupted after that,
//!   as after Ray's `KeyboardInterrupt`), a `wait` returns;
//! - forced: its task is aborted, the instance dropped wherever it is.
//!
//! It also remembers the calls the task submitted (`recursive` cancels
//! them) and, for a task placed on another node, which node runs it.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use wrun_core::{JobId, NodeId, TaskId};
use wrun_objects::Stream;

const LIVE: u8 = 0;
const CANCELLED: u8 = 1;
const FORCED: u8 = 2;

/// What kind of call a control belongs to (what a cancel may do to it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// A task: cancelled waiting or running, forced or not.
    Task,
    /// A method of an actor of this node: cancelled while queued.
    ActorMethod,
    /// A method of an actor of another node: cancelled there, while queued.
    RemoteActorMethod,
}

/// Why a call was cancelled (what its error says).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelCause {
    /// Someone asked (`tasks.cancel`, or a cancel of what submitted it).
    Asked,
    /// Its job's driver ended: as in Ray, what the driver submitted and
    /// still runs goes with it.
    DriverEnded,
}

impl CancelCause {
    /// What the error of a call cancelled so says.
    pub fn reason(self) -> &'static str {
        match self {
            CancelCause::Asked => "the call was cancelled (tasks.cancel)",
            CancelCause::DriverEnded => {
                "its job's driver ended: what a driver leaves running ends with it, as in Ray"
            }
        }
    }
}

/// The cancellation state of one call.
pub struct TaskControl {
    /// The job that made the call (another job's cancel finds nothing).
    pub job: JobId,
    /// What kind of call it is.
    pub kind: CallKind,
    state: AtomicU8,
    /// Why, once cancelled (`true`: its driver ended).
    driver_ended: AtomicBool,
    /// Aborts the runtime's task of the call (set once it is spawned).
    abort: OnceLock<AbortHandle>,
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
    /// The items it yielded, when it is a streaming call (readers of its
    /// stream object find them here, through the object's producer).
    stream: OnceLock<Arc<Stream>>,
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
    /// A live call of `job`.
    pub fn new(job: JobId, kind: CallKind) -> Arc<Self> {
        Arc::new(TaskControl {
            job,
            kind,
            state: AtomicU8::new(LIVE),
            driver_ended: AtomicBool::new(false),
            abort: OnceLock::new(),
            started: AtomicBool::new(false),
            recursive: AtomicBool::new(false),
            changed: Notify::new(),
            children: Mutex::new(Vec::new()),
            peer: Mutex::new(None),
            stream: OnceLock::new(),
        })
    }

    /// Makes it a streaming call, yielding into `stream`.
    pub fn set_stream(&self, stream: Arc<Stream>) {
        let _ = self.stream.set(stream);
    }

    /// Its items, when it is a streaming call.
    pub fn stream(&self) -> Option<&Arc<Stream>> {
        self.stream.get()
    }

    /// Cancels it (`force`: drop its instance at once): a call that must
    /// stop where it is ([`Self::must_stop`]) has its task aborted, a
    /// running one is told. Whether this changed anything (a second, weaker
    /// cancel does not).
    pub fn cancel(&self, force: bool, recursive: bool) -> bool {
        self.cancel_because(force, recursive, CancelCause::Asked)
    }

    /// As [`Self::cancel`], saying why (the first cause given is kept).
    pub fn cancel_because(&self, force: bool, recursive: bool, cause: CancelCause) -> bool {
        let to = if force { FORCED } else { CANCELLED };
        if cause == CancelCause::DriverEnded && !self.is_cancelled() {
            self.driver_ended.store(true, Ordering::Relaxed);
        }
        if recursive {
            self.recursive.store(true, Ordering::Relaxed);
        }
        let before = self.state.fetch_max(to, Ordering::AcqRel);
        if before >= to {
            return false;
        }
        if self.must_stop() {
            if let Some(a) = self.abort.get() {
                a.abort();
            }
        }
        self.changed.notify_waiters();
        true
    }

    /// The handle that aborts the call's task (a cancel that came before
    /// it aborts it now).
    pub fn set_abort(&self, abort: AbortHandle) {
        if self.must_stop() {
            abort.abort();
        }
        let _ = self.abort.set(abort);
    }

    /// Whether it was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.state.load(Ordering::Acquire) != LIVE
    }

    /// Why it was cancelled (meaningful once it is).
    pub fn cause(&self) -> CancelCause {
        if self.driver_ended.load(Ordering::Relaxed) {
            CancelCause::DriverEnded
        } else {
            CancelCause::Asked
        }
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

    /// Marks it running in an instance (an unforced cancel now interrupts
    /// it instead of aborting its task).
    pub fn start(&self) {
        self.started.store(true, Ordering::Release);
    }

    /// Resolves once it is cancelled (a guest blocked in `get` or `wait`
    /// hears of it here).
    pub async fn cancelled(&self) {
        notified_until(&self.changed, || self.is_cancelled()).await;
    }

    /// Resolves once a guest blocked in a host call is to hear of a cancel:
    /// an unforced one. A forced cancel aborts the call's task, which drops
    /// this wait; until the abort lands the wait stays pending, so the
    /// guest never runs on to see it (it could before, on a busy machine).
    pub async fn cancelled_for_guest(&self) {
        self.cancelled().await;
        if self.state.load(Ordering::Acquire) == FORCED && self.abort.get().is_some() {
            std::future::pending::<()>().await;
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

/// Resolves once `done()` holds, checking it each time `told` is notified
/// (`notify_waiters`); registered before each check, so a change between
/// the check and the wait still wakes it.
pub(crate) async fn notified_until(told: &Notify, done: impl Fn() -> bool) {
    loop {
        let changed = told.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        if done() {
            return;
        }
        changed.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use wrun_core::Id;

    fn control() -> Arc<TaskControl> {
        TaskControl::new(JobId(Id { hi: 1, lo: 1 }), CallKind::Task)
    }

    /// A task that runs until aborted, with its control.
    fn parked() -> (Arc<TaskControl>, tokio::task::JoinHandle<()>) {
        let c = control();
        let task = tokio::spawn(std::future::pending::<()>());
        c.set_abort(task.abort_handle());
        (c, task)
    }

    #[tokio::test]
    async fn a_cancel_before_start_aborts_and_after_start_only_a_force_does() {
        let (waiting, task) = parked();
        assert!(waiting.cancel(false, false));
        assert!(
            !waiting.cancel(false, false),
            "a second cancel changes nothing"
        );
        let e = tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap();
        assert!(
            e.unwrap_err().is_cancelled(),
            "a call cancelled before it started is aborted"
        );

        let (running, task) = parked();
        running.start();
        let heard = tokio::spawn({
            let r = running.clone();
            async move { r.cancelled().await }
        });
        tokio::task::yield_now().await;
        running.cancel(false, true);
        assert!(running.is_cancelled() && running.is_recursive());
        assert!(
            !running.must_stop(),
            "a running call is interrupted, not aborted"
        );
        tokio::time::timeout(Duration::from_secs(5), heard)
            .await
            .expect("a blocked guest hears of the cancel")
            .unwrap();
        assert!(!task.is_finished());
        assert!(running.cancel(true, false), "force is stronger");
        let e = tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap();
        assert!(
            e.unwrap_err().is_cancelled(),
            "a forced cancel aborts a running call"
        );
    }

    #[tokio::test]
    async fn a_guest_hears_of_an_unforced_cancel_only() {
        let (unforced, _task) = parked();
        unforced.start();
        unforced.cancel(false, false);
        tokio::time::timeout(Duration::from_secs(5), unforced.cancelled_for_guest())
            .await
            .expect("an unforced cancel reaches the guest");
        let (forced, _task) = parked();
        forced.start();
        forced.cancel(true, false);
        assert!(
            tokio::time::timeout(Duration::from_millis(100), forced.cancelled_for_guest())
                .await
                .is_err(),
            "a forced cancel is the abort's to end, never the guest's to hear"
        );
        // Without a task to abort (no handle), a forced cancel is heard.
        let bare = control();
        bare.start();
        bare.cancel(true, false);
        tokio::time::timeout(Duration::from_secs(5), bare.cancelled_for_guest())
            .await
            .expect("nothing else would end the wait");
    }

    #[tokio::test]
    async fn a_cancel_that_came_before_the_task_was_spawned_aborts_it_then() {
        let c = control();
        c.cancel(false, false);
        let task = tokio::spawn(std::future::pending::<()>());
        c.set_abort(task.abort_handle());
        let e = tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .unwrap();
        assert!(e.unwrap_err().is_cancelled());
    }

    #[test]
    fn a_cancel_keeps_its_first_cause() {
        let ended = control();
        ended.cancel_because(true, true, CancelCause::DriverEnded);
        ended.cancel(true, true);
        assert_eq!(ended.cause(), CancelCause::DriverEnded);
        assert!(ended.cause().reason().contains("driver ended"));
        let asked = control();
        asked.cancel(false, false);
        asked.cancel_because(true, true, CancelCause::DriverEnded);
        assert_eq!(asked.cause(), CancelCause::Asked, "asked first");
    }

    #[test]
    fn children_are_kept_while_they_live() {
        let parent = control();
        let kept = control();
        parent.adopt(&kept);
        for _ in 0..200 {
            parent.adopt(&control());
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
