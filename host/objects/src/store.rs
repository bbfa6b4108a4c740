//! The store's map of slots, counted references ([`Held`]), creation,
//! fulfilment and freeing.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use wrun_core::{ErrorKind, IdGen, NodeId, ObjectId, TaskError};

use crate::waiters::Waiter;
use crate::{ObjectTransport, ObjectValue, StoreStats};

/// How a node's store is set up.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Bytes of objects kept in memory before the oldest spill to disk.
    /// Spilling runs on a blocking thread behind the writers; past the cap
    /// and its headroom ([`ObjectStore::headroom`]) a new object goes
    /// straight to disk, so writers cannot outrun the spiller.
    pub memory_cap: usize,
    /// Where spilled objects go.
    pub spill_dir: PathBuf,
}

/// The store of one node: slots by object id, spilling the oldest objects
/// once memory passes the cap.
pub struct ObjectStore {
    pub(crate) ids: Arc<IdGen>,
    pub(crate) config: StoreConfig,
    pub(crate) transport: Arc<dyn ObjectTransport>,
    /// Locked to create, find by id, and free; never per reference.
    pub(crate) entries: Mutex<HashMap<ObjectId, Arc<Slot>>>,
    pub(crate) bytes_in_memory: AtomicUsize,
    pub(crate) spilled: AtomicUsize,
    /// Insertion order of ready objects: the oldest spill first.
    pub(crate) seq: AtomicU64,
    pub(crate) spills: AtomicU64,
    pub(crate) restores: AtomicU64,
    pub(crate) fetches: AtomicU64,
    /// A spiller is running (at most one at a time).
    pub(crate) spilling: AtomicBool,
}

/// One object: its local reference count and its state.
pub(crate) struct Slot {
    pub(crate) id: ObjectId,
    /// References held on this node (each `Held`, and each one counted for
    /// another node that has not given it back).
    pub(crate) refs: AtomicUsize,
    pub(crate) inner: Mutex<SlotState>,
    pub(crate) store: Arc<ObjectStore>,
}

pub(crate) struct SlotState {
    pub(crate) state: State,
    /// Set for objects another node owns.
    pub(crate) borrow: Option<Box<Borrow>>,
    /// What computes a pending object (the runtime's handle for cancelling
    /// the call), until it is fulfilled or freed.
    pub(crate) producer: Option<Producer>,
}

/// What computes a pending object, as its creator gave it (opaque here: the
/// runtime keeps a call's cancellation state in it).
pub type Producer = Arc<dyn std::any::Any + Send + Sync>;

pub(crate) enum State {
    /// Owned by another node and not read here yet.
    Remote,
    /// Being computed (or pulled); its readers wait here.
    Pending(Vec<Waiter>),
    Ready(Ready),
    Failed(TaskError),
    /// The last reference went; whoever still has the slot drops what it
    /// would have stored.
    Freed,
}

pub(crate) struct Ready {
    /// `None` while the bytes live in the spill file.
    pub(crate) data: Option<Bytes>,
    /// References nested in the value.
    pub(crate) refs: Vec<Held>,
    pub(crate) size: usize,
    pub(crate) seq: u64,
    /// The bytes are in the spill file (from the first spill until the
    /// object is freed: objects are immutable, so the file stays valid and a
    /// restored object is spilled again without rewriting it).
    pub(crate) on_disk: bool,
    /// The job quota its bytes count against while it lives (spilled too;
    /// its Drop gives the bytes back).
    pub(crate) charge: Option<crate::Charge>,
}

/// Where a borrowed object's references came from.
pub(crate) struct Borrow {
    /// The size the sender reported (0: unknown).
    pub(crate) size_hint: u64,
    /// References counted for this node, per node that counted them
    /// (usually one, the owner); given back when the last local one goes.
    pub(crate) owed: Vec<(NodeId, u32)>,
}

/// One counted reference to an object. Cloning counts one more; dropping
/// gives the count back, and the object is freed when the last one goes.
pub struct Held {
    pub(crate) slot: Arc<Slot>,
}

/// The right to fulfil a pending object, once. It does not keep the object
/// alive: an object nobody references any more drops what it is given.
pub struct Promise {
    slot: Arc<Slot>,
}

impl Promise {
    /// The object it fulfils.
    pub fn id(&self) -> ObjectId {
        self.slot.id
    }

    /// Sets the outcome and wakes the readers.
    pub fn fulfil(self, outcome: Result<ObjectValue, TaskError>) {
        self.slot.store.fulfil(&self.slot, outcome, None);
    }

    /// [`Promise::fulfil`] with a value whose bytes count against a job's
    /// quota until the object is freed.
    pub fn fulfil_charged(self, value: ObjectValue, charge: crate::Charge) {
        self.slot.store.fulfil(&self.slot, Ok(value), Some(charge));
    }
}

