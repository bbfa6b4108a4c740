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
mod tests {
    use super::*;
    use std::task::Waker;

    /// Polls once without a runtime: `Some` when it completed.
    fn poll_once(f: &mut Acquire) -> Option<Result<Grant, Refused>> {
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(f).poll(&mut cx) {
            Poll::Ready(r) => Some(r),
            Poll::Pending => None,
        }
    }

    #[test]
    fn a_request_that_fits_is_granted_at_once() {
        let s = Scheduler::new(Resources::new(2.0, 1000));
        let mut a = s.acquire(Resources::new(1.5, 0), 0);
        let g = poll_once(&mut a).expect("granted without waiting").unwrap();
        assert_eq!(s.available().cpu_millis, 500);
        drop(g);
        assert_eq!(&s.available(), s.total());
    }

    #[test]
    fn work_queues_when_full_and_is_granted_when_resources_return() {
        let s = Scheduler::new(Resources::new(2.0, 1000));
        let a = poll_once(&mut s.acquire(Resources::new(1.5, 0), 0))
            .unwrap()
            .unwrap();
        let mut waiting = s.acquire(Resources::new(1.0, 0), 0);
        assert!(poll_once(&mut waiting).is_none(), "1 CPU is not free");
        assert_eq!(s.queued(), 1);
        drop(a);
        let b = poll_once(&mut waiting)
            .expect("granted on release")
            .unwrap();
        assert_eq!(s.available().cpu_millis, 1000);
        drop(b);
        assert_eq!(&s.available(), s.total());
    }

    /// The leak the issue "One clear core" found: the scheduler granted a
    /// queued request and woke it, then its future was dropped before it ran
    /// again (a killed actor waiting for its CPU).
    #[test]
    fn a_request_dropped_after_it_was_granted_gives_its_resources_back() {
        let s = Scheduler::new(Resources::new(1.0, 0));
        let holder = poll_once(&mut s.acquire(Resources::new(1.0, 0), 0))
            .unwrap()
            .unwrap();
        let mut waiting = s.acquire(Resources::new(1.0, 0), 0);
        assert!(poll_once(&mut waiting).is_none());
        drop(holder); // dispatch grants `waiting` and sends its wake-up
        assert_eq!(s.available().cpu_millis, 0, "granted to the waiter");
        drop(waiting); // ... which is dropped before it is polled
        assert_eq!(&s.available(), s.total(), "the grant came back");
        // And a waiter dropped while still queued leaves the queue.
        let holder = poll_once(&mut s.acquire(Resources::new(1.0, 0), 0))
            .unwrap()
            .unwrap();
        let mut queued = s.acquire(Resources::new(1.0, 0), 0);
        assert!(poll_once(&mut queued).is_none());
        drop(queued);
        assert_eq!(s.queued(), 0);
        drop(holder);
        assert_eq!(&s.available(), s.total());
    }

    #[test]
    fn a_blocked_holder_lends_its_cpu_to_others() {
        let s = Scheduler::new(Resources::new(1.0, 0));
        let mut parent = poll_once(&mut s.acquire(Resources::new(1.0, 0), 0))
            .unwrap()
            .unwrap();
        let mut child = s.acquire(Resources::new(1.0, 0), 1);
        assert!(poll_once(&mut child).is_none());
        parent.lend_cpu();
        let child = poll_once(&mut child)
            .expect("the child runs while its parent is blocked")
            .unwrap();
        parent.reclaim_cpu();
        drop(child);
        drop(parent);
        assert_eq!(&s.available(), s.total());
    }

    #[test]
    fn impossible_requests_are_refused_with_the_reason() {
        let s = Scheduler::new(Resources::new(2.0, 0));
        let err = poll_once(&mut s.acquire(Resources::new(0.0, 0).with_custom("gpu", 1.0), 0))
            .unwrap()
            .unwrap_err();
        assert!(err.to_string().contains("custom resource `gpu`"), "{err}");
    }

    #[test]
    fn work_that_fits_is_not_stuck_behind_work_that_does_not() {
        let total = Resources::new(4.0, 0).with_custom("license", 1.0);
        let s = Scheduler::new(total);
        let req = Resources::new(1.0, 0).with_custom("license", 1.0);
        let g = poll_once(&mut s.acquire(req.clone(), 0)).unwrap().unwrap();
        let mut second = s.acquire(req, 0);
        assert!(poll_once(&mut second).is_none(), "only one license exists");
        let mut cpu_only = s.acquire(Resources::new(1.0, 0), 0);
        let cpu_only = poll_once(&mut cpu_only)
            .expect("CPU-only work is granted past it")
            .unwrap();
        drop(cpu_only);
        drop(g);
        assert!(poll_once(&mut second).is_some());
    }

    #[tokio::test]
    async fn a_closed_scheduler_refuses_what_waits_and_tells_its_holders() {
        let s = Scheduler::new(Resources::new(1.0, 0));
        let held = s.acquire(Resources::new(1.0, 0), 0).await.unwrap();
        let mut queued = s.acquire(Resources::new(1.0, 0), 0);
        assert!(poll_once(&mut queued).is_none());
        let s2 = s.clone();
        let holder = tokio::spawn(async move { s2.closed().await });
        tokio::task::yield_now().await;
        s.close();
        holder.await.unwrap();
        assert_eq!(queued.await.unwrap_err(), Refused::Closed);
        assert_eq!(
            s.acquire(Resources::new(0.5, 0), 0).await.unwrap_err(),
            Refused::Closed
        );
        assert!(s.try_acquire(&Resources::new(0.0, 0), 0).is_none());
        s.closed().await; // at once, once closed
        drop(held);
        assert_eq!(&s.available(), s.total(), "the holder gave its grant back");
    }

    #[tokio::test]
    async fn a_queued_request_wakes_its_task() {
        let s = Scheduler::new(Resources::new(1.0, 0));
        let g = s.acquire(Resources::new(1.0, 0), 0).await.unwrap();
        let s2 = s.clone();
        let waiter = tokio::spawn(async move { s2.acquire(Resources::new(1.0, 0), 0).await });
        while s.queued() == 0 {
            tokio::task::yield_now().await;
        }
        drop(g);
        let g = waiter.await.unwrap().unwrap();
        assert_eq!(g.resources(), &Resources::new(1.0, 0));
    }
}
