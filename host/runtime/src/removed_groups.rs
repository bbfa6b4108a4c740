//! Placement groups removed lately, so a call still on its way to one fails
//! with `placement-group-removed` rather than `not-found`.

use std::collections::{HashMap, VecDeque};

use wrun_core::{GroupId, JobId};

/// Removed groups remembered, newest first kept.
const REMOVED_KEPT: usize = 10_000;

/// Groups removed lately, with their job: a call still on its way to one
/// fails with `placement-group-removed`, not `not-found` (and to another job
/// it is still an id that does not exist).
#[derive(Default)]
pub(crate) struct RemovedGroups {
    by_id: HashMap<GroupId, JobId>,
    order: VecDeque<GroupId>,
}

impl RemovedGroups {
    /// Remembers `group` of `job` as removed (forgetting the oldest).
    pub(crate) fn insert(&mut self, group: GroupId, job: JobId) {
        if self.by_id.insert(group, job).is_none() {
            self.order.push_back(group);
        }
        while self.order.len() > REMOVED_KEPT {
            if let Some(old) = self.order.pop_front() {
                self.by_id.remove(&old);
            }
        }
    }

    /// Whether `job`'s group `group` was removed.
    pub(crate) fn was_removed(&self, job: JobId, group: GroupId) -> bool {
        self.by_id.get(&group) == Some(&job)
    }
}
