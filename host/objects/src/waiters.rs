//! A reader's registration in the objects it waits for: one set per reader
//! (a `get` or a `wait`), fired by each object as it becomes ready.

use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::Notify;

/// What one reader waits on: which of its objects became ready.
pub(crate) struct WaitSet {
    pub(crate) notify: Notify,
    pub(crate) fired: Mutex<Vec<usize>>,
}

/// A reader's entry in a pending slot.
pub(crate) struct Waiter {
    pub(crate) set: Arc<WaitSet>,
    pub(crate) index: usize,
}

impl Waiter {
    /// Tells the reader that object `index` of its set is ready.
    pub(crate) fn fire(&self) {
        self.set.fired.lock().push(self.index);
        // Stores a permit when the reader is not waiting yet.
        self.set.notify.notify_one();
    }
}
