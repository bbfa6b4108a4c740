//! Placement groups: bundles of resources reserved together, all or
//! nothing, on one node or several, for the tasks and actors scheduled into
//! them (Ray's placement groups).
//!
//! [`plan`] decides which node takes each bundle (a pure function of the
//! nodes' free and total resources, so its rules are unit-tested here);
//! [`LocalBundles`] holds the bundles reserved on this node: each is a grant
//! taken from the node's scheduler, lent to the calls placed in the bundle
//! through a scheduler of its own whose total is the bundle.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::ids::{GroupId, NodeId};
use crate::scheduler::{Grant, LocalScheduler, Resources, Scheduler};

/// How a group's bundles are spread over nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// As few nodes as possible.
    Pack,
    /// As many nodes as possible.
    Spread,
    /// All on one node, or not at all.
    StrictPack,
    /// Each on a different node, or not at all.
    StrictSpread,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Pack => "PACK",
            Strategy::Spread => "SPREAD",
            Strategy::StrictPack => "STRICT_PACK",
            Strategy::StrictSpread => "STRICT_SPREAD",
        }
    }

    pub fn from_name(s: &str) -> Option<Strategy> {
        Some(match s {
            "PACK" => Strategy::Pack,
            "SPREAD" => Strategy::Spread,
            "STRICT_PACK" => Strategy::StrictPack,
            "STRICT_SPREAD" => Strategy::StrictSpread,
            _ => return None,
        })
    }
}

/// A placed group: where each bundle is.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupInfo {
    pub id: GroupId,
    pub strategy: Strategy,
    /// Per bundle: the node holding it, and what it reserves.
    pub bundles: Vec<(NodeId, Resources)>,
}

/// A node as a plan sees it.
#[derive(Clone, Debug)]
pub struct NodeRoom {
    pub node: NodeId,
    pub free: Resources,
    pub total: Resources,
}

/// Why a group cannot be placed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Not now: the resources are there but in use.
    #[error("{0}")]
    Wait(String),
    /// Never, with the nodes the cluster has.
    #[error("{0}")]
    Never(String),
}

fn sum(bundles: &[Resources]) -> Resources {
    let mut all = Resources::default();
    for b in bundles {
        all.add_all(b);
    }
    all
}

/// Chooses the node (an index into `nodes`) of each bundle, or says why
/// there is none. `nodes[0]` is the creator's node, preferred on ties.
pub fn plan(
    strategy: Strategy,
    bundles: &[Resources],
    nodes: &[NodeRoom],
) -> Result<Vec<usize>, PlanError> {
    for (i, b) in bundles.iter().enumerate() {
        if nodes.iter().all(|n| b.infeasible_in(&n.total).is_some()) {
            return Err(PlanError::Never(format!(
                "bundle {i} ({b}) fits on no node of the cluster"
            )));
        }
    }
    match strategy {
        Strategy::StrictPack => {
            let all = sum(bundles);
            if let Some(n) = nodes.iter().position(|n| all.fits_in(&n.free)) {
                return Ok(vec![n; bundles.len()]);
            }
            if nodes.iter().any(|n| all.infeasible_in(&n.total).is_none()) {
                Err(PlanError::Wait(format!(
                    "STRICT_PACK needs {all} on one node; no node has it free now"
                )))
            } else {
                Err(PlanError::Never(format!(
                    "STRICT_PACK needs {all} on one node; no node of the cluster has that much"
                )))
            }
        }
        Strategy::Pack => {
            let all = sum(bundles);
            if let Some(n) = nodes.iter().position(|n| all.fits_in(&n.free)) {
                return Ok(vec![n; bundles.len()]);
            }
            greedy(bundles, nodes, false)
        }
        Strategy::StrictSpread => {
            let able = nodes
                .iter()
                .filter(|n| bundles.iter().any(|b| b.infeasible_in(&n.total).is_none()))
                .count();
            if able < bundles.len() {
                return Err(PlanError::Never(format!(
                    "STRICT_SPREAD needs {} nodes, one per bundle, and the cluster has {able} that could take one",
                    bundles.len()
                )));
            }
            greedy(bundles, nodes, true)
        }
        // Distinct nodes when they exist, else shared ones.
        Strategy::Spread => greedy(bundles, nodes, true).or_else(|_| greedy(bundles, nodes, false)),
    }
}

/// Bundles one by one (largest first) on the node with the most free CPUs
/// that fits it; `distinct`: never two on one node. For PACK (not
/// distinct), a node already used is preferred.
fn greedy(
    bundles: &[Resources],
    nodes: &[NodeRoom],
    distinct: bool,
) -> Result<Vec<usize>, PlanError> {
    let mut free: Vec<Resources> = nodes.iter().map(|n| n.free.clone()).collect();
    let mut used = vec![false; nodes.len()];
    let mut order: Vec<usize> = (0..bundles.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(bundles[i].cpu_millis));
    let mut out = vec![0; bundles.len()];
    for i in order {
        let b = &bundles[i];
        let pick = (0..nodes.len())
            .filter(|&n| !(distinct && used[n]) && b.fits_in(&free[n]))
            .max_by_key(|&n| {
                (
                    !distinct && used[n],
                    free[n].cpu_millis,
                    std::cmp::Reverse(n),
                )
            });
        let Some(n) = pick else {
            return Err(PlanError::Wait(format!(
                "bundle {i} ({b}) has no node with room{} now",
                if distinct {
                    " that holds no other bundle of the group"
                } else {
                    ""
                }
            )));
        };
        free[n].take(b);
        used[n] = true;
        out[i] = n;
    }
    Ok(out)
}

