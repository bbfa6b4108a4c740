//! The sandbox's data, in one place because each refers to the others: a
//! loaded job (its components pre-linked for instances), the state of one
//! instance (which belongs to a job), and the runtime an instance calls
//! ([`GuestCalls`], told which instance calls by a [`Caller`]).

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{ComponentExportIndex, InstancePre, ResourceTable};
use wasmtime_wasi::WasiCtx;
use wrun_core::logs::{Label, LogSink};
use wrun_core::{
    ActorId, ActorOptions, ErrorKind, GroupId, JobId, NodeId, Resources, Returning, Strategy,
    TaskError, TaskId, TaskOptions,
};
use wrun_env::Environment;
use wrun_objects::{BoxFuture, Held, ObjectStore, Stream, TaskArg};
use wrun_sched::Grant;

use crate::cache::CacheOutcome;
use crate::control::TaskControl;
use crate::guest_io::{LabelCell, StderrTail};
use crate::limits::MemoryLimit;
use crate::scratch::ScratchDir;

/// A component compiled (or loaded from the cache) and pre-linked.
pub struct Prepared {
    pub(crate) pre: InstancePre<HostState>,
    pub(crate) exports: GuestExports,
    /// SHA-256 of the component.
    pub hash: String,
    /// Compiled now or found in the cache.
    pub cache: CacheOutcome,
}

/// Where the `guest` interface's functions are, found once per component.
#[derive(Clone, Copy)]
pub(crate) struct GuestExports {
    pub(crate) main: ComponentExportIndex,
    pub(crate) run_task: ComponentExportIndex,
    pub(crate) construct: ComponentExportIndex,
    pub(crate) call_method: ComponentExportIndex,
}

/// One component of a job.
pub struct JobComponent {
    /// What calls from other components use (`NAME/function`); the driver's
    /// is the job's name.
    pub name: String,
    /// SHA-256 of the component.
    pub hash: String,
    /// Compiled now or found in the cache.
    pub cache: CacheOutcome,
    pub(crate) pre: InstancePre<HostState>,
    pub(crate) exports: GuestExports,
}

impl JobComponent {
    /// A prepared component under the name calls use.
    pub fn new(name: String, p: Prepared) -> Self {
        JobComponent {
            name,
            hash: p.hash,
            cache: p.cache,
            pre: p.pre,
            exports: p.exports,
        }
    }
}

/// A job: its driver's component and any others it calls by name (in any
/// guest language), sharing one id, namespace and environment.
pub struct LoadedJob {
    /// The same on every node it runs on.
    pub id: JobId,
    /// The driver's name.
    pub name: String,
    /// `components[0]` is the driver's (it runs `main`).
    pub components: Vec<JobComponent>,
    /// How long loading took (compile or cache hit).
    pub load_time: Duration,
    /// Named actors are registered here unless a namespace is given.
    pub namespace: String,
    /// What its guests may see and use (and its named alternatives).
    pub env: Arc<Environment>,
    /// Where this job's guest lines go, when not to the runtime's sink (a
    /// node daemon streams each job's lines back to its submitter).
    pub log_sink: Option<LogSink>,
    /// Its tasks submitted on this node and not finished (counted by the
    /// runtime, bounded by `limits.tasks_in_flight`).
    pub tasks_in_flight: AtomicUsize,
    /// The CPU time its guests used (bounded by `limits.job_cpu_time`).
    pub cpu: Arc<JobOnNode>,
    /// Its actors alive on this node (bounded by `limits.max_actors`).
    pub actors_alive: AtomicUsize,
    /// The bytes of the objects it made on this node (bounded by
    /// `limits.object_bytes`).
    pub objects: Arc<wrun_objects::ObjectQuota>,
    /// Its guest output's budget on this node (`limits.log_rate`).
    pub logs: Arc<crate::LogBudget>,
    /// The inline environments (`runtime_env` options) its calls used on
    /// this node, each built once (bounded).
    pub inline_envs: wrun_env::InlineEnvs,
}

/// What a node keeps of a job across its loads there (a node loads a job
/// again for work placed back on it after an earlier load ended): its CPU
/// time in epoch ticks, so what ended loads used still counts, and whether
/// it was stopped.
#[derive(Debug, Default)]
pub struct JobOnNode {
    /// Ticks its guests have run on this node, all together.
    pub used: std::sync::atomic::AtomicU64,
    /// Ticks its guests have run on the cluster's other nodes, as the head
    /// last summed them: the budget is the whole job tree's.
    pub elsewhere: std::sync::atomic::AtomicU64,
    /// Set by `wrun job stop`: its guests here stop at their next epoch tick
    /// and no new one starts.
    stopped: std::sync::atomic::AtomicBool,
    /// Wakes what waits for the stop (a driver blocked in a host call).
    stop_told: tokio::sync::Notify,
}

impl JobOnNode {
    /// Stops the job on this node (once; later calls do nothing more).
    pub fn stop(&self) {
        self.stopped
            .store(true, std::sync::atomic::Ordering::Release);
        self.stop_told.notify_waiters();
    }

    /// Whether the job was stopped.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Resolves once the job is stopped.
    pub async fn stopped(&self) {
        crate::control::notified_until(&self.stop_told, || self.is_stopped()).await;
    }
}

/// A task or actor class resolved to the component that exports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Index into [`LoadedJob::components`].
    pub component: usize,
    /// The name within that component.
    pub name: Arc<str>,
}

impl LoadedJob {
    /// The driver's component hash (the job's identity in logs).
    pub fn hash(&self) -> &str {
        &self.components[0].hash
    }

