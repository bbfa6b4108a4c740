//! The rest of the cluster, as the runtime of one node sees it: three small
//! traits fixed when the runtime is built. A single node passes
//! [`ClusterLinks::single_node`]: no peers, nothing remote, a directory of
//! its own; the runtime never asks whether it is in a cluster.

use std::sync::Arc;

use wrun_core::{
    ActorId, ErrorKind, GroupId, GroupInfo, JobId, NodeId, Resources, TaskError, TaskId,
    TaskOptions,
};
use wrun_objects::{BoxFuture, ObjectValue, TaskArg};
use wrun_sandbox::LoadedJob;
use wrun_sched::{ClusterView, HereView, NodeRoom, Placement, Request};

/// What a cancel names on another node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelTarget {
    /// The call that produces an object that node owns.
    Object(wrun_core::ObjectId),
    /// A task that node runs for this one (this node's id of it).
    Task(TaskId),
}

/// The other nodes, for placing calls.
pub trait Peers: Send + Sync + 'static {
    /// Where a call goes, by [`wrun_sched::place`] over the other live nodes
    /// as last heard; a call placed on a peer counts against its room until
    /// it next reports.
    fn place(&self, here: &HereView, req: Request<'_>) -> Placement;
    /// The other live nodes' room, for planning placement groups.
    fn rooms(&self) -> Vec<NodeRoom>;
}

/// A task to run on another node.
pub struct RemoteTask<'a> {
    /// This node's id of it (a cancel sent on names it so).
    pub id: TaskId,
    /// Its job.
    pub job: &'a Arc<LoadedJob>,
    /// The component that exports it.
    pub component: usize,
    /// Its name in that component.
    pub function: &'a str,
    /// Its arguments (references are counted for the peer when sent).
    pub args: Vec<TaskArg>,
    /// What it holds while it runs.
    pub resources: &'a Resources,
    /// Its options (the placement group bundle it runs in, if any).
    pub options: &'a TaskOptions,
}

/// An actor to create on another node.
pub struct RemoteActor<'a> {
    /// Its job.
    pub job: &'a Arc<LoadedJob>,
    /// `COMPONENT/CLASS`.
    pub class: String,
    /// Constructor arguments.
    pub args: Vec<TaskArg>,
    /// What it holds while it lives.
    pub resources: &'a Resources,
    /// `(namespace, name)` of a named actor.
    pub name: Option<(String, String)>,
    /// Restarts after a trap.
    pub max_restarts: u32,
    /// The bundle of a placement group it is to live in, on that node.
    pub bundle: Option<(GroupId, u32)>,
    /// The named environment of the job's manifest it lives in (`None`: the
    /// job's own).
    pub environment: Option<String>,
    /// The inline environment changing it (canonical JSON).
    pub runtime_env: Option<String>,
}

/// How a call to another node failed.
#[derive(Debug)]
pub enum RemoteFailure {
    /// The node is gone (the call may be placed again elsewhere).
    NodeLost(TaskError),
    /// The call ran, or was refused, and failed.
    Failed(TaskError),
}

impl RemoteFailure {
    /// The error, whichever way it came.
    pub fn into_error(self) -> TaskError {
        match self {
            RemoteFailure::NodeLost(e) | RemoteFailure::Failed(e) => e,
        }
    }
}

/// A call of an actor on another node.
pub struct RemoteCall {
    /// This node's id of the call (a cancel sent on names it so).
    pub id: TaskId,
    /// The calling job (`None`: the host API).
    pub caller: Option<JobId>,
    /// The actor; its id names its node.
    pub actor: ActorId,
    /// The method's name.
    pub method: String,
    /// Its arguments (references are counted for the peer when sent).
    pub args: Vec<TaskArg>,
    /// Result objects of the call.
    pub num_returns: u32,
}

/// Called once with the outcome of an actor call that ran on another node.
pub type CallDone = Box<dyn FnOnce(Result<Vec<ObjectValue>, TaskError>) + Send>;

/// Calls that run on other nodes.
pub trait Remote: Send + Sync + 'static {
    /// Runs a task on `node`.
    fn run_task(
        &self,
        node: NodeId,
        task: RemoteTask<'_>,
    ) -> BoxFuture<'static, Result<Vec<ObjectValue>, RemoteFailure>>;
    /// Creates an actor on `node`; its id names that node.
    fn create_actor(
        &self,
        node: NodeId,
        actor: RemoteActor<'_>,
    ) -> BoxFuture<'static, Result<ActorId, TaskError>>;
    /// Calls a method of an actor on another node; calls from this node to
    /// one actor reach it in the order they were made.
    fn call_actor(&self, call: RemoteCall, done: CallDone);
    /// Cancels, on `node`, a call of `job` (a task it runs for this node,
    /// or the producer of an object it owns); failures are logged.
    fn cancel(&self, node: NodeId, job: JobId, target: CancelTarget, force: bool, recursive: bool);
    /// Kills an actor on another node at once, as on this node (its running
    /// call fails); with `restart`, only its instance. Sent when called,
    /// whether or not the future is awaited; it resolves with the actor's
    /// node's answer.
    fn kill_actor(
        &self,
        caller: Option<JobId>,
        actor: ActorId,
        restart: bool,
    ) -> BoxFuture<'static, Result<(), TaskError>>;
    /// A job's driver finished here: its work on other nodes ends (see
    /// [`crate::Runtime::end_job`]). Resolves once every node has answered
    /// that its work there stopped and its lines are sent on, or given up.
    fn end_job(&self, job: JobId) -> BoxFuture<'static, ()>;
    /// Reserves bundles of a group on `node`, all or none there.
    fn reserve_bundles(
        &self,
        node: NodeId,
        group: GroupId,
        bundles: Vec<(u32, Resources)>,
    ) -> BoxFuture<'static, Result<(), TaskError>>;
    /// Gives a group's bundles on `node` back.
    fn release_bundles(&self, node: NodeId, group: GroupId);
}

