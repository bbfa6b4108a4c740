//! The runtime of one node: loads jobs, runs drivers, tasks and actors in
//! the sandbox, and wires them to the scheduler, the object store and the
//! rest of the cluster.
//!
//! [`Runtime`] is the façade every entry point uses (the CLI, a node
//! daemon, tests, benchmarks). Inside: `tasks.rs` (a task's life, with one
//! retry policy), `place.rs` (where a call runs), `actors/` (the registry
//! and each actor's life), `groups.rs` (placement groups), `calls.rs`
//! (what crosses to other nodes, and the runtime as guests reach it),
//! `jobs.rs` (loading). The cluster is reached through the small traits of
//! [`cluster`], fixed when the runtime is built.
//!
//! **Architecture Invariant:** no network, no wire format, no sled: a node
//! daemon gives the runtime its cluster as [`ClusterLinks`] and an object
//! transport; a single node gives it [`ClusterLinks::single_node`].

#![warn(missing_docs)]

mod actors;
mod args;
mod calls;
mod cancel;
pub mod cluster;
mod config;
mod for_peers;
mod groups;
mod inner;
mod job_on_node;
mod jobs;
mod ledger;
mod life;
mod listing;
mod place;
mod pypkgs;
mod registry;
mod removed_groups;
mod retry;
mod returns;
mod tasks;

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wrun_core::{
    ActorId, ActorOptions, GroupId, IdGen, JobId, NodeId, ObjectId, Resources, TaskError,
    TaskOptions,
};
use wrun_env::{Environment, ManifestError};
use wrun_objects::{Held, NoTransport, ObjectStore, ObjectValue, StoreStats, TaskArg};
use wrun_sandbox::{Caller, Sandbox, SandboxOptions};
use wrun_sched::{LocalBundles, Scheduler};

pub use cluster::ClusterLinks;
pub use config::{RuntimeConfig, DEFAULT_TASK_HISTORY};
pub use inner::Counters;
pub use jobs::{driver_name, JobSpec};
pub use life::END_WAIT;
pub use wrun_sandbox::{CacheOutcome, LoadError, LoadedJob};

use inner::RuntimeInner;

/// What a node of a cluster gives its runtime: its ids, its object store
/// (whose transport reaches the other nodes) and the rest of the cluster.
pub struct NodeSetup {
    /// The node's id generator (the store's too).
    pub ids: Arc<IdGen>,
    /// Its object store, made with [`RuntimeConfig::store`].
    pub objects: Arc<ObjectStore>,
    /// The rest of the cluster.
    pub links: ClusterLinks,
}

impl NodeSetup {
    /// A node alone, with a fresh id.
    pub fn single_node(config: &RuntimeConfig) -> Self {
        let ids = Arc::new(IdGen::new());
        NodeSetup {
            objects: config.store(ids.clone(), Arc::new(NoTransport)),
            ids,
            links: ClusterLinks::single_node(),
        }
    }
}

/// The wrun runtime of one node (the embedded single-node default of
/// `wrun submit`, or the runtime behind a node daemon).
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

impl Runtime {
    /// A single node.
    pub fn new(config: RuntimeConfig) -> anyhow::Result<Self> {
        let setup = NodeSetup::single_node(&config);
        Self::with_node(config, setup)
    }

