//! Calls that run on other nodes: tasks (`RunTask`), actors created there
//! (`CreateActor`) and called there in order (one queue per remote actor),
//! kills (`kill.rs`), the end of a job, and placement-group bundles.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{mpsc, Semaphore};
use wrun_core::{
    ActorId, ErrorKind, GroupId, JobId, NodeId, Resources, Scheduling, TaskError, TaskId,
};
use wrun_objects::{BoxFuture, ObjectValue};
use wrun_proto::{pb, PROTOCOL_VERSION};
use wrun_runtime::cluster::{
    CallDone, CancelTarget, Remote, RemoteActor, RemoteCall, RemoteFailure, RemoteTask,
};

use crate::connections::Connections;
use crate::objects::Wire;
use crate::view::PeerView;

/// How long a driver's node waits for another node to end the job's work
/// there (that node waits up to `wrun_runtime::END_WAIT` for it to stop).
const END_JOB_WAIT: Duration = Duration::from_secs(10);

/// What another node needs to load a job: its name, components and environment by hash.
#[derive(Clone)]
pub struct JobRef {
    /// The driver's name.
    pub name: String,
    /// Components by name and hash (no bytes: receivers fetch them).
    pub components: Vec<pb::Component>,
    /// Content hash of its runtime environment (empty: deny-all).
    pub env_hash: String,
}

/// A call waiting to be sent to an actor on another node.
struct QueuedCall {
    /// The sender's id of the call (what a cancel names).
    id: TaskId,
    caller: Option<JobId>,
    method: String,
    /// Exported when the call was made, while the caller's references lived.
    args: Vec<pb::TaskArgument>,
    num_returns: u32,
    done: CallDone,
}

/// Calls from this node to the others.
pub struct ClusterRemote {
    me: Weak<ClusterRemote>,
    conns: Arc<Connections>,
    wire: Wire,
    view: Arc<PeerView>,
    /// Jobs that run here (drivers or guests), as other nodes load them.
    jobs: Mutex<HashMap<JobId, JobRef>>,
    /// Per actor on another node, the calls waiting to be sent (in order).
    actor_queues: Mutex<HashMap<ActorId, mpsc::UnboundedSender<QueuedCall>>>,
    /// Task calls on their way to other nodes at once: a task placed on a
    /// peer past these waits here as a small future, not as an HTTP/2
    /// stream with its buffers (a guest flooding tasks would otherwise
    /// make both nodes hold every one of them as a request in flight).
    sending: Arc<Semaphore>,
}

/// Task calls this node has on their way to other nodes at once.
pub const TASKS_SENT_AT_ONCE: usize = 1024;

/// Whether a call failed because the peer is gone (not because it refused).
fn gone(s: &tonic::Status) -> bool {
    use tonic::Code::{Cancelled, Unavailable, Unknown};
    matches!(s.code(), Unavailable | Unknown | Cancelled)
}

fn failed(label: &str, message: impl Into<String>) -> TaskError {
    TaskError::new(ErrorKind::Internal, label, message)
}

fn bundle_target(group: GroupId, index: u32) -> pb::BundleTarget {
    pb::BundleTarget {
        group: wrun_proto::id_bytes(group.0),
        index,
    }
}

impl ClusterRemote {
    /// Calls through `conns`, moving objects with `wire`.
    pub fn new(conns: Arc<Connections>, wire: Wire, view: Arc<PeerView>) -> Arc<Self> {
        Arc::new_cyclic(|me| ClusterRemote {
            me: me.clone(),
            conns,
            wire,
            view,
            jobs: Mutex::new(HashMap::new()),
            actor_queues: Mutex::new(HashMap::new()),
            sending: Arc::new(Semaphore::new(TASKS_SENT_AT_ONCE)),
        })
    }

    /// Records how other nodes load a job that runs here.
    pub fn register_job(&self, job: JobId, r: JobRef) {
        self.jobs.lock().insert(job, r);
    }

    /// Forgets a job that ended.
    pub fn forget_job(&self, job: JobId) {
        self.jobs.lock().remove(&job);
    }

    fn job(&self, job: JobId) -> Option<JobRef> {
        self.jobs.lock().get(&job).cloned()
    }

