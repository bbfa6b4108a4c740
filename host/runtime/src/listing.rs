//! What this node holds, as `wrun list`, `summary`, `memory` and
//! `timeline` read it (a cluster's head asks every node and merges).

use std::sync::Arc;

use wrun_core::page::Place;
use wrun_core::state::{ActorRecord, Filter, ObjectRecord, TaskRecord, TaskState};

use crate::Runtime;

impl Runtime {
    /// A page of this node's tasks and actor calls (live, and the most
    /// recent ended ones) passing `filters`: newest first after `after`, at
    /// most `limit`; and how many passed after `after`.
    pub fn tasks(
        &self,
        filters: &[Filter],
        after: Option<Place>,
        limit: usize,
    ) -> (Vec<TaskRecord>, usize) {
        self.inner.ledger.list(filters, after, limit)
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

    /// A page of this node's actors (live, and recently dead) passing
    /// `filters`: by id after `after`, at most `limit`; and how many passed
    /// after `after`.
    pub fn actors(
        &self,
        filters: &[Filter],
        after: Option<Place>,
        limit: usize,
    ) -> (Vec<ActorRecord>, usize) {
        self.inner
            .actors
            .records(self.node_id(), filters, after, limit)
    }

    /// A page of the objects in this node's store passing `filters`: by id
    /// after `after`, at most `limit`; and how many passed after `after`. A
    /// pending result is its call's job's.
    pub fn objects(
        &self,
        filters: &[Filter],
        after: Option<Place>,
        limit: usize,
    ) -> (Vec<ObjectRecord>, usize) {
        self.inner
            .objects
            .records(filters, after, limit, |producer| {
                producer
                    .downcast_ref::<wrun_sandbox::TaskControl>()
                    .map(|c| c.job)
            })
    }
}