    /// Resolves `NAME` (in the caller's component) or `COMPONENT/NAME`.
    pub fn resolve(&self, caller: usize, name: &Arc<str>) -> Result<Target, TaskError> {
        let Some((component, bare)) = name.split_once('/') else {
            return Ok(Target {
                component: caller,
                name: name.clone(),
            });
        };
        let index = self
            .components
            .iter()
            .position(|c| c.name == component)
            .ok_or_else(|| {
                let known: Vec<&str> = self.components.iter().map(|c| c.name.as_str()).collect();
                TaskError::new(
                    ErrorKind::NotFound,
                    name.as_ref(),
                    format!(
                        "job `{}` has no component `{component}` (its components: {}); add it with `wrun submit --component {component}=FILE.wasm`",
                        self.name,
                        known.join(", ")
                    ),
                )
            })?;
        if bare.is_empty() {
            return Err(TaskError::new(
                ErrorKind::InvalidArgument,
                name.as_ref(),
                "the name after the component is empty (expected COMPONENT/NAME)",
            ));
        }
        Ok(Target {
            component: index,
            name: Arc::from(bare),
        })
    }
}

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
    /// The cancellation state of the task it runs (what it submits is
    /// recorded there, for a recursive cancel); none for drivers and actors.
    pub control: Option<Arc<TaskControl>>,
    /// The task (or actor, or driver) of the instance; `None` for the host
    /// API. One submitter's actor calls run in the order it made them.
    pub task: Option<TaskId>,
    /// The actor whose instance calls: the actors it creates share its fate.
    pub actor: Option<ActorId>,
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

    /// Calls an actor method; its result references at once (with
    /// `streaming`, one: the stream of the items it yields).
    fn call_actor(
        self: Arc<Self>,
        caller: &Caller,
        actor: ActorId,
        method: String,
        args: Vec<TaskArg>,
        returns: Returning,
    ) -> Result<Vec<Held>, TaskError>;

    /// Finds a named actor (the caller may see the namespace).
    fn lookup_actor(
        self: Arc<Self>,
        namespace: String,
        name: String,
    ) -> BoxFuture<'static, Option<ActorId>>;

    /// Cancels the call that produces `target` (`tasks.cancel`).
    fn cancel(
        self: Arc<Self>,
        caller: &Caller,
        target: &Held,
        force: bool,
        recursive: bool,
    ) -> Result<(), TaskError>;

    /// Kills an actor the caller may see, on any node; with `restart`, only
    /// its instance, and it restarts while it has restarts left.
    fn kill_actor(
        self: Arc<Self>,
        caller: &Caller,
        actor: ActorId,
        restart: bool,
    ) -> BoxFuture<'static, Result<(), TaskError>>;

    /// Reserves a placement group, waiting for room until `timeout`.
    fn create_group(
        self: Arc<Self>,
        caller: Caller,
        bundles: Vec<Resources>,
        strategy: Strategy,
        timeout: Option<Duration>,
    ) -> BoxFuture<'static, Result<GroupId, TaskError>>;

    /// The node of each bundle of a group of the caller's job.
    fn group_nodes(
        self: Arc<Self>,
        caller: &Caller,
        group: GroupId,
    ) -> BoxFuture<'static, Option<Vec<NodeId>>>;

    /// Removes a group.
    fn remove_group(
        self: Arc<Self>,
        caller: Caller,
        group: GroupId,
    ) -> BoxFuture<'static, Result<(), TaskError>>;
}

/// The data of one guest instance's store.
pub struct HostState {
    pub(crate) table: ResourceTable,
    pub(crate) wasi: WasiCtx,
    pub(crate) limits: MemoryLimit,
    pub(crate) objects: Arc<ObjectStore>,
    pub(crate) calls: Arc<dyn GuestCalls>,
    /// Its job, component, environment and depth.
    pub(crate) caller: Caller,
    pub(crate) node: NodeId,
    pub(crate) task_id: TaskId,
    pub(crate) actor_id: Option<ActorId>,
    /// Where `tasks.yield-item` stores the items of the running call, when
    /// it is a streaming one.
    pub(crate) stream: Option<Arc<Stream>>,
    /// The running method called `actors.exit-actor`: the actor ends when it
    /// returns.
    pub(crate) exit_requested: bool,
    /// The task or method running now, for logs and errors.
    pub(crate) label: Label,
    /// The same, as the instance's output streams see it.
    pub(crate) label_cell: LabelCell,
    /// Where its `logging.log` lines go.
    pub(crate) log_sink: LogSink,
    /// The resources this instance holds; its CPU is lent out while blocked.
    pub(crate) grant: Option<Grant>,
    /// Past this instant the running guest is interrupted: the call's
    /// timeout option, kept for the error to name.
    pub(crate) deadline: Option<(Instant, Duration)>,
    pub(crate) timed_out: bool,
    /// The guest was interrupted because its call was cancelled.
    pub(crate) cancelled: bool,
    /// A `get` told the guest of the cancel: it may clean up and return
    /// (Ray's `KeyboardInterrupt`), it is not interrupted after that.
    pub(crate) cancel_delivered: bool,
    /// Epoch ticks of running time left before the CPU-time limit.
    pub(crate) cpu_ticks_left: Option<u64>,
    pub(crate) cpu_exceeded: bool,
    /// Epoch ticks the whole job may run on this node.
    pub(crate) job_cpu_ticks: u64,
    pub(crate) job_cpu_exceeded: bool,
    /// Interrupted because its job was stopped (`JobOnNode::stop`).
    pub(crate) job_stopped: bool,
    pub(crate) stderr_tail: StderrTail,
    /// Held for its `Drop`, which removes the directory with the instance.
    #[allow(dead_code, reason = "held for its Drop")]
    pub(crate) scratch: Option<ScratchDir>,
}
