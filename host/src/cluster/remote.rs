//! Tasks and actors across nodes: where a call goes (`place`), running
//! tasks on peers, creating and calling actors there (one ordered queue per
//! remote actor), cluster-wide actor names and placement groups through the
//! head, and peers found dead left out for a while.
//!
//! The default policy, as Ray's hybrid one: a task runs on the node that
//! submitted it while that node has room (packing work where its caller and
//! usually its data are), and spills over to the peer with the most free
//! room once it is full. Before that, three things can send it elsewhere: a
//! node affinity, SPREAD (the least loaded node with room), and locality (its by-reference arguments, at least
//! [`LOCALITY_MIN_BYTES`] of them, are owned by a peer with room). When no
//! node has room, the task waits on the least loaded node (CPUs in use and
//! wanted by queued work, per CPU). A task this node can never run goes to a
//! peer that can, and one no node can run fails at once with the remedy.
//!
//! Peers' free resources come from the head with every heartbeat (0.5 s);
//! what this node sent a peer since then is subtracted so a burst of
//! submissions does not pile onto the one peer that looked free.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use tokio::sync::mpsc;
use tonic::transport::Channel;

use super::objects::ClusterObjects;
use super::peers::Peers;
use super::proto;
use super::proto::head_client::HeadClient;
use super::PROTOCOL_VERSION;
use crate::error::{ErrorKind, TaskError};
use crate::ids::{ActorId, GroupId, Id, JobId, NodeId};
use crate::object_store::{BoxFuture, ObjectValue};
use crate::placement::{GroupInfo, NodeRoom};
use crate::runtime::{
    CallDone, LoadedJob, Placement, PlacementQuery, RemoteActor, RemoteTasks, Scheduling, TaskArg,
    TaskOptions,
};
use crate::scheduler::Resources;

/// How long a peer whose calls failed at the transport is left out.
const LOST_FOR: std::time::Duration = std::time::Duration::from_secs(6);

/// Arguments smaller than this in all are cheaper to move than to chase.
pub const LOCALITY_MIN_BYTES: u64 = 1 << 20;

/// What a remote node needs to load a job: its cluster id, name, components.
#[derive(Clone)]
pub struct JobRef {
    pub job_id: String,
    pub name: String,
    pub components: Vec<proto::Component>,
    /// Content hash of its runtime environment (empty: deny-all).
    pub env_hash: String,
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

/// What waits to be sent to an actor on another node, in order.
enum Queued {
    Call(QueuedCall),
    /// A kill, ordered after the calls made before it.
    Kill(Option<JobId>),
}

/// A call waiting to be sent to an actor on another node.
struct QueuedCall {
    caller: Option<JobId>,
    method: String,
    /// Exported when the call was made, while the caller's references lived.
    args: Vec<proto::TaskArgument>,
    num_returns: u32,
    done: CallDone,
}

/// The cluster as one node sees it, for placing and sending tasks and
/// reaching actors on other nodes.
pub struct ClusterTasks {
    me: Weak<ClusterTasks>,
    node_id: String,
    head: HeadClient<Channel>,
    /// Peers whose calls failed at the transport: left out of placement for
    /// `LOST_FOR` (the head declares a silent node lost after 5 s).
    lost: Mutex<HashMap<String, std::time::Instant>>,
    /// Per actor on another node, the calls waiting to be sent (in order).
    actor_queues: Mutex<HashMap<ActorId, mpsc::UnboundedSender<Queued>>>,
    /// The other live nodes, as the head's last heartbeat reply listed them.
    peers: Mutex<Vec<Peer>>,
    /// Jobs whose drivers run here, by their local id.
    jobs: Mutex<HashMap<JobId, JobRef>>,
    connections: Arc<Peers>,
    objects: ClusterObjects,
}

impl ClusterTasks {
    pub fn new(
        node_id: String,
        head: HeadClient<Channel>,
        connections: Arc<Peers>,
        objects: ClusterObjects,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| ClusterTasks {
            me: me.clone(),
            node_id,
            head,
            actor_queues: Mutex::new(HashMap::new()),
            lost: Mutex::new(HashMap::new()),
            peers: Mutex::new(Vec::new()),
            jobs: Mutex::new(HashMap::new()),
            connections,
            objects,
        })
    }

