//! The object store: immutable objects by reference, counted references,
//! a memory cap with spilling to disk and transparent restore.
//!
//! Objects are held as [`Bytes`], so every reader on the host shares one
//! buffer; the only copy is the one into a guest's linear memory.
//!
//! [`ObjectStore`] is the seam the cluster implements over the network: the
//! runtime only talks to `dyn ObjectStore`, and every reference a guest holds
//! is a [`Held`] that records the object's owner and gives its count back when
//! dropped.
//!
//! In a cluster, a node also holds *borrowed* entries: references to objects
//! another node owns. Their bytes are pulled from the owner on the first read
//! (one transfer however many readers wait: the entry turns pending while it
//! moves) and kept as a local copy; the references other nodes counted for
//! this one are given back when its last local reference goes
//! ([`RemoteObjects`], implemented by `cluster::objects`).

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::error::{ErrorKind, TaskError};
use crate::ids::{NodeId, ObjectId};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An object's contents: its serialized bytes and the references it contains.
#[derive(Clone, Debug, Default)]
pub struct ObjectValue {
    pub data: Bytes,
    /// References nested in the value; they keep their objects alive for as
    /// long as this object lives.
    pub refs: Vec<Held>,
}

impl ObjectValue {
    pub fn from_bytes(data: impl Into<Bytes>) -> Self {
        ObjectValue {
            data: data.into(),
            refs: Vec::new(),
        }
    }
}

/// Figures for tests, metrics and `wrun status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Objects alive (pending, ready or failed).
    pub objects: usize,
    /// Bytes of ready objects held in memory.
    pub bytes_in_memory: usize,
    /// Objects currently spilled to disk.
    pub spilled_objects: usize,
    /// Spills and restores since start.
    pub spills_total: u64,
    pub restores_total: u64,
    /// Objects pulled from other nodes since start (one per object, however
    /// many readers waited for it).
    pub fetches_total: u64,
}

/// Reaches the nodes that own borrowed objects (a cluster node sets it).
pub trait RemoteObjects: Send + Sync {
    /// Pulls an object's value (and its nested references) from `from`.
    fn fetch(&self, from: &str, id: ObjectId)
        -> BoxFuture<'static, Result<ObjectValue, TaskError>>;
    /// Gives back `count` references that the node at `holder` counted for
    /// this one.
    fn release(&self, holder: &str, id: ObjectId, count: u32);
}

/// Where another node can read an object this one holds, for handing its
/// reference on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The owner's address; `None` when this node is the owner.
    pub fetch_from: Option<Arc<str>>,
    /// Bytes, when known (0 while pending or unknown).
    pub size: u64,
}

/// The interface the runtime uses to reach objects, local or remote.
pub trait ObjectStore: Send + Sync + 'static {
    /// The node this store serves.
    fn node(&self) -> NodeId;
    /// Inserts a ready object with one reference (the caller's).
    fn insert_ready(&self, id: ObjectId, owner: NodeId, value: ObjectValue);
    /// Inserts a placeholder for a result still being computed, with one reference.
    fn insert_pending(&self, id: ObjectId, owner: NodeId);
    /// Sets the outcome of a pending object and wakes its readers.
    fn fulfil(&self, id: ObjectId, outcome: Result<ObjectValue, TaskError>);
    fn incref(&self, id: ObjectId);
    fn decref(&self, id: ObjectId);
    /// The object's value once it is ready (or its error), waiting until
    /// `deadline` at most.
    fn get(
        &self,
        id: ObjectId,
        deadline: Option<Instant>,
    ) -> BoxFuture<'_, Result<ObjectValue, TaskError>>;
    /// Whether the object is ready (or failed: a failure is a result too).
    fn is_ready(&self, id: ObjectId) -> bool;
    /// Resolves when the object is ready or failed (or gone).
    fn ready(&self, id: ObjectId) -> BoxFuture<'_, ()>;
    fn stats(&self) -> StoreStats;
    /// Connects the store to the other nodes of a cluster.
    fn set_remote(&self, remote: Arc<dyn RemoteObjects>);
    /// Adds one local reference to an object `owner` owns, which the node at
    /// `holder` counted for this one; its bytes come from `fetch_from` when
    /// first read.
    fn insert_borrowed(
        &self,
        id: ObjectId,
        owner: NodeId,
        fetch_from: &str,
        holder: &str,
        size_hint: u64,
    );
    /// Where the object can be read from, if this node holds it.
    fn locate(&self, id: ObjectId) -> Option<Location>;
}

