//! The head: the cluster's control state (sled), its view of the nodes and
//! their free resources, and the job API. A job goes to the live node with
//! the most free CPUs (fewest running jobs on a tie); the head relays the
//! node's event stream to the submitter and records how the job ended.

use std::collections::HashMap;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
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
use ids::{actor_node, id_hex};

mod feed;
mod ids;
mod jobs;
mod nodes;
mod state;
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
    /// The running jobs' progress, for their followers.
    feeds: Arc<feed::JobFeeds>,
    /// Ended jobs kept (records, lines, outcomes); older ones are forgotten.
    keep_jobs: usize,
}

/// Ended jobs a head keeps by default (`wrun start --head --keep-jobs`).
pub const KEEP_JOBS: usize = 1_000;

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
        // Jobs a previous run of the head was following: nobody is now.
        for mut job in store.jobs()? {
            if !job.ended() {
                job.state = "lost".into();
                job.detail =
                    "the head restarted while it ran: how it ended was not recorded".into();
                store.put_job(&job)?;
            }
        }
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
            feeds: Arc::default(),
            keep_jobs: KEEP_JOBS,
        })
    }

    /// Keeps the newest `n` ended jobs (records, lines, outcomes).
    pub fn keep_jobs(mut self, n: usize) -> Self {
        self.keep_jobs = n;
        self
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn record_job(&self, j: &JobRecord) {
        if let Err(e) = self.store.put_job(j) {
            tracing::error!(job = %j.job_id, error = %e, "could not record a job");
        }
    }

    async fn node_client(&self, address: &str) -> Result<NodeClient<Channel>, Status> {
        node_client(&self.transport, address).await
    }

    /// The nodes heard from lately: their ids and addresses.
    fn live_addresses(&self) -> Vec<(String, String)> {
        self.live
            .lock()
            .values()
            .filter(|n| n.last_seen.elapsed() < NODE_TIMEOUT)
            .map(|n| (n.record.node_id.clone(), n.record.address.clone()))
            .collect()
    }
}

/// A client of the node at `address`; a driver's value comes back through
/// it, so its replies may be as large as a job's value may be.
async fn node_client(transport: &Transport, address: &str) -> Result<NodeClient<Channel>, Status> {
    let channel = transport
        .endpoint(address)
        .map_err(internal)?
        .connect()
        .await
        .map_err(|e| Status::unavailable(format!("node at {address} unreachable: {e}")))?;
    Ok(NodeClient::new(channel).max_decoding_message_size(crate::connections::MAX_NODE_REPLY))
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

    type FollowJobStream = EventStream;

    async fn follow_job(
        &self,
        req: Request<proto::FollowJobRequest>,
    ) -> Result<Response<EventStream>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "follow job", peer)?;
        let stream = feed::follow(
            self.store.clone(),
            &self.feeds,
            r.job_id,
            r.from_line,
            r.follow,
        )?;
        Ok(Response::new(stream))
    }

    async fn job_lines(
        &self,
        req: Request<proto::JobLinesRequest>,
    ) -> Result<Response<proto::JobLinesReply>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "job lines", peer)?;
        let dropped = self.feeds.append(&self.store, &r.job_id, &r.lines);
        if dropped > 0 {
            tracing::warn!(job = %r.job_id, lines = dropped, "lines of a job that is not running here were not kept");
        }
        Ok(Response::new(proto::JobLinesReply {}))
    }

    async fn list_state(
        &self,
        req: Request<proto::ListStateRequest>,
    ) -> Result<Response<proto::ListStateReply>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "list state", peer)?;
        self.list_state(r).await.map(Response::new)
    }

    async fn stop_job(
        &self,
        req: Request<proto::StopJobRequest>,
    ) -> Result<Response<proto::StopJobReply>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "stop job", peer)?;
        self.stop(&r.job_id).await.map(Response::new)
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
        let jobs = self.job_statuses()?;
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
        let id = id_hex(&r.actor_id, "an actor")?;
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
        let id = id_hex(&r.actor_id, "an actor")?;
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
        let id = id_hex(&r.group, "a placement group")?;
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
        let id = id_hex(&r.group, "a placement group")?;
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
            .remove_group(&id_hex(&r.group, "a placement group")?)
            .map_err(internal)?;
        Ok(Response::new(proto::RegisterGroupReply {}))
    }
}
