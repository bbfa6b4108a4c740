//! A node daemon: joins the head, reports its free resources every
//! heartbeat, and runs the jobs the head places on it in its own `Runtime`,
//! streaming each job's guest lines and result back.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_stream::Stream;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use super::auth::Token;
use super::objects::{ClusterObjects, CHUNK};
use super::proto::{self, head_client::HeadClient, job_event::Event};
use super::remote::{ClusterTasks, JobRef};
use super::{check_protocol, content_hash, to_proto_resources, PROTOCOL_VERSION};
use crate::environment::Environment;
use crate::error::{ErrorKind, TaskError};
use crate::ids::{ActorId, GroupId, Id, JobId, NodeId, ObjectId};
use crate::logs::{LogLine, LogSink};
use crate::runtime::Runtime;
use crate::runtime::{ActorOptions, LoadedJob, NodeAffinity, Scheduling, TaskArg, TaskOptions};

/// How often a node reports to the head.
pub const HEARTBEAT: Duration = Duration::from_millis(500);

/// The node's service.
pub struct NodeService {
    rt: Runtime,
    head: HeadClient<Channel>,
    token: Token,
    /// Component bytes by content hash (fetched from the head once).
    components_dir: PathBuf,
    running: Arc<AtomicU32>,
    cluster: Arc<ClusterTasks>,
    objects: ClusterObjects,
    /// Runtime environments laid out here, by content hash.
    environments: parking_lot::Mutex<std::collections::HashMap<String, Arc<Environment>>>,
    /// Jobs loaded here to run tasks of drivers on other nodes, by cluster id.
    guests: parking_lot::Mutex<std::collections::HashMap<String, Arc<LoadedJob>>>,
}

/// A task error as it crossed the network.
pub fn task_error(e: proto::JobError) -> TaskError {
    TaskError {
        kind: ErrorKind::from_wit_name(&e.kind),
        task: e.task,
        language: e.language,
        message: e.message,
    }
}