/// One counted reference to an object. Cloning counts one more; dropping
/// gives the count back, and the object is freed when the last one goes.
pub struct Held {
    id: ObjectId,
    owner: NodeId,
    store: Arc<dyn ObjectStore>,
}

impl Held {
    /// Takes over a reference already counted in `store`.
    pub fn adopt(store: Arc<dyn ObjectStore>, id: ObjectId, owner: NodeId) -> Self {
        Held { id, owner, store }
    }

    pub fn put(store: &Arc<dyn ObjectStore>, id: ObjectId, value: ObjectValue) -> Self {
        let owner = store.node();
        store.insert_ready(id, owner, value);
        Held::adopt(store.clone(), id, owner)
    }

    pub fn pending(store: &Arc<dyn ObjectStore>, id: ObjectId) -> Self {
        let owner = store.node();
        store.insert_pending(id, owner);
        Held::adopt(store.clone(), id, owner)
    }

    pub fn id(&self) -> ObjectId {
        self.id
    }

    /// The worker that created the object and counts its references.
    pub fn owner(&self) -> NodeId {
        self.owner
    }

    pub async fn get(&self, deadline: Option<Instant>) -> Result<ObjectValue, TaskError> {
        self.store.get(self.id, deadline).await
    }
}

impl Clone for Held {
    fn clone(&self) -> Self {
        self.store.incref(self.id);
        Held {
            id: self.id,
            owner: self.owner,
            store: self.store.clone(),
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.store.decref(self.id);
    }
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Held({}, owner {})", self.id, self.owner)
    }
}

enum State {
    /// Owned by another node and not read here yet.
    Remote,
    Pending(Vec<oneshot::Sender<()>>),
    Ready {
        /// `None` while the bytes live in the spill file.
        data: Option<Bytes>,
        /// Shared so readers clone the list (which counts references, and so
        /// takes the lock) only after releasing the lock.
        refs: Arc<Vec<Held>>,
        size: usize,
        /// Insertion order, oldest spilled first.
        seq: u64,
        /// The bytes are in the spill file (from the first spill until the
        /// object is freed: objects are immutable, so the file stays valid
        /// and a restored object is spilled again without rewriting it).
        on_disk: bool,
    },
    Failed(TaskError),
}

struct Entry {
    refcount: usize,
    state: State,
    /// Set for objects another node owns.
    borrow: Option<Box<Borrow>>,
}

/// Where a borrowed object comes from, and the references other nodes
/// counted for this one.
struct Borrow {
    /// The owner's address (it always has the bytes).
    fetch_from: Arc<str>,
    /// The size the sender reported (0: unknown).
    size_hint: u64,
    /// References counted for this node, per node that counted them
    /// (usually one, the owner); given back when the last local one goes.
    owed: Vec<(Arc<str>, u32)>,
}

/// The store of one node: a map of entries behind one lock, spilling the
/// oldest objects to `spill_dir` once memory passes `memory_cap`.
pub struct LocalObjectStore {
    node: NodeId,
    /// Itself, for the transfers it starts.
    me: std::sync::Weak<LocalObjectStore>,
    remote: std::sync::OnceLock<Arc<dyn RemoteObjects>>,
    fetches: AtomicU64,
    memory_cap: usize,
    spill_dir: PathBuf,
    inner: Mutex<Inner>,
    seq: AtomicU64,
    spills: AtomicU64,
    restores: AtomicU64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<ObjectId, Entry>,
    bytes_in_memory: usize,
    spilled: usize,
}

impl LocalObjectStore {
    pub fn new(node: NodeId, memory_cap: usize, spill_dir: impl Into<PathBuf>) -> Arc<Self> {
        let spill_dir = spill_dir.into();
        Arc::new_cyclic(|me| LocalObjectStore {
            node,
            me: me.clone(),
            remote: std::sync::OnceLock::new(),
            fetches: AtomicU64::new(0),
            memory_cap,
            spill_dir,
            inner: Mutex::new(Inner::default()),
            seq: AtomicU64::new(0),
            spills: AtomicU64::new(0),
            restores: AtomicU64::new(0),
        })
    }

