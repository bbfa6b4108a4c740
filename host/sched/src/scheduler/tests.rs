//! The scheduler's unit tests.

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
