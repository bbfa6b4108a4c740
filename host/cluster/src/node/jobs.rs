//! Jobs on a node: components fetched from the head by hash (kept on disk,
//! checked against the hash), environments laid out once by hash, jobs
//! loaded on a blocking thread (compilation), and the drivers the head
//! places here, whose lines and result stream back to the submitter.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::{Response, Status};
use wrun_core::logs::{Label, Level, LogLine, LogSink};
use wrun_core::{JobId, NodeId};
use wrun_env::Environment;
use wrun_proto::pb::job_event::Event;
use wrun_proto::{check_protocol, pb, PROTOCOL_VERSION};
use wrun_runtime::JobSpec;
use wrun_sandbox::LoadedJob;

use super::{EventStream, NodeService, NodeShared};
use crate::remote::JobRef;

fn event(e: Event) -> Result<pb::JobEvent, Status> {
    Ok(pb::JobEvent { event: Some(e) })
}

/// Components by name and hash (receivers fetch the bytes by hash).
fn without_bytes(components: &[pb::Component]) -> Vec<pb::Component> {
    components
        .iter()
        .map(|c| pb::Component {
            name: c.name.clone(),
            hash: c.hash.clone(),
            wasm: Vec::new(),
        })
        .collect()
}

/// Tells a job's followers, in a line of its log, that a component of it
/// is being compiled on `node` (seconds, once per node) before it runs.
fn compile_line(sink: LogSink, node: NodeId) -> wrun_sandbox::CompileNotice {
    Arc::new(move |what: &str, bytes: usize| {
        sink(LogLine {
            task: Label::named("load"),
            level: Level::Info,
            message: format!(
                "wrun: compiling {what} ({:.1} MiB) on node {node}, once: later runs there load it from its cache",
                bytes as f64 / f64::from(1 << 20)
            ),
            actor: None,
        })
    })
}

/// A job id from the wire (32 hex digits).
#[allow(
    clippy::result_large_err,
    reason = "tonic's Status is what handlers return"
)]
pub(super) fn job_id(s: &str) -> Result<JobId, Status> {
    s.parse()
        .map_err(|e: wrun_core::ids::BadId| Status::invalid_argument(e.to_string()))
}

/// Writes `bytes` to `path` through a fresh temporary file beside it, so
/// concurrent writers never mix their bytes and readers never see half.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

