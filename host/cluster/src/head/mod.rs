//! The head: the cluster's control state (sled), its view of the nodes and
//! their free resources, and the job API. A job goes to the live node with
//! the most free CPUs (fewest running jobs on a tie); the head relays the
//! node's event stream to the submitter and records how the job ended.

use std::collections::HashMap;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use prost::Message;
use tokio_stream::Stream;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use wrun_proto::check_protocol;
use wrun_proto::pb::{self as proto, node_client::NodeClient};

use crate::auth::Token;
use crate::tls::{Authority, Transport};

mod jobs;
mod store;

pub use store::{ActorRecord, HeadStore, JobRecord, NodeRecord, StoreError};

/// A node that has not reported for this long is lost: no new jobs go there.
pub const NODE_TIMEOUT: Duration = Duration::from_secs(5);

struct LiveNode {
    record: NodeRecord,
    available: proto::Resources,
    running_jobs: u32,
    /// Tasks waiting for resources there, and its object store.
    queued: u32,
    /// Why work waits there.
    waiting: Vec<String>,
    objects: proto::ObjectStats,
    /// How many other nodes it saw at its last report.
    peers: u32,
    /// Reports heard from it since it joined this head.
    reports: u64,
    /// CPU time (ms) each job loaded there has used there, as last reported.
    job_cpu: HashMap<String, u64>,
    last_seen: Instant,
    /// When a job was last placed here (a placement counter): among equal
    /// nodes the one that waited longest gets the next job.
    last_placed: u64,
}

/// The head's service.
pub struct HeadService {
    id: String,
    store: Arc<HeadStore>,
    token: Token,
    /// The cluster's CA (None: plain text, loopback only).
    authority: Option<Arc<Authority>>,
    /// How the head reaches nodes (its own CA pinned, or plain).
    transport: Transport,
    /// Nodes heard from since this head started.
    live: Mutex<HashMap<String, LiveNode>>,
    next_job: AtomicU64,
    placements: AtomicU64,
}

pub(crate) type EventStream = Pin<Box<dyn Stream<Item = Result<proto::JobEvent, Status>> + Send>>;

pub(crate) fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

