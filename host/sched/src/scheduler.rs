//! The scheduler of one node: resource accounting and a queue for work that
//! does not fit yet.
//!
//! The queue is ordered by nesting depth first (deeper first), then by
//! submission order: a task submitted by a running task is a step towards
//! finishing work already under way, so running it first keeps the number of
//! live, blocked instances proportional to the depth of a task tree rather
//! than to its breadth. Work that fits is granted even when work queued ahead
//! of it does not (backfill), so a task waiting for a custom resource never
//! stalls CPU-only work.
//!
//! A request that fits is granted synchronously, without allocating; one that
//! waits is an [`Acquire`] future that gives its resources back if it is
//! dropped at any point, even after the scheduler granted it and before it
//! was polled again (an aborted task, a killed actor).
//!
//! A placement group's bundle has a scheduler of its own, closed when the
//! group is released: its queued requests are refused, new ones too, and
//! [`Scheduler::closed`] tells the work running on its grants to stop.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use parking_lot::Mutex;
use tokio::sync::{oneshot, Notify};
use wrun_core::{Infeasible, Resources};

/// Resources held by one running task or actor. Dropping gives them back.
pub struct Grant {
    scheduler: Arc<Scheduler>,
    resources: Resources,
    cpu_lent: bool,
}

impl Grant {
    /// Gives the CPU share back while the holder is blocked.
    pub fn lend_cpu(&mut self) {
        if !self.cpu_lent && self.resources.cpu_millis > 0 {
            self.cpu_lent = true;
            self.scheduler.give_back(&self.resources.cpu_only());
        }
    }

    /// Takes the CPU share back when the holder resumes (possibly over the
    /// total for a moment: a resumed holder does not wait).
    pub fn reclaim_cpu(&mut self) {
        if self.cpu_lent {
            self.cpu_lent = false;
            self.scheduler.take_over(&self.resources.cpu_only());
        }
    }

    /// What it holds.
    pub fn resources(&self) -> &Resources {
        &self.resources
    }
}

impl Drop for Grant {
    fn drop(&mut self) {
        let mut back = std::mem::take(&mut self.resources);
        if self.cpu_lent {
            back.cpu_millis = 0;
        }
        self.scheduler.give_back(&back);
    }
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Grant({}, lent: {})", self.resources, self.cpu_lent)
    }
}

struct Waiter {
    request: Resources,
    wake: oneshot::Sender<()>,
}

/// Queue order: highest priority first, then oldest first.
type QueueKey = (Reverse<u32>, u64);

/// Why a request was not granted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// It can never fit.
    #[error(transparent)]
    Infeasible(#[from] Infeasible),
    /// The scheduler was closed (its placement-group bundle was released).
    #[error("the placement group bundle it waited for was released")]
    Closed,
}

struct State {
    /// Closed: nothing is granted any more.
    closed: bool,
    available: Resources,
    queue: BTreeMap<QueueKey, Waiter>,
    /// Queued requests that need no CPU (they may fit when no CPU is free).
    queued_without_cpu: usize,
    seq: u64,
}

impl State {
    fn ahead_of(&self, priority: u32) -> bool {
        self.queue
            .first_key_value()
            .is_some_and(|((Reverse(p), _), _)| *p >= priority)
    }

    /// Grants queued requests that fit now, in queue order. Stops as soon as
    /// no CPU is left and every queued request needs some, so a release costs
    /// O(log n) in the common case rather than a scan of the whole queue.
    fn dispatch(&mut self) {
        let mut granted = Vec::new();
        for (key, w) in self.queue.iter() {
            if self.available.cpu_millis <= 0 && self.queued_without_cpu == 0 {
                break;
            }
            if w.request.fits_in(&self.available) {
                self.available.take(&w.request);
                granted.push(*key);
            }
        }
        for key in granted {
            let Some(w) = self.queue.remove(&key) else {
                continue;
            };
            if w.request.cpu_millis == 0 {
                self.queued_without_cpu -= 1;
            }
            // The receiver lives until its `Acquire` is dropped, and that
            // drop takes this lock first: the send cannot fail.
            let _ = w.wake.send(());
        }
    }
}

/// The scheduler of one node (and of each placement-group bundle, whose
/// total is the bundle).
pub struct Scheduler {
    total: Resources,
    state: Mutex<State>,
    /// Woken when the scheduler closes.
    closing: Notify,
}

impl Scheduler {
    /// A scheduler handing out `total`.
    pub fn new(total: Resources) -> Arc<Self> {
        Arc::new(Scheduler {
            state: Mutex::new(State {
                closed: false,
                available: total.clone(),
                queue: BTreeMap::new(),
                queued_without_cpu: 0,
                seq: 0,
            }),
            total,
            closing: Notify::new(),
        })
    }

    /// Closes it: queued requests are refused ([`Refused::Closed`]), as are
    /// new ones, and [`closed`](Self::closed) completes for those holding
    /// its grants (which still give their resources back when dropped).
    pub fn close(&self) {
        let queued = {
            let mut st = self.state.lock();
            st.closed = true;
            st.queued_without_cpu = 0;
            std::mem::take(&mut st.queue)
        };
        // Dropping a waiter's sender refuses its `Acquire`.
        drop(queued);
        self.closing.notify_waiters();
    }

    /// Completes once the scheduler is closed.
    pub async fn closed(&self) {
        let mut notified = std::pin::pin!(self.closing.notified());
        notified.as_mut().enable();
        if self.state.lock().closed {
            return;
        }
        notified.await;
    }