    /// Turns a borrowed entry not read yet into a pending one and starts
    /// pulling its bytes from the owner; readers wait on the pending state,
    /// so concurrent readers share one transfer. Called with the lock held.
    fn begin_fetch(&self, id: ObjectId, e: &mut Entry) {
        let from = e
            .borrow
            .as_ref()
            .map(|b| b.fetch_from.clone())
            .unwrap_or_else(|| Arc::from(""));
        e.state = State::Pending(Vec::new());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let remote = self.remote.get().cloned();
        let me = self.me.clone();
        tokio::spawn(async move {
            let outcome = match remote {
                Some(r) => r.fetch(&from, id).await,
                None => Err(TaskError::new(
                    ErrorKind::ObjectLost,
                    "get",
                    format!("object {id} lives on another node and this node is not in a cluster"),
                )),
            };
            if let Err(e) = &outcome {
                tracing::warn!(object = %id, from = %from, error = %e, "pulling an object failed");
            }
            if let Some(store) = me.upgrade() {
                store.fulfil(id, outcome);
            }
        });
    }

    fn spill_path(&self, id: ObjectId) -> PathBuf {
        self.spill_dir.join(format!("{id}.obj"))
    }

    fn set_ready(&self, id: ObjectId, value: ObjectValue) -> Vec<oneshot::Sender<()>> {
        let size = value.data.len();
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut inner = self.inner.lock();
        let waiters = match inner.entries.get_mut(&id) {
            Some(e) => {
                let old = std::mem::replace(
                    &mut e.state,
                    State::Ready {
                        data: Some(value.data),
                        refs: Arc::new(value.refs),
                        size,
                        seq,
                        on_disk: false,
                    },
                );
                match old {
                    State::Pending(w) => w,
                    _ => Vec::new(),
                }
            }
            // Nobody holds the object any more: drop it (outside the lock).
            None => {
                drop(inner);
                return Vec::new();
            }
        };
        inner.bytes_in_memory += size;
        let over = inner.bytes_in_memory > self.memory_cap;
        drop(inner);
        if over {
            self.spill_until_under_cap();
        }
        waiters
    }

    /// Moves the oldest in-memory objects to disk until memory is under the cap.
    fn spill_until_under_cap(&self) {
        let victims: Vec<(ObjectId, Bytes, bool)> = {
            let inner = self.inner.lock();
            if inner.bytes_in_memory <= self.memory_cap {
                return;
            }
            let mut candidates: Vec<(u64, ObjectId, Bytes, bool)> = inner
                .entries
                .iter()
                .filter_map(|(id, e)| match &e.state {
                    State::Ready {
                        data: Some(d),
                        seq,
                        on_disk,
                        ..
                    } if !d.is_empty() => Some((*seq, *id, d.clone(), *on_disk)),
                    _ => None,
                })
                .collect();
            candidates.sort_unstable_by_key(|c| c.0);
            let mut excess = inner.bytes_in_memory - self.memory_cap;
            let mut out = Vec::new();
            for (_, id, d, on_disk) in candidates {
                if excess == 0 {
                    break;
                }
                excess = excess.saturating_sub(d.len());
                out.push((id, d, on_disk));
            }
            out
        };
        if victims.is_empty() {
            return;
        }
        if let Err(e) = std::fs::create_dir_all(&self.spill_dir) {
            tracing::error!(dir = %self.spill_dir.display(), error = %e, "cannot create spill directory; objects stay in memory");
            return;
        }
        for (id, data, already_on_disk) in victims {
            if !already_on_disk {
                if let Err(e) = write_atomically(&self.spill_path(id), &data) {
                    tracing::error!(object = %id, error = %e, "spilling failed; object stays in memory");
                    continue;
                }
            }
            let mut inner = self.inner.lock();
            let mut freed = 0;
            let mut present = false;
            if let Some(Entry {
                state:
                    State::Ready {
                        data: d,
                        size,
                        on_disk,
                        ..
                    },
                ..
            }) = inner.entries.get_mut(&id)
            {
                present = true;
                *on_disk = true;
                if d.is_some() {
                    *d = None;
                    freed = *size;
                }
            }
            if freed > 0 {
                inner.bytes_in_memory -= freed;
                inner.spilled += 1;
                self.spills.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(object = %id, bytes = freed, "spilled to disk");
            }
            if !present {
                // Freed meanwhile: its file may have been written after the
                // free removed it.
                drop(inner);
                let _ = std::fs::remove_file(self.spill_path(id));
            }
        }
    }