    /// Queues a call for an actor on another node.
    fn enqueue(&self, actor: ActorId, call: QueuedCall) {
        let mut queues = self.actor_queues.lock();
        let tx = queues.entry(actor).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            if let Some(this) = self.me.upgrade() {
                tokio::spawn(this.send_actor_calls(actor, rx));
            }
            tx
        });
        if let Err(mpsc::error::SendError(call)) = tx.send(call) {
            queues.remove(&actor);
            (call.done)(Err(failed(&call.method, "the node is stopping")));
        }
    }

    /// Sends one actor's calls in order, each after the previous returned.
    async fn send_actor_calls(
        self: Arc<Self>,
        actor: ActorId,
        mut queue: mpsc::UnboundedReceiver<QueuedCall>,
    ) {
        let node = actor.node();
        let label = |m: &str| format!("actor {actor}.{m}");
        while let Some(call) = queue.recv().await {
            let outcome = async {
                let mut client = match self.conns.client(node).await {
                    Ok(c) => c,
                    Err(e) => {
                        self.wire.unexport(&call.args);
                        return Err(TaskError::new(
                            ErrorKind::ActorDied,
                            label(&call.method),
                            e.to_string(),
                        ));
                    }
                };
                let req = self
                    .conns
                    .request(pb::CallActorRequest {
                        protocol: PROTOCOL_VERSION,
                        actor_id: wrun_proto::id_bytes(actor.0),
                        job_id: call.caller.map(|j| j.to_string()).unwrap_or_default(),
                        method: call.method.clone(),
                        args: call.args,
                        num_returns: call.num_returns,
                        call_id: wrun_proto::id_bytes(call.id.0),
                    })
                    .map_err(|s| failed(&call.method, s.message()))?;
                let reply = match client.call_actor(req).await {
                    Ok(r) => r.into_inner(),
                    Err(s) => {
                        self.conns.forget(node);
                        return Err(TaskError::new(
                            ErrorKind::ActorDied,
                            label(&call.method),
                            format!("node {node} (where the actor lives): {}", s.message()),
                        ));
                    }
                };
                self.values(reply, &call.method).await
            }
            .await;
            (call.done)(outcome);
        }
    }

    /// A reply's values, their references taken over; large ones pulled
    /// from the node that kept them.
    async fn values(
        &self,
        reply: pb::RunTaskReply,
        label: &str,
    ) -> Result<Vec<ObjectValue>, TaskError> {
        if let Some(e) = reply.error {
            return Err(wrun_proto::from_error(e));
        }
        let mut values = Vec::with_capacity(reply.values.len());
        let mut rest = reply.values.into_iter();
        while let Some(v) = rest.next() {
            match self.wire.import_result(v, label).await {
                Ok(v) => values.push(v),
                Err(e) => {
                    // The others were counted for this node: let go of them.
                    rest.for_each(|v| self.wire.let_go(v));
                    return Err(e);
                }
            }
        }
        Ok(values)
    }
}