/// What every node must agree on: actor names and placement groups (the
/// head, in a cluster).
pub trait Directory: Send + Sync + 'static {
    /// Claims a name for an actor of this node, cluster-wide.
    fn register_name(
        &self,
        namespace: &str,
        name: &str,
        actor: ActorId,
    ) -> BoxFuture<'static, Result<(), TaskError>>;
    /// Gives a dead actor's name up.
    fn unregister_name(&self, namespace: &str, name: &str, actor: ActorId);
    /// Finds a named actor of another node.
    fn lookup_name(&self, namespace: &str, name: &str) -> BoxFuture<'static, Option<ActorId>>;
    /// Records a placed group, for every node to find.
    fn publish_group(&self, info: &GroupInfo) -> BoxFuture<'static, Result<(), TaskError>>;
    /// A group created on another node.
    fn group(&self, group: GroupId) -> BoxFuture<'static, Option<GroupInfo>>;
    /// Drops a removed group from the records.
    fn forget_group(&self, group: GroupId);
}

/// The three links, fixed when the runtime is built.
#[derive(Clone)]
pub struct ClusterLinks {
    /// The other nodes, for placement.
    pub peers: Arc<dyn Peers>,
    /// Calls to other nodes.
    pub remote: Arc<dyn Remote>,
    /// Names and groups every node agrees on.
    pub directory: Arc<dyn Directory>,
}

impl ClusterLinks {
    /// The links of a node alone: no peers, nothing remote, its own names.
    pub fn single_node() -> Self {
        let alone = Arc::new(Alone);
        ClusterLinks {
            peers: alone.clone(),
            remote: alone.clone(),
            directory: alone,
        }
    }
}

/// A node alone.
struct Alone;

fn elsewhere(what: &str, id: impl std::fmt::Display) -> TaskError {
    TaskError::new(
        ErrorKind::NotFound,
        what,
        format!("{id} belongs to another node, and this runtime is a single node"),
    )
}

impl Peers for Alone {
    fn place(&self, here: &HereView, req: Request<'_>) -> Placement {
        wrun_sched::place(ClusterView { here, peers: &[] }, req)
    }

    fn rooms(&self) -> Vec<NodeRoom> {
        Vec::new()
    }
}

impl Remote for Alone {
    fn run_task(
        &self,
        node: NodeId,
        task: RemoteTask<'_>,
    ) -> BoxFuture<'static, Result<Vec<ObjectValue>, RemoteFailure>> {
        let e = elsewhere(task.function, format!("node {node}"));
        Box::pin(async move { Err(RemoteFailure::Failed(e)) })
    }

    fn create_actor(
        &self,
        node: NodeId,
        actor: RemoteActor<'_>,
    ) -> BoxFuture<'static, Result<ActorId, TaskError>> {
        let e = elsewhere(&actor.class, format!("node {node}"));
        Box::pin(async move { Err(e) })
    }

    fn call_actor(&self, call: RemoteCall, done: CallDone) {
        done(Err(TaskError::new(
            ErrorKind::ActorDied,
            call.method,
            format!(
                "no actor {} exists (it never did, or died long ago)",
                call.actor
            ),
        )));
    }

    fn kill_actor(
        &self,
        _caller: Option<JobId>,
        actor: ActorId,
        _restart: bool,
    ) -> BoxFuture<'static, Result<(), TaskError>> {
        let e = TaskError::no_live_actor(actor);
        Box::pin(async move { Err(e) })
    }

    fn cancel(&self, _: NodeId, _: JobId, _: CancelTarget, _: bool, _: bool) {}

    fn end_job(&self, _job: JobId) -> BoxFuture<'static, ()> {
        Box::pin(std::future::ready(()))
    }

    fn reserve_bundles(
        &self,
        node: NodeId,
        group: GroupId,
        _bundles: Vec<(u32, Resources)>,
    ) -> BoxFuture<'static, Result<(), TaskError>> {
        let e = elsewhere(&format!("placement group {group}"), format!("node {node}"));
        Box::pin(async move { Err(e) })
    }

    fn release_bundles(&self, _node: NodeId, _group: GroupId) {}
}

impl Directory for Alone {
    fn register_name(
        &self,
        _namespace: &str,
        _name: &str,
        _actor: ActorId,
    ) -> BoxFuture<'static, Result<(), TaskError>> {
        Box::pin(async { Ok(()) })
    }

    fn unregister_name(&self, _namespace: &str, _name: &str, _actor: ActorId) {}

    fn lookup_name(&self, _namespace: &str, _name: &str) -> BoxFuture<'static, Option<ActorId>> {
        Box::pin(async { None })
    }

    fn publish_group(&self, _info: &GroupInfo) -> BoxFuture<'static, Result<(), TaskError>> {
        Box::pin(async { Ok(()) })
    }

    fn group(&self, _group: GroupId) -> BoxFuture<'static, Option<GroupInfo>> {
        Box::pin(async { None })
    }

    fn forget_group(&self, _group: GroupId) {}
}