fn wire_error(e: TaskError) -> proto::JobError {
    proto::JobError {
        kind: e.kind.wit_name().into(),
        task: e.task,
        language: e.language,
        message: e.message,
        refused: false,
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<proto::JobEvent, Status>> + Send>>;
type ChunkStream = Pin<Box<dyn Stream<Item = Result<proto::ObjectChunk, Status>> + Send>>;

/// Where a call sent here runs: in the named bundle here, else simply here.
#[allow(clippy::result_large_err)]
fn here_or_bundle(node: u64, bundle: Option<&proto::BundleTarget>) -> Result<Scheduling, Status> {
    Ok(match bundle {
        Some(b) => Scheduling::PlacementGroup {
            group: GroupId(wire_id(&b.group, "a placement group")?),
            bundle: Some(b.index),
        },
        None => Scheduling::NodeAffinity(NodeAffinity {
            node: NodeId(Id::new(node, 0)),
            soft: false,
        }),
    })
}

/// Components by name and hash (receivers fetch the bytes by hash).
fn without_bytes(components: &[proto::Component]) -> Vec<proto::Component> {
    components
        .iter()
        .map(|c| proto::Component {
            name: c.name.clone(),
            hash: c.hash.clone(),
            wasm: Vec::new(),
        })
        .collect()
}

/// A job's cluster id (the head's, 32 hex digits) as the runtime's id.
#[allow(clippy::result_large_err)]
fn cluster_job_id(s: &str) -> Result<JobId, Status> {
    Id::from_hex(s)
        .map(JobId)
        .ok_or_else(|| Status::invalid_argument(format!("`{s}` is not a job id")))
}

/// The calling job of a request (empty: the host API).
#[allow(clippy::result_large_err)]
fn caller_job(s: &str) -> Result<Option<JobId>, Status> {
    if s.is_empty() {
        Ok(None)
    } else {
        cluster_job_id(s).map(Some)
    }
}

/// An id from the wire (16 bytes); `what` names it in the refusal.
#[allow(clippy::result_large_err)]
fn wire_id(bytes: &[u8], what: &str) -> Result<Id, Status> {
    Id::from_bytes(bytes).ok_or_else(|| {
        Status::invalid_argument(format!("{what} id of {} bytes (expected 16)", bytes.len()))
    })
}

#[allow(clippy::result_large_err)]
fn object_id(bytes: &[u8]) -> Result<ObjectId, Status> {
    wire_id(bytes, "an object").map(ObjectId)
}

fn event(e: Event) -> Result<proto::JobEvent, Status> {
    Ok(proto::JobEvent { event: Some(e) })
}

impl NodeService {
    pub fn new(
        rt: Runtime,
        head: HeadClient<Channel>,
        token: Token,
        state_dir: PathBuf,
        cluster: Arc<ClusterTasks>,
        objects: ClusterObjects,
    ) -> Self {
        NodeService {
            rt,
            head,
            token,
            components_dir: state_dir.join("components"),
            running: Arc::new(AtomicU32::new(0)),
            cluster,
            objects,
            environments: Default::default(),
            guests: Default::default(),
        }
    }

    /// The bytes of each component, as `load_job_parts` takes them.
    async fn parts(
        &self,
        components: &[proto::Component],
    ) -> Result<Vec<(String, Vec<u8>, String)>, Status> {
        let mut parts = Vec::with_capacity(components.len());
        for c in components {
            let bytes = self.component(&c.hash).await?;
            let short = &c.hash[..12.min(c.hash.len())];
            parts.push((
                c.name.clone(),
                bytes,
                format!("component `{}` ({short})", c.name),
            ));
        }
        Ok(parts)
    }

    /// A component's bytes: from this node's copy, else fetched from the
    /// head (and kept), checked against the hash either way.
    async fn component(&self, hash: &str) -> Result<Vec<u8>, Status> {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Status::invalid_argument(format!(
                "`{hash}` is not a component hash"
            )));
        }
        let path = self.components_dir.join(format!("{hash}.wasm"));
        if let Ok(bytes) = std::fs::read(&path) {
            if content_hash(&bytes) == hash {
                return Ok(bytes);
            }
        }
        let req = proto::GetComponentRequest {
            protocol: PROTOCOL_VERSION,
            hash: hash.to_string(),
        };
        let wasm = self
            .head
            .clone()
            .get_component(self.token.attach(Request::new(req))?)
            .await?
            .into_inner()
            .wasm;
        if content_hash(&wasm) != hash {
            return Err(Status::data_loss(format!(
                "the head sent bytes for component {hash} that hash otherwise"
            )));
        }
        let tmp = path.with_extension("tmp");
        let written = std::fs::create_dir_all(&self.components_dir)
            .and_then(|_| std::fs::write(&tmp, &wasm))
            .and_then(|_| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            tracing::warn!(%hash, error = %e, "could not keep a component on disk");
        }
        Ok(wasm)
    }

    /// A job whose driver runs on another node, loaded here once (under its
    /// cluster id, so its namespace is the same everywhere).
    async fn guest_job(
        &self,
        job_id: &str,
        name: &str,
        components: &[proto::Component],
        env_hash: &str,
    ) -> Result<Arc<LoadedJob>, Status> {
        if let Some(j) = self.guests.lock().get(job_id).cloned() {
            return Ok(j);
        }
        let id = cluster_job_id(job_id)?;
        let parts = self.parts(components).await?;
        let env = self.environment(env_hash).await?;
        let job = self
            .rt
            .load_job_parts_as(Some(id), name, parts, env, None)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        // Its tasks may spill further, and its actors live elsewhere too.
        self.cluster.register_job(
            job.id,
            JobRef {
                job_id: job_id.to_string(),
                name: name.to_string(),
                components: without_bytes(components),
                env_hash: env_hash.to_string(),
            },
        );
        let mut guests = self.guests.lock();
        // A bounded cache: jobs come and go (EndJob drops them too).
        if guests.len() >= 64 {
            guests.clear();
        }
        Ok(guests.entry(job_id.to_string()).or_insert(job).clone())
    }

    /// Arguments from the wire, their references counted for this node.
    #[allow(clippy::result_large_err)]
    fn import_args(&self, args: Vec<proto::TaskArgument>) -> Result<Vec<TaskArg>, Status> {
        let mut out = Vec::with_capacity(args.len());
        for (i, a) in args.into_iter().enumerate() {
            let arg = match a.arg {
                Some(proto::task_argument::Arg::Value(v)) => {
                    self.objects.import_value(v).map(TaskArg::Value)
                }
                Some(proto::task_argument::Arg::ByRef(h)) => {
                    self.objects.import_ref(&h).map(TaskArg::Ref)
                }
                None => return Err(Status::invalid_argument(format!("argument {i} is empty"))),
            };
            out.push(arg.map_err(|e| Status::invalid_argument(format!("argument {i}: {e}")))?);
        }
        Ok(out)
    }

    /// Waits for a call's results and describes them for the caller's node.
    async fn reply_with(
        &self,
        submitted: Result<Vec<crate::object_store::Held>, TaskError>,
    ) -> proto::RunTaskReply {
        let outcome = match submitted {
            Ok(refs) => {
                let mut values = Vec::with_capacity(refs.len());
                let mut err = None;
                for h in &refs {
                    match self.rt.get(h, None).await {
                        // Nested references are counted for the caller.
                        Ok(v) => values.push(self.objects.export_value(&v)),
                        Err(e) => {
                            err = Some(e);
                            break;
                        }
                    }
                }
                match err {
                    Some(e) => Err(e),
                    None => Ok(values),
                }
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(values) => proto::RunTaskReply {
                values,
                error: None,
            },
            Err(e) => proto::RunTaskReply {
                values: Vec::new(),
                error: Some(wire_error(e)),
            },
        }
    }

    /// A job's runtime environment: deny-all without one; else its bundle
    /// (fetched by hash like a component), laid out once in this node's
    /// state directory and checked as a local run checks a manifest.
    async fn environment(&self, hash: &str) -> Result<Arc<Environment>, Status> {
        if hash.is_empty() {
            return Ok(self.rt.default_environment());
        }
        if let Some(env) = self.environments.lock().get(hash).cloned() {
            return Ok(env);
        }
        let bytes = self.component(hash).await?;
        let bundle = proto::EnvBundle::decode(&bytes[..])
            .map_err(|e| Status::invalid_argument(format!("a malformed environment: {e}")))?;
        let dir = self
            .components_dir
            .parent()
            .unwrap_or(&self.components_dir)
            .join("envs")
            .join(hash);
        for f in &bundle.files {
            let rel = std::path::Path::new(&f.path);
            let safe = rel
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            if !safe || f.path.is_empty() {
                return Err(Status::invalid_argument(format!(
                    "environment file `{}` is not a plain relative path",
                    f.path
                )));
            }
            let to = dir.join(rel);
            let written = std::fs::create_dir_all(to.parent().unwrap_or(&dir))
                .and_then(|_| std::fs::write(&to, &f.data));
            written.map_err(|e| Status::internal(format!("laying out {}: {e}", to.display())))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| Status::internal(e.to_string()))?;
        let env = Arc::new(
            self.rt
                .parse_environment(&bundle.manifest, &bundle.file, &dir)
                .map_err(|e| Status::invalid_argument(e.to_string()))?,
        );
        self.environments
            .lock()
            .insert(hash.to_string(), env.clone());
        Ok(env)
    }

    pub fn running(&self) -> Arc<AtomicU32> {
        self.running.clone()
    }
}

#[tonic::async_trait]
impl proto::node_server::Node for NodeService {
    type RunJobStream = EventStream;

    async fn run_job(
        &self,
        req: Request<proto::RunJobRequest>,
    ) -> Result<Response<EventStream>, Status> {
        let r = req.into_inner();
        check_protocol(r.protocol, "run job")?;
        let parts = self.parts(&r.components).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let lines = tx.clone();
        let sink: LogSink = Arc::new(move |l: LogLine| {
            let _ = lines.send(event(Event::Log(proto::LogLine {
                task: l.task.to_string(),
                message: l.message,
                stderr: l.level >= crate::logs::Level::Warn,
            })));
        });
        let id = cluster_job_id(&r.job_id)?;
        let loaded = match self.environment(&r.env_hash).await {
            Ok(env) => self
                .rt
                .load_job_parts_as(Some(id), &r.name, parts, env, Some(sink))
                .map_err(|e| e.to_string()),
            Err(s) => Err(format!("its runtime environment: {}", s.message())),
        };
        let job = match loaded {
            Ok(j) => j,
            Err(e) => {
                let _ = tx.send(event(Event::Error(proto::JobError {
                    kind: "invalid-argument".into(),
                    task: "load".into(),
                    language: String::new(),
                    message: e,
                    refused: true,
                })));
                return Ok(Response::new(Box::pin(UnboundedReceiverStream::new(rx))));
            }
        };
        tracing::info!(job = %r.job_id, name = %r.name, "running job");
        self.cluster.register_job(
            job.id,
            JobRef {
                job_id: r.job_id.clone(),
                name: r.name.clone(),
                components: without_bytes(&r.components),
                env_hash: r.env_hash.clone(),
            },
        );
        let rt = self.rt.clone();
        let running = self.running.clone();
        let cluster = self.cluster.clone();
        running.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let outcome = rt.run_main(&job, r.args).await;
            cluster.forget_job(job.id);
            running.fetch_sub(1, Ordering::Relaxed);
            let e = match outcome {
                Ok(v) => Event::Result(proto::JobResult {
                    value: v.data.to_vec(),
                }),
                Err(e) => Event::Error(wire_error(e)),
            };
            let _ = tx.send(event(e));
        });
        Ok(Response::new(Box::pin(UnboundedReceiverStream::new(rx))))
    }

    async fn run_task(
        &self,
        req: Request<proto::RunTaskRequest>,
    ) -> Result<Response<proto::RunTaskReply>, Status> {
        let r = req.into_inner();
        check_protocol(r.protocol, "run task")?;
        let job = self
            .guest_job(&r.job_id, &r.name, &r.components, &r.env_hash)
            .await?;
        let component = job
            .components
            .get(r.component as usize)
            .ok_or_else(|| Status::invalid_argument(format!("no component {}", r.component)))?;
        let name = format!("{}/{}", component.name, r.function);
        let resources = r.resources.as_ref().map(super::from_proto_resources);
        let args = self.import_args(r.args)?;
        let options = TaskOptions {
            resources,
            num_returns: r.num_returns,
            max_retries: r.max_retries,
            retry_exceptions: r.retry_exceptions,
            timeout: (r.timeout_ms > 0).then(|| Duration::from_millis(r.timeout_ms)),
            // The sender placed it here (in a bundle, or not): it must not
            // travel again.
            scheduling: here_or_bundle(self.rt.node_id(), r.bundle.as_ref())?,
            ..TaskOptions::default()
        };
        tracing::debug!(job = %r.job_id, task = %name, "running a task for another node");
        let submitted = self.rt.submit(&job, &name, args, options);
        Ok(Response::new(self.reply_with(submitted).await))
    }

    async fn create_actor(
        &self,
        req: Request<proto::CreateActorRequest>,
    ) -> Result<Response<proto::CreateActorReply>, Status> {
        let r = req.into_inner();
        check_protocol(r.protocol, "create actor")?;
        let job = self
            .guest_job(&r.job_id, &r.name, &r.components, &r.env_hash)
            .await?;
        let args = self.import_args(r.args)?;
        let options = ActorOptions {
            resources: r.resources.as_ref().map(super::from_proto_resources),
            name: (!r.actor_name.is_empty()).then_some(r.actor_name),
            namespace: (!r.namespace.is_empty()).then_some(r.namespace),
            max_restarts: r.max_restarts,
            environment: None,
            scheduling: here_or_bundle(self.rt.node_id(), r.bundle.as_ref())?,
        };
        tracing::debug!(job = %r.job_id, class = %r.class, "creating an actor for another node");
        // Placed here by the caller's node: it must not travel again.
        let created = self
            .rt
            .create_actor_in_cluster(&job, &r.class, args, options, true)
            .await;
        Ok(Response::new(match created {
            Ok(id) => proto::CreateActorReply {
                actor_id: id.0.to_bytes().to_vec(),
                error: None,
            },
            Err(e) => proto::CreateActorReply {
                actor_id: Vec::new(),
                error: Some(wire_error(e)),
            },
        }))
    }

    async fn call_actor(
        &self,
        req: Request<proto::CallActorRequest>,
    ) -> Result<Response<proto::RunTaskReply>, Status> {
        let r = req.into_inner();
        check_protocol(r.protocol, "call actor")?;
        let actor = ActorId(wire_id(&r.actor_id, "an actor")?);
        let caller = caller_job(&r.job_id)?;
        let args = self.import_args(r.args)?;
        let submitted = self
            .rt
            .call_actor_for(caller, actor, &r.method, args, r.num_returns);
        Ok(Response::new(self.reply_with(submitted).await))
    }

    async fn kill_actor(
        &self,
        req: Request<proto::KillActorRequest>,
    ) -> Result<Response<proto::KillActorReply>, Status> {
        let r = req.into_inner();
        check_protocol(r.protocol, "kill actor")?;
        let actor = ActorId(wire_id(&r.actor_id, "an actor")?);
        let caller = caller_job(&r.job_id)?;
        Ok(Response::new(proto::KillActorReply {
            error: self.rt.kill_actor_for(caller, actor).err().map(wire_error),
        }))
    }

    async fn end_job(
        &self,
        req: Request<proto::EndJobRequest>,
    ) -> Result<Response<proto::EndJobReply>, Status> {
        let r = req.into_inner();
        check_protocol(r.protocol, "end job")?;
        let id = cluster_job_id(&r.job_id)?;
        if self.guests.lock().remove(&r.job_id).is_some() {
            tracing::debug!(job = %r.job_id, "job ended on its driver's node");
            self.cluster.forget_job(id);
        }
        self.rt.end_job(id);
        Ok(Response::new(proto::EndJobReply {}))
    }

    async fn reserve_bundles(
        &self,
        req: Request<proto::ReserveBundlesRequest>,
    ) -> Result<Response<proto::ReserveBundlesReply>, Status> {
        let r = req.into_inner();
        check_protocol(r.protocol, "reserve bundles")?;
        let group = GroupId(wire_id(&r.group, "a placement group")?);
        let bundles: Vec<(u32, crate::scheduler::Resources)> = r
            .bundles
            .iter()
            .map(|b| {
                (
                    b.index,
                    super::from_proto_resources(&b.resources.clone().unwrap_or_default()),
                )
            })
            .collect();
        Ok(Response::new(proto::ReserveBundlesReply {
            refused: self
                .rt
                .reserve_bundles(group, &bundles)
                .err()
                .unwrap_or_default(),
        }))
    }

    async fn release_bundles(
        &self,
        req: Request<proto::GetGroupRequest>,
    ) -> Result<Response<proto::RegisterGroupReply>, Status> {
        let r = req.into_inner();
        check_protocol(r.protocol, "release bundles")?;
        let group = GroupId(wire_id(&r.group, "a placement group")?);
        self.rt.release_bundles(group);
        Ok(Response::new(proto::RegisterGroupReply {}))
    }

    type FetchObjectStream = ChunkStream;

    async fn fetch_object(
        &self,
        req: Request<proto::FetchObjectRequest>,
    ) -> Result<Response<ChunkStream>, Status> {
        let r = req.into_inner();
        check_protocol(r.protocol, "fetch object")?;
        let id = object_id(&r.id)?;
        let (tx, rx) = mpsc::channel(4);
        let objects = self.objects.clone();
        tokio::spawn(async move {
            // Waits while the object is still being computed.
            let value = match objects.store().get(id, None).await {
                Ok(v) => v,
                Err(e) => {
                    let _ = tx
                        .send(Ok(proto::ObjectChunk {
                            error: Some(wire_error(e)),
                            ..Default::default()
                        }))
                        .await;
                    return;
                }
            };
            let refs = value.refs.iter().map(|h| objects.export_ref(h)).collect();
            let data = value.data;
            let size = data.len();
            let mut first = Some(refs);
            let mut offset = 0;
            loop {
                let end = (offset + CHUNK).min(size);
                let chunk = proto::ObjectChunk {
                    size: if first.is_some() { size as u64 } else { 0 },
                    // A slice of the stored bytes, not a copy; at most a few
                    // chunks wait in the channel, so memory stays bounded.
                    data: data.slice(offset..end),
                    refs: first.take().unwrap_or_default(),
                    error: None,
                };
                if tx.send(Ok(chunk)).await.is_err() {
                    tracing::debug!(object = %id, "the reader went away mid-transfer");
                    return;
                }
                offset = end;
                if offset >= size {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn release_objects(
        &self,
        req: Request<proto::ReleaseObjectsRequest>,
    ) -> Result<Response<proto::ReleaseObjectsReply>, Status> {
        let r = req.into_inner();
        check_protocol(r.protocol, "release objects")?;
        let store = self.objects.store();
        for rel in r.releases {
            let id = object_id(&rel.id)?;
            for _ in 0..rel.count {
                store.decref(id);
            }
        }
        Ok(Response::new(proto::ReleaseObjectsReply {}))
    }
}

/// Joins the head, then reports every `HEARTBEAT`; joins again when the head
/// no longer knows this node (it restarted) or was unreachable.
pub async fn join_and_report(
    rt: Runtime,
    mut head: HeadClient<Channel>,
    token: Token,
    address: String,
    running: Arc<AtomicU32>,
    cluster: Arc<ClusterTasks>,
) {
    let node_id = format!("{:016x}", rt.node_id());
    let mut joined = false;
    loop {
        if !joined {
            let (_, total) = rt.resources();
            let req = proto::JoinRequest {
                protocol: PROTOCOL_VERSION,
                address: address.clone(),
                total: Some(to_proto_resources(&total)),
                node_id: node_id.clone(),
            };
            match token.attach(Request::new(req)) {
                Ok(req) => match head.join(req).await {
                    Ok(reply) => {
                        tracing::info!(head = %reply.into_inner().head_id, node = %node_id, "joined the cluster");
                        joined = true;
                    }
                    Err(s)
                        if s.code() == tonic::Code::FailedPrecondition
                            || s.code() == tonic::Code::Unauthenticated =>
                    {
                        tracing::error!(error = %s.message(), "the head refused this node");
                        eprintln!("error: the head refused this node: {}", s.message());
                        std::process::exit(3);
                    }
                    Err(s) => tracing::warn!(error = %s, "could not join the head yet"),
                },
                Err(s) => tracing::error!(error = %s, "bad token"),
            }
        } else {
            let (available, _) = rt.resources();
            let stats = rt.store_stats();
            let req = proto::HeartbeatRequest {
                protocol: PROTOCOL_VERSION,
                node_id: node_id.clone(),
                available: Some(to_proto_resources(&available)),
                running_jobs: running.load(Ordering::Relaxed),
                objects: Some(proto::ObjectStats {
                    objects: stats.objects as u64,
                    bytes_in_memory: stats.bytes_in_memory as u64,
                    fetches: stats.fetches_total,
                }),
                queued: rt.queued() as u32,
                waiting: rt.waiting_work(),
            };
            if let Ok(req) = token.attach(Request::new(req)) {
                match head.heartbeat(req).await {
                    // The other nodes come with the reply, for tasks this
                    // node cannot place.
                    Ok(r) if r.get_ref().known => cluster.set_peers(r.into_inner().nodes),
                    Ok(_) => joined = false,
                    Err(s) => {
                        tracing::warn!(error = %s, "heartbeat failed");
                        joined = false;
                    }
                }
            }
        }
        tokio::time::sleep(HEARTBEAT).await;
    }
}
