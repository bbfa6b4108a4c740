//! The store's behaviour, with real stores (two of them as two nodes, over
//! a direct transport: the cluster's tests run the same over gRPC).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use wrun_core::{ErrorKind, IdGen, NodeId, ObjectId, TaskError};

use crate::{
    BoxFuture, Fetched, Held, NoTransport, ObjectStore, ObjectTransport, ObjectValue, StoreConfig,
};

fn store_on(
    node: u64,
    cap: usize,
    dir: &std::path::Path,
    t: Arc<dyn ObjectTransport>,
) -> Arc<ObjectStore> {
    ObjectStore::new(
        Arc::new(IdGen::for_node(NodeId(node))),
        StoreConfig {
            memory_cap: cap,
            spill_dir: dir.to_path_buf(),
        },
        t,
    )
}

fn store(cap: usize, dir: &std::path::Path) -> Arc<ObjectStore> {
    store_on(1, cap, dir, Arc::new(NoTransport))
}

/// `n` objects of 400 bytes, object `i` filled with the byte `i`.
fn put_filled(s: &Arc<ObjectStore>, n: u8) -> Vec<Held> {
    (0..n)
        .map(|i| s.put(ObjectValue::from_bytes(vec![i; 400])))
        .collect()
}

/// Waits for `cond` under a deadline.
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "{what} never happened");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn objects_are_freed_with_their_last_reference_and_nested_ones_after() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(1 << 20, dir.path());
    let inner = s.put(ObjectValue::from_bytes(vec![1; 10]));
    let outer = s.put(ObjectValue {
        data: Bytes::from_static(b"x"),
        refs: vec![inner.clone()],
    });
    let copy = outer.clone();
    let read = outer.get(None).await.unwrap();
    assert_eq!(
        read.refs[0].id(),
        inner.id(),
        "reading hands out counted copies"
    );
    drop(read);
    drop(inner);
    assert_eq!(
        s.stats().objects,
        2,
        "the nested ref keeps the inner object"
    );
    drop(outer);
    assert_eq!(s.stats().objects, 2, "a clone still holds the outer object");
    drop(copy);
    assert_eq!(s.stats().objects, 0);
    assert_eq!(s.stats().bytes_in_memory, 0);
}

#[tokio::test]
async fn pending_objects_wake_readers_and_carry_errors() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(1 << 20, dir.path());
    let (a, pa) = s.pending();
    let (b, pb) = s.pending();
    tokio::spawn(async move {
        pa.fulfil(Ok(ObjectValue::from_bytes(&b"done"[..])));
        pb.fulfil(Err(TaskError::new(ErrorKind::Application, "t", "boom")));
    });
    assert_eq!(&a.get(None).await.unwrap().data[..], b"done");
    assert_eq!(b.get(None).await.unwrap_err().message, "boom");
    let (c, _pc) = s.pending();
    let err = c
        .get(Some(Instant::now() + Duration::from_millis(20)))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::GetTimeout);
}

/// The issue "One clear core" found timed-out readers left behind in the
/// object, one per `get` or `wait` that gave up.
#[tokio::test]
async fn readers_that_give_up_leave_no_waiter_behind() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(1 << 20, dir.path());
    let (x, px) = s.pending();
    let (y, _py) = s.pending();
    for _ in 0..50 {
        let soon = Some(Instant::now() + Duration::from_millis(1));
        assert!(x.get(soon).await.is_err());
        assert_eq!(s.wait(&[&x, &y], 1, soon).await, vec![false, false]);
    }
    assert_eq!(s.waiters(), 0);
    // A reader dropped while it waits goes too.
    let reader = {
        let x = x.clone();
        tokio::spawn(async move { x.get(None).await })
    };
    until("the reader registers", || s.waiters() == 1).await;
    reader.abort();
    until("the aborted reader leaves", || s.waiters() == 0).await;
    px.fulfil(Ok(ObjectValue::from_bytes(&b"x"[..])));
    assert_eq!(s.wait(&[&x, &y], 1, None).await, vec![true, false]);
    assert_eq!(s.waiters(), 0, "a satisfied wait unregisters from the rest");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_returns_once_enough_objects_are_ready() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(1 << 20, dir.path());
    let pending: Vec<_> = (0..100).map(|_| s.pending()).collect();
    let (held, promises): (Vec<Held>, Vec<_>) = pending.into_iter().unzip();
    let refs: Vec<&Held> = held.iter().collect();
    let mut promises = promises.into_iter();
    let first: Vec<_> = promises.by_ref().take(3).collect();
    tokio::spawn(async move {
        for p in first {
            tokio::time::sleep(Duration::from_millis(2)).await;
            p.fulfil(Ok(ObjectValue::default()));
        }
    });
    let ready = s
        .wait(&refs, 3, Some(Instant::now() + Duration::from_secs(10)))
        .await;
    assert_eq!(ready.iter().filter(|r| **r).count(), 3);
    assert!(ready[..3].iter().all(|r| *r));
    drop(promises);
}

