//! Calls other nodes send here: tasks to run, actors to create, call and
//! kill, the end of a job, and placement-group bundles.

use std::net::SocketAddr;
use std::time::Duration;

use tonic::Status;
use wrun_core::{
    ActorId, ActorOptions, GroupId, NodeAffinity, NodeId, ObjectId, Resources, Scheduling,
    TaskError, TaskId, TaskOptions,
};
use wrun_objects::Held;
use wrun_proto::{check_protocol, parse_id, pb};

use super::jobs::job_id;
use super::NodeService;

/// Where a call sent here runs: in the named bundle here, else simply here.
#[allow(
    clippy::result_large_err,
    reason = "tonic's Status is what handlers return"
)]
fn here_or_bundle(node: NodeId, bundle: Option<&pb::BundleTarget>) -> Result<Scheduling, Status> {
    Ok(match bundle {
        Some(b) => Scheduling::PlacementGroup {
            group: GroupId(parse_id(&b.group, "a placement group")?),
            bundle: Some(b.index),
        },
        None => Scheduling::NodeAffinity(NodeAffinity { node, soft: false }),
    })
}

/// The calling job of a request (empty: the host API).
#[allow(
    clippy::result_large_err,
    reason = "tonic's Status is what handlers return"
)]
fn caller_job(s: &str) -> Result<Option<wrun_core::JobId>, Status> {
    if s.is_empty() {
        Ok(None)
    } else {
        job_id(s).map(Some)
    }
}

impl NodeService {
    /// Waits for a call's results and describes them for the caller's node.
    async fn reply_with(&self, submitted: Result<Vec<Held>, TaskError>) -> pb::RunTaskReply {
        let outcome = match submitted {
            Ok(refs) => {
                let mut values = Vec::with_capacity(refs.len());
                let (mut err, mut inline) = (None, 0);
                for h in &refs {
                    match h.get(None).await {
                        // Nested references are counted for the caller; a
                        // large value stays here for the caller to pull.
                        Ok(v) => values.push(self.wire.export_result(h, &v, &mut inline)),
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
        // The lines the call wrote reach the head before its caller hears.
        self.lines.flush().await;
        match outcome {
            Ok(values) => pb::RunTaskReply {
                values,
                error: None,
            },
            Err(e) => pb::RunTaskReply {
                values: Vec::new(),
                error: Some(wrun_proto::to_error(e)),
            },
        }
    }

    pub(super) async fn run_task_here(
        &self,
        r: pb::RunTaskRequest,
        peer: Option<SocketAddr>,
    ) -> Result<pb::RunTaskReply, Status> {
        check_protocol(r.protocol, "run task", peer)?;
        let job = self
            .guest_job(&r.job_id, &r.name, &r.components, &r.env_hash)
            .await?;
        let component = job
            .components
            .get(r.component as usize)
            .ok_or_else(|| Status::invalid_argument(format!("no component {}", r.component)))?;
        let name = format!("{}/{}", component.name, r.function);
        let args = self.wire.import_args(r.args)?;
        let options = TaskOptions {
            resources: r.resources.as_ref().map(wrun_proto::from_resources),
            num_returns: r.num_returns,
            max_retries: r.max_retries,
            retry_exceptions: r.retry_exceptions,
            retry_exception_types: r.retry_exception_types,
            max_calls: r.max_calls,
            timeout: (r.timeout_ms > 0).then(|| Duration::from_millis(r.timeout_ms)),
            environment: (!r.environment.is_empty()).then_some(r.environment),
            runtime_env: (!r.runtime_env.is_empty()).then_some(r.runtime_env),
            // The sender placed it here (in a bundle, or not): it must not
            // travel again.
            scheduling: here_or_bundle(self.rt.node_id(), r.bundle.as_ref())?,
            // Streaming tasks run on their caller's node: never sent.
            streaming: false,
        };
        tracing::debug!(job = %r.job_id, task = %name, "running a task for another node");
        let sender_task = TaskId(parse_id(&r.task_id, "a task")?);
        let submitted = self
            .rt
            .submit_for_peer(&job, &name, args, options, sender_task);
        let reply = self.reply_with(submitted).await;
        self.rt.done_for_peer(sender_task);
        Ok(reply)
    }

    #[allow(
        clippy::result_large_err,
        reason = "tonic's Status is what handlers return"
    )]
    pub(super) fn cancel_here(
        &self,
        r: pb::CancelRequest,
        peer: Option<SocketAddr>,
    ) -> Result<pb::CancelReply, Status> {
        check_protocol(r.protocol, "cancel", peer)?;
        let job = job_id(&r.job_id)?;
        let outcome = match r.target {
            Some(pb::cancel_request::Target::ObjectId(o)) => {
                let object = ObjectId(parse_id(&o, "an object")?);
                self.rt.cancel_owned(job, object, r.force, r.recursive)
            }
            Some(pb::cancel_request::Target::TaskId(t)) => {
                let task = TaskId(parse_id(&t, "a task")?);
                self.rt.cancel_for_peer(job, task, r.force, r.recursive);
                Ok(())
            }
            None => {
                return Err(Status::invalid_argument(
                    "a cancel names an object or a task; this one names neither",
                ))
            }
        };
        Ok(pb::CancelReply {
            error: outcome.err().map(wrun_proto::to_error),
        })
    }

    pub(super) async fn create_actor_here(
        &self,
        r: pb::CreateActorRequest,
        peer: Option<SocketAddr>,
    ) -> Result<pb::CreateActorReply, Status> {
        check_protocol(r.protocol, "create actor", peer)?;
        let job = self
            .guest_job(&r.job_id, &r.name, &r.components, &r.env_hash)
            .await?;
        let args = self.wire.import_args(r.args)?;
        let options = ActorOptions {
            resources: r.resources.as_ref().map(wrun_proto::from_resources),
            name: (!r.actor_name.is_empty()).then_some(r.actor_name),
            namespace: (!r.namespace.is_empty()).then_some(r.namespace),
            max_restarts: r.max_restarts,
            environment: (!r.environment.is_empty()).then_some(r.environment),
            runtime_env: (!r.runtime_env.is_empty()).then_some(r.runtime_env),
            scheduling: here_or_bundle(self.rt.node_id(), r.bundle.as_ref())?,
            // The caller's node looked the name up already.
            get_if_exists: false,
        };
        tracing::debug!(job = %r.job_id, class = %r.class, "creating an actor for another node");
        // Placed here by the caller's node: it must not travel again.
        let created = self
            .rt
            .create_actor_in_cluster(&job, &r.class, args, options, true)
            .await;
        Ok(match created {
            Ok(id) => pb::CreateActorReply {
                actor_id: wrun_proto::id_bytes(id.0),
                error: None,
            },
            Err(e) => pb::CreateActorReply {
                actor_id: Vec::new(),
                error: Some(wrun_proto::to_error(e)),
            },
        })
    }

    pub(super) async fn call_actor_here(
        &self,
        r: pb::CallActorRequest,
        peer: Option<SocketAddr>,
    ) -> Result<pb::RunTaskReply, Status> {
        check_protocol(r.protocol, "call actor", peer)?;
        let actor = ActorId(parse_id(&r.actor_id, "an actor")?);
        let caller = caller_job(&r.job_id)?;
        let args = self.wire.import_args(r.args)?;
        let sender_call = TaskId(parse_id(&r.call_id, "a call")?);
        let submitted =
            self.rt
                .call_actor_for_peer(caller, actor, &r.method, args, r.num_returns, sender_call);
        let reply = self.reply_with(submitted).await;
        self.rt.done_for_peer(sender_call);
        Ok(reply)
    }

    #[allow(
        clippy::result_large_err,
        reason = "tonic's Status is what handlers return"
    )]
    pub(super) fn kill_actor_here(
        &self,
        r: pb::KillActorRequest,
        peer: Option<SocketAddr>,
    ) -> Result<pb::KillActorReply, Status> {
        check_protocol(r.protocol, "kill actor", peer)?;
        let actor = ActorId(parse_id(&r.actor_id, "an actor")?);
        let caller = caller_job(&r.job_id)?;
        Ok(pb::KillActorReply {
            error: self
                .rt
                .kill_actor_for(caller, actor, r.restart)
                .err()
                .map(wrun_proto::to_error),
        })
    }

