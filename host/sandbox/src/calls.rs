//! What a guest asks of the runtime beyond its objects: tasks, actors and
//! placement groups. The sandbox turns WIT calls into these and the runtime
//! implements them (as wasmtime-wasi's host code depends only on
//! `WasiView`): the sandbox knows no scheduler, registry or cluster.

use std::sync::Arc;
use std::time::Duration;

use wrun_core::{
    ActorId, ActorOptions, GroupId, NodeId, Resources, Strategy, TaskError, TaskOptions,
};
use wrun_env::Environment;
use wrun_objects::{BoxFuture, Held, TaskArg};

use crate::job::LoadedJob;

/// The instance a call comes from.
#[derive(Clone)]
pub struct Caller {
    /// Its job.
    pub job: Arc<LoadedJob>,
    /// Its component (bare names refer to it).
    pub component: usize,
    /// Its environment (calls run in it unless they name another).
    pub env: Arc<Environment>,
    /// Its nesting depth; what it submits runs at `depth + 1`.
    pub depth: u32,
}

/// The runtime, as guests reach it.
pub trait GuestCalls: Send + Sync + 'static {
    /// Submits a task; its result references at once.
    fn submit(
        self: Arc<Self>,
        caller: &Caller,
        function: String,
        args: Vec<TaskArg>,
        options: TaskOptions,
    ) -> Result<Vec<Held>, TaskError>;

    /// Creates an actor (here, or on another node).
    fn create_actor(
        self: Arc<Self>,
        caller: Caller,
        class: String,
        args: Vec<TaskArg>,
        options: ActorOptions,
    ) -> BoxFuture<'static, Result<ActorId, TaskError>>;

    /// Calls an actor method; its result references at once.
    fn call_actor(
        self: Arc<Self>,
        caller: &Caller,
        actor: ActorId,
        method: String,
        args: Vec<TaskArg>,
        num_returns: u32,
    ) -> Result<Vec<Held>, TaskError>;

    /// Finds a named actor (the caller may see the namespace).
    fn lookup_actor(
        self: Arc<Self>,
        namespace: String,
        name: String,
    ) -> BoxFuture<'static, Option<ActorId>>;

    /// Kills an actor the caller may see.
    fn kill_actor(self: Arc<Self>, caller: &Caller, actor: ActorId) -> Result<(), TaskError>;

    /// Reserves a placement group, waiting for room until `timeout`.
    fn create_group(
        self: Arc<Self>,
        caller: Caller,
        bundles: Vec<Resources>,
        strategy: Strategy,
        timeout: Option<Duration>,
    ) -> BoxFuture<'static, Result<GroupId, TaskError>>;

    /// The node of each bundle of a group.
    fn group_nodes(self: Arc<Self>, group: GroupId) -> BoxFuture<'static, Option<Vec<NodeId>>>;

    /// Removes a group.
    fn remove_group(
        self: Arc<Self>,
        caller: Caller,
        group: GroupId,
    ) -> BoxFuture<'static, Result<(), TaskError>>;
}