#[tokio::test]
async fn objects_over_the_cap_spill_to_disk_and_come_back_intact() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(1000, dir.path());
    let held = put_filled(&s, 5);
    until("spilling", || s.stats().bytes_in_memory <= 1000).await;
    assert!(s.stats().spilled_objects >= 3, "{:?}", s.stats());
    for (i, h) in held.iter().enumerate() {
        let v = h.get(None).await.unwrap();
        assert_eq!(v.data.len(), 400);
        assert!(v.data.iter().all(|b| *b == i as u8));
    }
    assert!(s.stats().restores_total >= 3);
    drop(held);
    assert_eq!(s.stats().objects, 0);
    until("spill files removed", || {
        std::fs::read_dir(dir.path()).unwrap().count() == 0
    })
    .await;
}

/// Writers faster than the spiller cannot push memory past the cap and its
/// headroom: past them, a new object (put, or a result fulfilled) goes
/// straight to disk, and reads back intact.
#[tokio::test]
async fn puts_faster_than_the_spiller_stay_within_the_cap_and_headroom() {
    let dir = tempfile::tempdir().unwrap();
    let cap = 4 << 20;
    let s = store(cap, dir.path());
    let limit = cap + s.headroom();
    let mib = |i: u8| ObjectValue::from_bytes(vec![i; 1 << 20]);
    // The spiller is busy (a slow disk): the writers must not wait on it.
    s.spilling.store(true, std::sync::atomic::Ordering::Release);
    let mut held = Vec::new();
    for i in 0..40u8 {
        if i % 2 == 0 {
            held.push(s.put(mib(i)));
        } else {
            let (h, promise) = s.pending();
            promise.fulfil(Ok(mib(i)));
            held.push(h);
        }
        let now = s.stats().bytes_in_memory;
        assert!(
            now <= limit,
            "{now} bytes in memory after {} MiB, past {limit}",
            i + 1
        );
    }
    assert!(s.stats().spilled_objects >= 20, "{:?}", s.stats());
    for (i, h) in held.iter().enumerate() {
        let v = h.get(None).await.unwrap();
        assert!(
            v.data.len() == 1 << 20 && v.data.iter().all(|b| *b == i as u8),
            "object {i}"
        );
    }
    drop(held);
    until("spill files removed", || {
        std::fs::read_dir(dir.path()).unwrap().count() == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_readers_of_spilled_objects_all_get_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(1000, dir.path());
    let held = put_filled(&s, 6);
    let mut readers = tokio::task::JoinSet::new();
    for round in 0..60 {
        let h = held[round % held.len()].clone();
        readers.spawn(async move {
            let v = h.get(None).await.expect("a spilled object comes back");
            assert!(v.data.iter().all(|b| *b as usize == round % 6));
        });
    }
    while let Some(r) = readers.join_next().await {
        r.unwrap();
    }
    drop(held);
    assert_eq!(s.stats().objects, 0);
    until("spill files removed", || {
        std::fs::read_dir(dir.path()).unwrap().count() == 0
    })
    .await;
}

/// Another store as the owner, reached directly.
struct Link {
    owner: Arc<ObjectStore>,
    released: Mutex<Vec<(NodeId, ObjectId, u32)>>,
}

impl ObjectTransport for Link {
    fn fetch(
        &self,
        _owner: NodeId,
        id: ObjectId,
    ) -> BoxFuture<'static, Result<Fetched, TaskError>> {
        let owner = self.owner.clone();
        Box::pin(async move {
            // Long enough for every reader to find the transfer under way.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let h = owner.held(id).ok_or_else(|| crate::store::lost(id))?;
            let v = h.get(None).await?;
            Ok(Fetched {
                data: v.data,
                refs: v.refs.iter().map(|r| owner.export(r)).collect(),
            })
        })
    }

    fn ready(
        &self,
        _owner: NodeId,
        id: ObjectId,
        wait: Duration,
    ) -> BoxFuture<'static, Result<bool, TaskError>> {
        let owner = self.owner.clone();
        Box::pin(async move {
            let Some(h) = owner.held(id) else {
                return Ok(true);
            };
            Ok(owner.wait(&[&h], 1, Some(Instant::now() + wait)).await[0])
        })
    }

    fn release(&self, holder: NodeId, id: ObjectId, count: u32) {
        self.released.lock().push((holder, id, count));
        if holder == self.owner.node() {
            self.owner.release(id, count);
        }
    }
}