    #[allow(
        clippy::result_large_err,
        reason = "tonic's Status is what handlers return"
    )]
    pub(super) async fn end_job_here(
        &self,
        r: pb::EndJobRequest,
        peer: Option<SocketAddr>,
    ) -> Result<pb::EndJobReply, Status> {
        check_protocol(r.protocol, "end job", peer)?;
        let id = job_id(&r.job_id)?;
        if self.forget_guest(id) {
            tracing::debug!(job = %r.job_id, "job ended on its driver's node");
            self.remote.forget_job(id);
        }
        // Answered once its work here stopped and its lines are at the
        // head: the driver's node reports the job's outcome after this.
        self.rt.end_job(id).await;
        self.lines.flush().await;
        Ok(pb::EndJobReply {})
    }

    #[allow(
        clippy::result_large_err,
        reason = "tonic's Status is what handlers return"
    )]
    pub(super) fn reserve_bundles_here(
        &self,
        r: pb::ReserveBundlesRequest,
        peer: Option<SocketAddr>,
    ) -> Result<pb::ReserveBundlesReply, Status> {
        check_protocol(r.protocol, "reserve bundles", peer)?;
        let group = GroupId(parse_id(&r.group, "a placement group")?);
        let bundles: Vec<(u32, Resources)> = r
            .bundles
            .iter()
            .map(|b| {
                (
                    b.index,
                    wrun_proto::from_resources(&b.resources.clone().unwrap_or_default()),
                )
            })
            .collect();
        Ok(pb::ReserveBundlesReply {
            refused: self
                .rt
                .reserve_bundles(group, &bundles)
                .err()
                .unwrap_or_default(),
        })
    }

    #[allow(
        clippy::result_large_err,
        reason = "tonic's Status is what handlers return"
    )]
    pub(super) fn release_bundles_here(
        &self,
        r: pb::GetGroupRequest,
        peer: Option<SocketAddr>,
    ) -> Result<pb::RegisterGroupReply, Status> {
        check_protocol(r.protocol, "release bundles", peer)?;
        let group = GroupId(parse_id(&r.group, "a placement group")?);
        self.rt.release_bundles(group);
        Ok(pb::RegisterGroupReply {})
    }
}