impl Remote for ClusterRemote {
    fn run_task(
        &self,
        node: NodeId,
        task: RemoteTask<'_>,
    ) -> BoxFuture<'static, Result<Vec<ObjectValue>, RemoteFailure>> {
        let label = task.function.to_string();
        let (Some(job_ref), Some(this)) = (self.job(task.job.id), self.me.upgrade()) else {
            let why = format!("job {} is not known to the cluster", task.job.id);
            return Box::pin(async move { Err(RemoteFailure::Failed(failed(&label, why))) });
        };
        // Arguments are exported now, while the caller's references are
        // alive: each counts one reference for the peer (given back here
        // if the call cannot be sent).
        let wire_args = self.wire.export_args(&task.args);
        drop(task.args);
        let options = task.options;
        let req = pb::RunTaskRequest {
            protocol: PROTOCOL_VERSION,
            job_id: task.job.id.to_string(),
            name: job_ref.name,
            components: job_ref.components,
            component: task.component as u32,
            function: task.function.to_string(),
            args: wire_args,
            resources: Some(wrun_proto::to_resources(task.resources)),
            num_returns: options.num_returns,
            max_retries: options.max_retries,
            retry_exceptions: options.retry_exceptions,
            retry_exception_types: options.retry_exception_types.clone(),
            max_calls: options.max_calls,
            timeout_ms: options.timeout.map_or(0, |t| t.as_millis().max(1) as u64),
            env_hash: job_ref.env_hash,
            environment: options.environment.clone().unwrap_or_default(),
            runtime_env: options.runtime_env.clone().unwrap_or_default(),
            task_id: wrun_proto::id_bytes(task.id.0),
            bundle: match options.scheduling {
                Scheduling::PlacementGroup {
                    group,
                    bundle: Some(index),
                } => Some(bundle_target(group, index)),
                _ => None,
            },
        };
        Box::pin(async move {
            let lost = |e: String| {
                this.view.mark_lost(node);
                RemoteFailure::NodeLost(failed(&label, e))
            };
            let _sending = this
                .sending
                .clone()
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let mut client = match this.conns.client(node).await {
                Ok(c) => c,
                Err(e) => {
                    this.wire.unexport(&req.args);
                    return Err(lost(e.to_string()));
                }
            };
            let req = this
                .conns
                .request(req)
                .map_err(|s| RemoteFailure::Failed(failed(&label, s.message())))?;
            tracing::debug!(task = %label, %node, "task sent to another node");
            let reply = match client.run_task(req).await {
                Ok(r) => r.into_inner(),
                Err(s) => {
                    // A broken connection is dialled again by the next task.
                    this.conns.forget(node);
                    let why = format!("node {node}: {}", s.message());
                    return Err(if gone(&s) {
                        lost(why)
                    } else {
                        RemoteFailure::Failed(failed(&label, why))
                    });
                }
            };
            match this.values(reply, &label).await {
                // A large result kept on that node could not be pulled: as
                // lost as the node (retried as a system failure).
                Err(e) if e.kind == ErrorKind::ObjectLost => Err(RemoteFailure::NodeLost(e)),
                other => other.map_err(RemoteFailure::Failed),
            }
        })
    }

    fn create_actor(
        &self,
        node: NodeId,
        a: RemoteActor<'_>,
    ) -> BoxFuture<'static, Result<ActorId, TaskError>> {
        let label = a.class.clone();
        let (Some(j), Some(this)) = (self.job(a.job.id), self.me.upgrade()) else {
            return Box::pin(
                async move { Err(failed(&label, "this job is not known to the cluster")) },
            );
        };
        let args = self.wire.export_args(&a.args);
        drop(a.args);
        let (actor_name, namespace) = a.name.map(|(ns, n)| (n, ns)).unwrap_or_default();
        let req = pb::CreateActorRequest {
            protocol: PROTOCOL_VERSION,
            job_id: a.job.id.to_string(),
            name: j.name,
            components: j.components,
            class: a.class.clone(),
            args,
            resources: Some(wrun_proto::to_resources(a.resources)),
            actor_name,
            namespace,
            max_restarts: a.max_restarts,
            bundle: a.bundle.map(|(g, i)| bundle_target(g, i)),
            env_hash: j.env_hash,
            environment: a.environment.clone().unwrap_or_default(),
            runtime_env: a.runtime_env.clone().unwrap_or_default(),
        };
        Box::pin(async move {
            let mut client = match this.conns.client(node).await {
                Ok(c) => c,
                Err(e) => {
                    this.wire.unexport(&req.args);
                    return Err(failed(&label, e.to_string()));
                }
            };
            let req = this
                .conns
                .request(req)
                .map_err(|s| failed(&label, s.message()))?;
            let reply = client.create_actor(req).await.map_err(|s| {
                this.conns.forget(node);
                failed(&label, format!("node {node}: {}", s.message()))
            })?;
            let reply = reply.into_inner();
            if let Some(e) = reply.error {
                return Err(wrun_proto::from_error(e));
            }
            let id = wrun_core::Id::from_bytes(&reply.actor_id)
                .ok_or_else(|| failed(&label, format!("node {node} sent a malformed actor id")))?;
            tracing::debug!(actor = %id, %node, class = %label, "actor created on another node");
            Ok(ActorId(id))
        })
    }

    fn call_actor(&self, call: RemoteCall, done: CallDone) {
        let queued = QueuedCall {
            id: call.id,
            caller: call.caller,
            method: call.method,
            args: self.wire.export_args(&call.args),
            num_returns: call.num_returns,
            done,
        };
        drop(call.args);
        self.enqueue(call.actor, queued);
    }

    fn kill_actor(
        &self,
        caller: Option<JobId>,
        actor: ActorId,
        restart: bool,
    ) -> BoxFuture<'static, Result<(), TaskError>> {
        let Some(this) = self.me.upgrade() else {
            let e = failed("kill", "the node is stopping");
            return Box::pin(async move { Err(e) });
        };
        // Sent now, not queued behind this node's calls to the actor: a kill
        // interrupts the call under way, as it does on the actor's node.
        let sent = tokio::spawn(async move {
            let done = crate::kill::send(&this.conns, actor, caller, restart).await;
            if done.is_ok() && !restart {
                // Later calls start a fresh queue and hear that it died.
                this.actor_queues.lock().remove(&actor);
            }
            done
        });
        Box::pin(async move {
            sent.await
                .unwrap_or_else(|e| Err(failed("kill", format!("the kill was lost: {e}"))))
        })
    }

    fn cancel(&self, node: NodeId, job: JobId, target: CancelTarget, force: bool, recursive: bool) {
        crate::cancel::send(self.conns.clone(), node, job, target, force, recursive);
    }

    fn end_job(&self, job: JobId) -> BoxFuture<'static, ()> {
        self.forget_job(job);
        let nodes = self.view.nodes();
        let conns = self.conns.clone();
        let mut asked = tokio::task::JoinSet::new();
        for node in nodes {
            let conns = conns.clone();
            asked.spawn(async move {
                let answered = tokio::time::timeout(END_JOB_WAIT, async {
                    let mut client = conns.client(node).await.map_err(|e| e.to_string())?;
                    let req = conns
                        .request(pb::EndJobRequest {
                            protocol: PROTOCOL_VERSION,
                            job_id: job.to_string(),
                        })
                        .map_err(|e| e.to_string())?;
                    client
                        .end_job(req)
                        .await
                        .map_err(|s| s.message().to_string())
                })
                .await;
                match answered {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!(%job, %node, error = %e, "a node did not end a job"),
                    Err(_) => tracing::warn!(%job, %node, "a node did not answer the end of a job in time"),
                }
            });
        }
        Box::pin(async move { while asked.join_next().await.is_some() {} })
    }

    fn reserve_bundles(
        &self,
        node: NodeId,
        group: GroupId,
        bundles: Vec<(u32, Resources)>,
    ) -> BoxFuture<'static, Result<(), TaskError>> {
        let this = self.me.upgrade();
        let label = format!("placement group {group}");
        Box::pin(async move {
            let this = this.ok_or_else(|| failed(&label, "the node is stopping"))?;
            let mut client = this
                .conns
                .client(node)
                .await
                .map_err(|e| failed(&label, e.to_string()))?;
            let req = this
                .conns
                .request(pb::ReserveBundlesRequest {
                    protocol: PROTOCOL_VERSION,
                    group: wrun_proto::id_bytes(group.0),
                    bundles: bundles
                        .iter()
                        .map(|(i, r)| pb::Bundle {
                            index: *i,
                            resources: Some(wrun_proto::to_resources(r)),
                            node_id: String::new(),
                        })
                        .collect(),
                })
                .map_err(|s| failed(&label, s.message()))?;
            let reply = client
                .reserve_bundles(req)
                .await
                .map_err(|s| failed(&label, s.message()))?
                .into_inner();
            if !reply.refused.is_empty() {
                return Err(TaskError::new(ErrorKind::Internal, label, reply.refused));
            }
            // Count it before the next heartbeat shows it.
            this.view
                .sent(node, bundles.iter().map(|(_, r)| r.cpu_millis).sum());
            Ok(())
        })
    }

    fn release_bundles(&self, node: NodeId, group: GroupId) {
        let Some(this) = self.me.upgrade() else {
            return;
        };
        tokio::spawn(async move {
            let sent = async {
                let mut client = this.conns.client(node).await.map_err(|e| e.to_string())?;
                let req = this
                    .conns
                    .request(pb::GetGroupRequest {
                        protocol: PROTOCOL_VERSION,
                        group: wrun_proto::id_bytes(group.0),
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
}