/// Records releases (the owner's side).
#[derive(Default)]
struct Recorder(Mutex<Vec<(NodeId, ObjectId, u32)>>);

impl ObjectTransport for Recorder {
    fn fetch(&self, _: NodeId, id: ObjectId) -> BoxFuture<'static, Result<Fetched, TaskError>> {
        Box::pin(async move { Err(crate::store::lost(id)) })
    }

    fn ready(
        &self,
        _: NodeId,
        id: ObjectId,
        _: Duration,
    ) -> BoxFuture<'static, Result<bool, TaskError>> {
        Box::pin(async move { Err(crate::store::lost(id)) })
    }

    fn release(&self, holder: NodeId, id: ObjectId, count: u32) {
        self.0.lock().push((holder, id, count));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn borrowed_objects_are_pulled_once_and_their_references_given_back() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let owner = store_on(1, 1 << 20, dir.path(), recorder.clone());
    let link = Arc::new(Link {
        owner: owner.clone(),
        released: Mutex::new(Vec::new()),
    });
    let borrower = store_on(2, 1 << 20, dir.path(), link.clone());
    let nested = owner.put(ObjectValue::from_bytes(vec![1u8; 10]));
    let x = owner.put(ObjectValue {
        data: Bytes::from(vec![7u8; 1000]),
        refs: vec![nested.clone()],
    });
    drop(nested);
    // Sent twice: the owner counts a reference per send.
    let held: Vec<Held> = (0..2).map(|_| borrower.import(owner.export(&x))).collect();
    assert!(!held[0].is_ready(), "not pulled before it is read");
    assert_eq!(
        borrower.size_of(&held[0]),
        1000,
        "the sender's size travels"
    );
    let mut readers = tokio::task::JoinSet::new();
    for i in 0..8 {
        let h = held[i % 2].clone();
        readers.spawn(async move { h.get(None).await.unwrap() });
    }
    while let Some(r) = readers.join_next().await {
        let v = r.unwrap();
        assert_eq!(&v.data[..], &[7u8; 1000][..]);
        assert_eq!(v.refs.len(), 1, "nested references arrive counted");
    }
    assert_eq!(
        borrower.stats().fetches_total,
        1,
        "one transfer for 8 readers"
    );
    drop(held);
    until("the borrower frees both objects", || {
        borrower.stats().objects == 0
    })
    .await;
    let released = link.released.lock().clone();
    assert!(
        released.contains(&(owner.node(), x.id(), 2)),
        "both counted references go back in one release: {released:?}"
    );
    // The owner's own object coming back needs no second count.
    let back = owner.import(crate::WireRef {
        id: x.id(),
        holder: NodeId(2),
        size: 1000,
    });
    assert_eq!(recorder.0.lock().as_slice(), &[(NodeId(2), x.id(), 1)]);
    drop(back);
    drop(x);
    assert_eq!(owner.stats().objects, 0, "freed once every count is back");
}

#[tokio::test]
async fn a_peer_cannot_release_more_than_was_counted() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(1 << 20, dir.path());
    let h = s.put(ObjectValue::from_bytes(vec![1u8; 10]));
    let sent = s.export(&h);
    s.release(sent.id, 5);
    drop(h);
    assert_eq!(s.stats().objects, 0);
    s.release(sent.id, 1); // gone: ignored
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_without_fetch_local_asks_the_owner_and_pulls_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let owner = store_on(1, 1 << 20, dir.path(), Arc::new(Recorder::default()));
    let link = Arc::new(Link {
        owner: owner.clone(),
        released: Mutex::new(Vec::new()),
    });
    let borrower = store_on(2, 1 << 20, dir.path(), link);
    let (pending, promise) = owner.pending();
    let h = borrower.import(owner.export(&pending));
    let soon = || Some(Instant::now() + Duration::from_millis(100));
    assert_eq!(
        borrower.wait_where(&[&h], 1, soon(), false).await,
        vec![false],
        "not computed yet at its owner"
    );
    let waiting = tokio::spawn({
        let (borrower, h) = (borrower.clone(), h.clone());
        async move { borrower.wait_where(&[&h], 1, None, false).await }
    });
    promise.fulfil(Ok(ObjectValue::from_bytes(vec![5u8; 1000])));
    let ready = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the owner's answer ends the wait")
        .unwrap();
    assert_eq!(ready, vec![true]);
    assert!(!h.is_ready(), "nothing was pulled here");
    assert_eq!(borrower.stats().fetches_total, 0);
    // With fetch_local, the same wait pulls it.
    assert_eq!(borrower.wait_where(&[&h], 1, None, true).await, vec![true]);
    assert_eq!(borrower.stats().fetches_total, 1);
}
