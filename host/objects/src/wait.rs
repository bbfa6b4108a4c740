//! Readers: `get` of one object and `wait` for several. A reader registers
//! one [`WaitSet`] on the slots it waits for (no task or channel per object)
//! and removes it from the slots still pending when it goes, however it
//! goes (ready, timed out, dropped).

use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use tokio::sync::Notify;
use wrun_core::{ErrorKind, TaskError};

use crate::store::{lost, Held, ObjectStore, Slot, State};
use crate::waiters::{WaitSet, Waiter};
use crate::ObjectValue;

/// The longest one question to an owner waits (asked again while the
/// reader's wait lasts).
const ASK_AT_MOST: std::time::Duration = std::time::Duration::from_secs(10);

/// The owners a `wait` without `fetch_local` is asking; stopped when it
/// returns, however it returns.
struct Askers(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Askers {
    fn drop(&mut self) {
        for a in &self.0 {
            a.abort();
        }
    }
}

/// The slots a reader registered with; unregisters on drop.
struct Registrations {
    set: Arc<WaitSet>,
    slots: Vec<Arc<Slot>>,
}

impl Registrations {
    fn new() -> Self {
        Registrations {
            set: Arc::new(WaitSet {
                notify: Notify::new(),
                fired: Mutex::new(Vec::new()),
            }),
            slots: Vec::new(),
        }
    }

    /// Waits for the next objects to fire, until `deadline`; their indexes,
    /// or `None` past the deadline.
    async fn next(&self, deadline: Option<Instant>) -> Option<Vec<usize>> {
        loop {
            let fired = std::mem::take(&mut *self.set.fired.lock());
            if !fired.is_empty() {
                return Some(fired);
            }
            let notified = self.set.notify.notified();
            match deadline {
                Some(d) => tokio::time::timeout_at(d.into(), notified).await.ok()?,
                None => notified.await,
            }
        }
    }
}

impl Drop for Registrations {
    fn drop(&mut self) {
        for slot in &self.slots {
            if let State::Pending(w) = &mut slot.inner.lock().state {
                w.retain(|w| !Arc::ptr_eq(&w.set, &self.set));
            }
        }
    }
}

fn get_timeout(id: wrun_core::ObjectId) -> TaskError {
    TaskError::new(
        ErrorKind::GetTimeout,
        "get",
        format!("object {id} was not ready before the timeout"),
    )
}

impl ObjectStore {
    /// The object's value once it is ready (or its error), waiting until
    /// `deadline` at most.
    pub async fn get(
        self: &Arc<Self>,
        held: &Held,
        deadline: Option<Instant>,
    ) -> Result<ObjectValue, TaskError> {
        let slot = &held.slot;
        loop {
            let regs = {
                let mut g = slot.inner.lock();
                if matches!(g.state, State::Remote) {
                    self.begin_fetch(slot, &mut g);
                }
                match &mut g.state {
                    State::Ready(r) => match &r.data {
                        Some(d) => {
                            return Ok(ObjectValue {
                                data: d.clone(),
                                refs: r.refs.clone(),
                            })
                        }
                        None => None,
                    },
                    State::Failed(e) => return Err(e.clone()),
                    State::Freed => return Err(lost(slot.id)),
                    State::Remote => return Err(lost(slot.id)),
                    State::Pending(waiters) => {
                        let mut regs = Registrations::new();
                        waiters.push(Waiter {
                            set: regs.set.clone(),
                            index: 0,
                        });
                        regs.slots.push(slot.clone());
                        Some(regs)
                    }
                }
            };
            match regs {
                None => return self.restore(slot).await,
                Some(regs) => {
                    if regs.next(deadline).await.is_none() {
                        return Err(get_timeout(slot.id));
                    }
                }
            }
        }
    }

    /// Waits until `num_ready` of `refs` are ready (failed counts as ready)
    /// or `deadline` passes; which are ready. Waiting for a borrowed object
    /// pulls it (as Ray's `wait(fetch_local=True)`).
    pub async fn wait(
        self: &Arc<Self>,
        refs: &[&Held],
        num_ready: usize,
        deadline: Option<Instant>,
    ) -> Vec<bool> {
        self.wait_where(refs, num_ready, deadline, true).await
    }

    /// [`ObjectStore::wait`]; without `fetch_local`, a borrowed object is
    /// ready once its owner has it (Ray's `wait(fetch_local=False)`): the
    /// owner is asked, and nothing is pulled here.
    pub async fn wait_where(
        self: &Arc<Self>,
        refs: &[&Held],
        num_ready: usize,
        deadline: Option<Instant>,
        fetch_local: bool,
    ) -> Vec<bool> {
        let want = num_ready.min(refs.len());
        let mut ready = vec![false; refs.len()];
        let mut regs = Registrations::new();
        let mut asking = Askers(Vec::new());
        let mut count = 0;
        for (i, h) in refs.iter().enumerate() {
            let mut g = h.slot.inner.lock();
            let open = deadline.is_none_or(|d| d > Instant::now());
            if matches!(g.state, State::Remote) && open && count < want {
                if !fetch_local {
                    drop(g);
                    asking.0.push(self.ask_owner(h, i, &regs.set, deadline));
                    continue;
                }
                self.begin_fetch(&h.slot, &mut g);
            }
            match &mut g.state {
                State::Pending(waiters) if count < want => {
                    waiters.push(Waiter {
                        set: regs.set.clone(),
                        index: i,
                    });
                    drop(g);
                    regs.slots.push(h.slot.clone());
                }
                State::Pending(_) | State::Remote => {}
                _ => {
                    ready[i] = true;
                    count += 1;
                }
            }
        }
        if count >= want || (regs.slots.is_empty() && asking.0.is_empty()) {
            // Objects registered before the count was reached may be ready
            // too; say so.
            drop(regs);
            for (i, h) in refs.iter().enumerate() {
                ready[i] = ready[i] || h.is_ready();
            }
            return ready;
        }
        while count < want {
            let Some(fired) = regs.next(deadline).await else {
                break;
            };
            for i in fired {
                if !ready[i] {
                    ready[i] = true;
                    count += 1;
                }
            }
        }
        ready
    }

    /// Asks the owner of the borrowed object `h` until it says the object is
    /// ready (or cannot be asked: a get would fail at once, not wait), then
    /// fires `index` in `set`; gives up at `deadline`.
    fn ask_owner(
        &self,
        h: &Held,
        index: usize,
        set: &Arc<WaitSet>,
        deadline: Option<Instant>,
    ) -> tokio::task::JoinHandle<()> {
        let (owner, id) = (h.owner(), h.id());
        let transport = self.transport.clone();
        let set = set.clone();
        tokio::spawn(async move {
            loop {
                let left =
                    deadline.map_or(ASK_AT_MOST, |d| d.saturating_duration_since(Instant::now()));
                let ready = transport
                    .ready(owner, id, left.min(ASK_AT_MOST))
                    .await
                    .unwrap_or(true);
                if ready {
                    set.fired.lock().push(index);
                    set.notify.notify_one();
                    return;
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return;
                }
            }
        })
    }

    /// Waiters registered on pending objects (for tests: readers that went
    /// leave none behind).
    pub fn waiters(&self) -> usize {
        let entries: Vec<Arc<Slot>> = self.entries.lock().values().cloned().collect();
        entries
            .iter()
            .map(|s| match &s.inner.lock().state {
                State::Pending(w) => w.len(),
                _ => 0,
            })
            .sum()
    }
}
