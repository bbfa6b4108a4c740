//! The bundles of placement groups reserved on this node: each is a grant
//! taken from the node's scheduler for as long as the group exists, lent to
//! the calls placed in the bundle through a scheduler of its own whose total
//! is the bundle.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use wrun_core::{GroupId, Resources};

use crate::scheduler::{Grant, Scheduler};

/// A bundle reserved on this node.
struct Reserved {
    /// Held from the node's scheduler for as long as the bundle exists.
    _grant: Grant,
    /// Lends the bundle's resources to the calls placed in it.
    scheduler: Arc<Scheduler>,
}

/// The bundles reserved on this node.
#[derive(Default)]
pub struct LocalBundles {
    reserved: Mutex<HashMap<(GroupId, u32), Reserved>>,
}

impl LocalBundles {
    /// Reserves `bundles` (index, resources) of `group` from `node`, all or
    /// none; says which did not fit.
    pub fn reserve(
        &self,
        node: &Arc<Scheduler>,
        group: GroupId,
        bundles: &[(u32, Resources)],
    ) -> Result<(), String> {
        let mut grants = Vec::with_capacity(bundles.len());
        for (index, r) in bundles {
            match node.try_acquire(r, u32::MAX) {
                Some(g) => grants.push((*index, r.clone(), g)),
                // Dropping `grants` gives back what was taken.
                None => return Err(format!("bundle {index} ({r}) no longer fits")),
            }
        }
        let mut reserved = self.reserved.lock();
        for (index, r, grant) in grants {
            reserved.insert(
                (group, index),
                Reserved {
                    _grant: grant,
                    scheduler: Scheduler::new(r),
                },
            );
        }
        Ok(())
    }

    /// Gives a group's bundles on this node back, closing their schedulers
    /// (what waits in them is refused, what runs on them is told); returns
    /// how many.
    pub fn release(&self, group: GroupId) -> usize {
        let released: Vec<Reserved> = {
            let mut reserved = self.reserved.lock();
            let keys: Vec<(GroupId, u32)> = reserved
                .keys()
                .filter(|(g, _)| *g == group)
                .copied()
                .collect();
            keys.iter().filter_map(|k| reserved.remove(k)).collect()
        };
        for r in &released {
            r.scheduler.close();
        }
        released.len()
    }

    /// The scheduler of a bundle reserved here.
    pub fn scheduler(&self, group: GroupId, index: u32) -> Option<Arc<Scheduler>> {
        self.reserved
            .lock()
            .get(&(group, index))
            .map(|r| r.scheduler.clone())
    }

    /// Bundles reserved here.
    pub fn count(&self) -> usize {
        self.reserved.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wrun_core::Id;

    #[test]
    fn bundles_are_reserved_all_or_nothing_and_released() {
        let node = Scheduler::new(Resources::new(2.0, 0));
        let bundles = LocalBundles::default();
        let g = GroupId(Id::new(1, 1));
        let too_much = [(0, Resources::new(1.0, 0)), (1, Resources::new(1.5, 0))];
        assert!(bundles.reserve(&node, g, &too_much).is_err());
        assert_eq!(
            node.available().cpu_millis,
            2000,
            "nothing kept from a failed reservation"
        );
        bundles
            .reserve(
                &node,
                g,
                &[(0, Resources::new(1.0, 0)), (1, Resources::new(0.5, 0))],
            )
            .unwrap();
        assert_eq!(node.available().cpu_millis, 500);
        let inner = bundles.scheduler(g, 0).unwrap();
        assert_eq!(inner.total().cpu_millis, 1000);
        assert_eq!(bundles.release(g), 2);
        assert_eq!(node.available().cpu_millis, 2000);
        assert!(
            inner.try_acquire(&Resources::new(0.5, 0), 0).is_none(),
            "a released bundle's scheduler grants nothing more"
        );
    }
}
