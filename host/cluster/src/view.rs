//! The other nodes as this one sees them, for placing calls: their total
//! and free resources from the head's last heartbeat reply (0.5 s), less
//! what this node sent them since, so a burst of submissions does not pile
//! onto the one peer that looked free; peers whose calls failed at the
//! transport are left out until the head would have noticed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use wrun_core::NodeId;
use wrun_proto::pb;
use wrun_runtime::cluster::Peers;
use wrun_sched::{ClusterView, HereView, NodeRoom, NodeView, Placement, Request};

use crate::connections::Connections;

/// How long a peer whose calls failed at the transport is left out (the
/// head declares a silent node lost after 5 s).
const LOST_FOR: Duration = Duration::from_secs(6);

/// The other live nodes, for placement.
pub struct PeerView {
    conns: Arc<Connections>,
    peers: Mutex<Vec<NodeView>>,
    lost: Mutex<HashMap<NodeId, Instant>>,
}

impl PeerView {
    /// An empty view (filled by the heartbeat loop).
    pub fn new(conns: Arc<Connections>) -> Arc<Self> {
        Arc::new(PeerView {
            conns,
            peers: Mutex::new(Vec::new()),
            lost: Mutex::new(HashMap::new()),
        })
    }

    /// The nodes the head listed in its heartbeat reply.
    pub fn set_peers(&self, nodes: Vec<pb::NodeStatus>) {
        let lost: Vec<NodeId> = {
            let mut lost = self.lost.lock();
            lost.retain(|_, at| at.elapsed() < LOST_FOR);
            lost.keys().copied().collect()
        };
        let me = self.conns.me();
        let mut view = Vec::with_capacity(nodes.len());
        for n in nodes {
            let Ok(node) = n.node_id.parse::<NodeId>() else {
                continue;
            };
            if n.state != "alive" || node == me || lost.contains(&node) {
                continue;
            }
            self.conns.learn(node, &n.address);
            view.push(NodeView {
                node,
                total: wrun_proto::from_resources(&n.total.unwrap_or_default()),
                free: wrun_proto::from_resources(&n.available.unwrap_or_default()),
                queued: n.queued,
            });
        }
        *self.peers.lock() = view;
    }

    /// Leaves a peer out of placement until it has been silent long enough
    /// for the head to declare it lost (or it is heard from again after).
    pub fn mark_lost(&self, node: NodeId) {
        tracing::warn!(%node, "a node stopped answering; placing work elsewhere");
        self.lost.lock().insert(node, Instant::now());
        self.peers.lock().retain(|p| p.node != node);
    }

    /// Counts `cpu_millis` sent to `node` before it next reports.
    pub fn sent(&self, node: NodeId, cpu_millis: i64) {
        if let Some(p) = self.peers.lock().iter_mut().find(|p| p.node == node) {
            p.free.cpu_millis -= cpu_millis;
        }
    }

    /// The live peers.
    pub fn nodes(&self) -> Vec<NodeId> {
        self.peers.lock().iter().map(|p| p.node).collect()
    }
}

impl Peers for PeerView {
    fn place(&self, here: &HereView, req: Request<'_>) -> Placement {
        let mut peers = self.peers.lock();
        let placed = wrun_sched::place(
            ClusterView {
                here,
                peers: &peers,
            },
            req,
        );
        if let Placement::Peer(node) = &placed {
            if let Some(p) = peers.iter_mut().find(|p| p.node == *node) {
                p.free.cpu_millis -= req.resources.cpu_millis;
            }
        }
        placed
    }

    fn rooms(&self) -> Vec<NodeRoom> {
        self.peers
            .lock()
            .iter()
            .map(|p| NodeRoom {
                node: p.node,
                free: p.free.clone(),
                total: p.total.clone(),
            })
            .collect()
    }
}
