//! The runtime of one node: loads jobs, runs drivers, tasks and actors on
//! wasmtime, and wires them to the scheduler and the object store.
//!
//! One task's path: a guest (or the host API) calls [`RuntimeInner::submit_task`],
//! which creates pending objects for the results and hands back references at
//! once; a tokio task then resolves by-reference arguments, waits for resources
//! from the [`Scheduler`], instantiates a fresh instance from the job's
//! pre-linked component, calls `run-task`, and fulfils the result objects with
//! the values or with the error (after the retries its options allow).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Store, UpdateDeadline};

use crate::actors::{ActorRegistry, ActorSpec};
use crate::bindings;
use crate::engine::{CacheOutcome, ComponentCache, EngineOptions, WasmEngine};
use crate::environment::{Environment, ManifestError, SCRATCH_GUEST_PATH};
use crate::error::{ErrorKind, LoadError, TaskError};
use crate::guest_io::{GuestOutput, LabelCell, StderrTail};
use crate::host_api::{from_wit_value, to_wit_value, HostState, MemoryLimit};
use crate::ids::{ActorId, GroupId, IdGen, JobId, NodeId, ObjectId, TaskId};
use crate::logs::{tracing_sink, LogSink};
use crate::object_store::{Held, LocalObjectStore, ObjectStore, ObjectValue, StoreStats};
use crate::placement::{plan, GroupInfo, LocalBundles, NodeRoom, PlanError, Strategy};
use crate::scheduler::{Grant, LocalScheduler, Resources, Scheduler};

/// How a node is set up.
#[derive(Clone)]
pub struct RuntimeConfig {
    /// CPUs the scheduler hands out (default: the machine's cores).
    pub cpus: f64,
    /// Memory the scheduler hands out, in bytes (default: the machine's memory).
    pub memory: u64,
    /// Custom resources of this node.
    pub custom: Vec<(String, f64)>,
    /// Bytes of objects kept in memory before the oldest spill to disk.
    pub object_memory_cap: usize,
    /// Where spilled objects go.
    pub spill_dir: PathBuf,
    /// Where compiled components and packed working directories are cached.
    pub cache_dir: PathBuf,
    /// Where per-task scratch directories are made (and removed).
    pub scratch_dir: PathBuf,
    pub engine: EngineOptions,
    /// Limits every job gets unless it declares others.
    pub job_limits: JobLimits,
    /// Where guest log lines go.
    pub log_sink: LogSink,
}

/// Limits of one job's guests.
#[derive(Clone, Copy, Debug)]
pub struct JobLimits {
    /// Linear memory per instance, in bytes.
    pub memory_per_instance: usize,
    /// The largest object a guest may put, in bytes.
    pub max_object_bytes: usize,
    /// Object references (and other handles) one instance may hold at once.
    pub max_refs: usize,
}

impl Default for JobLimits {
    fn default() -> Self {
        JobLimits {
            memory_per_instance: 512 << 20,
            max_object_bytes: 1 << 30,
            max_refs: 1_000_000,
        }
    }
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1) as f64;
        let cache_dir = ComponentCache::default_dir();
        RuntimeConfig {
            cpus,
            memory: total_memory_bytes().unwrap_or(4 << 30),
            custom: Vec::new(),
            object_memory_cap: (total_memory_bytes().unwrap_or(4 << 30) / 4) as usize,
            spill_dir: std::env::temp_dir().join(format!("wrun-spill-{}", std::process::id())),
            cache_dir,
            scratch_dir: std::env::temp_dir().join(format!("wrun-scratch-{}", std::process::id())),
            engine: EngineOptions::default(),
            job_limits: JobLimits::default(),
            log_sink: tracing_sink(),
        }
    }
}

fn total_memory_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = s
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Per-call options of a task (host side of the WIT `task-options`).
#[derive(Clone, Debug)]
pub struct TaskOptions {
    pub num_returns: u32,
    /// `None`: the environment's default for tasks, or 1 CPU.
    pub resources: Option<Resources>,
    pub max_retries: u32,
    pub retry_exceptions: bool,
    pub timeout: Option<Duration>,
    /// A named environment of the job's manifest; the caller's when `None`.
    pub environment: Option<String>,
    /// Where it runs beyond having its resources.
    pub scheduling: Scheduling,
}

/// Where a task or actor runs, beyond having its resources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scheduling {
    /// On the submitting node while it has room, else spilled over.
    #[default]
    Default,
    /// On the least loaded node with room.
    Spread,
    NodeAffinity(NodeAffinity),
    /// In a bundle of a placement group (any bundle when `None`).
    PlacementGroup {
        group: GroupId,
        bundle: Option<u32>,
    },
}

impl Scheduling {
    fn affinity(self) -> Option<NodeAffinity> {
        match self {
            Scheduling::NodeAffinity(a) => Some(a),
            _ => None,
        }
    }
}

/// Ties a task to one node of the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeAffinity {
    pub node: NodeId,
    /// Run elsewhere when that node is gone or can never run the task.
    pub soft: bool,
}

impl Default for TaskOptions {
    fn default() -> Self {
        TaskOptions {
            num_returns: 1,
            resources: None,
            max_retries: 0,
            retry_exceptions: false,
            timeout: None,
            environment: None,
            scheduling: Scheduling::Default,
        }
    }
}

/// The most return values one call may declare.
const MAX_RETURNS: u32 = 1024;

/// Options of an actor created from the host API.
#[derive(Clone, Debug, Default)]
pub struct ActorOptions {
    /// `None`: the environment's default for actors, or nothing.
    pub resources: Option<Resources>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub max_restarts: u32,
    pub environment: Option<String>,
    pub scheduling: Scheduling,
}

/// One argument of a call.
#[derive(Clone, Debug)]
pub enum TaskArg {
    Value(ObjectValue),
    /// Resolved to the object's value before the callee runs.
    Ref(Held),
}

/// One component of a job, compiled and pre-linked.
pub struct JobComponent {
    /// What calls from other components use (`NAME/function`); the driver's
    /// is the job's name.
    pub name: String,
    /// SHA-256 of the component.
    pub hash: String,
    pub cache: CacheOutcome,
    pub(crate) pre: bindings::JobPre<HostState>,
}

/// A job: its driver's component and any others it calls by name (in any
/// guest language), sharing one id, namespace and environment.
pub struct LoadedJob {
    pub id: JobId,
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
}

/// A task or actor class resolved to the component that exports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// Index into [`LoadedJob::components`].
    pub component: usize,
    /// The name within that component.
    pub name: String,
}

impl LoadedJob {
    /// The driver's component hash (the job's identity in logs).
    pub fn hash(&self) -> &str {
        &self.components[0].hash
    }

    /// Resolves `NAME` (in the caller's component) or `COMPONENT/NAME`.
    pub(crate) fn resolve(&self, caller: usize, name: &str) -> Result<Target, TaskError> {
        let Some((component, bare)) = name.split_once('/') else {
            return Ok(Target {
                component: caller,
                name: name.to_string(),
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
                    name,
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
                name,
                "the name after the component is empty (expected COMPONENT/NAME)",
            ));
        }
        Ok(Target {
            component: index,
            name: bare.to_string(),
        })
    }
}

/// Where a task should run, as the cluster sees it.
#[derive(Debug, PartialEq, Eq)]
pub enum Placement {
    Here,
    /// On the peer with this node id.
    Peer(String),
    /// Nowhere: why, and what to do about it.
    Nowhere(String),
}

/// What a cluster node knows when it places a task.
#[derive(Debug)]
pub struct PlacementQuery<'a> {
    pub resources: &'a Resources,
    /// Why this node can never run the task, if it cannot.
    pub infeasible_here: Option<String>,
    /// Whether this node reserved the resources for it just now.
    pub free_here: bool,
    /// This node's CPUs in use and wanted by queued tasks, per CPU it has
    /// (1.0: busy with nothing waiting).
    pub load_here: f64,
    /// Bytes of by-reference arguments per other node that owns them.
    pub arg_bytes: Vec<(NodeId, u64)>,
    pub affinity: Option<NodeAffinity>,
    /// Prefer the least loaded node with room over this one.
    pub spread: bool,
}

/// Called once with the outcome of a call that ran on another node.
pub type CallDone = Box<dyn FnOnce(Result<Vec<ObjectValue>, TaskError>) + Send>;

