//! A node daemon's service: runs the jobs the head places here (streaming
//! each job's guest lines and result back), runs tasks and hosts actors for
//! other nodes, serves and releases objects, reserves bundles; and its loop
//! of joining the head and reporting every heartbeat.

mod cache;
mod calls;
mod jobs;
mod join;
mod lines;
mod objects;
mod state;

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::AtomicU32;
use std::sync::Arc;

use tokio_stream::Stream;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};
use wrun_env::Environment;
use wrun_proto::pb::head_client::HeadClient;
use wrun_proto::{check_protocol, pb};
use wrun_runtime::Runtime;
use wrun_sandbox::LoadedJob;

use crate::objects::Wire;
use crate::remote::ClusterRemote;
use cache::OnceMap;

pub use join::{join_and_report, JoinRefused, HEARTBEAT};

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::JobEvent, Status>> + Send>>;
type ChunkStream = Pin<Box<dyn Stream<Item = Result<pb::ObjectChunk, Status>> + Send>>;

/// Jobs of other nodes' drivers kept loaded here, at most (idle ones go).
const GUEST_JOBS: usize = 64;

/// The node's service: its state, shared with the work it spawns (a
/// driver loads and runs after its event stream is answered).
pub struct NodeService {
    shared: Arc<NodeShared>,
}

impl std::ops::Deref for NodeService {
    type Target = NodeShared;

    fn deref(&self) -> &NodeShared {
        &self.shared
    }
}

/// What the node's service holds.
pub struct NodeShared {
    rt: Runtime,
    head: HeadClient<Channel>,
    /// Component bytes by content hash (fetched from the head once).
    components_dir: PathBuf,
    /// Where environments are laid out, by content hash.
    envs_dir: PathBuf,
    running: Arc<AtomicU32>,
    remote: Arc<ClusterRemote>,
    wire: Wire,
    /// Runtime environments laid out here, by content hash.
    environments: OnceMap<String, Environment>,
    /// Jobs loaded here to run tasks of drivers on other nodes.
    guests: OnceMap<wrun_core::JobId, LoadedJob>,
    /// Where those jobs' guests' lines go: to the head.
    lines: lines::LineForwarder,
}

impl NodeService {
    /// The service of `rt`, keeping its files under `state_dir`.
    pub fn new(
        rt: Runtime,
        head: HeadClient<Channel>,
        state_dir: PathBuf,
        remote: Arc<ClusterRemote>,
        wire: Wire,
    ) -> Self {
        let shared = NodeShared {
            lines: lines::LineForwarder::start(head.clone(), wire.conns().clone(), rt.node_id()),
            rt,
            head,
            components_dir: state_dir.join("components"),
            envs_dir: state_dir.join("envs"),
            running: Arc::new(AtomicU32::new(0)),
            remote,
            wire,
            environments: OnceMap::new(usize::MAX),
            guests: OnceMap::new(GUEST_JOBS),
        };
        NodeService {
            shared: Arc::new(shared),
        }
    }

    /// Jobs whose drivers run here now.
    pub fn running(&self) -> Arc<AtomicU32> {
        self.running.clone()
    }
}

#[tonic::async_trait]
impl pb::node_server::Node for NodeService {
    type RunJobStream = EventStream;

    async fn run_job(
        &self,
        req: Request<pb::RunJobRequest>,
    ) -> Result<Response<EventStream>, Status> {
        let peer = req.remote_addr();
        self.run_job_stream(req.into_inner(), peer).await
    }

    async fn run_task(
        &self,
        req: Request<pb::RunTaskRequest>,
    ) -> Result<Response<pb::RunTaskReply>, Status> {
        let peer = req.remote_addr();
        self.run_task_here(req.into_inner(), peer)
            .await
            .map(Response::new)
    }

    async fn create_actor(
        &self,
        req: Request<pb::CreateActorRequest>,
    ) -> Result<Response<pb::CreateActorReply>, Status> {
        let peer = req.remote_addr();
        self.create_actor_here(req.into_inner(), peer)
            .await
            .map(Response::new)
    }

    async fn call_actor(
        &self,
        req: Request<pb::CallActorRequest>,
    ) -> Result<Response<pb::RunTaskReply>, Status> {
        let peer = req.remote_addr();
        self.call_actor_here(req.into_inner(), peer)
            .await
            .map(Response::new)
    }

    async fn cancel(
        &self,
        req: Request<pb::CancelRequest>,
    ) -> Result<Response<pb::CancelReply>, Status> {
        let peer = req.remote_addr();
        self.cancel_here(req.into_inner(), peer).map(Response::new)
    }

    async fn kill_actor(
        &self,
        req: Request<pb::KillActorRequest>,
    ) -> Result<Response<pb::KillActorReply>, Status> {
        let peer = req.remote_addr();
        self.kill_actor_here(req.into_inner(), peer)
            .map(Response::new)
    }

    async fn end_job(
        &self,
        req: Request<pb::EndJobRequest>,
    ) -> Result<Response<pb::EndJobReply>, Status> {
        let peer = req.remote_addr();
        self.end_job_here(req.into_inner(), peer)
            .await
            .map(Response::new)
    }

    async fn list_state(
        &self,
        req: Request<pb::ListStateRequest>,
    ) -> Result<Response<pb::ListStateReply>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "list state", peer)?;
        // Copying out 100,000 records takes milliseconds: off the workers
        // that run the node's calls.
        let rt = self.rt.clone();
        tokio::task::spawn_blocking(move || state::list_state(&rt, &r))
            .await
            .map_err(|e| Status::internal(format!("listing failed: {e}")))?
            .map(Response::new)
    }

    async fn stop_job(
        &self,
        req: Request<pb::StopJobRequest>,
    ) -> Result<Response<pb::StopJobReply>, Status> {
        let peer = req.remote_addr();
        let r = req.into_inner();
        check_protocol(r.protocol, "stop job", peer)?;
        let id = jobs::job_id(&r.job_id)?;
        tracing::info!(job = %r.job_id, "stopping a job's work here");
        self.rt.stop_job(id);
        Ok(Response::new(pb::StopJobReply {}))
    }

    async fn reserve_bundles(
        &self,
        req: Request<pb::ReserveBundlesRequest>,
    ) -> Result<Response<pb::ReserveBundlesReply>, Status> {
        let peer = req.remote_addr();
        self.reserve_bundles_here(req.into_inner(), peer)
            .map(Response::new)
    }

    async fn release_bundles(
        &self,
        req: Request<pb::GetGroupRequest>,
    ) -> Result<Response<pb::RegisterGroupReply>, Status> {
        let peer = req.remote_addr();
        self.release_bundles_here(req.into_inner(), peer)
            .map(Response::new)
    }

    type FetchObjectStream = ChunkStream;

    async fn fetch_object(
        &self,
        req: Request<pb::FetchObjectRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let peer = req.remote_addr();
        self.serve_object(req.into_inner(), peer).map(Response::new)
    }

    async fn object_ready(
        &self,
        req: Request<pb::ObjectReadyRequest>,
    ) -> Result<Response<pb::ObjectReadyReply>, Status> {
        let peer = req.remote_addr();
        self.object_ready_here(req.into_inner(), peer)
            .await
            .map(Response::new)
    }

    async fn release_objects(
        &self,
        req: Request<pb::ReleaseObjectsRequest>,
    ) -> Result<Response<pb::ReleaseObjectsReply>, Status> {
        let peer = req.remote_addr();
        self.take_releases(req.into_inner(), peer)
            .map(Response::new)
    }
}