impl NodeShared {
    /// A component's bytes: from this node's copy, else fetched from the
    /// head (and kept), checked against the hash either way.
    async fn component(&self, hash: &str) -> Result<Vec<u8>, Status> {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Status::invalid_argument(format!(
                "`{hash}` is not a component hash"
            )));
        }
        let path = self.components_dir.join(format!("{hash}.wasm"));
        if let Ok(bytes) = tokio::fs::read(&path).await {
            if wrun_core::content_hash(&bytes) == hash {
                return Ok(bytes);
            }
        }
        let req = self.wire.conns().request(pb::GetComponentRequest {
            protocol: PROTOCOL_VERSION,
            hash: hash.to_string(),
        })?;
        let wasm = self
            .head
            .clone()
            .get_component(req)
            .await?
            .into_inner()
            .wasm;
        if wrun_core::content_hash(&wasm) != hash {
            return Err(Status::data_loss(format!(
                "the head sent bytes for component {hash} that hash otherwise"
            )));
        }
        let (kept, bytes) = tokio::task::spawn_blocking(move || {
            let kept = write_whole(&path, &wasm);
            (kept, wasm)
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?;
        if let Err(e) = kept {
            tracing::warn!(%hash, error = %e, "could not keep a component on disk");
        }
        Ok(bytes)
    }

    /// What to load for a job: its components' bytes, its environment.
    async fn job_spec(
        &self,
        id: JobId,
        name: &str,
        components: &[pb::Component],
        env: Arc<Environment>,
    ) -> Result<JobSpec, Status> {
        let Some((driver, others)) = components.split_first() else {
            return Err(Status::invalid_argument(
                "a job needs at least one component",
            ));
        };
        let what = |c: &pb::Component| {
            format!(
                "component `{}` ({})",
                c.name,
                &c.hash[..12.min(c.hash.len())]
            )
        };
        let mut spec = JobSpec::bytes(name, self.component(&driver.hash).await?, what(driver));
        for c in others {
            spec = spec.component_bytes(c.name.clone(), self.component(&c.hash).await?, what(c));
        }
        Ok(spec.env(env).id(id))
    }

    /// Loads a job on a blocking thread (compiling is CPU work).
    async fn load(&self, spec: JobSpec) -> Result<Arc<LoadedJob>, String> {
        let rt = self.rt.clone();
        tokio::task::spawn_blocking(move || rt.load(spec))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    }

    /// A job's runtime environment: deny-all without one; else its bundle
    /// (fetched by hash like a component), laid out once in this node's
    /// state directory and checked as a local run checks a manifest.
    pub(super) async fn environment(&self, hash: &str) -> Result<Arc<Environment>, Status> {
        if hash.is_empty() {
            return Ok(self.rt.default_environment());
        }
        self.environments
            .get_or_try(hash.to_string(), self.lay_out(hash))
            .await
    }

    async fn lay_out(&self, hash: &str) -> Result<Arc<Environment>, Status> {
        let bytes = self.component(hash).await?;
        let bundle = pb::EnvBundle::decode(&bytes[..])
            .map_err(|e| Status::invalid_argument(format!("a malformed environment: {e}")))?;
        let dir = self.envs_dir.join(hash);
        for f in &bundle.files {
            let rel = Path::new(&f.path);
            let safe = rel
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            if !safe || f.path.is_empty() {
                return Err(Status::invalid_argument(format!(
                    "environment file `{}` is not a plain relative path",
                    f.path
                )));
            }
        }
        let rt = self.rt.clone();
        tokio::task::spawn_blocking(move || {
            for f in &bundle.files {
                let to = dir.join(&f.path);
                write_whole(&to, &f.data)
                    .map_err(|e| Status::internal(format!("laying out {}: {e}", to.display())))?;
            }
            std::fs::create_dir_all(&dir).map_err(|e| Status::internal(e.to_string()))?;
            rt.parse_environment(&bundle.manifest, &bundle.file, &dir)
                .map(Arc::new)
                .map_err(|e| Status::invalid_argument(e.to_string()))
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?
    }

    /// A job whose driver runs on another node, loaded here once (under its
    /// cluster id, so its namespace is the same everywhere) and kept while
    /// any of its work runs here.
    pub(super) async fn guest_job(
        &self,
        job: &str,
        name: &str,
        components: &[pb::Component],
        env_hash: &str,
    ) -> Result<Arc<LoadedJob>, Status> {
        let id = job_id(job)?;
        self.guests
            .get_or_try(id, async {
                let env = self.environment(env_hash).await?;
                let spec = self.job_spec(id, name, components, env).await?;
                // Its guests' lines go to the head, to the job's followers.
                let sink = self.lines.sink(id);
                let compiling = compile_line(sink.clone(), self.rt.node_id());
                let spec = spec.log_sink(sink).on_compile(compiling);
                let loaded = self.load(spec).await.map_err(Status::invalid_argument)?;
                // Its tasks may spill further, and its actors live elsewhere too.
                self.remote.register_job(
                    id,
                    JobRef {
                        name: name.to_string(),
                        components: without_bytes(components),
                        env_hash: env_hash.to_string(),
                    },
                );
                Ok(loaded)
            })
            .await
    }

    /// Forgets a guest job that ended on its driver's node.
    pub(super) fn forget_guest(&self, job: JobId) -> bool {
        self.guests.remove(&job)
    }
}

impl NodeService {
    /// Runs a driver the head placed here: answers with its event stream at
    /// once, then loads it (a line says so before a component compiles, so
    /// the submitter sees why it waits) and runs it.
    pub(super) async fn run_job_stream(
        &self,
        r: pb::RunJobRequest,
        peer: Option<SocketAddr>,
    ) -> Result<Response<EventStream>, Status> {
        check_protocol(r.protocol, "run job", peer)?;
        let id = job_id(&r.job_id)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let node = self.shared.clone();
        tokio::spawn(async move { node.load_and_run(id, r, tx).await });
        Ok(Response::new(Box::pin(UnboundedReceiverStream::new(rx))))
    }
}

impl NodeShared {
    async fn load_and_run(
        self: Arc<Self>,
        id: JobId,
        r: pb::RunJobRequest,
        tx: mpsc::UnboundedSender<Result<pb::JobEvent, Status>>,
    ) {
        let (lines, node) = (tx.clone(), self.rt.node_id());
        let sink: LogSink = Arc::new(move |l: LogLine| {
            let _ = lines.send(event(Event::Log(wrun_proto::to_log_line(l, node))));
        });
        let compiling = compile_line(sink.clone(), node);
        let loaded = match self.environment(&r.env_hash).await {
            Ok(env) => match self.job_spec(id, &r.name, &r.components, env).await {
                Ok(spec) => self.load(spec.log_sink(sink).on_compile(compiling)).await,
                Err(s) => Err(s.message().to_string()),
            },
            Err(s) => Err(format!("its runtime environment: {}", s.message())),
        };
        let job = match loaded {
            Ok(j) => j,
            Err(e) => {
                let _ = tx.send(event(Event::Error(pb::JobError {
                    kind: "invalid-argument".into(),
                    task: "load".into(),
                    language: String::new(),
                    message: e,
                    refused: true,
                    native: Vec::new(),
                    types: Vec::new(),
                })));
                return;
            }
        };
        tracing::info!(job = %r.job_id, name = %r.name, "running job");
        self.remote.register_job(
            id,
            JobRef {
                name: r.name.clone(),
                components: without_bytes(&r.components),
                env_hash: r.env_hash.clone(),
            },
        );
        self.running.fetch_add(1, Ordering::Relaxed);
        let outcome = self.rt.run_main(&job, r.args).await;
        self.running.fetch_sub(1, Ordering::Relaxed);
        let e = match outcome {
            Ok(v) if v.data.len() > crate::guard::MAX_JOB_VALUE => Event::Error(pb::JobError {
                kind: "invalid-argument".into(),
                task: "main".into(),
                message: format!(
                    "the driver returned {} MiB; a cluster job's value is at most {} MiB (return a summary, or write the data to storage)",
                    v.data.len() >> 20,
                    crate::guard::MAX_JOB_VALUE >> 20
                ),
                ..Default::default()
            }),
            Ok(v) => Event::Result(pb::JobResult {
                value: v.data.to_vec(),
            }),
            Err(e) => Event::Error(wrun_proto::to_error(e)),
        };
        let _ = tx.send(event(e));
    }
}