/// An actor to create on another node.
pub struct RemoteActor<'a> {
    pub peer: &'a str,
    pub job: &'a Arc<LoadedJob>,
    /// `COMPONENT/CLASS`.
    pub class: String,
    pub args: Vec<TaskArg>,
    pub resources: &'a Resources,
    /// `(namespace, name)` of a named actor.
    pub name: Option<(String, String)>,
    pub max_restarts: u32,
    /// The bundle of a placement group it is to live in, on that node.
    pub bundle: Option<(GroupId, u32)>,
}

/// Places tasks and actors on the nodes of a cluster and reaches them
/// there. Set by a node daemon (`Runtime::set_remote_tasks`); absent on a
/// single node.
pub trait RemoteTasks: Send + Sync {
    /// Decides where a task runs.
    fn place(&self, query: &PlacementQuery<'_>) -> Placement;
    /// Runs `function` of `job`'s component `component` on `peer`.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        peer: &str,
        job: &Arc<LoadedJob>,
        component: usize,
        function: &str,
        args: Vec<TaskArg>,
        resources: &Resources,
        options: &TaskOptions,
    ) -> crate::object_store::BoxFuture<'static, Result<Vec<ObjectValue>, TaskError>>;
    /// Creates an actor on another node; its id names that node.
    fn create_actor(
        &self,
        actor: RemoteActor<'_>,
    ) -> crate::object_store::BoxFuture<'static, Result<ActorId, TaskError>>;
    /// Calls a method of an actor on another node; calls from this node to
    /// one actor reach it in the order they were made.
    fn call_actor(
        &self,
        caller: Option<JobId>,
        actor: ActorId,
        method: String,
        args: Vec<TaskArg>,
        num_returns: u32,
        done: CallDone,
    );
    /// Kills an actor on another node (asynchronously).
    fn kill_actor(&self, caller: Option<JobId>, actor: ActorId);
    /// Claims a name for an actor of this node, cluster-wide.
    fn register_name(
        &self,
        namespace: &str,
        name: &str,
        actor: ActorId,
    ) -> crate::object_store::BoxFuture<'static, Result<(), TaskError>>;
    /// Gives a dead actor's name up.
    fn unregister_name(&self, namespace: &str, name: &str, actor: ActorId);
    /// Finds a named actor anywhere in the cluster.
    fn lookup_name(
        &self,
        namespace: &str,
        name: &str,
    ) -> crate::object_store::BoxFuture<'static, Option<ActorId>>;
    /// A job's driver finished here: its actors on other nodes die.
    fn job_ended(&self, job: JobId);
    /// The other live nodes, for planning placement groups.
    fn nodes(&self) -> Vec<crate::placement::NodeRoom>;
    /// Reserves bundles of a group on another node (all or none there).
    fn reserve_bundles(
        &self,
        node: NodeId,
        group: GroupId,
        bundles: Vec<(u32, Resources)>,
    ) -> crate::object_store::BoxFuture<'static, Result<(), String>>;
    /// Gives a group's bundles on another node back.
    fn release_bundles(&self, node: NodeId, group: GroupId);
    /// Records a placed group with the head, for every node to find.
    fn publish_group(
        &self,
        info: &GroupInfo,
    ) -> crate::object_store::BoxFuture<'static, Result<(), TaskError>>;
    /// A group created on another node, from the head.
    fn group(&self, group: GroupId) -> crate::object_store::BoxFuture<'static, Option<GroupInfo>>;
    /// Drops a removed group from the head's records.
    fn forget_group(&self, group: GroupId);
    /// Whether a call to this peer just failed because it is gone (it is
    /// left out of placement until the head says it is back).
    fn is_lost(&self, node: &str) -> bool;
}

/// Task counters, for progress lines and `wrun status`.
#[derive(Default, Debug)]
pub struct Counters {
    pub submitted: AtomicU64,
    pub finished: AtomicU64,
    pub failed: AtomicU64,
    pub retried: AtomicU64,
}

pub(crate) struct RuntimeInner {
    pub(crate) engine: WasmEngine,
    pub(crate) linker: Linker<HostState>,
    pub(crate) cache: ComponentCache,
    pub(crate) ids: IdGen,
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) scheduler: Arc<dyn Scheduler>,
    pub(crate) actors: ActorRegistry,
    /// Instance slots of the pool; waiting here instead of failing when full.
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) counters: Counters,
    /// Idle instances of environments that allow reuse.
    pub(crate) warm: crate::warm::WarmPool,
    pub(crate) log_sink: LogSink,
    pub(crate) config: RuntimeConfig,
    /// Where tasks this node cannot place go, in a cluster.
    pub(crate) remote: std::sync::OnceLock<Arc<dyn RemoteTasks>>,
    /// Bundles of placement groups reserved on this node.
    pub(crate) bundles: LocalBundles,
    /// Groups created here (with the job that created them), and groups
    /// of other nodes this node has looked up.
    pub(crate) groups: parking_lot::Mutex<HashMap<GroupId, (GroupInfo, Option<JobId>)>>,
    /// Spreads calls over a group's bundles when they name none.
    pub(crate) next_bundle: AtomicU64,
    /// Placement groups waiting for room, and why.
    pub(crate) group_waits: parking_lot::Mutex<HashMap<GroupId, String>>,
}

/// A single-node wrun runtime (the embedded default of `wrun submit`).
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<RuntimeInner>,
}

/// Where an instance runs and for whom.
pub(crate) struct InstanceCtx {
    pub job: Arc<LoadedJob>,
    /// Which of the job's components to instantiate.
    pub component: usize,
    pub task_id: TaskId,
    pub actor_id: Option<ActorId>,
    pub label: Arc<str>,
    pub depth: u32,
    pub grant: Option<Grant>,
    pub env: Arc<Environment>,
}

impl Runtime {
    pub fn new(config: RuntimeConfig) -> anyhow::Result<Self> {
        let engine = WasmEngine::new(&config.engine)?;
        let mut linker = Linker::<HostState>::new(&engine.engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| anyhow::anyhow!("linking WASI: {e:#}"))?;
        bindings::Job::add_to_linker::<HostState, wasmtime::component::HasSelf<HostState>>(
            &mut linker,
            |s| s,
        )
        .map_err(|e| anyhow::anyhow!("linking the wrun interfaces: {e:#}"))?;
        crate::host_api::link_shared_objects(&mut linker)
            .map_err(|e| anyhow::anyhow!("linking the object imports: {e:#}"))?;
        let ids = IdGen::new();
        let store: Arc<dyn ObjectStore> = LocalObjectStore::new(
            ids.node_id(),
            config.object_memory_cap,
            config.spill_dir.clone(),
        );
        let mut total = Resources::new(config.cpus, config.memory);
        for (k, v) in &config.custom {
            total = total.with_custom(k, *v);
        }
        // One permit per pool slot: tasks wait for a free slot instead of failing.
        let slots = Arc::new(Semaphore::new(config.engine.max_instances as usize));
        Ok(Runtime {
            inner: Arc::new(RuntimeInner {
                cache: ComponentCache::new(config.cache_dir.clone()),
                engine,
                linker,
                ids,
                store,
                scheduler: LocalScheduler::new(total),
                actors: ActorRegistry::default(),
                slots,
                counters: Counters::default(),
                warm: crate::warm::WarmPool::default(),
                log_sink: config.log_sink.clone(),
                config,
                remote: std::sync::OnceLock::new(),
                bundles: LocalBundles::default(),
                groups: Default::default(),
                next_bundle: AtomicU64::new(0),
                group_waits: Default::default(),
            }),
        })
    }

    /// Reads a runtime-environment manifest (packing its working directory
    /// into the cache unless it is there already).
    pub fn load_environment(
        &self,
        manifest: &std::path::Path,
    ) -> Result<Arc<Environment>, ManifestError> {
        let c = &self.inner.config;
        Environment::load(manifest, &c.cache_dir, c.job_limits).map(Arc::new)
    }

    /// Checks a manifest's text whose relative paths are relative to `dir`
    /// (a cluster node lays out a job's environment there).
    pub fn parse_environment(
        &self,
        text: &str,
        file: &str,
        dir: &std::path::Path,
    ) -> Result<Environment, ManifestError> {
        let c = &self.inner.config;
        Environment::parse(text, file, dir, &c.cache_dir, c.job_limits)
    }