impl HeadService {
    pub fn new(
        state_dir: PathBuf,
        token: Token,
        authority: Option<Arc<Authority>>,
    ) -> Result<HeadService, StoreError> {
        let store = HeadStore::open(&state_dir.join("control"))?;
        let id = store.head_id()?;
        let known = store.nodes()?.len();
        tracing::info!(head = %id, known_nodes = known, "head state loaded");
        // Job ids: the head's id and a counter that starts past any
        // earlier run's (the clock), so ids stay unique across restarts.
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(1);
        Ok(HeadService {
            id,
            store: Arc::new(store),
            token,
            transport: authority
                .as_ref()
                .map_or(Transport::Plain, |a| a.transport()),
            authority,
            live: Mutex::new(HashMap::new()),
            next_job: AtomicU64::new(start),
            placements: AtomicU64::new(1),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The live node with the most free CPUs; on a tie, the fewest running
    /// jobs, then the one that got a job longest ago (so equal nodes take
    /// turns: the default strategy spreads drivers).
    fn place(&self) -> Option<NodeRecord> {
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
    fn node_alive(&self, node_id: &str) -> bool {
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
    fn node_statuses(&self) -> Result<Vec<proto::NodeStatus>, Status> {
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

    fn record_job(&self, j: &JobRecord) {
        if let Err(e) = self.store.put_job(j) {
            tracing::error!(job = %j.job_id, error = %e, "could not record a job");
        }
    }

    async fn node_client(&self, address: &str) -> Result<NodeClient<Channel>, Status> {
        let channel = self
            .transport
            .endpoint(address)
            .map_err(internal)?
            .connect()
            .await
            .map_err(|e| Status::unavailable(format!("node at {address} unreachable: {e}")))?;
        Ok(NodeClient::new(channel))
    }
}

#[tonic::async_trait]
impl proto::head_server::Head for HeadService {
    async fn join(
        &self,
        req: Request<proto::JoinRequest>,
    ) -> Result<Response<proto::JoinReply>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "join", peer)?;
        let total = r.total.unwrap_or_default();
        let record = NodeRecord {
            node_id: r.node_id.clone(),
            address: r.address.clone(),
            cpus: total.cpus,
            memory: total.memory,
            custom: total.custom.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        };
        self.store.put_node(&record).map_err(internal)?;
        tracing::info!(node = %r.node_id, address = %r.address, cpus = total.cpus, "node joined");
        self.live.lock().insert(
            r.node_id,
            LiveNode {
                record,
                available: total,
                running_jobs: 0,
                queued: 0,
                waiting: Vec::new(),
                objects: proto::ObjectStats::default(),
                peers: 0,
                reports: 0,
                job_cpu: HashMap::new(),
                last_seen: Instant::now(),
                last_placed: 0,
            },
        );
        Ok(Response::new(proto::JoinReply {
            head_id: self.id.clone(),
        }))
    }

    async fn heartbeat(
        &self,
        req: Request<proto::HeartbeatRequest>,
    ) -> Result<Response<proto::HeartbeatReply>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "heartbeat", peer)?;
        let mut live = self.live.lock();
        let known = match live.get_mut(&r.node_id) {
            Some(n) => {
                n.job_cpu = r
                    .job_cpu
                    .iter()
                    .map(|j| (j.job_id.clone(), j.cpu_ms))
                    .collect();
                n.available = r.available.unwrap_or_default();
                n.running_jobs = r.running_jobs;
                n.queued = r.queued;
                n.waiting = r.waiting;
                n.objects = r.objects.unwrap_or_default();
                n.peers = r.peers;
                n.reports += 1;
                n.last_seen = Instant::now();
                true
            }
            None => false,
        };
        let job_cpu_elsewhere = jobs::cpu_elsewhere(&live, &r.node_id, &r.job_cpu);
        drop(live);
        let nodes = if known {
            self.node_statuses()?
        } else {
            Vec::new()
        };
        Ok(Response::new(proto::HeartbeatReply {
            known,
            nodes,
            job_cpu_elsewhere,
        }))
    }

    type SubmitJobStream = EventStream;

    async fn submit_job(
        &self,
        req: Request<proto::SubmitJobRequest>,
    ) -> Result<Response<EventStream>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "submit", peer)?;
        self.submit(r).await
    }