    /// Leaves a peer out of placement until it has been silent long enough
    /// for the head to declare it lost (or it is heard from again after).
    fn mark_lost(&self, node: &str) {
        tracing::warn!(%node, "a node stopped answering; placing work elsewhere");
        self.lost
            .lock()
            .insert(node.to_string(), std::time::Instant::now());
        self.peers.lock().retain(|p| p.status.node_id != node);
    }

    /// The address of a live peer.
    fn address_of(&self, node_id: &str) -> Option<String> {
        self.peers
            .lock()
            .iter()
            .find(|p| p.status.node_id == node_id)
            .map(|p| p.status.address.clone())
    }

    fn export_args(&self, args: &[TaskArg]) -> Vec<proto::TaskArgument> {
        args.iter()
            .map(|a| proto::TaskArgument {
                arg: Some(match a {
                    TaskArg::Value(v) => {
                        proto::task_argument::Arg::Value(self.objects.export_value(v))
                    }
                    TaskArg::Ref(h) => proto::task_argument::Arg::ByRef(self.objects.export_ref(h)),
                }),
            })
            .collect()
    }

    /// A client of the node `node_id` runs on, or why there is none.
    async fn node_client(
        &self,
        node_id: &str,
    ) -> Result<(String, proto::node_client::NodeClient<Channel>), String> {
        let address = self
            .address_of(node_id)
            .ok_or_else(|| format!("node {node_id} is not a live node of the cluster"))?;
        let client = self.connections.client(&address).await?;
        Ok((address, client))
    }