    /// The deny-all default environment, with this runtime's limits.
    pub fn default_environment(&self) -> Arc<Environment> {
        Arc::new(Environment::deny_all(self.inner.config.job_limits))
    }

    /// Loads a job's component from a file, in the deny-all default environment.
    pub fn load_job_file(&self, path: &std::path::Path) -> Result<Arc<LoadedJob>, LoadError> {
        let env = Arc::new(Environment::deny_all(self.inner.config.job_limits));
        self.load_job_file_in(path, env)
    }

    /// Loads a job of several components (see [`Runtime::load_multi_job_in`])
    /// in the deny-all default environment.
    pub fn load_multi_job(
        &self,
        path: &std::path::Path,
        others: &[(String, std::path::PathBuf)],
    ) -> Result<Arc<LoadedJob>, LoadError> {
        let env = Arc::new(Environment::deny_all(self.inner.config.job_limits));
        self.load_multi_job_in(path, others, env)
    }

    /// Loads a job's component from a file, to run in `env`.
    pub fn load_job_file_in(
        &self,
        path: &std::path::Path,
        env: Arc<Environment>,
    ) -> Result<Arc<LoadedJob>, LoadError> {
        self.load_multi_job_in(path, &[], env)
    }

    /// Loads a job made of several components: the driver's (`path`) and
    /// `others`, each under the name that calls from the rest use
    /// (`NAME/function`, `NAME/Class`). They may be written in different
    /// languages; they share the job's id, namespace and environment.
    pub fn load_multi_job_in(
        &self,
        path: &std::path::Path,
        others: &[(String, std::path::PathBuf)],
        env: Arc<Environment>,
    ) -> Result<Arc<LoadedJob>, LoadError> {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "job".into());
        let mut parts = vec![(
            name.clone(),
            read_component(path)?,
            path.display().to_string(),
        )];
        for (other, p) in others {
            parts.push((other.clone(), read_component(p)?, p.display().to_string()));
        }
        self.load_job_parts(&name, parts, env, None)
    }

    /// Compiles (or loads from the cache) and pre-links a job's component,
    /// refusing anything that is not a component of the `job` world.
    pub fn load_job_bytes(
        &self,
        bytes: &[u8],
        name: &str,
        what: &str,
        env: Arc<Environment>,
    ) -> Result<Arc<LoadedJob>, LoadError> {
        self.load_job_parts(
            name,
            vec![(name.to_string(), bytes.to_vec(), what.to_string())],
            env,
            None,
        )
    }

    /// Loads `(component name, bytes, description)` parts, the driver's
    /// first; the job's guest lines go to `log_sink` when one is given.
    pub fn load_job_parts(
        &self,
        name: &str,
        parts: Vec<(String, Vec<u8>, String)>,
        env: Arc<Environment>,
        log_sink: Option<LogSink>,
    ) -> Result<Arc<LoadedJob>, LoadError> {
        self.load_job_parts_as(None, name, parts, env, log_sink)
    }

    /// [`Runtime::load_job_parts`] under a given id: a cluster job has the
    /// same id (and so the same private namespace) on every node.
    pub fn load_job_parts_as(
        &self,
        id: Option<JobId>,
        name: &str,
        parts: Vec<(String, Vec<u8>, String)>,
        env: Arc<Environment>,
        log_sink: Option<LogSink>,
    ) -> Result<Arc<LoadedJob>, LoadError> {
        let start = Instant::now();
        let rt = &self.inner;
        let mut components: Vec<JobComponent> = Vec::with_capacity(parts.len());
        for (cname, bytes, what) in parts {
            check_component_name(&cname, &what)?;
            if components.iter().any(|c| c.name == cname) {
                return Err(LoadError::ComponentName {
                    what,
                    reason: format!("the job already has a component named `{cname}`"),
                });
            }
            let (component, cache, hash) = rt.cache.load(&rt.engine.engine, &bytes, &what)?;
            let wrong_world = |e: wasmtime::Error| LoadError::WrongWorld {
                what: what.clone(),
                reason: format!("{e:#}"),
            };
            let pre = rt.linker.instantiate_pre(&component).map_err(wrong_world)?;
            let pre = bindings::JobPre::new(pre).map_err(wrong_world)?;
            components.push(JobComponent {
                name: cname,
                hash,
                cache,
                pre,
            });
        }
        let id = id.unwrap_or_else(|| JobId(rt.ids.next()));
        Ok(Arc::new(LoadedJob {
            id,
            name: name.to_string(),
            components,
            load_time: start.elapsed(),
            namespace: format!("job-{id}"),
            env,
            log_sink,
        }))
    }

    /// Runs the job's driver (`main`) with `args` and returns its value.
    /// Actors the job created die with it.
    pub async fn run_main(
        &self,
        job: &Arc<LoadedJob>,
        args: Vec<String>,
    ) -> Result<ObjectValue, TaskError> {
        // The driver runs on a runtime worker like its tasks, so waking it
        // when a result arrives does not cross to the caller's thread.
        let (rt, job2) = (self.inner.clone(), job.clone());
        let out = tokio::spawn(async move { rt.run_main(&job2, args).await })
            .await
            .unwrap_or_else(|e| Err(internal("main", format!("the driver's task failed: {e}"))));
        self.inner.actors.kill_job(job.id);
        self.inner.warm.drop_job(job.id);
        self.inner.remove_job_groups(job.id);
        if let Some(remote) = self.inner.remote.get() {
            remote.job_ended(job.id);
        }
        out
    }

    /// Submits a task of `job` from the host; returns its result references.
    /// `function` is `NAME` (of the driver's component) or `COMPONENT/NAME`.
    pub fn submit(
        &self,
        job: &Arc<LoadedJob>,
        function: &str,
        args: Vec<TaskArg>,
        options: TaskOptions,
    ) -> Result<Vec<Held>, TaskError> {
        self.inner
            .submit_task(job, 0, &job.env, function.to_string(), args, options, 1)
    }

    /// Creates an actor of `class` (`NAME` or `COMPONENT/NAME`) from the host
    /// (as a job's driver would), on this node.
    pub fn create_actor(
        &self,
        job: &Arc<LoadedJob>,
        class: &str,
        args: Vec<TaskArg>,
        options: ActorOptions,
    ) -> Result<ActorId, TaskError> {
        crate::actors::create(
            &self.inner,
            job,
            Self::actor_spec(job, class, args, options, true),
        )
    }

    /// Creates an actor in the cluster: here (`here`, or when it fits), or
    /// on a node with its resources; a named actor's name is claimed
    /// cluster-wide.
    pub async fn create_actor_in_cluster(
        &self,
        job: &Arc<LoadedJob>,
        class: &str,
        args: Vec<TaskArg>,
        options: ActorOptions,
        here: bool,
    ) -> Result<ActorId, TaskError> {
        self.inner
            .create_actor(job, Self::actor_spec(job, class, args, options, here))
            .await
    }

    fn actor_spec(
        job: &Arc<LoadedJob>,
        class: &str,
        args: Vec<TaskArg>,
        options: ActorOptions,
        placed: bool,
    ) -> ActorSpec {
        let name = options.name.map(|n| {
            (
                options.namespace.unwrap_or_else(|| job.namespace.clone()),
                n,
            )
        });
        ActorSpec {
            class: class.to_string(),
            caller_component: 0,
            args,
            resources: options.resources,
            name,
            max_restarts: options.max_restarts,
            depth: 1,
            environment: options.environment,
            caller_env: job.env.clone(),
            placed,
            scheduling: options.scheduling,
            scheduler: None,
        }
    }

    /// Calls an actor method from the host; returns its result references.
    pub fn call_actor(
        &self,
        actor: ActorId,
        method: &str,
        args: Vec<TaskArg>,
        num_returns: u32,
    ) -> Result<Vec<Held>, TaskError> {
        self.call_actor_for(None, actor, method, args, num_returns)
    }

    /// Kills an actor: its queued calls fail with `actor-died`.
    pub fn kill_actor(&self, actor: ActorId) -> Result<(), TaskError> {
        self.kill_actor_for(None, actor)
    }

    /// Looks up a named actor.
    pub fn lookup_actor(&self, namespace: &str, name: &str) -> Option<ActorId> {
        self.inner.actors.lookup(namespace, name)
    }

    /// Waits for an object and returns its value (or the error stored in it).
    pub async fn get(&self, r: &Held, timeout: Option<Duration>) -> Result<ObjectValue, TaskError> {
        r.get(timeout.map(|t| Instant::now() + t)).await
    }

    /// Stores a value; the returned reference keeps it alive.
    pub fn put(&self, value: ObjectValue) -> Held {
        self.inner.put(value)
    }

    /// Lets tasks run on other nodes of a cluster (spilled over, sent where
    /// their resources or data are, or pinned there).
    pub fn set_remote_tasks(&self, remote: Arc<dyn RemoteTasks>) {
        let r = remote.clone();
        self.inner.actors.on_unnamed(Box::new(move |ns, name, id| {
            r.unregister_name(ns, name, id)
        }));
        let _ = self.inner.remote.set(remote);
    }

    /// Calls an actor method on behalf of `caller` (another node's job:
    /// the tenancy checks apply as to a local guest).
    pub fn call_actor_for(
        &self,
        caller: Option<JobId>,
        actor: ActorId,
        method: &str,
        args: Vec<TaskArg>,
        num_returns: u32,
    ) -> Result<Vec<Held>, TaskError> {
        self.inner
            .call_actor(caller, actor, method.to_string(), args, num_returns)
    }

    /// Kills an actor on behalf of `caller`.
    pub fn kill_actor_for(&self, caller: Option<JobId>, actor: ActorId) -> Result<(), TaskError> {
        self.inner.kill_actor(caller, actor)
    }

    /// Reserves bundles of a placement group placed by another node.
    pub fn reserve_bundles(
        &self,
        group: GroupId,
        bundles: &[(u32, Resources)],
    ) -> Result<(), String> {
        self.inner
            .bundles
            .reserve(&self.inner.scheduler, group, bundles)
    }

    /// Gives a placement group's bundles on this node back.
    pub fn release_bundles(&self, group: GroupId) {
        self.inner.bundles.release(group);
        self.inner.groups.lock().remove(&group);
    }

    /// A job's driver finished on another node: its actors here die.
    pub fn end_job(&self, job: JobId) {
        self.inner.actors.kill_job(job);
        self.inner.warm.drop_job(job);
    }

    /// Lets the object store read and release objects other nodes own.
    pub fn set_remote_objects(&self, remote: Arc<dyn crate::object_store::RemoteObjects>) {
        self.inner.store.set_remote(remote);
    }

    /// The node's object store (the cluster moves objects in and out of it).
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.inner.store.clone()
    }

    /// This node's id: the high 64 bits of every id it mints.
    pub fn node_id(&self) -> u64 {
        self.inner.ids.next().hi
    }

    pub fn store_stats(&self) -> StoreStats {
        self.inner.store.stats()
    }

    /// Tasks and actors waiting for resources on this node.
    pub fn queued(&self) -> usize {
        self.inner.scheduler.queued()
    }

    /// Why work waits on this node, one line per kind of request (for
    /// `wrun status`): what it needs, and what is free.
    pub fn waiting_work(&self) -> Vec<String> {
        let free = self.inner.scheduler.available();
        let mut out: Vec<String> = self
            .inner
            .scheduler
            .waiting()
            .into_iter()
            .map(|(r, n)| {
                format!(
                    "{n} {} {r}; free: {free}",
                    if n == 1 { "call needs" } else { "calls need" }
                )
            })
            .collect();
        out.extend(self.inner.group_waits.lock().values().cloned());
        out
    }

    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// Resources free now and in all.
    pub fn resources(&self) -> (Resources, Resources) {
        (
            self.inner.scheduler.available(),
            self.inner.scheduler.total(),
        )
    }

    /// Live actors.
    pub fn actor_count(&self) -> usize {
        self.inner.actors.live()
    }
}