    async fn get_inner(
        &self,
        id: ObjectId,
        deadline: Option<Instant>,
    ) -> Result<ObjectValue, TaskError> {
        loop {
            let rx = {
                let mut inner = self.inner.lock();
                let Some(entry) = inner.entries.get_mut(&id) else {
                    return Err(lost(id));
                };
                match &mut entry.state {
                    State::Ready {
                        data: Some(d),
                        refs,
                        ..
                    } => Err((d.clone(), refs.clone())),
                    State::Ready { data: None, .. } => Ok(None),
                    State::Failed(e) => return Err(e.clone()),
                    State::Remote => {
                        self.begin_fetch(id, entry);
                        continue;
                    }
                    State::Pending(waiters) => {
                        let (tx, rx) = oneshot::channel();
                        waiters.push(tx);
                        Ok(Some(rx))
                    }
                }
            };
            let rx = match rx {
                Ok(rx) => rx,
                // Ready: count the nested references now that the lock is free.
                Err((data, refs)) => {
                    return Ok(ObjectValue {
                        data,
                        refs: refs.iter().cloned().collect(),
                    })
                }
            };
            match rx {
                Some(rx) => match deadline {
                    Some(d) => {
                        if tokio::time::timeout_at(d.into(), rx).await.is_err() {
                            return Err(TaskError::new(
                                ErrorKind::GetTimeout,
                                "get",
                                format!("object {id} was not ready before the timeout"),
                            ));
                        }
                    }
                    None => {
                        let _ = rx.await;
                    }
                },
                None => return self.restore(id).await,
            }
        }
    }

    /// Reads a spilled object back into memory.
    async fn restore(&self, id: ObjectId) -> Result<ObjectValue, TaskError> {
        let path = self.spill_path(id);
        let bytes = tokio::fs::read(&path).await.map_err(|e| {
            TaskError::new(
                ErrorKind::ObjectLost,
                "get",
                format!(
                    "object {id} was spilled to {} but cannot be read back: {e}",
                    path.display()
                ),
            )
        })?;
        let data = Bytes::from(bytes);
        let value = {
            let mut inner = self.inner.lock();
            let Some(entry) = inner.entries.get_mut(&id) else {
                return Err(lost(id));
            };
            let State::Ready { data: d, refs, .. } = &mut entry.state else {
                return Err(lost(id));
            };
            let was_spilled = d.is_none();
            if was_spilled {
                *d = Some(data.clone());
            }
            let value = (d.clone().unwrap_or_default(), refs.clone());
            if was_spilled {
                inner.bytes_in_memory += data.len();
                inner.spilled -= 1;
                self.restores.fetch_add(1, Ordering::Relaxed);
            }
            value
        };
        self.spill_until_under_cap();
        Ok(ObjectValue {
            data: value.0,
            refs: value.1.iter().cloned().collect(),
        })
    }
}

fn lost(id: ObjectId) -> TaskError {
    TaskError::new(
        ErrorKind::ObjectLost,
        "get",
        format!("object {id} does not exist (freed, or never created on this node)"),
    )
}