    /// Queues a call or kill for an actor on another node.
    fn enqueue(&self, actor: ActorId, item: Queued) {
        let mut queues = self.actor_queues.lock();
        let tx = queues.entry(actor).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            if let Some(this) = self.me.upgrade() {
                tokio::spawn(this.send_actor_calls(actor, rx));
            }
            tx
        });
        if let Err(mpsc::error::SendError(item)) = tx.send(item) {
            queues.remove(&actor);
            if let Queued::Call(call) = item {
                (call.done)(Err(failed(&call.method, "the node is stopping")));
            }
        }
    }

    /// Kills an actor on its node.
    async fn send_kill(&self, actor: ActorId, caller: Option<JobId>) -> Result<(), String> {
        let node = format!("{:016x}", actor.0.hi);
        let (_, mut client) = self.node_client(&node).await?;
        let req = self
            .connections
            .request(proto::KillActorRequest {
                protocol: PROTOCOL_VERSION,
                actor_id: actor.0.to_bytes().to_vec(),
                job_id: caller.map(|j| j.to_string()).unwrap_or_default(),
            })
            .map_err(|s| s.message().to_string())?;
        let reply = client
            .kill_actor(req)
            .await
            .map_err(|s| s.message().to_string())?;
        match reply.into_inner().error {
            Some(e) => Err(e.message),
            None => Ok(()),
        }
    }

    /// Sends one actor's calls in order, each after the previous returned.
    async fn send_actor_calls(
        self: Arc<Self>,
        actor: ActorId,
        mut queue: mpsc::UnboundedReceiver<Queued>,
    ) {
        let node = format!("{:016x}", actor.0.hi);
        let label = |m: &str| format!("actor {actor}.{m}");
        while let Some(item) = queue.recv().await {
            let call = match item {
                Queued::Call(call) => call,
                Queued::Kill(caller) => {
                    if let Err(e) = self.send_kill(actor, caller).await {
                        tracing::warn!(%actor, error = %e, "killing an actor on another node failed");
                    }
                    continue;
                }
            };
            let outcome = async {
                let (address, mut client) = match self.node_client(&node).await {
                    Ok(c) => c,
                    Err(e) => {
                        self.objects.unexport(&call.args);
                        return Err(TaskError::new(ErrorKind::ActorDied, label(&call.method), e));
                    }
                };
                let req = self
                    .connections
                    .request(proto::CallActorRequest {
                        protocol: PROTOCOL_VERSION,
                        actor_id: actor.0.to_bytes().to_vec(),
                        job_id: call.caller.map(|j| j.to_string()).unwrap_or_default(),
                        method: call.method.clone(),
                        args: call.args,
                        num_returns: call.num_returns,
                    })
                    .map_err(|s| failed(&call.method, s.message()))?;
                let reply = match client.call_actor(req).await {
                    Ok(r) => r.into_inner(),
                    Err(s) => {
                        self.connections.forget(&address);
                        return Err(TaskError::new(
                            ErrorKind::ActorDied,
                            label(&call.method),
                            format!("node {node} (where the actor lives): {}", s.message()),
                        ));
                    }
                };
                if let Some(e) = reply.error {
                    return Err(super::node::task_error(e));
                }
                reply
                    .values
                    .into_iter()
                    .map(|v| self.objects.import_value(v))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| failed(&call.method, e.to_string()))
            }
            .await;
            (call.done)(outcome);
        }
    }

    pub fn set_peers(&self, nodes: Vec<proto::NodeStatus>) {
        let lost = {
            let mut lost = self.lost.lock();
            lost.retain(|_, at| at.elapsed() < LOST_FOR);
            lost.keys().cloned().collect::<Vec<_>>()
        };
        *self.peers.lock() = nodes
            .into_iter()
            .filter(|n| n.state == "alive" && n.node_id != self.node_id)
            .filter(|n| !lost.contains(&n.node_id))
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

/// Whether a call failed because the peer is gone (not because it refused).
fn gone(s: &tonic::Status) -> bool {
    matches!(
        s.code(),
        tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled
    )
}

fn bundle_target(group: GroupId, index: u32) -> proto::BundleTarget {
    proto::BundleTarget {
        group: group.0.to_bytes().to_vec(),
        index,
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
        if q.spread {
            // The least loaded node with room, this one included (on a tie).
            let peer = best(peers, |p| p.has_room_for(r), by_load(r));
            return Ok(match peer {
                Some(i) if !q.free_here || peers[i].load(r) < q.load_here => Some(i),
                None if !q.free_here => best(peers, |p| p.can_ever_run(r), by_load(r))
                    .filter(|&i| peers[i].load(r) < q.load_here),
                _ => None,
            });
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
        let objects = self.objects.clone();
        let connections = self.connections.clone();
        let (Some(address), Some(job_ref)) = (address, self.job(job.id)) else {
            let why = format!("node {peer} left the cluster, or this job is not known to it");
            return Box::pin(async move { Err(failed(&label, why)) });
        };
        // Arguments are exported now, while the caller's references are
        // alive: each counts one reference for the peer (given back here
        // if the call cannot be sent).
        let wire_args = self.export_args(&args);
        drop(args);
        let req = proto::RunTaskRequest {
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
            env_hash: job_ref.env_hash,
            bundle: match options.scheduling {
                Scheduling::PlacementGroup {
                    group,
                    bundle: Some(index),
                } => Some(bundle_target(group, index)),
                _ => None,
            },
        };
        let peer = peer.to_string();
        let this = Some(self.me.clone());
        Box::pin(async move {
            let mut client = match connections.client(&address).await {
                Ok(c) => c,
                Err(e) => {
                    objects.unexport(&req.args);
                    if let Some(this) = this.as_ref().and_then(Weak::upgrade) {
                        this.mark_lost(&peer);
                    }
                    return Err(failed(&label, e));
                }
            };
            let req = connections
                .request(req)
                .map_err(|s| failed(&label, s.message()))?;
            tracing::debug!(task = %label, node = %peer, "task sent to another node");
            let reply = match client.run_task(req).await {
                Ok(r) => r.into_inner(),
                Err(s) => {
                    // A broken connection is dialled again by the next task.
                    connections.forget(&address);
                    if gone(&s) {
                        if let Some(this) = this.as_ref().and_then(Weak::upgrade) {
                            this.mark_lost(&peer);
                        }
                    }
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

    fn create_actor(&self, a: RemoteActor<'_>) -> BoxFuture<'static, Result<ActorId, TaskError>> {
        let label = a.class.clone();
        let (Some(j), Some(this)) = (self.job(a.job.id), self.me.upgrade()) else {
            return Box::pin(
                async move { Err(failed(&label, "this job is not known to the cluster")) },
            );
        };
        let args = self.export_args(&a.args);
        drop(a.args);
        let (actor_name, namespace) = a.name.map(|(ns, n)| (n, ns)).unwrap_or_default();
        let req = proto::CreateActorRequest {
            protocol: PROTOCOL_VERSION,
            job_id: j.job_id,
            name: j.name,
            components: j.components,
            class: a.class.clone(),
            args,
            resources: Some(super::to_proto_resources(a.resources)),
            actor_name,
            namespace,
            max_restarts: a.max_restarts,
            bundle: a.bundle.map(|(g, i)| bundle_target(g, i)),
            env_hash: j.env_hash,
        };
        let peer = a.peer.to_string();
        Box::pin(async move {
            let (address, mut client) = match this.node_client(&peer).await {
                Ok(c) => c,
                Err(e) => {
                    this.objects.unexport(&req.args);
                    return Err(failed(&label, e));
                }
            };
            let req = this
                .connections
                .request(req)
                .map_err(|s| failed(&label, s.message()))?;
            let reply = client.create_actor(req).await.map_err(|s| {
                this.connections.forget(&address);
                failed(&label, format!("node {peer}: {}", s.message()))
            })?;
            let reply = reply.into_inner();
            if let Some(e) = reply.error {
                return Err(super::node::task_error(e));
            }
            let id = Id::from_bytes(&reply.actor_id)
                .ok_or_else(|| failed(&label, format!("node {peer} sent a malformed actor id")))?;
            tracing::debug!(actor = %id, node = %peer, class = %label, "actor created on another node");
            Ok(ActorId(id))
        })
    }

    fn call_actor(
        &self,
        caller: Option<JobId>,
        actor: ActorId,
        method: String,
        args: Vec<TaskArg>,
        num_returns: u32,
        done: CallDone,
    ) {
        let call = QueuedCall {
            caller,
            method,
            args: self.export_args(&args),
            num_returns,
            done,
        };
        drop(args);
        self.enqueue(actor, Queued::Call(call));
    }

    fn kill_actor(&self, caller: Option<JobId>, actor: ActorId) {
        self.enqueue(actor, Queued::Kill(caller));
    }

    fn register_name(
        &self,
        namespace: &str,
        name: &str,
        actor: ActorId,
    ) -> BoxFuture<'static, Result<(), TaskError>> {
        let req = self.connections.request(proto::RegisterActorRequest {
            protocol: PROTOCOL_VERSION,
            namespace: namespace.to_string(),
            name: name.to_string(),
            actor_id: actor.0.to_bytes().to_vec(),
        });
        let mut head = self.head.clone();
        let label = name.to_string();
        Box::pin(async move {
            let req = req.map_err(|s| failed(&label, s.message()))?;
            match head.register_actor(req).await {
                Ok(_) => Ok(()),
                Err(s) if s.code() == tonic::Code::AlreadyExists => Err(TaskError::new(
                    ErrorKind::InvalidArgument,
                    label,
                    s.message(),
                )),
                Err(s) => Err(failed(
                    &label,
                    format!("the head could not register the name: {}", s.message()),
                )),
            }
        })
    }

    fn unregister_name(&self, namespace: &str, name: &str, actor: ActorId) {
        let Ok(req) = self.connections.request(proto::UnregisterActorRequest {
            protocol: PROTOCOL_VERSION,
            namespace: namespace.to_string(),
            name: name.to_string(),
            actor_id: actor.0.to_bytes().to_vec(),
        }) else {
            return;
        };
        let mut head = self.head.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(s) = head.unregister_actor(req).await {
                    tracing::warn!(error = %s.message(), "could not give an actor's name up");
                }
            });
        }
    }

    fn lookup_name(&self, namespace: &str, name: &str) -> BoxFuture<'static, Option<ActorId>> {
        let req = self.connections.request(proto::LookupActorRequest {
            protocol: PROTOCOL_VERSION,
            namespace: namespace.to_string(),
            name: name.to_string(),
        });
        let mut head = self.head.clone();
        Box::pin(async move {
            let reply = head.lookup_actor(req.ok()?).await;
            match reply {
                Ok(r) => Id::from_bytes(&r.into_inner().actor_id).map(ActorId),
                Err(s) => {
                    tracing::warn!(error = %s.message(), "looking up a named actor at the head failed");
                    None
                }
            }
        })
    }

    fn job_ended(&self, job: JobId) {
        let addresses: Vec<String> = self
            .peers
            .lock()
            .iter()
            .map(|p| p.status.address.clone())
            .collect();
        let connections = self.connections.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                for address in addresses {
                    let Ok(mut client) = connections.client(&address).await else {
                        continue;
                    };
                    if let Ok(req) = connections.request(proto::EndJobRequest {
                        protocol: PROTOCOL_VERSION,
                        job_id: job.to_string(),
                    }) {
                        let _ = client.end_job(req).await;
                    }
                }
            });
        }
    }

    fn nodes(&self) -> Vec<NodeRoom> {
        self.peers
            .lock()
            .iter()
            .filter_map(|p| {
                let mut free = p.free.clone();
                free.cpu_millis -= p.sent_cpu;
                Some(NodeRoom {
                    node: NodeId(Id::new(u64::from_str_radix(&p.status.node_id, 16).ok()?, 0)),
                    free,
                    total: p.total.clone(),
                })
            })
            .collect()
    }

    fn reserve_bundles(
        &self,
        node: NodeId,
        group: GroupId,
        bundles: Vec<(u32, Resources)>,
    ) -> BoxFuture<'static, Result<(), String>> {
        let this = self.me.upgrade();
        Box::pin(async move {
            let this = this.ok_or("the node is stopping")?;
            let (_, mut client) = this.node_client(&format!("{:016x}", node.0.hi)).await?;
            let req = this
                .connections
                .request(proto::ReserveBundlesRequest {
                    protocol: PROTOCOL_VERSION,
                    group: group.0.to_bytes().to_vec(),
                    bundles: bundles
                        .iter()
                        .map(|(i, r)| proto::Bundle {
                            index: *i,
                            resources: Some(super::to_proto_resources(r)),
                            node_id: String::new(),
                        })
                        .collect(),
                })
                .map_err(|s| s.message().to_string())?;
            let reply = client
                .reserve_bundles(req)
                .await
                .map_err(|s| s.message().to_string())?
                .into_inner();
            if reply.refused.is_empty() {
                // Count it before the next heartbeat shows it.
                if let Some(p) = this
                    .peers
                    .lock()
                    .iter_mut()
                    .find(|p| p.status.node_id == format!("{:016x}", node.0.hi))
                {
                    p.sent_cpu += bundles.iter().map(|(_, r)| r.cpu_millis).sum::<i64>();
                }
                Ok(())
            } else {
                Err(reply.refused)
            }
        })
    }

    fn release_bundles(&self, node: NodeId, group: GroupId) {
        let Some(this) = self.me.upgrade() else {
            return;
        };
        tokio::spawn(async move {
            let node = format!("{:016x}", node.0.hi);
            let sent = async {
                let (_, mut client) = this.node_client(&node).await?;
                let req = this
                    .connections
                    .request(proto::GetGroupRequest {
                        protocol: PROTOCOL_VERSION,
                        group: group.0.to_bytes().to_vec(),
                    })
                    .map_err(|s| s.message().to_string())?;
                client
                    .release_bundles(req)
                    .await
                    .map_err(|s| s.message().to_string())
            };
            if let Err(e) = sent.await {
                tracing::warn!(%group, %node, error = %e, "could not release a placement group's bundles");
            }
        });
    }

    fn publish_group(&self, info: &GroupInfo) -> BoxFuture<'static, Result<(), TaskError>> {
        let req = self.connections.request(super::group_record(info));
        let mut head = self.head.clone();
        Box::pin(async move {
            let req = req.map_err(|s| failed("placement group", s.message()))?;
            head.register_group(req).await.map(|_| ()).map_err(|s| {
                failed(
                    "placement group",
                    format!("the head could not record it: {}", s.message()),
                )
            })
        })
    }

    fn group(&self, group: GroupId) -> BoxFuture<'static, Option<GroupInfo>> {
        let req = self.connections.request(proto::GetGroupRequest {
            protocol: PROTOCOL_VERSION,
            group: group.0.to_bytes().to_vec(),
        });
        let mut head = self.head.clone();
        Box::pin(async move {
            let reply = head.get_group(req.ok()?).await.ok()?.into_inner();
            super::group_info(&reply.group?)
        })
    }

    fn forget_group(&self, group: GroupId) {
        let Ok(req) = self.connections.request(proto::GetGroupRequest {
            protocol: PROTOCOL_VERSION,
            group: group.0.to_bytes().to_vec(),
        }) else {
            return;
        };
        let mut head = self.head.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(s) = head.remove_group(req).await {
                    tracing::warn!(%group, error = %s.message(), "the head could not forget a placement group");
                }
            });
        }
    }

    fn is_lost(&self, node: &str) -> bool {
        self.lost.lock().contains_key(node)
    }
}