impl RuntimeInner {
    pub(crate) fn put(&self, value: ObjectValue) -> Held {
        Held::put(&self.store, ObjectId(self.ids.next()), value)
    }

    fn task_label(function: &str, id: TaskId) -> Arc<str> {
        Arc::from(format!("{function}#{:x}", id.0.lo))
    }

    /// Makes a fresh instance of the job's component.
    pub(crate) async fn instantiate(
        self: &Arc<Self>,
        ctx: InstanceCtx,
    ) -> Result<(Store<HostState>, bindings::Job), TaskError> {
        let tail = StderrTail::default();
        let label_cell = LabelCell::new(ctx.label.clone());
        let mut wasi = ctx
            .env
            .wasi_builder()
            .map_err(|e| internal(&ctx.label, format!("{e:#}")))?;
        let sink = ctx
            .job
            .log_sink
            .clone()
            .unwrap_or_else(|| self.log_sink.clone());
        wasi.stdout(GuestOutput::stdout(sink.clone(), label_cell.clone()))
            .stderr(GuestOutput::stderr(sink, label_cell.clone(), tail.clone()));
        let scratch = if ctx.env.scratch {
            let dir = ScratchDir::create(&self.config.scratch_dir, ctx.task_id)
                .map_err(|e| internal(&ctx.label, format!("creating a scratch directory: {e}")))?;
            wasi.preopened_dir(
                &dir.0,
                SCRATCH_GUEST_PATH,
                wasmtime_wasi::FsPerms::ReadWrite,
            )
            .map_err(|e| internal(&ctx.label, format!("mounting the scratch directory: {e}")))?;
            Some(dir)
        } else {
            None
        };
        let wasi = wasi.build();
        let cpu_ticks_left = ctx.env.cpu_time.map(|t| {
            (t.as_nanos() / self.config.engine.epoch_tick.as_nanos().max(1)).max(1) as u64
        });
        let label = ctx.label.clone();
        let state = HostState {
            table: ResourceTable::new(),
            wasi,
            limits: MemoryLimit {
                limit: ctx.env.limits.memory_per_instance,
                hit: false,
            },
            rt: self.clone(),
            job: ctx.job.clone(),
            component: ctx.component,
            task_id: ctx.task_id,
            actor_id: ctx.actor_id,
            label: ctx.label,
            label_cell,
            depth: ctx.depth,
            grant: ctx.grant,
            deadline: None,
            timed_out: false,
            cpu_ticks_left,
            cpu_exceeded: false,
            stderr_tail: tail,
            env: ctx.env,
            scratch,
        };
        let max_refs = state.env.limits.max_refs;
        let memory_limit = state.env.limits.memory_per_instance;
        let mut store = Store::new(&self.engine.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_max_component_handles(max_refs);
        // What a guest may pass the host in one call (a `put` of a large
        // object): bounded by its own memory anyway, so the memory limit is
        // the bound, not wasmtime's 128 MiB default.
        store.set_hostcall_fuel(memory_limit.max(128 << 20));
        store.epoch_deadline_callback(|mut ctx| {
            let s = ctx.data_mut();
            // The callback runs once per epoch tick while the guest runs (not
            // while it is blocked), so counting calls counts CPU time.
            if let Some(left) = &mut s.cpu_ticks_left {
                *left = left.saturating_sub(1);
                if *left == 0 {
                    s.cpu_exceeded = true;
                    return Ok(UpdateDeadline::Interrupt);
                }
            }
            if let Some(d) = s.deadline {
                if Instant::now() >= d {
                    s.timed_out = true;
                    return Ok(UpdateDeadline::Interrupt);
                }
            }
            Ok(UpdateDeadline::Yield(1))
        });
        store.set_epoch_deadline(1);
        match ctx.job.components[ctx.component]
            .pre
            .instantiate_async(&mut store)
            .await
        {
            Ok(inst) => Ok((store, inst)),
            Err(e) => Err(classify(e, store.data(), &label)),
        }
    }

    async fn run_main(
        self: &Arc<Self>,
        job: &Arc<LoadedJob>,
        args: Vec<String>,
    ) -> Result<ObjectValue, TaskError> {
        let label: Arc<str> = Arc::from("main");
        let _slot = self.slots.clone().acquire_owned().await;
        let (mut store, inst) = self
            .instantiate(InstanceCtx {
                job: job.clone(),
                component: 0,
                task_id: TaskId(self.ids.next()),
                actor_id: None,
                label: label.clone(),
                depth: 0,
                grant: None,
                env: job.env.clone(),
            })
            .await?;
        let res = inst.wrun_runtime_guest().call_main(&mut store, &args).await;
        match res {
            Ok(Ok(v)) => {
                from_wit_value(&mut store.data_mut().table, v).map_err(|e| internal(&label, e))
            }
            Ok(Err(e)) => Err(named(e.into(), &label)),
            Err(e) => Err(classify(e, store.data(), &label)),
        }
    }

    /// Submits `function` (`NAME` of the caller's component, or
    /// `COMPONENT/NAME`) on behalf of a guest of `caller_component`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn submit_task(
        self: &Arc<Self>,
        job: &Arc<LoadedJob>,
        caller_component: usize,
        caller_env: &Arc<Environment>,
        function: String,
        args: Vec<TaskArg>,
        options: TaskOptions,
        depth: u32,
    ) -> Result<Vec<Held>, TaskError> {
        if function.is_empty() {
            return Err(TaskError::new(
                ErrorKind::InvalidArgument,
                "submit",
                "the function name is empty",
            ));
        }
        // num_returns = 0 submits a task for its effects only (Ray's
        // fire-and-forget): nobody can wait for it, so its failure is logged.
        if options.num_returns > MAX_RETURNS {
            return Err(TaskError::new(
                ErrorKind::InvalidArgument,
                function,
                format!(
                    "num_returns must be between 0 and {MAX_RETURNS}, got {}",
                    options.num_returns
                ),
            ));
        }
        let target = job.resolve(caller_component, &function)?;
        let env = resolve_environment(job, caller_env, options.environment.as_deref(), &function)?;
        let id = TaskId(self.ids.next());
        let label = Self::task_label(&function, id);
        let (held, returns) = self.pending_returns(options.num_returns, label.clone());
        self.counters.submitted.fetch_add(1, Ordering::Relaxed);
        let rt = self.clone();
        let job = job.clone();
        tokio::spawn(async move {
            let resources = options.resources.clone().unwrap_or_else(|| {
                env.task_resources
                    .clone()
                    .unwrap_or_else(|| Resources::new(1.0, 0))
            });
            let spec = TaskSpec {
                id,
                job,
                target,
                label,
                options,
                resources,
                depth,
                env,
            };
            let outcome = rt.run_task(&spec, args).await;
            if outcome.is_ok() {
                rt.counters.finished.fetch_add(1, Ordering::Relaxed);
            } else {
                rt.counters.failed.fetch_add(1, Ordering::Relaxed);
            }
            returns.complete(outcome);
        });
        Ok(held)
    }

