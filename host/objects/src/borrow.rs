//! Objects across nodes, as the store sees them: references leaving for
//! another node ([`ObjectStore::export`]), arriving from one
//! ([`ObjectStore::import`]), pulled on first read, and given back.
//!
//! The counting rule: a node that puts a reference on the wire first counts
//! one more local reference to it (for the receiver) and names itself the
//! holder; the receiver gives that reference back to the holder when its own
//! last reference goes. The owner always has the bytes, so readers pull from
//! the owner whoever handed them the reference; a borrower that hands a
//! reference on keeps its own entry alive until the next node releases it, so
//! the owner's count never drops to zero while any node holds one.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::MutexGuard;
use wrun_core::ObjectId;

use crate::store::{lost, Borrow, Held, ObjectStore, Slot, SlotState, State};
use crate::{ObjectValue, WireRef};

impl ObjectStore {
    /// Describes `held` for another node, counting the reference it will
    /// hold (given back by [`ObjectStore::release`] from that node, or here
    /// with [`ObjectStore::unexport`] if it never gets it).
    pub fn export(&self, held: &Held) -> WireRef {
        held.slot.refs.fetch_add(1, Ordering::Relaxed);
        WireRef {
            id: held.slot.id,
            holder: self.node(),
            size: self.size_of(held),
        }
    }

    /// Gives back a reference exported for a call that was never sent.
    pub fn unexport(&self, r: &WireRef) {
        if r.holder == self.node() {
            self.release(r.id, 1);
        }
    }

    /// Bytes of the object, when known (0 while pending or unknown).
    pub fn size_of(&self, held: &Held) -> u64 {
        let g = held.slot.inner.lock();
        match &g.state {
            State::Ready(r) => r.size as u64,
            _ => g.borrow.as_ref().map_or(0, |b| b.size_hint),
        }
    }

    /// Whether this node owns the object.
    pub fn owns(&self, held: &Held) -> bool {
        held.owner() == self.node()
    }

    /// A new counted reference to an object this node holds (to serve it).
    pub fn held(&self, id: ObjectId) -> Option<Held> {
        let entries = self.entries.lock();
        let slot = entries.get(&id)?.clone();
        slot.refs.fetch_add(1, Ordering::Relaxed);
        Some(Held { slot })
    }

    /// Gives back `count` references this node counted for another, which
    /// that node no longer holds.
    pub fn release(&self, id: ObjectId, count: u32) {
        let Some(slot) = self.entries.lock().get(&id).cloned() else {
            return;
        };
        for _ in 0..count {
            // Never below zero, whatever a peer says.
            if slot.refs.load(Ordering::Acquire) == 0 {
                break;
            }
            self.release_ref(&slot);
        }
    }

    /// Takes over a reference another node counted for this one.
    pub fn import(self: &Arc<Self>, r: WireRef) -> Held {
        let mut entries = self.entries.lock();
        let mut give_back = false;
        let slot = match entries.get(&r.id) {
            Some(slot) => {
                slot.refs.fetch_add(1, Ordering::Relaxed);
                let mut g = slot.inner.lock();
                match &mut g.borrow {
                    Some(b) => match b.owed.iter_mut().find(|(h, _)| *h == r.holder) {
                        Some((_, n)) => *n += 1,
                        None => b.owed.push((r.holder, 1)),
                    },
                    // Our own object came back: the local entry keeps it;
                    // the sender's count is not needed.
                    None => give_back = true,
                }
                drop(g);
                slot.clone()
            }
            None => {
                let (state, borrow) = if r.id.node() == self.node() {
                    // A reference to an object of ours that is gone: only a
                    // peer that broke the counting protocol sends one.
                    tracing::warn!(object = %r.id, from = %r.holder, "a peer sent a reference to an object this node no longer has");
                    give_back = true;
                    (State::Failed(lost(r.id)), None)
                } else {
                    let borrow = Borrow {
                        size_hint: r.size,
                        owed: vec![(r.holder, 1)],
                    };
                    (State::Remote, Some(Box::new(borrow)))
                };
                let slot = self.new_slot(r.id, state, borrow, None);
                entries.insert(r.id, slot.clone());
                slot
            }
        };
        drop(entries);
        if give_back {
            self.transport.release(r.holder, r.id, 1);
        }
        Held { slot }
    }

    /// Turns a borrowed slot not read yet into a pending one and starts
    /// pulling its bytes from the owner; readers wait on the pending state,
    /// so concurrent readers share one transfer.
    pub(crate) fn begin_fetch(
        self: &Arc<Self>,
        slot: &Arc<Slot>,
        g: &mut MutexGuard<'_, SlotState>,
    ) {
        g.state = State::Pending(Vec::new());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let (store, slot) = (self.clone(), slot.clone());
        tokio::spawn(async move {
            let owner = slot.id.node();
            let outcome = match store.transport.fetch(owner, slot.id).await {
                Ok(f) => Ok(ObjectValue {
                    data: f.data,
                    refs: f.refs.into_iter().map(|r| store.import(r)).collect(),
                }),
                Err(e) => {
                    tracing::warn!(object = %slot.id, %owner, error = %e, "pulling an object failed");
                    Err(e)
                }
            };
            store.fulfil(&slot, outcome, None);
        });
    }
}
