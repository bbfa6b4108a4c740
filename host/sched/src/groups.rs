//! Placement groups: which node takes each bundle of a group, per strategy
//! (Ray's PACK, SPREAD, STRICT_PACK, STRICT_SPREAD).
//!
//! [`plan`] is a pure function of the nodes' free and total resources, so its
//! rules are unit-tested here; the runtime reserves what it decides, all or
//! nothing, node by node.

use wrun_core::{NodeId, Resources, Strategy};

/// A node as a plan sees it.
#[derive(Clone, Debug)]
pub struct NodeRoom {
    /// The node.
    pub node: NodeId,
    /// What is free there now.
    pub free: Resources,
    /// What it has in all.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn node(i: u64, cpus: f64, free: f64) -> NodeRoom {
        NodeRoom {
            node: NodeId(i),
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
}
