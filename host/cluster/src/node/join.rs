//! A node's loop: join the head, report every heartbeat (free resources,
//! queued work, objects), take the cluster's view from each reply, and join
//! again when the head no longer knows this node (it restarted) or was
//! unreachable. A head that refuses the node ends the loop with
//! [`JoinRefused`]; the daemon stops with it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tonic::transport::Channel;
use wrun_proto::pb::head_client::HeadClient;
use wrun_proto::{pb, PROTOCOL_VERSION};
use wrun_runtime::Runtime;

use crate::connections::Connections;
use crate::view::PeerView;

/// How often a node reports to the head.
pub const HEARTBEAT: Duration = Duration::from_millis(500);

/// The head refused this node (another protocol version, another token).
#[derive(Debug, thiserror::Error)]
#[error("the head refused this node: {0}")]
pub struct JoinRefused(pub String);

/// Joins the head, then reports every `HEARTBEAT` (or at once when `beat`
/// is notified); returns only when the head refuses this node. `in_cluster`
/// says, after each attempt, whether the head knows this node (its
/// readiness: the health service serves it).
pub async fn join_and_report(
    rt: Runtime,
    mut head: HeadClient<Channel>,
    conns: Arc<Connections>,
    running: Arc<AtomicU32>,
    view: Arc<PeerView>,
    beat: Arc<Notify>,
    in_cluster: watch::Sender<bool>,
) -> JoinRefused {
    let node_id = rt.node_id().to_string();
    let mut joined = false;
    loop {
        if !joined {
            let (_, total) = rt.resources();
            let req = pb::JoinRequest {
                protocol: PROTOCOL_VERSION,
                address: conns.my_address().to_string(),
                total: Some(wrun_proto::to_resources(&total)),
                node_id: node_id.clone(),
            };
            match conns.request(req) {
                Ok(req) => match head.join(req).await {
                    Ok(reply) => {
                        tracing::info!(head = %reply.into_inner().head_id, node = %node_id, "joined the cluster");
                        joined = true;
                        continue;
                    }
                    Err(s)
                        if s.code() == tonic::Code::FailedPrecondition
                            || s.code() == tonic::Code::Unauthenticated =>
                    {
                        tracing::error!(error = %s.message(), "the head refused this node");
                        return JoinRefused(s.message().to_string());
                    }
                    Err(s) => tracing::warn!(error = %s, "could not join the head yet"),
                },
                Err(s) => return JoinRefused(s.message().to_string()),
            }
        } else {
            let (available, _) = rt.resources();
            let stats = rt.store_stats();
            let req = pb::HeartbeatRequest {
                protocol: PROTOCOL_VERSION,
                node_id: node_id.clone(),
                available: Some(wrun_proto::to_resources(&available)),
                running_jobs: running.load(Ordering::Relaxed),
                objects: Some(pb::ObjectStats {
                    objects: stats.objects as u64,
                    bytes_in_memory: stats.bytes_in_memory as u64,
                    fetches: stats.fetches_total,
                }),
                queued: rt.queued() as u32,
                waiting: rt.waiting_work(),
                peers: view.nodes().len() as u32,
                job_cpu: rt
                    .job_cpu_used()
                    .into_iter()
                    .map(|(job, used)| pb::JobCpu {
                        job_id: job.to_string(),
                        cpu_ms: used.as_millis() as u64,
                    })
                    .collect(),
            };
            if let Ok(req) = conns.request(req) {
                match head.heartbeat(req).await {
                    // The other nodes come with the reply, for placement,
                    // and what each job used on them.
                    Ok(r) if r.get_ref().known => {
                        let r = r.into_inner();
                        for j in r.job_cpu_elsewhere {
                            if let Ok(job) = j.job_id.parse() {
                                rt.set_job_cpu_elsewhere(job, Duration::from_millis(j.cpu_ms));
                            }
                        }
                        view.set_peers(r.nodes);
                    }
                    Ok(_) => joined = false,
                    Err(s) => {
                        tracing::warn!(error = %s, "heartbeat failed");
                        joined = false;
                    }
                }
            }
        }
        in_cluster.send_if_modified(|known| std::mem::replace(known, joined) != joined);
        tokio::select! {
            _ = tokio::time::sleep(HEARTBEAT) => {}
            _ = beat.notified() => {}
        }
    }
}
