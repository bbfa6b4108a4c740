//! Tasks across nodes: where a task runs (`place`) and running it on a peer.
//!
//! The default policy, as Ray's hybrid one: a task runs on the node that
//! submitted it while that node has room (packing work where its caller and
//! usually its data are), and spills over to the peer with the most free
//! room once it is full. Before that, two things can send it elsewhere: a
//! node affinity, and locality (its by-reference arguments, at least
//! [`LOCALITY_MIN_BYTES`] of them, are owned by a peer with room). When no
//! node has room, the task waits on the least loaded node (CPUs in use and
//! wanted by queued work, per CPU). A task this node can never run goes to a
//! peer that can, and one no node can run fails at once with the remedy.
//!
//! Peers' free resources come from the head with every heartbeat (0.5 s);
//! what this node sent a peer since then is subtracted so a burst of
//! submissions does not pile onto the one peer that looked free.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::objects::ClusterObjects;
use super::peers::Peers;
use super::proto;
use super::PROTOCOL_VERSION;
use crate::error::{ErrorKind, TaskError};
use crate::ids::JobId;
use crate::object_store::{BoxFuture, ObjectValue};
use crate::runtime::{LoadedJob, Placement, PlacementQuery, RemoteTasks, TaskArg, TaskOptions};
use crate::scheduler::Resources;

/// Arguments smaller than this in all are cheaper to move than to chase.
pub const LOCALITY_MIN_BYTES: u64 = 1 << 20;

/// What a remote node needs to load a job: its cluster id, name, components.
#[derive(Clone)]
pub struct JobRef {
    pub job_id: String,
    pub name: String,
    pub components: Vec<proto::Component>,
}

/// One peer as this node sees it.
struct Peer {
    status: proto::NodeStatus,
    total: Resources,
    free: Resources,
    /// CPU thousandths and tasks sent there since its status arrived.
    sent_cpu: i64,
}

impl Peer {
    fn can_ever_run(&self, r: &Resources) -> bool {
        r.infeasible_in(&self.total).is_none()
    }

    fn has_room_for(&self, r: &Resources) -> bool {
        let mut free = self.free.clone();
        free.cpu_millis -= self.sent_cpu;
        r.fits_in(&free)
    }

    fn free_cpu(&self) -> i64 {
        self.free.cpu_millis - self.sent_cpu
    }

    /// CPUs in use there, sent there since, and wanted by its queued tasks
    /// (counting each as `r`), per CPU it has: comparable with the runtime's
    /// `load_here`.
    fn load(&self, r: &Resources) -> f64 {
        let total = self.total.cpu_millis.max(1);
        let used = total - self.free.cpu_millis + self.sent_cpu;
        (used + self.status.queued as i64 * r.cpu_millis) as f64 / total as f64
    }
}

/// The cluster as one node sees it, for placing and sending tasks.
pub struct ClusterTasks {
    node_id: String,
    /// The other live nodes, as the head's last heartbeat reply listed them.
    peers: Mutex<Vec<Peer>>,
    /// Jobs whose drivers run here, by their local id.
    jobs: Mutex<HashMap<JobId, JobRef>>,
    connections: Arc<Peers>,
    objects: ClusterObjects,
}

impl ClusterTasks {
    pub fn new(node_id: String, connections: Arc<Peers>, objects: ClusterObjects) -> Arc<Self> {
        Arc::new(ClusterTasks {
            node_id,
            peers: Mutex::new(Vec::new()),
            jobs: Mutex::new(HashMap::new()),
            connections,
            objects,
        })
    }

    pub fn set_peers(&self, nodes: Vec<proto::NodeStatus>) {
        *self.peers.lock() = nodes
            .into_iter()
            .filter(|n| n.state == "alive" && n.node_id != self.node_id)
            .map(|status| Peer {
                total: super::from_proto_resources(&status.total.clone().unwrap_or_default()),
                free: super::from_proto_resources(&status.available.clone().unwrap_or_default()),
                status,
                sent_cpu: 0,
            })
            .collect();
    }

    pub fn register_job(&self, local: JobId, job: JobRef) {
        self.jobs.lock().insert(local, job);
    }

    pub fn forget_job(&self, local: JobId) {
        self.jobs.lock().remove(&local);
    }

    /// The job a task of `local` belongs to, as other nodes know it.
    pub fn job(&self, local: JobId) -> Option<JobRef> {
        self.jobs.lock().get(&local).cloned()
    }
}

fn failed(label: &str, message: impl Into<String>) -> TaskError {
    TaskError::new(ErrorKind::Internal, label, message)
}

/// The index of the peer among `candidates` that `better` ranks highest.
fn best(
    peers: &[Peer],
    candidates: impl Fn(&Peer) -> bool,
    better: impl Fn(&Peer, &Peer) -> std::cmp::Ordering,
) -> Option<usize> {
    (0..peers.len())
        .filter(|&i| candidates(&peers[i]))
        .max_by(|&a, &b| better(&peers[a], &peers[b]))
}

fn by_room(a: &Peer, b: &Peer) -> std::cmp::Ordering {
    a.free_cpu().cmp(&b.free_cpu())
}

/// Less loaded first.
fn by_load(r: &Resources) -> impl Fn(&Peer, &Peer) -> std::cmp::Ordering + '_ {
    move |a, b| b.load(r).total_cmp(&a.load(r))
}

