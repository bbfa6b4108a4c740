//! A node daemon: joins the head, reports its free resources every
//! heartbeat, and runs the jobs the head places on it in its own `Runtime`,
//! streaming each job's guest lines and result back.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_stream::Stream;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use super::auth::Token;
use super::proto::{self, head_client::HeadClient, job_event::Event};
use super::{check_protocol, content_hash, to_proto_resources, PROTOCOL_VERSION};
use crate::environment::Environment;
use crate::logs::{LogLine, LogSink};
use crate::runtime::Runtime;

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
}

type EventStream = Pin<Box<dyn Stream<Item = Result<proto::JobEvent, Status>> + Send>>;

fn event(e: Event) -> Result<proto::JobEvent, Status> {
    Ok(proto::JobEvent { event: Some(e) })
}

impl NodeService {
    pub fn new(rt: Runtime, head: HeadClient<Channel>, token: Token, state_dir: PathBuf) -> Self {
        NodeService {
            rt,
            head,
            token,
            components_dir: state_dir.join("components"),
            running: Arc::new(AtomicU32::new(0)),
        }
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
        let mut parts = Vec::with_capacity(r.components.len());
        for c in &r.components {
            let bytes = self.component(&c.hash).await?;
            parts.push((
                c.name.clone(),
                bytes,
                format!("component `{}` ({})", c.name, &c.hash[..12]),
            ));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let lines = tx.clone();
        let sink: LogSink = Arc::new(move |l: LogLine| {
            let _ = lines.send(event(Event::Log(proto::LogLine {
                task: l.task.to_string(),
                message: l.message,
                stderr: l.level >= crate::logs::Level::Warn,
            })));
        });
        let env = Arc::new(Environment::deny_all(Default::default()));
        let job = match self.rt.load_job_parts(&r.name, parts, env, Some(sink)) {
            Ok(j) => j,
            Err(e) => {
                let _ = tx.send(event(Event::Error(proto::JobError {
                    kind: "invalid-argument".into(),
                    task: "load".into(),
                    language: String::new(),
                    message: e.to_string(),
                    refused: true,
                })));
                return Ok(Response::new(Box::pin(UnboundedReceiverStream::new(rx))));
            }
        };
        tracing::info!(job = %r.job_id, name = %r.name, "running job");
        let rt = self.rt.clone();
        let running = self.running.clone();
        running.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let outcome = rt.run_main(&job, r.args).await;
            running.fetch_sub(1, Ordering::Relaxed);
            let e = match outcome {
                Ok(v) => Event::Result(proto::JobResult {
                    value: v.data.to_vec(),
                }),
                Err(e) => Event::Error(proto::JobError {
                    kind: e.kind.wit_name().into(),
                    task: e.task,
                    language: e.language,
                    message: e.message,
                    refused: false,
                }),
            };
            let _ = tx.send(event(e));
        });
        Ok(Response::new(Box::pin(UnboundedReceiverStream::new(rx))))
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
            let req = proto::HeartbeatRequest {
                protocol: PROTOCOL_VERSION,
                node_id: node_id.clone(),
                available: Some(to_proto_resources(&available)),
                running_jobs: running.load(Ordering::Relaxed),
            };
            if let Ok(req) = token.attach(Request::new(req)) {
                match head.heartbeat(req).await {
                    Ok(r) if r.get_ref().known => {}
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