    /// Waits until `request` fits, reserves it and returns the grant that
    /// gives it back when dropped. Higher `priority` goes first. Granted at
    /// once, without waiting, when it fits now and nothing of at least its
    /// priority waits ahead of it.
    pub fn acquire(self: &Arc<Self>, request: Resources, priority: u32) -> Acquire {
        if let Some(reason) = request.infeasible_in(&self.total) {
            return Acquire(AcquireState::Done(Err(Refused::Infeasible(Infeasible {
                request: request.to_string(),
                reason,
            }))));
        }
        let mut st = self.state.lock();
        if st.closed {
            return Acquire(AcquireState::Done(Err(Refused::Closed)));
        }
        if !st.ahead_of(priority) && request.fits_in(&st.available) {
            st.available.take(&request);
            drop(st);
            return Acquire(AcquireState::Done(Ok(self.grant(request))));
        }
        let (tx, rx) = oneshot::channel();
        st.seq += 1;
        let key = (Reverse(priority), st.seq);
        if request.cpu_millis == 0 {
            st.queued_without_cpu += 1;
        }
        st.queue.insert(
            key,
            Waiter {
                request: request.clone(),
                wake: tx,
            },
        );
        st.dispatch();
        drop(st);
        Acquire(AcquireState::Queued(Queued {
            scheduler: self.clone(),
            key,
            request,
            rx,
            done: false,
        }))
    }

    /// Reserves `request` if it fits now and nothing of at least its
    /// priority waits ahead of it.
    pub fn try_acquire(self: &Arc<Self>, request: &Resources, priority: u32) -> Option<Grant> {
        {
            let mut st = self.state.lock();
            if st.closed || st.ahead_of(priority) || !request.fits_in(&st.available) {
                return None;
            }
            st.available.take(request);
        }
        Some(self.grant(request.clone()))
    }

    fn grant(self: &Arc<Self>, resources: Resources) -> Grant {
        Grant {
            scheduler: self.clone(),
            resources,
            cpu_lent: false,
        }
    }

    fn give_back(&self, resources: &Resources) {
        let mut st = self.state.lock();
        st.available.add_all(resources);
        st.dispatch();
    }

    fn take_over(&self, resources: &Resources) {
        self.state.lock().available.take(resources);
    }

    /// What is free now.
    pub fn available(&self) -> Resources {
        self.state.lock().available.clone()
    }

    /// What it hands out in all.
    pub fn total(&self) -> &Resources {
        &self.total
    }

    /// Requests waiting in the queue.
    pub fn queued(&self) -> usize {
        self.state.lock().queue.len()
    }

    /// CPUs in use here plus those that queued work like `r` would take,
    /// per CPU it has (1.0: busy with nothing waiting).
    pub fn load(&self, r: &Resources) -> f64 {
        let st = self.state.lock();
        let total = self.total.cpu_millis.max(1);
        let used = total - st.available.cpu_millis;
        (used + st.queue.len() as i64 * r.cpu_millis) as f64 / total as f64
    }

    /// What the queue waits for: each distinct request and how many wait
    /// with it, most common first.
    pub fn waiting(&self) -> Vec<(Resources, usize)> {
        let st = self.state.lock();
        let mut out: Vec<(Resources, usize)> = Vec::new();
        for w in st.queue.values() {
            match out.iter_mut().find(|(r, _)| *r == w.request) {
                Some((_, n)) => *n += 1,
                None => out.push((w.request.clone(), 1)),
            }
        }
        out.sort_by_key(|w| Reverse(w.1));
        out
    }
}

/// A request on its way to a [`Grant`]; see [`Scheduler::acquire`].
#[must_use = "a request is only granted when awaited"]
pub struct Acquire(AcquireState);

enum AcquireState {
    Done(Result<Grant, Refused>),
    Queued(Queued),
    Taken,
}

struct Queued {
    scheduler: Arc<Scheduler>,
    key: QueueKey,
    request: Resources,
    rx: oneshot::Receiver<()>,
    /// The grant was handed out: nothing to undo.
    done: bool,
}

impl Drop for Queued {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut st = self.scheduler.state.lock();
        if st.queue.remove(&self.key).is_some() {
            if self.request.cpu_millis == 0 {
                st.queued_without_cpu -= 1;
            }
            return;
        }
        // Dispatch granted it (and subtracted the resources) but nobody
        // took the grant: give the resources back.
        if self.rx.try_recv().is_ok() {
            st.available.add_all(&self.request);
            st.dispatch();
        }
    }
}

impl Future for Acquire {
    type Output = Result<Grant, Refused>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            AcquireState::Queued(q) => match Pin::new(&mut q.rx).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(())) => q.done = true,
                // `close` dropped the sender: never granted, nothing to undo.
                Poll::Ready(Err(_)) => {
                    q.done = true;
                    self.0 = AcquireState::Done(Err(Refused::Closed));
                }
            },
            AcquireState::Done(_) => {}
            AcquireState::Taken => panic!("`Acquire` polled after it completed"),
        }
        match std::mem::replace(&mut self.0, AcquireState::Taken) {
            AcquireState::Done(out) => Poll::Ready(out),
            AcquireState::Queued(q) => {
                let grant = q.scheduler.grant(q.request.clone());
                Poll::Ready(Ok(grant))
            }
            AcquireState::Taken => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests;
