//! The store as `wrun list objects` and `wrun memory` see it: one record
//! per object, with who owns it, whose quota its bytes count against, its
//! size, its references here and whether it is spilled.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use wrun_core::page::{page, Place};
use wrun_core::state::{Filter, ObjectRecord};

use wrun_core::JobId;

use crate::store::{Producer, Slot, State};
use crate::ObjectStore;

impl ObjectStore {
    /// The page of objects passing `filters` after `after` (by id), at
    /// most `limit`, and how many passed after `after` in all; a pending
    /// object's job is its producer's, as `job_of` reads it (producers are
    /// the runtime's). The map is locked only to copy its slots out; each
    /// slot is read under its own lock, so writers wait for neither for long.
    pub fn records(
        &self,
        filters: &[Filter],
        after: Option<Place>,
        limit: usize,
        job_of: impl Fn(&Producer) -> Option<JobId>,
    ) -> (Vec<ObjectRecord>, usize) {
        let slots: Vec<Arc<Slot>> = self.entries.lock().values().cloned().collect();
        let records = slots
            .iter()
            .filter_map(|slot| self.record_of(slot, &job_of));
        page(records, filters, after, limit)
    }

    fn record_of(
        &self,
        slot: &Slot,
        job_of: &impl Fn(&Producer) -> Option<JobId>,
    ) -> Option<ObjectRecord> {
        let inner = slot.inner.lock();
        let (state, size, spilled, job) = match &inner.state {
            State::Freed => return None,
            State::Remote => ("borrowed", 0, false, None),
            State::Pending(_) => (
                "pending",
                0,
                false,
                inner.producer.as_ref().and_then(job_of),
            ),
            State::Failed(_) => ("failed", 0, false, None),
            State::Ready(r) => (
                "ready",
                r.size as u64,
                r.data.is_none(),
                r.charge.as_ref().and_then(|c| c.job()),
            ),
        };
        let size = match &inner.borrow {
            Some(b) if size == 0 => b.size_hint,
            _ => size,
        };
        Some(ObjectRecord {
            id: slot.id,
            owner: slot.id.node(),
            node: self.node(),
            job,
            state,
            size,
            refs: slot.refs.load(Ordering::Relaxed) as u64,
            spilled,
        })
    }
}