impl Held {
    /// The object.
    pub fn id(&self) -> ObjectId {
        self.slot.id
    }

    /// The node that created the object and counts its references.
    pub fn owner(&self) -> NodeId {
        self.slot.id.node()
    }

    /// The store it counts in.
    pub fn store(&self) -> &Arc<ObjectStore> {
        &self.slot.store
    }

    /// The object's value once it is ready (or its error), waiting until
    /// `deadline` at most.
    pub async fn get(
        &self,
        deadline: Option<std::time::Instant>,
    ) -> Result<ObjectValue, TaskError> {
        self.slot.store.get(self, deadline).await
    }

    /// Whether the object is ready (a failure is a result too).
    pub fn is_ready(&self) -> bool {
        !matches!(
            self.slot.inner.lock().state,
            State::Pending(_) | State::Remote
        )
    }
}

impl Clone for Held {
    fn clone(&self) -> Self {
        self.slot.refs.fetch_add(1, Ordering::Relaxed);
        Held {
            slot: self.slot.clone(),
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.slot.store.release_ref(&self.slot);
    }
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Held({})", self.slot.id)
    }
}

pub(crate) fn lost(id: ObjectId) -> TaskError {
    TaskError::new(
        ErrorKind::ObjectLost,
        "get",
        format!("object {id} does not exist (freed, or never created on this node)"),
    )
}

impl ObjectStore {
    /// A store minting object ids from `ids`, reaching other nodes through
    /// `transport` ([`crate::NoTransport`] on a single node).
    pub fn new(
        ids: Arc<IdGen>,
        config: StoreConfig,
        transport: Arc<dyn ObjectTransport>,
    ) -> Arc<Self> {
        Arc::new(ObjectStore {
            ids,
            config,
            transport,
            entries: Mutex::new(HashMap::new()),
            bytes_in_memory: AtomicUsize::new(0),
            spilled: AtomicUsize::new(0),
            seq: AtomicU64::new(0),
            spills: AtomicU64::new(0),
            restores: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
            spilling: AtomicBool::new(false),
        })
    }

    /// The node this store serves.
    pub fn node(&self) -> NodeId {
        self.ids.node_id()
    }

    /// A slot with one reference, not in the map yet.
    pub(crate) fn new_slot(
        self: &Arc<Self>,
        id: ObjectId,
        state: State,
        borrow: Option<Box<Borrow>>,
        producer: Option<Producer>,
    ) -> Arc<Slot> {
        Arc::new(Slot {
            id,
            refs: AtomicUsize::new(1),
            inner: Mutex::new(SlotState {
                state,
                borrow,
                producer,
            }),
            store: self.clone(),
        })
    }

    /// Inserts a slot with one reference.
    pub(crate) fn insert(self: &Arc<Self>, id: ObjectId, state: State) -> Arc<Slot> {
        let slot = self.new_slot(id, state, None, None);
        self.entries.lock().insert(id, slot.clone());
        slot
    }

    /// A ready object's state; `on_disk`: its bytes are in its spill file
    /// already ([`ObjectStore::spill_new`]), not in memory.
    pub(crate) fn ready_state(
        &self,
        value: ObjectValue,
        charge: Option<crate::Charge>,
        on_disk: bool,
    ) -> State {
        let size = value.data.len();
        State::Ready(Ready {
            data: (!on_disk).then_some(value.data),
            refs: value.refs,
            size,
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            on_disk,
            charge,
        })
    }

    /// Stores a value; the returned reference keeps it alive.
    pub fn put(self: &Arc<Self>, value: ObjectValue) -> Held {
        self.put_charged(value, None)
    }

    /// [`ObjectStore::put`], its bytes counted against a job's quota
    /// until the object is freed.
    pub fn put_charged(
        self: &Arc<Self>,
        value: ObjectValue,
        charge: Option<crate::Charge>,
    ) -> Held {
        let id = ObjectId(self.ids.next());
        let size = value.data.len();
        let on_disk = self.spill_new(id, &value.data);
        let slot = self.insert(id, self.ready_state(value, charge, on_disk));
        if !on_disk {
            self.bytes_in_memory.fetch_add(size, Ordering::Relaxed);
            self.maybe_spill();
        }
        Held { slot }
    }

    /// A placeholder for a result still being computed: the reference for
    /// its readers, and the promise that fulfils it.
    pub fn pending(self: &Arc<Self>) -> (Held, Promise) {
        self.pending_from(None)
    }

