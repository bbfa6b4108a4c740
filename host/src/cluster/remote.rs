//! Tasks across nodes: a node sends a task it can never place (it needs
//! resources this node lacks, e.g. a custom `license`) to a live node that
//! has them, as Ray spills infeasible work to the nodes that can run it.
//! The task's options travel with it (retries and timeouts apply on the node
//! that runs it). Arguments and results travel by value; a task whose arguments hold object
//! references still needs the distributed object store (next step), and is
//! refused with a clear error.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use tonic::transport::Channel;
use tonic::Request;

use super::auth::Token;
use super::proto::{self, node_client::NodeClient};
use super::PROTOCOL_VERSION;
use crate::error::{ErrorKind, TaskError};
use crate::ids::JobId;
use crate::object_store::{BoxFuture, ObjectValue};
use crate::runtime::{LoadedJob, RemoteTasks, TaskOptions};
use crate::scheduler::Resources;

/// What a remote node needs to load a job: its cluster id, name, components.
#[derive(Clone)]
pub struct JobRef {
    pub job_id: String,
    pub name: String,
    pub components: Vec<proto::Component>,
}

/// The cluster as one node sees it, for sending tasks elsewhere.
pub struct ClusterTasks {
    token: Token,
    node_id: String,
    /// The other nodes, as the head's last heartbeat reply listed them.
    peers: RwLock<Vec<proto::NodeStatus>>,
    /// Jobs whose drivers run here, by their local id.
    jobs: Mutex<HashMap<JobId, JobRef>>,
    /// One connection per peer, shared by every task sent there.
    clients: Arc<Mutex<HashMap<String, NodeClient<Channel>>>>,
}

impl ClusterTasks {
    pub fn new(token: Token, node_id: String) -> Arc<ClusterTasks> {
        Arc::new(ClusterTasks {
            token,
            node_id,
            peers: RwLock::new(Vec::new()),
            jobs: Mutex::new(HashMap::new()),
            clients: Arc::default(),
        })
    }

    pub fn set_peers(&self, nodes: Vec<proto::NodeStatus>) {
        *self.peers.write() = nodes
            .into_iter()
            .filter(|n| n.state == "alive" && n.node_id != self.node_id)
            .collect();
    }

    pub fn register_job(&self, local: JobId, job: JobRef) {
        self.jobs.lock().insert(local, job);
    }

    pub fn forget_job(&self, local: JobId) {
        self.jobs.lock().remove(&local);
    }

    /// The live peer that could run `resources`, most free CPUs first.
    fn pick(&self, resources: &Resources) -> Option<proto::NodeStatus> {
        self.peers
            .read()
            .iter()
            .filter(|n| {
                let total = super::from_proto_resources(&n.total.clone().unwrap_or_default());
                resources.infeasible_in(&total).is_none()
            })
            .max_by(|a, b| {
                let free = |n: &proto::NodeStatus| n.available.as_ref().map_or(0.0, |r| r.cpus);
                free(a).total_cmp(&free(b))
            })
            .cloned()
    }
}

fn failed(label: &str, message: impl Into<String>) -> TaskError {
    TaskError::new(ErrorKind::Internal, label, message)
}

impl RemoteTasks for ClusterTasks {
    fn can_run(&self, resources: &Resources) -> bool {
        self.pick(resources).is_some()
    }

    fn run(
        &self,
        job: &Arc<LoadedJob>,
        component: usize,
        function: &str,
        args: Vec<ObjectValue>,
        resources: &Resources,
        options: &TaskOptions,
    ) -> BoxFuture<'static, Result<Vec<ObjectValue>, TaskError>> {
        let label = function.to_string();
        let peer = self.pick(resources);
        let job_ref = self.jobs.lock().get(&job.id).cloned();
        let token = self.token.clone();
        let wire_resources = super::to_proto_resources(resources);
        let function = function.to_string();
        let clients = self.clients.clone();
        let (num_returns, max_retries, retry_exceptions) = (
            options.num_returns,
            options.max_retries,
            options.retry_exceptions,
        );
        let timeout_ms = options.timeout.map_or(0, |t| t.as_millis().max(1) as u64);
        Box::pin(async move {
            let Some(peer) = peer else {
                return Err(failed(
                    &label,
                    "no node of the cluster has the resources it needs",
                ));
            };
            let Some(job_ref) = job_ref else {
                return Err(failed(&label, "this job is not known to the cluster"));
            };
            let mut wire_args = Vec::with_capacity(args.len());
            for (i, a) in args.into_iter().enumerate() {
                if !a.refs.is_empty() {
                    return Err(TaskError::new(
                        ErrorKind::InvalidArgument,
                        label,
                        format!("argument {i} holds object references, which cannot reach another node yet; pass values to tasks that run on other nodes"),
                    ));
                }
                wire_args.push(a.data.to_vec());
            }
            let req = proto::RunTaskRequest {
                protocol: PROTOCOL_VERSION,
                job_id: job_ref.job_id,
                name: job_ref.name,
                components: job_ref.components,
                component: component as u32,
                function,
                args: wire_args,
                resources: Some(wire_resources),
                num_returns,
                max_retries,
                retry_exceptions,
                timeout_ms,
            };
            let cached = clients.lock().get(&peer.address).cloned();
            let mut client = match cached {
                Some(c) => c,
                None => {
                    let channel = Channel::from_shared(format!("http://{}", peer.address))
                        .map_err(|e| failed(&label, e.to_string()))?
                        .connect_timeout(Duration::from_secs(5))
                        .connect()
                        .await
                        .map_err(|e| {
                            failed(&label, format!("node {} unreachable: {e}", peer.address))
                        })?;
                    let c = NodeClient::new(channel).max_decoding_message_size(1 << 30);
                    clients.lock().insert(peer.address.clone(), c.clone());
                    c
                }
            };
            let req = token
                .attach(Request::new(req))
                .map_err(|s| failed(&label, s.message()))?;
            tracing::debug!(task = %label, node = %peer.node_id, "task sent to another node");
            let reply = match client.run_task(req).await {
                Ok(r) => r.into_inner(),
                Err(s) => {
                    // A broken connection is dialled again by the next task.
                    clients.lock().remove(&peer.address);
                    return Err(failed(
                        &label,
                        format!("node {}: {}", peer.node_id, s.message()),
                    ));
                }
            };
            if let Some(e) = reply.error {
                return Err(super::node::task_error(e));
            }
            Ok(reply
                .values
                .into_iter()
                .map(ObjectValue::from_bytes)
                .collect())
        })
    }
}