impl ClusterTasks {
    /// The peer a task goes to (`Ok(None)`: this node), or why it can run
    /// nowhere.
    fn choose(peers: &[Peer], q: &PlacementQuery<'_>) -> Result<Option<usize>, String> {
        let r = q.resources;
        let find = |node: crate::ids::NodeId| {
            let id = format!("{:016x}", node.0.hi);
            peers.iter().position(|p| p.status.node_id == id)
        };
        if let Some(a) = q.affinity {
            match find(a.node) {
                Some(i) if peers[i].can_ever_run(r) => return Ok(Some(i)),
                _ if a.soft => {}
                Some(i) => {
                    return Err(format!(
                        "it must run on node {}, which can never run it: it {}",
                        peers[i].status.node_id,
                        r.infeasible_in(&peers[i].total).unwrap_or_default()
                    ))
                }
                None => {
                    return Err(format!(
                        "it must run on node {:016x}, which is not a live node of the cluster; make the affinity soft to run it elsewhere",
                        a.node.0.hi
                    ))
                }
            }
        }
        if let Some(why) = &q.infeasible_here {
            return best(peers, |p| p.can_ever_run(r), |a, b| {
                a.has_room_for(r)
                    .cmp(&b.has_room_for(r))
                    .then(by_load(r)(a, b))
            })
            .map(Some)
            .ok_or_else(|| format!(
                "it can never be scheduled: it {why}, and no other node of the cluster has enough either; start a node with them (wrun start --address HEAD --resources NAME=N)"
            ));
        }
        if let Some((node, bytes)) = q.arg_bytes.iter().max_by_key(|(_, b)| *b) {
            if *bytes >= LOCALITY_MIN_BYTES {
                if let Some(i) = find(*node).filter(|&i| peers[i].has_room_for(r)) {
                    return Ok(Some(i));
                }
            }
        }
        if q.free_here {
            return Ok(None);
        }
        if let Some(i) = best(peers, |p| p.has_room_for(r), by_room) {
            return Ok(Some(i));
        }
        // No room anywhere: wait on the least loaded node (this one on a tie).
        Ok(best(peers, |p| p.can_ever_run(r), by_load(r))
            .filter(|&i| peers[i].load(r) < q.load_here))
    }
}

impl RemoteTasks for ClusterTasks {
    fn place(&self, q: &PlacementQuery<'_>) -> Placement {
        let mut peers = self.peers.lock();
        match Self::choose(&peers, q) {
            Ok(Some(i)) => {
                let p = &mut peers[i];
                p.sent_cpu += q.resources.cpu_millis;
                Placement::Peer(p.status.node_id.clone())
            }
            Ok(None) => Placement::Here,
            Err(why) => Placement::Nowhere(why),
        }
    }

    fn run(
        &self,
        peer: &str,
        job: &Arc<LoadedJob>,
        component: usize,
        function: &str,
        args: Vec<TaskArg>,
        resources: &Resources,
        options: &TaskOptions,
    ) -> BoxFuture<'static, Result<Vec<ObjectValue>, TaskError>> {
        let label = function.to_string();
        let address = self
            .peers
            .lock()
            .iter()
            .find(|p| p.status.node_id == peer)
            .map(|p| p.status.address.clone());
        let job_ref = self.job(job.id);
        let objects = self.objects.clone();
        let connections = self.connections.clone();
        // Arguments are exported now, while the caller's references are
        // alive: each counts one reference for the peer.
        let wire_args: Vec<proto::TaskArgument> = args
            .iter()
            .map(|a| proto::TaskArgument {
                arg: Some(match a {
                    TaskArg::Value(v) => proto::task_argument::Arg::Value(objects.export_value(v)),
                    TaskArg::Ref(h) => proto::task_argument::Arg::ByRef(objects.export_ref(h)),
                }),
            })
            .collect();
        drop(args);
        let req = job_ref.map(|job_ref| proto::RunTaskRequest {
            protocol: PROTOCOL_VERSION,
            job_id: job_ref.job_id,
            name: job_ref.name,
            components: job_ref.components,
            component: component as u32,
            function: function.to_string(),
            args: wire_args,
            resources: Some(super::to_proto_resources(resources)),
            num_returns: options.num_returns,
            max_retries: options.max_retries,
            retry_exceptions: options.retry_exceptions,
            timeout_ms: options.timeout.map_or(0, |t| t.as_millis().max(1) as u64),
        });
        let peer = peer.to_string();
        Box::pin(async move {
            let Some(address) = address else {
                return Err(failed(&label, format!("node {peer} left the cluster")));
            };
            let Some(req) = req else {
                return Err(failed(&label, "this job is not known to the cluster"));
            };
            let mut client = connections
                .client(&address)
                .await
                .map_err(|e| failed(&label, e))?;
            let req = connections
                .request(req)
                .map_err(|s| failed(&label, s.message()))?;
            tracing::debug!(task = %label, node = %peer, "task sent to another node");
            let reply = match client.run_task(req).await {
                Ok(r) => r.into_inner(),
                Err(s) => {
                    // A broken connection is dialled again by the next task.
                    connections.forget(&address);
                    return Err(failed(&label, format!("node {peer}: {}", s.message())));
                }
            };
            if let Some(e) = reply.error {
                return Err(super::node::task_error(e));
            }
            reply
                .values
                .into_iter()
                .map(|v| objects.import_value(v))
                .collect::<Result<_, _>>()
                .map_err(|e| failed(&label, e.to_string()))
        })
    }
}
