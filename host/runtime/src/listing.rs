//! What this node holds, as `wrun list`, `summary`, `memory` and
//! `timeline` read it (a cluster's head asks every node and merges).

use std::sync::Arc;

use wrun_core::state::{ActorRecord, Filter, ObjectRecord, TaskRecord, TaskState};

use crate::Runtime;

impl Runtime {
    /// This node's tasks and actor calls passing `filters` (live ones, then
    /// the most recent ended ones), at most `limit`, and how many passed.
    pub fn tasks(&self, filters: &[Filter], limit: usize) -> (Vec<TaskRecord>, usize) {
        self.inner.ledger.list(filters, limit)
    }

    /// How many of this node's calls passing `filters` are in each state,
    /// by name.
    pub fn task_counts(&self, filters: &[Filter]) -> Vec<(Arc<str>, TaskState, u64)> {
        let mut rows: Vec<_> = self
            .inner
            .ledger
            .summary(filters)
            .into_iter()
            .map(|((name, state), n)| (name, state, n))
            .collect();
        rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        rows
    }

    /// This node's actors passing `filters` (live, then recently dead), at
    /// most `limit`, and how many passed.
    pub fn actors(&self, filters: &[Filter], limit: usize) -> (Vec<ActorRecord>, usize) {
        self.inner.actors.records(self.node_id(), filters, limit)
    }

    /// The objects in this node's store passing `filters`, at most `limit`,
    /// and how many passed. A pending result is its call's job's.
    pub fn objects(&self, filters: &[Filter], limit: usize) -> (Vec<ObjectRecord>, usize) {
        self.inner.objects.records(filters, limit, |producer| {
            producer
                .downcast_ref::<wrun_sandbox::TaskControl>()
                .map(|c| c.job)
        })
    }
}
