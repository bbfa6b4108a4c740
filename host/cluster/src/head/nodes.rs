//! The nodes as the head sees them: where the next job goes, which are
//! alive, and each one's state for `wrun status`.

use std::sync::atomic::Ordering;

use tonic::Status;
use wrun_proto::pb as proto;

use super::{internal, HeadService, NodeRecord, NODE_TIMEOUT};

impl HeadService {
    /// The live node with the most free CPUs; on a tie, the fewest running
    /// jobs, then the one that got a job longest ago (so equal nodes take
    /// turns: the default strategy spreads drivers).
    pub(super) fn place(&self) -> Option<NodeRecord> {
        let mut live = self.live.lock();
        let best = live
            .values_mut()
            .filter(|n| n.last_seen.elapsed() < NODE_TIMEOUT)
            .max_by(|a, b| {
                a.available
                    .cpus
                    .total_cmp(&b.available.cpus)
                    .then(b.running_jobs.cmp(&a.running_jobs))
                    .then(b.last_placed.cmp(&a.last_placed))
            })?;
        // Count it now, so jobs submitted before the next heartbeat spread.
        best.running_jobs += 1;
        best.last_placed = self.placements.fetch_add(1, Ordering::Relaxed);
        Some(best.record.clone())
    }

    /// Whether the node with this id reported within `NODE_TIMEOUT`.
    pub(super) fn node_alive(&self, node_id: &str) -> bool {
        self.live
            .lock()
            .get(node_id)
            .is_some_and(|n| n.last_seen.elapsed() < NODE_TIMEOUT)
    }

    /// Every node the head knows, with its state as of now: alive, lost
    /// (missed heartbeats), or unknown (remembered from before a restart).
    #[allow(
        clippy::result_large_err,
        reason = "tonic's Status is what handlers return"
    )]
    pub(super) fn node_statuses(&self) -> Result<Vec<proto::NodeStatus>, Status> {
        let live = self.live.lock();
        let mut nodes = Vec::new();
        for rec in self.store.nodes().map_err(internal)? {
            let total = proto::Resources {
                cpus: rec.cpus,
                memory: rec.memory,
                custom: rec.custom.iter().cloned().collect(),
            };
            let (state, n) = match live.get(&rec.node_id) {
                Some(n) if n.last_seen.elapsed() < NODE_TIMEOUT => ("alive", Some(n)),
                Some(n) => ("lost", Some(n)),
                None => ("unknown", None),
            };
            nodes.push(proto::NodeStatus {
                node_id: rec.node_id,
                address: rec.address,
                total: Some(total),
                available: Some(n.map(|n| n.available.clone()).unwrap_or_default()),
                state: state.into(),
                running_jobs: n.map_or(0, |n| n.running_jobs),
                objects: n.map(|n| n.objects),
                queued: n.map_or(0, |n| n.queued),
                waiting: n.map(|n| n.waiting.clone()).unwrap_or_default(),
                peers: n.map_or(0, |n| n.peers),
                reports: n.map_or(0, |n| n.reports),
            });
        }
        Ok(nodes)
    }
}

impl crate::metrics::HeadCounts for HeadService {
    fn jobs_by_state(&self) -> Vec<(String, f64)> {
        let mut by_state: Vec<(String, f64)> = [
            "pending",
            "running",
            "succeeded",
            "failed",
            "stopped",
            "lost",
        ]
        .map(|s| (s.to_string(), 0.0))
        .to_vec();
        for job in self.store.jobs().unwrap_or_default() {
            match by_state.iter_mut().find(|(s, _)| *s == job.state) {
                Some((_, n)) => *n += 1.0,
                None => by_state.push((job.state, 1.0)),
            }
        }
        by_state
    }

    fn late_lines(&self) -> u64 {
        self.feeds.late_lines()
    }

    fn nodes_by_state(&self) -> Vec<(String, f64)> {
        let mut by_state: Vec<(String, f64)> = ["alive", "lost", "unknown"]
            .map(|s| (s.to_string(), 0.0))
            .to_vec();
        for node in self.node_statuses().unwrap_or_default() {
            if let Some((_, n)) = by_state.iter_mut().find(|(s, _)| *s == node.state) {
                *n += 1.0;
            }
        }
        by_state
    }
}