/// A bundle reserved on this node.
struct Reserved {
    /// Held from the node's scheduler for as long as the bundle exists.
    _grant: Grant,
    /// Lends the bundle's resources to the calls placed in it.
    scheduler: Arc<LocalScheduler>,
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
        node: &Arc<dyn Scheduler>,
        group: GroupId,
        bundles: &[(u32, Resources)],
    ) -> Result<(), String> {
        let mut grants = Vec::with_capacity(bundles.len());
        for (index, r) in bundles {
            match node.clone().try_acquire(r, u32::MAX) {
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
                    scheduler: LocalScheduler::new(r),
                },
            );
        }
        Ok(())
    }

    /// Gives a group's bundles on this node back; returns how many.
    pub fn release(&self, group: GroupId) -> usize {
        let mut reserved = self.reserved.lock();
        let before = reserved.len();
        reserved.retain(|(g, _), _| *g != group);
        before - reserved.len()
    }

    /// The scheduler of a bundle reserved here.
    pub fn scheduler(&self, group: GroupId, index: u32) -> Option<Arc<LocalScheduler>> {
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
    use crate::ids::Id;

    fn node(i: u64, cpus: f64, free: f64) -> NodeRoom {
        NodeRoom {
            node: NodeId(Id::new(i, 0)),
            free: Resources::new(free, 0),
            total: Resources::new(cpus, 0),
        }
    }

    fn cpus(n: &[f64]) -> Vec<Resources> {
        n.iter().map(|c| Resources::new(*c, 0)).collect()
    }

    #[test]
    fn strict_pack_puts_everything_on_one_node_or_waits() {
        let nodes = [node(1, 2.0, 1.0), node(2, 4.0, 4.0)];
        assert_eq!(
            plan(Strategy::StrictPack, &cpus(&[1.0, 2.0]), &nodes),
            Ok(vec![1, 1])
        );
        let busy = [node(1, 2.0, 1.0), node(2, 4.0, 2.0)];
        assert!(matches!(
            plan(Strategy::StrictPack, &cpus(&[1.0, 2.0]), &busy),
            Err(PlanError::Wait(_))
        ));
        assert!(matches!(
            plan(Strategy::StrictPack, &cpus(&[3.0, 2.0]), &nodes),
            Err(PlanError::Never(_))
        ));
    }

    #[test]
    fn strict_spread_needs_a_node_per_bundle() {
        let nodes = [node(1, 2.0, 2.0), node(2, 2.0, 2.0)];
        let p = plan(Strategy::StrictSpread, &cpus(&[1.0, 1.0]), &nodes).unwrap();
        assert_ne!(p[0], p[1]);
        let e = plan(Strategy::StrictSpread, &cpus(&[1.0, 1.0, 1.0]), &nodes).unwrap_err();
        assert!(
            matches!(e, PlanError::Never(ref m) if m.contains("needs 3 nodes")),
            "{e}"
        );
    }

    #[test]
    fn pack_prefers_one_node_and_spills_when_it_must() {
        let nodes = [node(1, 2.0, 2.0), node(2, 2.0, 2.0)];
        assert_eq!(
            plan(Strategy::Pack, &cpus(&[1.0, 1.0]), &nodes),
            Ok(vec![0, 0])
        );
        let p = plan(Strategy::Pack, &cpus(&[2.0, 1.0]), &nodes).unwrap();
        assert_ne!(p[0], p[1], "3 CPUs fit on no single node: {p:?}");
    }

    #[test]
    fn spread_uses_distinct_nodes_when_it_can_and_shares_when_not() {
        let nodes = [node(1, 2.0, 2.0), node(2, 2.0, 2.0)];
        let p = plan(Strategy::Spread, &cpus(&[1.0, 1.0]), &nodes).unwrap();
        assert_ne!(p[0], p[1]);
        let p = plan(Strategy::Spread, &cpus(&[1.0, 1.0, 1.0]), &nodes).unwrap();
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn a_bundle_no_node_can_hold_is_never_placed() {
        let nodes = [node(1, 2.0, 2.0)];
        let e = plan(Strategy::Pack, &cpus(&[4.0]), &nodes).unwrap_err();
        assert!(
            matches!(e, PlanError::Never(ref m) if m.contains("bundle 0")),
            "{e}"
        );
    }

    #[tokio::test]
    async fn bundles_are_reserved_all_or_nothing_and_released() {
        let node: Arc<dyn Scheduler> = LocalScheduler::new(Resources::new(2.0, 0));
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
    }
}