    /// Pending result objects: references for the caller, and the guard that
    /// fulfils them.
    pub(crate) fn pending_returns(&self, n: u32, label: Arc<str>) -> (Vec<Held>, Returns) {
        let held: Vec<Held> = (0..n)
            .map(|_| Held::pending(&self.store, ObjectId(self.ids.next())))
            .collect();
        let returns = Returns {
            ids: held.iter().map(|h| h.id()).collect(),
            store: self.store.clone(),
            label,
            on_drop: ErrorKind::Internal,
            done: false,
        };
        (held, returns)
    }

    async fn run_task(
        self: &Arc<Self>,
        spec: &TaskSpec,
        args: Vec<TaskArg>,
    ) -> Result<Vec<ObjectValue>, TaskError> {
        let mut attempt = 0;
        let (mut grant, scheduler) = loop {
            let where_ = self
                .decide(
                    &spec.label,
                    &spec.resources,
                    spec.options.scheduling,
                    &args,
                    Some(spec.depth),
                )
                .await?;
            let (node, bundle) = match where_ {
                Where::Here { grant, scheduler } => break (grant, scheduler),
                Where::Peer { node, bundle } => (node, bundle),
            };
            let remote = self.remote.get().expect("peers exist only in a cluster");
            let mut options = spec.options.clone();
            if let Some((group, index)) = bundle {
                options.scheduling = Scheduling::PlacementGroup {
                    group,
                    bundle: Some(index),
                };
            }
            let outcome = remote
                .run(
                    &node,
                    &spec.job,
                    spec.target.component,
                    &spec.target.name,
                    args.clone(),
                    &spec.resources,
                    &options,
                )
                .await;
            match outcome {
                // The node died under it: place it again, elsewhere, while
                // it has retries left (a bundle's node cannot be replaced).
                Err(e)
                    if bundle.is_none()
                        && attempt < spec.options.max_retries
                        && remote.is_lost(&node) =>
                {
                    attempt += 1;
                    self.counters.retried.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(task = %spec.label, %node, attempt, error = %e, "its node was lost; placing the task again");
                }
                outcome => return outcome,
            }
        };
        let values = resolve_args(args, &spec.label).await?;
        loop {
            match self
                .run_attempt(spec, &values, grant.take(), scheduler.clone())
                .await
            {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let retriable = e.kind.is_system_failure()
                        || (spec.options.retry_exceptions && e.kind == ErrorKind::Application);
                    if retriable && attempt < spec.options.max_retries {
                        attempt += 1;
                        self.counters.retried.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(task = %spec.label, attempt, error = %e, "retrying task");
                        continue;
                    }
                    let mut e = e;
                    if attempt > 0 {
                        e.message = format!("{} (after {attempt} retries)", e.message);
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Where a task (`reserve_at`: its queue priority, to reserve its
    /// resources here if they are free) or an actor (`None`) goes.
    async fn decide(
        self: &Arc<Self>,
        label: &str,
        resources: &Resources,
        scheduling: Scheduling,
        args: &[TaskArg],
        reserve_at: Option<u32>,
    ) -> Result<Where, TaskError> {
        let here = self.ids.node_id();
        if let Scheduling::PlacementGroup { group, bundle } = scheduling {
            return self.bundle_for(label, group, bundle, resources).await;
        }
        let affinity = scheduling.affinity();
        let here_only = || Where::Here {
            grant: None,
            scheduler: None,
        };
        let Some(remote) = self.remote.get() else {
            return match affinity {
                Some(a) if a.node != here && !a.soft => Err(TaskError::new(
                    ErrorKind::InvalidArgument,
                    label,
                    format!(
                        "it must run on node {:016x} but this runtime is a single node ({:016x}); drop the node affinity or make it soft",
                        a.node.0.hi, here.0.hi
                    ),
                )),
                _ => Ok(here_only()),
            };
        };
        if affinity.is_some_and(|a| a.node == here) {
            return Ok(here_only());
        }
        let infeasible_here = resources.infeasible_in(&self.scheduler.total());
        let mut grant = None;
        let mut free_here = false;
        if infeasible_here.is_none() {
            match reserve_at {
                Some(priority) => {
                    grant = self.scheduler.clone().try_acquire(resources, priority);
                    free_here = grant.is_some();
                }
                None => free_here = resources.fits_in(&self.scheduler.available()),
            }
        }
        let query = PlacementQuery {
            resources,
            infeasible_here,
            free_here,
            load_here: self.load(resources),
            arg_bytes: self.remote_arg_bytes(args),
            affinity,
            spread: scheduling == Scheduling::Spread,
        };
        match remote.place(&query) {
            Placement::Here => Ok(Where::Here {
                grant,
                scheduler: None,
            }),
            Placement::Peer(node) => Ok(Where::Peer { node, bundle: None }),
            Placement::Nowhere(why) => Err(TaskError::new(ErrorKind::InvalidArgument, label, why)),
        }
    }

    /// The bundle of `group` a call runs in, and where that bundle is.
    async fn bundle_for(
        self: &Arc<Self>,
        label: &str,
        group: GroupId,
        bundle: Option<u32>,
        resources: &Resources,
    ) -> Result<Where, TaskError> {
        let here = self.ids.node_id();
        let invalid = |m: String| TaskError::new(ErrorKind::InvalidArgument, label, m);
        if let Some(s) = bundle.and_then(|i| self.bundles.scheduler(group, i)) {
            if let Some(why) = resources.infeasible_in(&s.total()) {
                return Err(invalid(format!(
                    "it {why}: more than bundle {} of placement group {group} reserves",
                    bundle.unwrap_or_default()
                )));
            }
            return Ok(Where::Here {
                grant: None,
                scheduler: Some(s),
            });
        }
        let info = self.group_info(group).await.ok_or_else(|| {
            TaskError::new(
                ErrorKind::NotFound,
                label,
                format!(
                    "placement group {group} does not exist (it was removed, or never created)"
                ),
            )
        })?;
        let fits = |i: usize| resources.infeasible_in(&info.bundles[i].1).is_none();
        let index = match bundle {
            Some(i) if i as usize >= info.bundles.len() => {
                return Err(invalid(format!(
                    "placement group {group} has {} bundles; there is no bundle {i}",
                    info.bundles.len()
                )))
            }
            Some(i) if !fits(i as usize) => {
                return Err(invalid(format!(
                    "it needs {resources}, more than bundle {i} of placement group {group} reserves ({})",
                    info.bundles[i as usize].1
                )))
            }
            Some(i) => i as usize,
            None => {
                let candidates: Vec<usize> = (0..info.bundles.len()).filter(|&i| fits(i)).collect();
                if candidates.is_empty() {
                    return Err(invalid(format!(
                        "it needs {resources}, more than any bundle of placement group {group} reserves"
                    )));
                }
                // A bundle on this node with room first; else take turns.
                candidates
                    .iter()
                    .copied()
                    .find(|&i| {
                        info.bundles[i].0 == here
                            && self
                                .bundles
                                .scheduler(group, i as u32)
                                .is_some_and(|s| resources.fits_in(&s.available()))
                    })
                    .unwrap_or_else(|| {
                        let n = self.next_bundle.fetch_add(1, Ordering::Relaxed) as usize;
                        candidates[n % candidates.len()]
                    })
            }
        };
        let node = info.bundles[index].0;
        if node == here {
            let s = self.bundles.scheduler(group, index as u32).ok_or_else(|| {
                TaskError::new(
                    ErrorKind::NotFound,
                    label,
                    format!("bundle {index} of placement group {group} is no longer reserved (the group was removed)"),
                )
            })?;
            return Ok(Where::Here {
                grant: None,
                scheduler: Some(s),
            });
        }
        Ok(Where::Peer {
            node: format!("{:016x}", node.0.hi),
            bundle: Some((group, index as u32)),
        })
    }

    /// A placement group's bundles: created here, or looked up at the head.
    pub(crate) async fn group_info(&self, group: GroupId) -> Option<GroupInfo> {
        if let Some((info, _)) = self.groups.lock().get(&group) {
            return Some(info.clone());
        }
        let info = self.remote.get()?.group(group).await?;
        self.groups.lock().insert(group, (info.clone(), None));
        Some(info)
    }

    /// Reserves `bundles` as `strategy` says, all or nothing, waiting for
    /// room until `timeout`.
    pub(crate) async fn create_group(
        self: &Arc<Self>,
        job: JobId,
        bundles: Vec<Resources>,
        strategy: Strategy,
        timeout: Option<Duration>,
    ) -> Result<GroupId, TaskError> {
        let label = "placement group";
        if bundles.is_empty() {
            return Err(TaskError::new(
                ErrorKind::InvalidArgument,
                label,
                "a placement group needs at least one bundle",
            ));
        }
        let here = self.ids.node_id();
        let id = GroupId(self.ids.next());
        let deadline = timeout.map(|t| Instant::now() + t);
        // While it waits, `wrun status` says why; the note goes with this
        // call however it ends.
        struct WaitNote<'a>(&'a parking_lot::Mutex<HashMap<GroupId, String>>, GroupId);
        impl Drop for WaitNote<'_> {
            fn drop(&mut self) {
                self.0.lock().remove(&self.1);
            }
        }
        let _note = WaitNote(&self.group_waits, id);
        loop {
            let mut nodes = vec![NodeRoom {
                node: here,
                free: self.scheduler.available(),
                total: self.scheduler.total(),
            }];
            if let Some(remote) = self.remote.get() {
                nodes.extend(remote.nodes());
            }
            let why = match plan(strategy, &bundles, &nodes) {
                Ok(assignment) => match self.reserve_all(id, &bundles, &assignment, &nodes).await {
                    Ok(()) => {
                        let info = GroupInfo {
                            id,
                            strategy,
                            bundles: assignment
                                .iter()
                                .zip(&bundles)
                                .map(|(&n, r)| (nodes[n].node, r.clone()))
                                .collect(),
                        };
                        self.groups.lock().insert(id, (info.clone(), Some(job)));
                        if let Some(remote) = self.remote.get() {
                            if let Err(e) = remote.publish_group(&info).await {
                                self.release_group(&info);
                                return Err(e);
                            }
                        }
                        tracing::debug!(group = %id, strategy = strategy.name(), bundles = bundles.len(), "placement group created");
                        return Ok(id);
                    }
                    Err(why) => why,
                },
                Err(PlanError::Never(why)) => {
                    return Err(TaskError::new(
                        ErrorKind::InvalidArgument,
                        label,
                        format!("it can never be placed: {why}"),
                    ))
                }
                Err(PlanError::Wait(why)) => why,
            };
            self.group_waits.lock().insert(
                id,
                format!("placement group {id} ({}) waits: {why}", strategy.name()),
            );
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(TaskError::new(
                    ErrorKind::GetTimeout,
                    label,
                    format!(
                        "{} bundles ({}) could not be reserved within {:?}: {why}",
                        bundles.len(),
                        strategy.name(),
                        timeout.unwrap_or_default()
                    ),
                ));
            }
            // Peers' free resources refresh every heartbeat.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Reserves each node's share of a plan; on any refusal, gives back
    /// what was reserved and says why.
    async fn reserve_all(
        &self,
        id: GroupId,
        bundles: &[Resources],
        assignment: &[usize],
        nodes: &[NodeRoom],
    ) -> Result<(), String> {
        let here = self.ids.node_id();
        let mut done: Vec<NodeId> = Vec::new();
        for (n, room) in nodes.iter().enumerate() {
            let share: Vec<(u32, Resources)> = assignment
                .iter()
                .enumerate()
                .filter(|(_, &a)| a == n)
                .map(|(i, _)| (i as u32, bundles[i].clone()))
                .collect();
            if share.is_empty() {
                continue;
            }
            let reserved = if room.node == here {
                self.bundles.reserve(&self.scheduler, id, &share)
            } else {
                match self.remote.get() {
                    Some(remote) => remote.reserve_bundles(room.node, id, share).await,
                    None => Err("no cluster".into()),
                }
            };
            match reserved {
                Ok(()) => done.push(room.node),
                Err(why) => {
                    for node in done {
                        self.release_on(node, id);
                    }
                    return Err(format!("node {:016x}: {why}", room.node.0.hi));
                }
            }
        }
        Ok(())
    }

    fn release_on(&self, node: NodeId, group: GroupId) {
        if node == self.ids.node_id() {
            self.bundles.release(group);
        } else if let Some(remote) = self.remote.get() {
            remote.release_bundles(node, group);
        }
    }

    fn release_group(&self, info: &GroupInfo) {
        let mut nodes: Vec<NodeId> = info.bundles.iter().map(|(n, _)| *n).collect();
        nodes.sort();
        nodes.dedup();
        for node in nodes {
            self.release_on(node, info.id);
        }
    }

    /// Gives a group's resources back on every node that holds a bundle.
    pub(crate) async fn remove_group(&self, group: GroupId) -> Result<(), TaskError> {
        let info = self.group_info(group).await.ok_or_else(|| {
            TaskError::new(
                ErrorKind::NotFound,
                "remove placement group",
                format!("placement group {group} does not exist (removed already?)"),
            )
        })?;
        self.groups.lock().remove(&group);
        self.release_group(&info);
        if let Some(remote) = self.remote.get() {
            remote.forget_group(group);
        }
        tracing::debug!(%group, "placement group removed");
        Ok(())
    }

    /// Removes the groups a job created (its driver finished).
    fn remove_job_groups(&self, job: JobId) {
        let gone: Vec<GroupInfo> = {
            let mut groups = self.groups.lock();
            let ids: Vec<GroupId> = groups
                .iter()
                .filter(|(_, (_, j))| *j == Some(job))
                .map(|(id, _)| *id)
                .collect();
            ids.iter()
                .filter_map(|id| groups.remove(id))
                .map(|(i, _)| i)
                .collect()
        };
        for info in gone {
            self.release_group(&info);
            if let Some(remote) = self.remote.get() {
                remote.forget_group(info.id);
            }
        }
    }

    /// CPUs in use here plus those that queued work like `r` would take,
    /// per CPU of the node.
    fn load(&self, r: &Resources) -> f64 {
        let total = self.scheduler.total().cpu_millis.max(1);
        let used = total - self.scheduler.available().cpu_millis;
        (used + self.scheduler.queued() as i64 * r.cpu_millis) as f64 / total as f64
    }

    /// Bytes of the by-reference arguments that other nodes own, per node
    /// (for placing a task where its data is).
    fn remote_arg_bytes(&self, args: &[TaskArg]) -> Vec<(NodeId, u64)> {
        let here = self.ids.node_id();
        let mut out: Vec<(NodeId, u64)> = Vec::new();
        for a in args {
            let TaskArg::Ref(h) = a else { continue };
            if h.owner() == here {
                continue;
            }
            let size = self.store.locate(h.id()).map_or(0, |l| l.size);
            match out.iter_mut().find(|(n, _)| *n == h.owner()) {
                Some((_, total)) => *total += size,
                None => out.push((h.owner(), size)),
            }
        }
        out
    }

    /// One attempt of a task: waits for its resources (from `scheduler`, a
    /// placement group bundle's, else the node's) unless `grant` already
    /// holds them.
    async fn run_attempt(
        self: &Arc<Self>,
        spec: &TaskSpec,
        values: &[ObjectValue],
        grant: Option<Grant>,
        scheduler: Option<Arc<dyn Scheduler>>,
    ) -> Result<Vec<ObjectValue>, TaskError> {
        let label = &spec.label;
        let grant = match grant {
            Some(g) => g,
            None => scheduler
                .unwrap_or_else(|| self.scheduler.clone())
                .acquire(spec.resources.clone(), spec.depth)
                .await
                .map_err(|e| {
                    TaskError::new(ErrorKind::InvalidArgument, label.to_string(), e.to_string())
                })?,
        };
        let reuse = spec.env.reuse_instances;
        let warm_key = crate::warm::key(&spec.job, spec.target.component, &spec.env);
        let warm = if reuse {
            self.warm.take(warm_key)
        } else {
            None
        };
        let (mut store, inst, slot) = match warm {
            Some(w) => {
                let mut store = w.store;
                self.prepare_reused(store.data_mut(), spec, grant);
                (store, w.instance, w.slot)
            }
            None => {
                // Idle warm instances give way to work that needs a slot.
                while self.slots.available_permits() == 0 && self.warm.evict_one() {}
                let slot = self
                    .slots
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|e| internal(label, e))?;
                let (store, inst) = self
                    .instantiate(InstanceCtx {
                        job: spec.job.clone(),
                        component: spec.target.component,
                        task_id: spec.id,
                        actor_id: None,
                        label: label.clone(),
                        depth: spec.depth,
                        grant: Some(grant),
                        env: spec.env.clone(),
                    })
                    .await?;
                (store, inst, slot)
            }
        };
        let mut args = Vec::with_capacity(values.len());
        for v in values {
            args.push(
                to_wit_value(&mut store.data_mut().table, v).map_err(|e| internal(label, e))?,
            );
        }
        if let Some(t) = spec.options.timeout {
            store.data_mut().deadline = Some(Instant::now() + t);
        }
        let call = inst
            .wrun_runtime_guest()
            .call_run_task(&mut store, &spec.target.name, &args);
        let res = match spec.options.timeout {
            // The epoch callback interrupts a running guest; this covers one
            // blocked in a host call.
            Some(t) => match tokio::time::timeout(t + Duration::from_millis(50), call).await {
                Ok(r) => r,
                Err(_) => return Err(timeout_error(label, t)),
            },
            None => call.await,
        };
        let outcome = match res {
            Ok(Ok(outputs)) => {
                let table = &mut store.data_mut().table;
                outputs
                    .into_iter()
                    .map(|v| from_wit_value(table, v).map_err(|e| internal(label, e)))
                    .collect()
            }
            Ok(Err(e)) => Err(named(e.into(), label)),
            // A trap or an interruption leaves the instance unusable.
            Err(e) => return Err(classify(e, store.data(), label)),
        };
        if reuse {
            // The guest returned normally: its instance may serve the next task.
            drop(store.data_mut().grant.take());
            let cap = (self.config.cpus.ceil() as usize).max(1) * 2;
            let w = crate::warm::WarmInstance {
                store,
                instance: inst,
                slot,
            };
            self.warm.give_back(warm_key, w, cap);
        }
        outcome
    }

    /// Readies a warm instance for another task.
    fn prepare_reused(&self, s: &mut HostState, spec: &TaskSpec, grant: Grant) {
        s.task_id = spec.id;
        s.set_label(spec.label.clone());
        s.depth = spec.depth;
        s.grant = Some(grant);
        s.deadline = None;
        s.timed_out = false;
        s.cpu_exceeded = false;
        s.cpu_ticks_left = spec.env.cpu_time.map(|t| {
            (t.as_nanos() / self.config.engine.epoch_tick.as_nanos().max(1)).max(1) as u64
        });
        s.limits.hit = false;
        s.stderr_tail.clear();
    }

    /// Creates an actor here or, in a cluster, where its resources are
    /// (the same placement as tasks); a named actor's name is claimed
    /// cluster-wide.
    pub(crate) async fn create_actor(
        self: &Arc<Self>,
        job: &Arc<LoadedJob>,
        mut spec: ActorSpec,
    ) -> Result<ActorId, TaskError> {
        if spec.placed {
            // Sent here by the node that placed it, into a bundle here.
            if let Scheduling::PlacementGroup {
                group,
                bundle: Some(i),
            } = spec.scheduling
            {
                let s = self.bundles.scheduler(group, i).ok_or_else(|| {
                    TaskError::new(
                        ErrorKind::NotFound,
                        spec.class.clone(),
                        format!(
                            "bundle {i} of placement group {group} is not reserved on this node"
                        ),
                    )
                })?;
                spec.scheduler = Some(s);
            }
        } else {
            let env = resolve_environment(
                job,
                &spec.caller_env,
                spec.environment.as_deref(),
                &spec.class,
            )?;
            let resources = spec
                .resources
                .clone()
                .or_else(|| env.actor_resources.clone())
                .unwrap_or_default();
            let class = spec.class.clone();
            match self
                .decide(&class, &resources, spec.scheduling, &spec.args, None)
                .await?
            {
                Where::Here { scheduler, .. } => spec.scheduler = scheduler,
                Where::Peer { node, bundle } => {
                    let remote = self.remote.get().expect("peers exist only in a cluster");
                    let target = job.resolve(spec.caller_component, &spec.class)?;
                    return remote
                        .create_actor(RemoteActor {
                            peer: &node,
                            job,
                            class: format!(
                                "{}/{}",
                                job.components[target.component].name, target.name
                            ),
                            args: spec.args,
                            resources: &resources,
                            name: spec.name,
                            max_restarts: spec.max_restarts,
                            bundle,
                        })
                        .await;
                }
            }
        }
        let Some(remote) = self.remote.get().cloned() else {
            return crate::actors::create(self, job, spec);
        };
        let name = spec.name.clone();
        let id = crate::actors::create(self, job, spec)?;
        if let Some((ns, n)) = name {
            if let Err(e) = remote.register_name(&ns, &n, id).await {
                let _ = self.actors.kill(id, "its name is taken on another node");
                return Err(e);
            }
        }
        Ok(id)
    }

    fn is_remote(&self, actor: ActorId) -> bool {
        actor.0.minted_by() != self.ids.node_id()
    }

    /// Calls an actor method; `caller` is the calling job (`None`: the host).
    pub(crate) fn call_actor(
        self: &Arc<Self>,
        caller: Option<JobId>,
        actor: ActorId,
        method: String,
        args: Vec<TaskArg>,
        num_returns: u32,
    ) -> Result<Vec<Held>, TaskError> {
        if num_returns > MAX_RETURNS {
            return Err(TaskError::new(
                ErrorKind::InvalidArgument,
                method,
                format!("num_returns must be between 0 and {MAX_RETURNS}, got {num_returns}"),
            ));
        }
        if let (true, Some(remote)) = (self.is_remote(actor), self.remote.get()) {
            let label: Arc<str> = Arc::from(method.as_str());
            let (held, mut returns) = self.pending_returns(num_returns, label);
            returns.on_drop = ErrorKind::ActorDied;
            self.counters.submitted.fetch_add(1, Ordering::Relaxed);
            remote.call_actor(
                caller,
                actor,
                method,
                args,
                num_returns,
                Box::new(move |outcome| returns.complete(outcome)),
            );
            return Ok(held);
        }
        crate::actors::call(self, caller, actor, method, args, num_returns)
    }

    /// Finds a named actor: on this node, else anywhere in the cluster.
    pub(crate) async fn lookup_actor(&self, namespace: &str, name: &str) -> Option<ActorId> {
        if let Some(id) = self.actors.lookup(namespace, name) {
            return Some(id);
        }
        match self.remote.get() {
            Some(remote) => remote.lookup_name(namespace, name).await,
            None => None,
        }
    }

    pub(crate) fn kill_actor(
        self: &Arc<Self>,
        caller: Option<JobId>,
        actor: ActorId,
    ) -> Result<(), TaskError> {
        if let (true, Some(remote)) = (self.is_remote(actor), self.remote.get()) {
            remote.kill_actor(caller, actor);
            return Ok(());
        }
        self.actors.check_visible(caller, actor)?;
        self.actors.kill(actor, "killed by a kill request")
    }
}

/// Where a task or actor goes.
enum Where {
    /// Here: with its resources already reserved (`grant`), or out of a
    /// placement group bundle's `scheduler`.
    Here {
        grant: Option<Grant>,
        scheduler: Option<Arc<dyn Scheduler>>,
    },
    /// On the peer with this node id; in this bundle of a group.
    Peer {
        node: String,
        bundle: Option<(GroupId, u32)>,
    },
}

struct TaskSpec {
    id: TaskId,
    job: Arc<LoadedJob>,
    /// The component and the function's name in it.
    target: Target,
    label: Arc<str>,
    options: TaskOptions,
    resources: Resources,
    depth: u32,
    env: Arc<Environment>,
}

/// The environment a call runs in: a named one of the job's manifest, or
/// the caller's.
pub(crate) fn resolve_environment(
    job: &LoadedJob,
    caller_env: &Arc<Environment>,
    name: Option<&str>,
    what: &str,
) -> Result<Arc<Environment>, TaskError> {
    match name {
        None => Ok(caller_env.clone()),
        Some(n) => job.env.named.get(n).cloned().ok_or_else(|| {
            let known: Vec<&str> = job.env.named.keys().map(String::as_str).collect();
            TaskError::new(
                ErrorKind::NotFound,
                what.to_string(),
                format!(
                    "no environment `{n}` in {} (declared: {})",
                    job.env.source,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            )
        }),
    }
}

/// A task's writable `/scratch`, removed with its instance.
pub(crate) struct ScratchDir(PathBuf);

impl ScratchDir {
    fn create(root: &std::path::Path, task: TaskId) -> std::io::Result<Self> {
        let dir = root.join(task.to_string());
        std::fs::create_dir_all(&dir)?;
        Ok(ScratchDir(dir))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Resolves by-reference arguments to their values.
pub(crate) async fn resolve_args(
    args: Vec<TaskArg>,
    label: &str,
) -> Result<Vec<ObjectValue>, TaskError> {
    let mut values = Vec::with_capacity(args.len());
    for (i, a) in args.into_iter().enumerate() {
        match a {
            TaskArg::Value(v) => values.push(v),
            TaskArg::Ref(h) => match h.get(None).await {
                Ok(v) => values.push(v),
                Err(e) => {
                    return Err(TaskError::new(
                        e.kind,
                        label.to_string(),
                        format!("argument {i} could not be resolved: {e}"),
                    ))
                }
            },
        }
    }
    Ok(values)
}

/// The result objects of one call; fulfilled exactly once, with an error
/// if the call is dropped before it completes (its actor was killed, say).
pub(crate) struct Returns {
    ids: Vec<ObjectId>,
    store: Arc<dyn ObjectStore>,
    label: Arc<str>,
    pub(crate) on_drop: ErrorKind,
    done: bool,
}

impl Returns {
    pub(crate) fn complete(mut self, outcome: Result<Vec<ObjectValue>, TaskError>) {
        self.done = true;
        if self.ids.is_empty() {
            // A call nobody waits for (num_returns = 0): its values are
            // dropped, and a failure can only be reported here.
            if let Err(e) = &outcome {
                tracing::warn!(call = %self.label, error = %e, "a call with num_returns = 0 failed");
            }
            return;
        }
        // Every reference handed out must be fulfilled: a call that returned
        // another number of values than was asked fails as a whole.
        let outcome = match outcome {
            Ok(values) if values.len() != self.ids.len() => Err(TaskError::new(
                ErrorKind::InvalidArgument,
                self.label.to_string(),
                format!(
                    "returned {} values but the call asked for num_returns = {}",
                    values.len(),
                    self.ids.len()
                ),
            )),
            other => other,
        };
        match outcome {
            Ok(values) => {
                for (id, v) in self.ids.iter().zip(values) {
                    self.store.fulfil(*id, Ok(v));
                }
            }
            Err(e) => {
                for id in &self.ids {
                    self.store.fulfil(*id, Err(e.clone()));
                }
            }
        }
    }
}

impl Drop for Returns {
    fn drop(&mut self) {
        if !self.done {
            let e = TaskError::new(
                self.on_drop,
                self.label.to_string(),
                match self.on_drop {
                    ErrorKind::ActorDied => "the actor died before the call ran".to_string(),
                    _ => "the call was dropped before it finished".to_string(),
                },
            );
            for id in &self.ids {
                self.store.fulfil(*id, Err(e.clone()));
            }
        }
    }
}

/// Fills in the task name of a guest error that did not set one.
fn named(mut e: TaskError, label: &str) -> TaskError {
    if e.task.is_empty() {
        e.task = label.to_string();
    }
    e
}

pub(crate) fn internal(label: &str, e: impl std::fmt::Display) -> TaskError {
    TaskError::new(ErrorKind::Internal, label.to_string(), e.to_string())
}

fn timeout_error(label: &str, t: Duration) -> TaskError {
    TaskError::new(
        ErrorKind::Timeout,
        label.to_string(),
        format!("ran past its timeout of {} ms", t.as_millis()),
    )
}

/// Turns a wasmtime failure into the error the caller sees.
pub(crate) fn classify(e: wasmtime::Error, state: &HostState, label: &str) -> TaskError {
    if state.cpu_exceeded {
        let limit = state.env.cpu_time.unwrap_or_default();
        return TaskError::new(
            ErrorKind::Timeout,
            label.to_string(),
            format!(
                "used more than its CPU-time limit of {} ms and was interrupted",
                limit.as_millis()
            ),
        );
    }
    if state.timed_out {
        return TaskError::new(
            ErrorKind::Timeout,
            label.to_string(),
            "ran past its timeout and was interrupted",
        );
    }
    if state.limits.hit {
        return TaskError::new(
            ErrorKind::MemoryLimit,
            label.to_string(),
            format!(
                "the guest tried to grow its memory past its limit of {} bytes",
                state.limits.limit
            ),
        );
    }
    let mut message = match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::StackOverflow) => "stack overflow (call stack exhausted)".to_string(),
        Some(wasmtime::Trap::UnreachableCodeReached) => {
            "wasm `unreachable` executed (the guest panicked or aborted)".to_string()
        }
        Some(wasmtime::Trap::MemoryOutOfBounds) => {
            "wasm trap: out of bounds memory access (in Rust and C guests, often a stack overflow of the in-memory shadow stack)".to_string()
        }
        Some(t) => t.to_string(),
        None => {
            let text = format!("{e:#}");
            if text.contains("store handle limit exceeded") {
                format!(
                    "the guest holds more than {} object references (and other handles) at once; raise limits.max_refs in its environment or release references sooner",
                    state.env.limits.max_refs
                )
            } else {
                text
            }
        }
    };
    let tail = state.stderr_tail.text();
    if !tail.is_empty() {
        message.push_str("; guest stderr: ");
        message.push_str(&tail);
    }
    TaskError::new(ErrorKind::Trap, label.to_string(), message)
}

fn read_component(path: &std::path::Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|e| LoadError::Read {
        path: path.display().to_string(),
        source: e,
    })
}

/// Component names appear in calls (`NAME/function`): short, plain words.
fn check_component_name(name: &str, what: &str) -> Result<(), LoadError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(LoadError::ComponentName {
            what: what.to_string(),
            reason: format!(
                "`{name}` is not a valid component name: use 1 to 64 letters, digits, `-`, `_` or `.`"
            ),
        })
    }
}