    async fn get_component(
        &self,
        req: Request<proto::GetComponentRequest>,
    ) -> Result<Response<proto::GetComponentReply>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "get component", peer)?;
        match self.store.component(&r.hash).map_err(internal)? {
            Some(wasm) => Ok(Response::new(proto::GetComponentReply { wasm })),
            None => Err(Status::not_found(format!(
                "no component {} at the head",
                r.hash
            ))),
        }
    }

    async fn certify(
        &self,
        req: Request<proto::CertifyRequest>,
    ) -> Result<Response<proto::CertifyReply>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "certify", peer)?;
        let Some(ca) = &self.authority else {
            return Err(Status::failed_precondition(
                "this head runs without TLS (--tls off): start the node with --tls off too",
            ));
        };
        let certificate = ca
            .certify(&r.public_key, &format!("wrun node {}", r.node_id))
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        tracing::info!(node = %r.node_id, "certified a node's key");
        Ok(Response::new(proto::CertifyReply { certificate }))
    }

    async fn status(
        &self,
        req: Request<proto::StatusRequest>,
    ) -> Result<Response<proto::StatusReply>, Status> {
        let peer = req.remote_addr();
        check_protocol(req.into_inner().protocol, "status", peer)?;
        let nodes = self.node_statuses()?;
        let jobs = self
            .store
            .jobs()
            .map_err(internal)?
            .into_iter()
            .map(|j| proto::JobStatus {
                job_id: j.job_id,
                name: j.name,
                state: j.state,
                node_id: j.node_id,
                detail: j.detail,
            })
            .collect();
        let groups = self
            .store
            .groups()
            .map_err(internal)?
            .iter()
            .filter_map(|b| proto::GroupRecord::decode(&b[..]).ok())
            .collect();
        Ok(Response::new(proto::StatusReply {
            head_id: self.id.clone(),
            nodes,
            jobs,
            groups,
        }))
    }

    async fn register_actor(
        &self,
        req: Request<proto::RegisterActorRequest>,
    ) -> Result<Response<proto::RegisterActorReply>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "register actor", peer)?;
        let id = actor_hex(&r.actor_id)?;
        if let Some(old) = self.store.actor(&r.namespace, &r.name).map_err(internal)? {
            if old.actor_id != id && self.node_alive(&actor_node(&old.actor_id)) {
                return Err(Status::already_exists(format!(
                    "an actor named `{}` already exists in namespace `{}` (actor {} on node {})",
                    r.name,
                    r.namespace,
                    old.actor_id,
                    actor_node(&old.actor_id)
                )));
            }
        }
        self.store
            .put_actor(&ActorRecord {
                namespace: r.namespace,
                name: r.name,
                actor_id: id,
            })
            .map_err(internal)?;
        Ok(Response::new(proto::RegisterActorReply {}))
    }

    async fn lookup_actor(
        &self,
        req: Request<proto::LookupActorRequest>,
    ) -> Result<Response<proto::LookupActorReply>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "lookup actor", peer)?;
        let found = self
            .store
            .actor(&r.namespace, &r.name)
            .map_err(internal)?
            // A name whose node is gone names nothing.
            .filter(|a| self.node_alive(&actor_node(&a.actor_id)));
        let actor_id = match found {
            Some(a) => wrun_core::Id::from_hex(&a.actor_id)
                .map(|id| id.to_bytes().to_vec())
                .unwrap_or_default(),
            None => Vec::new(),
        };
        Ok(Response::new(proto::LookupActorReply { actor_id }))
    }

    async fn unregister_actor(
        &self,
        req: Request<proto::UnregisterActorRequest>,
    ) -> Result<Response<proto::UnregisterActorReply>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "unregister actor", peer)?;
        let id = actor_hex(&r.actor_id)?;
        self.store
            .remove_actor(&r.namespace, &r.name, &id)
            .map_err(internal)?;
        Ok(Response::new(proto::UnregisterActorReply {}))
    }

    async fn register_group(
        &self,
        req: Request<proto::GroupRecord>,
    ) -> Result<Response<proto::RegisterGroupReply>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "register placement group", peer)?;
        if wrun_proto::from_group(&r).is_none() {
            return Err(Status::invalid_argument(
                "a malformed placement group record",
            ));
        }
        let id = group_hex(&r.group)?;
        self.store
            .put_group(&id, &r.encode_to_vec())
            .map_err(internal)?;
        Ok(Response::new(proto::RegisterGroupReply {}))
    }

    async fn get_group(
        &self,
        req: Request<proto::GetGroupRequest>,
    ) -> Result<Response<proto::GetGroupReply>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "get placement group", peer)?;
        let id = group_hex(&r.group)?;
        let group = match self.store.group(&id).map_err(internal)? {
            Some(bytes) => Some(proto::GroupRecord::decode(&bytes[..]).map_err(internal)?),
            None => None,
        };
        Ok(Response::new(proto::GetGroupReply { group }))
    }

    async fn remove_group(
        &self,
        req: Request<proto::GetGroupRequest>,
    ) -> Result<Response<proto::RegisterGroupReply>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "remove placement group", peer)?;
        self.store
            .remove_group(&group_hex(&r.group)?)
            .map_err(internal)?;
        Ok(Response::new(proto::RegisterGroupReply {}))
    }
}

/// A placement group id from the wire, as the store keeps it (hex).
#[allow(
    clippy::result_large_err,
    reason = "tonic's Status is what handlers return"
)]
fn group_hex(bytes: &[u8]) -> Result<String, Status> {
    wrun_core::Id::from_bytes(bytes)
        .map(|id| id.to_string())
        .ok_or_else(|| Status::invalid_argument("a placement group id must be 16 bytes"))
}

/// An actor id from the wire, as the store keeps it (hex).
#[allow(
    clippy::result_large_err,
    reason = "tonic's Status is what handlers return"
)]
fn actor_hex(bytes: &[u8]) -> Result<String, Status> {
    wrun_core::Id::from_bytes(bytes)
        .map(|id| id.to_string())
        .ok_or_else(|| Status::invalid_argument("an actor id must be 16 bytes"))
}

/// The node an actor lives on, from its recorded id (hex): its high half.
fn actor_node(actor_id: &str) -> String {
    actor_id
        .parse::<wrun_core::ActorId>()
        .map(|a| a.node().to_string())
        .unwrap_or_default()
}