    /// A node set up as `setup` says.
    pub fn with_node(config: RuntimeConfig, setup: NodeSetup) -> anyhow::Result<Self> {
        let (objects, links) = (setup.objects, setup.links);
        let sandbox = Sandbox::new(
            SandboxOptions {
                engine: config.engine.clone(),
                cache_dir: config.cache_dir.clone(),
                scratch_dir: config.scratch_dir.clone(),
                warm_per_kind: (config.cpus.ceil() as usize).max(1) * 2,
                log_sink: config.log_sink.clone(),
                on_compile: config.on_compile.clone(),
            },
            objects.clone(),
        )?;
        let mut total = Resources::new(config.cpus, config.memory);
        for (k, v) in &config.custom {
            total = total.with_custom(k, *v);
        }
        let ledger = ledger::Ledger::new(setup.ids.node_id(), config.task_history);
        Ok(Runtime {
            inner: Arc::new(RuntimeInner {
                ids: setup.ids,
                objects,
                sandbox,
                scheduler: Scheduler::new(total),
                actors: registry::ActorRegistry::new(links.directory.clone()),
                counters: Counters::default(),
                config,
                peers: links.peers,
                remote: links.remote,
                directory: links.directory,
                bundles: LocalBundles::default(),
                groups: Default::default(),
                next_bundle: AtomicU64::new(0),
                group_waits: Default::default(),
                removed_groups: Default::default(),
                for_peers: Default::default(),
                loaded: Default::default(),
                ledger,
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

    /// Loads a job: reads, compiles (or finds in the cache) and pre-links
    /// its components, refusing anything that is not a component of the
    /// `job` world. Blocking (compilation): a daemon runs it on a blocking
    /// thread.
    pub fn load(&self, spec: JobSpec) -> Result<Arc<LoadedJob>, LoadError> {
        let rt = &self.inner;
        jobs::load(
            &rt.sandbox,
            spec,
            || self.default_environment(),
            || JobId(rt.ids.next()),
            |id| rt.loaded.cpu_of(id),
        )
    }

    /// The CPU time each job loaded here has used on this node (a node
    /// reports it to the head, which sums it across the cluster).
    pub fn job_cpu_used(&self) -> Vec<(JobId, Duration)> {
        let tick = self.inner.config.engine.epoch_tick.as_nanos() as u64;
        let ticks = self.inner.loaded.ticks_used();
        ticks
            .into_iter()
            .map(|(job, n)| (job, Duration::from_nanos(tick.saturating_mul(n))))
            .collect()
    }

    /// What `job`'s guests used on the cluster's other nodes, as the head
    /// last summed it: counted against `limits.job_cpu_time` with what they
    /// use here.
    pub fn set_job_cpu_elsewhere(&self, job: JobId, elsewhere: Duration) {
        let tick = self.inner.config.engine.epoch_tick.as_nanos().max(1);
        let ticks = (elsewhere.as_nanos() / tick).min(u64::MAX as u128) as u64;
        self.inner.loaded.set_elsewhere(job, ticks);
    }

    /// The driver's view, for calls from the host API.
    fn driver(job: &Arc<LoadedJob>) -> Caller {
        Caller {
            job: job.clone(),
            component: 0,
            env: job.env.clone(),
            depth: 0,
            control: None,
            task: None,
            actor: None,
        }
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
        self.inner.submit_task(
            &Self::driver(job),
            function.to_string(),
            args,
            options,
            None,
        )
    }

    /// Cancels the call of `job` that produces `target` (as
    /// `tasks.cancel`): here, or on the node that owns it.
    pub fn cancel(
        &self,
        job: JobId,
        target: &Held,
        force: bool,
        recursive: bool,
    ) -> Result<(), TaskError> {
        self.inner
            .cancel_object(job, target.id(), target.owner(), force, recursive)
    }

    /// Cancels, for the node that owns it, the call of `job` that produces
    /// `object` (a cancel sent here by that node's [`Runtime::cancel`]).
    pub fn cancel_owned(
        &self,
        job: JobId,
        object: ObjectId,
        force: bool,
        recursive: bool,
    ) -> Result<(), TaskError> {
        self.inner
            .cancel_object(job, object, self.node_id(), force, recursive)
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
        let spec =
            RuntimeInner::actor_spec(&Self::driver(job), class.to_string(), args, options, true);
        actors::create(&self.inner, job, spec)
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
        let spec =
            RuntimeInner::actor_spec(&Self::driver(job), class.to_string(), args, options, here);
        self.inner.create_actor(job, spec).await
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
        // One submitter for the host and for other nodes (whose calls
        // arrive in order).
        let by = actors::ActorCaller {
            job: caller,
            ..Default::default()
        };
        self.inner.call_actor(
            by,
            actor,
            method.to_string(),
            args,
            wrun_core::Returning::Values(num_returns),
        )
    }

    /// Kills an actor of this node: its queued calls fail with `actor-died`.
    pub fn kill_actor(&self, actor: ActorId) -> Result<(), TaskError> {
        self.kill_actor_for(None, actor, false)
    }

    /// Kills an actor of this node on behalf of `caller`; with `restart`,
    /// only its instance (Ray's `kill(no_restart=False)`). An actor that is
    /// not here, or not `caller`'s to see, is not found, in the same words.
    pub fn kill_actor_for(
        &self,
        caller: Option<JobId>,
        actor: ActorId,
        restart: bool,
    ) -> Result<(), TaskError> {
        self.inner.kill_actor_here(caller, actor, restart)
    }

    /// Looks up a named actor of this node.
    pub fn lookup_actor(&self, namespace: &str, name: &str) -> Option<ActorId> {
        self.inner.actors.lookup(namespace, name)
    }

    /// Waits for an object and returns its value (or the error stored in it).
    pub async fn get(&self, r: &Held, timeout: Option<Duration>) -> Result<ObjectValue, TaskError> {
        r.get(timeout.map(|t| Instant::now() + t)).await
    }

    /// Stores a value; the returned reference keeps it alive.
    pub fn put(&self, value: ObjectValue) -> Held {
        self.inner.objects.put(value)
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
        if let Some((info, _)) = self.inner.groups.lock().remove(&group) {
            self.inner.removed_groups.lock().insert(group, info.job);
        }
    }

    /// The node's object store (the cluster moves objects in and out of it).
    pub fn object_store(&self) -> &Arc<ObjectStore> {
        &self.inner.objects
    }

    /// This node's id: the high half of every id it mints.
    pub fn node_id(&self) -> NodeId {
        self.inner.node()
    }

    /// Figures of the object store.
    pub fn store_stats(&self) -> StoreStats {
        self.inner.objects.stats()
    }

    /// The instance pool's use and the component cache's counts.
    pub fn sandbox_figures(&self) -> wrun_sandbox::SandboxFigures {
        self.inner.sandbox.figures()
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

    /// Task counters.
    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// Resources free now and in all.
    pub fn resources(&self) -> (Resources, Resources) {
        (
            self.inner.scheduler.available(),
            self.inner.scheduler.total().clone(),
        )
    }

    /// Live actors.
    pub fn actor_count(&self) -> usize {
        self.inner.actors.live()
    }

    /// Actors by state: alive here, and dead ones this node remembers.
    pub fn actors_by_state(&self) -> [(&'static str, u64); 2] {
        [
            ("alive", self.inner.actors.live() as u64),
            ("dead", self.inner.actors.remembered_dead() as u64),
        ]
    }

    /// The calls this node reports that live now, by state (waiting for
    /// arguments, for resources, running).
    pub fn live_calls_by_state(&self) -> [(wrun_core::state::TaskState, u64); 3] {
        self.inner.ledger.live_by_state()
    }

    /// Placement groups this node created or looked up, by id.
    pub fn groups(&self) -> HashMap<GroupId, wrun_core::GroupInfo> {
        self.inner
            .groups
            .lock()
            .iter()
            .map(|(id, (info, _))| (*id, info.clone()))
            .collect()
    }
}