    /// [`ObjectStore::pending`], remembering what computes it until it is
    /// fulfilled ([`ObjectStore::producer_of`]).
    pub fn pending_from(self: &Arc<Self>, producer: Option<Producer>) -> (Held, Promise) {
        let id = ObjectId(self.ids.next());
        let slot = self.new_slot(id, State::Pending(Vec::new()), None, producer);
        self.entries.lock().insert(id, slot.clone());
        (Held { slot: slot.clone() }, Promise { slot })
    }

    /// What computes the object `id` while it is pending here.
    pub fn producer_of(&self, id: ObjectId) -> Option<Producer> {
        let slot = self.entries.lock().get(&id).cloned()?;
        let g = slot.inner.lock();
        g.producer.clone()
    }

    /// Sets the outcome of a pending slot and wakes its readers; a slot
    /// already fulfilled keeps its first outcome.
    pub(crate) fn fulfil(
        self: &Arc<Self>,
        slot: &Arc<Slot>,
        outcome: Result<ObjectValue, TaskError>,
        charge: Option<crate::Charge>,
    ) {
        let size = outcome.as_ref().map_or(0, |v| v.data.len());
        let on_disk = outcome
            .as_ref()
            .is_ok_and(|v| self.spill_new(slot.id, &v.data));
        let (waiters, rejected, _producer) = {
            let mut g = slot.inner.lock();
            // Dropped outside the lock, with the rest.
            let producer = g.producer.take();
            if !matches!(g.state, State::Pending(_)) {
                // Freed meanwhile (or fulfilled already): drop it, outside the lock.
                (Vec::new(), Some(outcome), producer)
            } else {
                let new = match outcome {
                    Ok(v) => self.ready_state(v, charge, on_disk),
                    Err(e) => State::Failed(e),
                };
                match std::mem::replace(&mut g.state, new) {
                    State::Pending(w) => (w, None, producer),
                    _ => (Vec::new(), None, producer),
                }
            }
        };
        if rejected.is_some() {
            drop(rejected);
            if on_disk {
                self.spilled.fetch_sub(1, Ordering::Relaxed);
                let _ = std::fs::remove_file(self.spill_path(slot.id));
            }
            return;
        }
        if size > 0 && !on_disk {
            self.bytes_in_memory.fetch_add(size, Ordering::Relaxed);
            self.maybe_spill();
        }
        for w in waiters {
            w.fire();
        }
    }

    /// Gives one reference back; frees the object with its last.
    pub(crate) fn release_ref(&self, slot: &Arc<Slot>) {
        let before = slot.refs.fetch_sub(1, Ordering::AcqRel);
        debug_assert!(before > 0, "object {} released more than counted", slot.id);
        if before != 1 {
            return;
        }
        {
            let mut entries = self.entries.lock();
            // Counted again by id meanwhile (a reference from a peer), or
            // already replaced: not ours to free.
            if slot.refs.load(Ordering::Acquire) != 0 {
                return;
            }
            match entries.get(&slot.id) {
                Some(s) if Arc::ptr_eq(s, slot) => {
                    entries.remove(&slot.id);
                }
                _ => return,
            }
        }
        self.free(slot);
    }

    /// Frees a slot removed from the map: its bytes, spill file, the
    /// references other nodes counted for this one, and nested references.
    fn free(&self, slot: &Arc<Slot>) {
        let (state, borrow, _producer) = {
            let mut g = slot.inner.lock();
            (
                std::mem::replace(&mut g.state, State::Freed),
                g.borrow.take(),
                g.producer.take(),
            )
        };
        match &state {
            State::Ready(r) => {
                if r.data.is_some() {
                    self.bytes_in_memory.fetch_sub(r.size, Ordering::Relaxed);
                } else {
                    self.spilled.fetch_sub(1, Ordering::Relaxed);
                }
                if r.on_disk {
                    crate::blocking::remove_off_runtime(self.spill_path(slot.id));
                }
            }
            State::Pending(waiters) => {
                for w in waiters {
                    w.fire();
                }
            }
            _ => {}
        }
        if let Some(b) = borrow {
            for (holder, count) in b.owed {
                self.transport.release(holder, slot.id, count);
            }
        }
        // Dropping the state releases nested references, outside every lock.
        drop(state);
    }

    /// Figures for tests, metrics and `wrun status`.
    pub fn stats(&self) -> StoreStats {
        StoreStats {
            objects: self.entries.lock().len(),
            bytes_in_memory: self.bytes_in_memory.load(Ordering::Relaxed),
            spilled_objects: self.spilled.load(Ordering::Relaxed),
            spills_total: self.spills.load(Ordering::Relaxed),
            restores_total: self.restores.load(Ordering::Relaxed),
            fetches_total: self.fetches.load(Ordering::Relaxed),
        }
    }
}
