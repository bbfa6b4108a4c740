//! Where a task or actor runs: pure functions of what this node knows about
//! the cluster ([`ClusterView`]) and what the call asks for ([`Request`]).
//!
//! The default is Ray's hybrid policy: a call runs on the node that
//! submitted it while that node has room (packing work where its caller and
//! usually its data are), and spills over to the peer with the most free room
//! once it is full. Before that, rules can send it elsewhere, each in a file
//! of its own and tried in this order:
//!
//! 1. [`affinity`]: a node affinity pins it (a soft one only while the node
//!    can run it);
//! 2. [`infeasible`]: this node can never run it, so a peer that can does;
//! 3. [`locality`]: at least [`LOCALITY_MIN_BYTES`] of its by-reference
//!    arguments are owned by a peer with room;
//! 4. [`spread`]: SPREAD asks for the least loaded node with room;
//! 5. [`hybrid`]: here while it fits, else the peer with most room, else
//!    (no room anywhere) the least loaded node, where it waits.

mod affinity;
mod hybrid;
mod infeasible;
mod locality;
mod spread;

use wrun_core::{NodeAffinity, NodeId, Resources};

pub use locality::LOCALITY_MIN_BYTES;

/// Another node as this one last heard of it.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeView {
    /// The node.
    pub node: NodeId,
    /// What it has in all.
    pub total: Resources,
    /// What it has free, less what this node sent it since it said so.
    pub free: Resources,
    /// Calls waiting for resources there.
    pub queued: u32,
}

impl NodeView {
    fn can_ever_run(&self, r: &Resources) -> bool {
        r.infeasible_in(&self.total).is_none()
    }

    fn has_room_for(&self, r: &Resources) -> bool {
        r.fits_in(&self.free)
    }

    /// CPUs in use and wanted by queued calls like `r`, per CPU it has:
    /// comparable with [`HereView::load`].
    fn load(&self, r: &Resources) -> f64 {
        let total = self.total.cpu_millis.max(1);
        let used = total - self.free.cpu_millis;
        (used + i64::from(self.queued) * r.cpu_millis) as f64 / total as f64
    }
}

/// This node, as it places a call.
#[derive(Clone, Debug, PartialEq)]
pub struct HereView {
    /// This node.
    pub node: NodeId,
    /// What it has in all.
    pub total: Resources,
    /// Whether the call's resources are free here now (reserved for it).
    pub fits: bool,
    /// CPUs in use and wanted by queued calls, per CPU (1.0: busy with
    /// nothing waiting).
    pub load: f64,
}

/// What one node knows of the cluster when it places a call.
#[derive(Clone, Copy, Debug)]
pub struct ClusterView<'a> {
    /// This node.
    pub here: &'a HereView,
    /// The other live nodes (none on a single node).
    pub peers: &'a [NodeView],
}

/// What a call asks for.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// Its resources.
    pub resources: &'a Resources,
    /// Bytes of its by-reference arguments per other node that owns them.
    pub arg_bytes: &'a [(NodeId, u64)],
    /// A node it is tied to.
    pub affinity: Option<NodeAffinity>,
    /// Prefer the least loaded node with room over this one.
    pub spread: bool,
}

/// Where a call goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// This node.
    Here,
    /// Another node.
    Peer(NodeId),
    /// No node can ever run it: why, and what to do about it.
    Infeasible(String),
}

/// Places a call (see the module documentation for the rules).
pub fn place(view: ClusterView<'_>, req: Request<'_>) -> Placement {
    let rules: [fn(ClusterView<'_>, Request<'_>) -> Option<Placement>; 5] = [
        affinity::place,
        infeasible::place,
        locality::place,
        spread::place,
        hybrid::place,
    ];
    rules
        .iter()
        .find_map(|rule| rule(view, req))
        .unwrap_or(Placement::Here)
}

/// The peer among those `candidates` accepts that `better` ranks highest.
fn best(
    peers: &[NodeView],
    candidates: impl Fn(&NodeView) -> bool,
    better: impl Fn(&NodeView, &NodeView) -> std::cmp::Ordering,
) -> Option<&NodeView> {
    peers
        .iter()
        .filter(|p| candidates(p))
        .max_by(|a, b| better(a, b))
}

/// Less loaded first.
fn by_load(r: &Resources) -> impl Fn(&NodeView, &NodeView) -> std::cmp::Ordering + '_ {
    move |a, b| b.load(r).total_cmp(&a.load(r))
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// A peer with `total` CPUs, `free` of them free, `queued` calls waiting.
    pub fn peer(id: u64, total: f64, free: f64, queued: u32) -> NodeView {
        NodeView {
            node: NodeId(id),
            total: Resources::new(total, 0),
            free: Resources::new(free, 0),
            queued,
        }
    }

    /// This node (id 1) with `total` CPUs; `fits`: the call fits now.
    pub fn here(total: f64, fits: bool, load: f64) -> HereView {
        HereView {
            node: NodeId(1),
            total: Resources::new(total, 0),
            fits,
            load,
        }
    }

    /// A request for `cpus` CPUs, nothing else.
    pub fn ask(r: &Resources) -> Request<'_> {
        Request {
            resources: r,
            arg_bytes: &[],
            affinity: None,
            spread: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn a_single_node_keeps_everything_it_can_ever_run() {
        let one = Resources::new(1.0, 0);
        for (fits, load) in [(true, 0.0), (false, 3.0)] {
            let h = here(2.0, fits, load);
            let view = ClusterView {
                here: &h,
                peers: &[],
            };
            assert_eq!(place(view, ask(&one)), Placement::Here);
        }
        let h = here(2.0, false, 0.0);
        let view = ClusterView {
            here: &h,
            peers: &[],
        };
        let big = Resources::new(4.0, 0);
        assert!(
            matches!(place(view, ask(&big)), Placement::Infeasible(m) if m.contains("needs 4 cpus"))
        );
    }
}