fn write_atomically(path: &Path, data: &[u8]) -> std::io::Result<()> {
    // A name of its own per write: two threads may spill the same object.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let tmp = path.with_extension(format!("tmp{}", NEXT.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

impl ObjectStore for LocalObjectStore {
    fn node(&self) -> NodeId {
        self.node
    }

    fn insert_ready(&self, id: ObjectId, _owner: NodeId, value: ObjectValue) {
        self.inner.lock().entries.insert(
            id,
            Entry {
                refcount: 1,
                state: State::Pending(Vec::new()),
                borrow: None,
            },
        );
        self.set_ready(id, value);
    }

    fn insert_pending(&self, id: ObjectId, _owner: NodeId) {
        self.inner.lock().entries.insert(
            id,
            Entry {
                refcount: 1,
                state: State::Pending(Vec::new()),
                borrow: None,
            },
        );
    }

    fn fulfil(&self, id: ObjectId, outcome: Result<ObjectValue, TaskError>) {
        let waiters = match outcome {
            Ok(value) => self.set_ready(id, value),
            Err(err) => {
                let mut inner = self.inner.lock();
                match inner.entries.get_mut(&id) {
                    Some(e) => match std::mem::replace(&mut e.state, State::Failed(err)) {
                        State::Pending(w) => w,
                        _ => Vec::new(),
                    },
                    None => Vec::new(),
                }
            }
        };
        for w in waiters {
            let _ = w.send(());
        }
    }

    fn incref(&self, id: ObjectId) {
        if let Some(e) = self.inner.lock().entries.get_mut(&id) {
            e.refcount += 1;
        }
    }

    fn decref(&self, id: ObjectId) {
        let removed = {
            let mut inner = self.inner.lock();
            let Some(e) = inner.entries.get_mut(&id) else {
                return;
            };
            e.refcount -= 1;
            if e.refcount > 0 {
                return;
            }
            let e = inner.entries.remove(&id).expect("entry present");
            if let State::Ready { data, size, .. } = &e.state {
                if data.is_some() {
                    inner.bytes_in_memory -= size;
                } else {
                    inner.spilled -= 1;
                }
            }
            e
        };
        if let State::Ready { on_disk: true, .. } = &removed.state {
            let _ = std::fs::remove_file(self.spill_path(id));
        }
        if let (Some(b), Some(remote)) = (&removed.borrow, self.remote.get()) {
            for (holder, count) in &b.owed {
                remote.release(holder, id, *count);
            }
        }
        // Dropping the entry releases its nested references, outside the lock.
        drop(removed);
    }

    fn get(
        &self,
        id: ObjectId,
        deadline: Option<Instant>,
    ) -> BoxFuture<'_, Result<ObjectValue, TaskError>> {
        Box::pin(self.get_inner(id, deadline))
    }

    fn is_ready(&self, id: ObjectId) -> bool {
        match self.inner.lock().entries.get(&id) {
            Some(e) => !matches!(e.state, State::Pending(_) | State::Remote),
            None => true,
        }
    }

    fn ready(&self, id: ObjectId) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let rx = {
                let mut inner = self.inner.lock();
                let Some(entry) = inner.entries.get_mut(&id) else {
                    return;
                };
                if matches!(entry.state, State::Remote) {
                    // Waiting for a borrowed object pulls it (as Ray's
                    // `wait(fetch_local=True)`).
                    self.begin_fetch(id, entry);
                }
                match &mut entry.state {
                    State::Pending(w) => {
                        let (tx, rx) = oneshot::channel();
                        w.push(tx);
                        rx
                    }
                    _ => return,
                }
            };
            let _ = rx.await;
        })
    }

    fn stats(&self) -> StoreStats {
        let inner = self.inner.lock();
        StoreStats {
            objects: inner.entries.len(),
            bytes_in_memory: inner.bytes_in_memory,
            spilled_objects: inner.spilled,
            spills_total: self.spills.load(Ordering::Relaxed),
            restores_total: self.restores.load(Ordering::Relaxed),
            fetches_total: self.fetches.load(Ordering::Relaxed),
        }
    }

    fn set_remote(&self, remote: Arc<dyn RemoteObjects>) {
        let _ = self.remote.set(remote);
    }

    fn insert_borrowed(
        &self,
        id: ObjectId,
        owner: NodeId,
        fetch_from: &str,
        holder: &str,
        size_hint: u64,
    ) {
        let mut inner = self.inner.lock();
        let give_back = match inner.entries.get_mut(&id) {
            Some(e) => {
                e.refcount += 1;
                match &mut e.borrow {
                    Some(b) => {
                        match b.owed.iter_mut().find(|(h, _)| &**h == holder) {
                            Some((_, n)) => *n += 1,
                            None => b.owed.push((Arc::from(holder), 1)),
                        }
                        false
                    }
                    // Our own object came back: the local entry keeps it;
                    // the sender's count is not needed.
                    None => true,
                }
            }
            None if owner == self.node => {
                // A reference to an object of ours that is gone: only a
                // peer that broke the counting protocol sends one.
                tracing::warn!(object = %id, from = %holder, "a peer sent a reference to an object this node no longer has");
                inner.entries.insert(
                    id,
                    Entry {
                        refcount: 1,
                        state: State::Failed(lost(id)),
                        borrow: None,
                    },
                );
                true
            }
            None => {
                inner.entries.insert(
                    id,
                    Entry {
                        refcount: 1,
                        state: State::Remote,
                        borrow: Some(Box::new(Borrow {
                            fetch_from: Arc::from(fetch_from),
                            size_hint,
                            owed: vec![(Arc::from(holder), 1)],
                        })),
                    },
                );
                false
            }
        };
        drop(inner);
        if give_back {
            if let Some(remote) = self.remote.get() {
                remote.release(holder, id, 1);
            }
        }
    }

    fn locate(&self, id: ObjectId) -> Option<Location> {
        let inner = self.inner.lock();
        let e = inner.entries.get(&id)?;
        let size = match &e.state {
            State::Ready { size, .. } => *size as u64,
            _ => e.borrow.as_ref().map_or(0, |b| b.size_hint),
        };
        Some(Location {
            fetch_from: e.borrow.as_ref().map(|b| b.fetch_from.clone()),
            size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::IdGen;

    /// `n` objects of 400 bytes, object `i` filled with the byte `i`.
    fn put_filled(s: &Arc<dyn ObjectStore>, ids: &IdGen, n: u8) -> Vec<Held> {
        (0..n)
            .map(|i| {
                Held::put(
                    s,
                    ObjectId(ids.next()),
                    ObjectValue::from_bytes(vec![i; 400]),
                )
            })
            .collect()
    }

    fn store(cap: usize, dir: &Path) -> (Arc<dyn ObjectStore>, IdGen) {
        let ids = IdGen::for_node(1);
        let s: Arc<dyn ObjectStore> = LocalObjectStore::new(ids.node_id(), cap, dir);
        (s, ids)
    }

    #[tokio::test]
    async fn objects_are_freed_with_their_last_reference_and_nested_ones_after() {
        let dir = tempfile::tempdir().unwrap();
        let (s, ids) = store(1 << 20, dir.path());
        let inner = Held::put(
            &s,
            ObjectId(ids.next()),
            ObjectValue::from_bytes(vec![1; 10]),
        );
        let outer = Held::put(
            &s,
            ObjectId(ids.next()),
            ObjectValue {
                data: Bytes::from_static(b"x"),
                refs: vec![inner.clone()],
            },
        );
        let copy = outer.clone();
        // Reading an object hands out counted copies of its nested references.
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), outer.get(None))
            .await
            .expect("get of an object with nested references returns")
            .unwrap();
        assert_eq!(read.refs[0].id(), inner.id());
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
        let (s, ids) = store(1 << 20, dir.path());
        let a = Held::pending(&s, ObjectId(ids.next()));
        let b = Held::pending(&s, ObjectId(ids.next()));
        let (s2, ida, idb) = (s.clone(), a.id(), b.id());
        tokio::spawn(async move {
            s2.fulfil(ida, Ok(ObjectValue::from_bytes(&b"done"[..])));
            s2.fulfil(
                idb,
                Err(TaskError::new(ErrorKind::Application, "t", "boom")),
            );
        });
        assert_eq!(&a.get(None).await.unwrap().data[..], b"done");
        assert_eq!(b.get(None).await.unwrap_err().message, "boom");
        let c = Held::pending(&s, ObjectId(ids.next()));
        let err = c
            .get(Some(Instant::now() + std::time::Duration::from_millis(20)))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::GetTimeout);
    }

    #[tokio::test]
    async fn objects_over_the_cap_spill_to_disk_and_come_back_intact() {
        let dir = tempfile::tempdir().unwrap();
        let (s, ids) = store(1000, dir.path());
        let held = put_filled(&s, &ids, 5);
        let st = s.stats();
        assert!(st.bytes_in_memory <= 1000, "{st:?}");
        assert!(st.spilled_objects >= 3, "{st:?}");
        for (i, h) in held.iter().enumerate() {
            let v = h.get(None).await.unwrap();
            assert_eq!(v.data.len(), 400);
            assert!(v.data.iter().all(|b| *b == i as u8));
        }
        assert!(s.stats().restores_total >= 3);
        drop(held);
        assert_eq!(s.stats().objects, 0);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "spill files removed"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_readers_of_spilled_objects_all_get_them() {
        let dir = tempfile::tempdir().unwrap();
        let (s, ids) = store(1000, dir.path());
        let held = put_filled(&s, &ids, 6);
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
        assert!(s.stats().bytes_in_memory <= 1000 + 400);
        drop(held);
        assert_eq!(s.stats().objects, 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// Two real stores as two nodes: the borrower pulls from the owner and
    /// gives references back to it (the transport is a direct call here;
    /// tests/cluster.rs runs the same over gRPC).
    struct Link {
        owner: Arc<dyn ObjectStore>,
        released: Mutex<Vec<(String, ObjectId, u32)>>,
    }

    impl RemoteObjects for Link {
        fn fetch(
            &self,
            _from: &str,
            id: ObjectId,
        ) -> BoxFuture<'static, Result<ObjectValue, TaskError>> {
            let owner = self.owner.clone();
            Box::pin(async move {
                // Long enough for every reader to find the transfer under way.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                owner.get(id, None).await
            })
        }

        fn release(&self, holder: &str, id: ObjectId, count: u32) {
            self.released.lock().push((holder.to_string(), id, count));
            if holder == "owner" {
                for _ in 0..count {
                    self.owner.decref(id);
                }
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn borrowed_objects_are_pulled_once_and_their_references_given_back() {
        let dir = tempfile::tempdir().unwrap();
        let (owner, owner_ids) = store(1 << 20, dir.path());
        let borrower: Arc<dyn ObjectStore> =
            LocalObjectStore::new(IdGen::for_node(2).node_id(), 1 << 20, dir.path());
        let link = Arc::new(Link {
            owner: owner.clone(),
            released: Mutex::new(Vec::new()),
        });
        borrower.set_remote(link.clone());
        owner.set_remote(link.clone());
        let x = Held::put(
            &owner,
            ObjectId(owner_ids.next()),
            ObjectValue::from_bytes(vec![7u8; 1000]),
        );
        // Sent twice: the owner counts a reference per send.
        let mut held = Vec::new();
        for _ in 0..2 {
            owner.incref(x.id());
            borrower.insert_borrowed(x.id(), x.owner(), "owner", "owner", 1000);
            held.push(Held::adopt(borrower.clone(), x.id(), x.owner()));
        }
        assert!(!borrower.is_ready(x.id()), "not pulled before it is read");
        let mut readers = tokio::task::JoinSet::new();
        for i in 0..8 {
            let h = held[i % 2].clone();
            readers.spawn(async move { h.get(None).await.unwrap().data });
        }
        while let Some(r) = readers.join_next().await {
            assert_eq!(&r.unwrap()[..], &[7u8; 1000][..]);
        }
        assert_eq!(
            borrower.stats().fetches_total,
            1,
            "one transfer for 8 readers"
        );
        assert_eq!(
            borrower.locate(x.id()).unwrap().fetch_from.as_deref(),
            Some("owner")
        );
        drop(held);
        assert_eq!(borrower.stats().objects, 0);
        assert_eq!(
            link.released.lock().as_slice(),
            &[("owner".to_string(), x.id(), 2)],
            "both counted references go back in one release"
        );
        // The owner's own object coming back needs no second count.
        borrower.incref(ObjectId(owner_ids.next())); // unknown ids are ignored
        owner.insert_borrowed(x.id(), x.owner(), "owner", "peer", 1000);
        let back = Held::adopt(owner.clone(), x.id(), x.owner());
        assert_eq!(link.released.lock().last().unwrap().0, "peer");
        drop(back);
        drop(x);
        assert_eq!(owner.stats().objects, 0, "freed once every count is back");
    }
}
