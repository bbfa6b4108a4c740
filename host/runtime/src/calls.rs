//! Calls that may cross to other nodes — actors created where they fit,
//! actor calls and kills routed to the actor's node, names found anywhere —
//! and the runtime as guests reach it ([`GuestCalls`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use wrun_core::logs::Label;
use wrun_core::{
    ActorId, ActorOptions, ErrorKind, GroupId, JobId, NodeId, Resources, Returning, Scheduling,
    Strategy, TaskError, TaskId, TaskOptions, MAX_RETURNS,
};
use wrun_objects::{BoxFuture, Held, TaskArg};
use wrun_sandbox::{CallKind, Caller, GuestCalls, LoadedJob, PeerRun, TaskControl};

use crate::actors::{self, ActorCaller, ActorSpec};
use crate::cluster::{RemoteActor, RemoteCall};
use crate::inner::{environment_identity, resolve_environment, RuntimeInner};
use crate::place::Where;
use crate::returns::Returns;

impl RuntimeInner {
    /// Creates an actor here or, in a cluster, where its resources are (the
    /// same placement as tasks); a named actor's name is claimed
    /// cluster-wide. With `get_if_exists` and a name, finds the one
    /// registered under it first, and after a failed creation (another
    /// creator claimed the name meanwhile: the directory and the registry
    /// give a name once) returns that one.
    pub(crate) async fn create_actor(
        self: &Arc<Self>,
        job: &Arc<LoadedJob>,
        spec: ActorSpec,
    ) -> Result<ActorId, TaskError> {
        let existing = match &spec.name {
            Some(name) if spec.get_if_exists && !spec.placed => name.clone(),
            _ => return self.create_new_actor(job, spec).await,
        };
        let (namespace, name) = existing;
        if let Some(id) = RuntimeInner::lookup_actor(self, &namespace, &name).await {
            return Ok(id);
        }
        match self.create_new_actor(job, spec).await {
            Ok(id) => Ok(id),
            Err(e) => RuntimeInner::lookup_actor(self, &namespace, &name)
                .await
                .ok_or(e),
        }
    }

    async fn create_new_actor(
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
                spec.runtime_env.as_deref(),
                &spec.class,
            )?;
            // Named from the job's own from here on, for wherever it lives.
            (spec.environment, spec.runtime_env) = environment_identity(&env);
            let asked = spec
                .resources
                .clone()
                .or_else(|| env.actor_resources.clone());
            // As in Ray, an actor that asks for nothing needs a CPU to be
            // placed and holds none once it runs: it never lands on a node
            // without CPUs (outside placement groups, whose bundles it
            // draws from). Where this node has CPUs, it is placed as before.
            let no_cpus_here = self.scheduler.total().cpus() < 1.0;
            let placing = match (&asked, spec.scheduling) {
                (None, s) if no_cpus_here && !matches!(s, Scheduling::PlacementGroup { .. }) => {
                    Resources::new(1.0, 0)
                }
                (a, _) => a.clone().unwrap_or_default(),
            };
            let resources = asked.unwrap_or_default();
            let class = spec.class.clone();
            match self
                .place(
                    job.id,
                    &class,
                    &placing,
                    spec.scheduling,
                    &spec.args,
                    None,
                )
                .await
                .map_err(|e| match e.kind {
                    ErrorKind::Infeasible if asked_nothing(&spec.resources, &env) => {
                        TaskError {
                            message: format!(
                                "{}; an actor that asks for no resources is placed only on a node with CPUs (as in Ray, where it needs 1 CPU to be placed): give the node CPUs, or the actor cpus=0 explicitly",
                                e.message
                            ),
                            ..e
                        }
                    }
                    _ => e,
                })?
            {
                Where::Here { scheduler, .. } => spec.scheduler = scheduler,
                Where::Peer { node, bundle } => {
                    let class: Arc<str> = Arc::from(class);
                    let target = job.resolve(spec.caller_component, &class)?;
                    let actor = RemoteActor {
                        job,
                        class: format!("{}/{}", job.components[target.component].name, target.name),
                        args: spec.args,
                        resources: &resources,
                        name: spec.name,
                        max_restarts: spec.max_restarts,
                        bundle,
                        environment: spec.environment.clone(),
                        runtime_env: spec.runtime_env.clone(),
                    };
                    return self.remote.create_actor(node, actor).await;
                }
            }
        }
        let name = spec.name.clone();
        let id = actors::create(self, job, spec)?;
        if let Some((ns, n)) = name {
            if let Err(e) = self.directory.register_name(&ns, &n, id).await {
                let _ = self
                    .actors
                    .kill(None, id, "its name is taken on another node");
                return Err(e);
            }
        }
        Ok(id)
    }

    /// Calls an actor method for `by`.
    pub(crate) fn call_actor(
        self: &Arc<Self>,
        by: ActorCaller,
        actor: ActorId,
        method: String,
        args: Vec<TaskArg>,
        returns: Returning,
    ) -> Result<Vec<Held>, TaskError> {
        let num_returns = match returns {
            Returning::Values(n) => n,
            Returning::Stream => 1,
        };
        if num_returns > MAX_RETURNS {
            return Err(TaskError::new(
                ErrorKind::InvalidArgument,
                method,
                format!("num_returns must be between 0 and {MAX_RETURNS}, got {num_returns}"),
            ));
        }
        if actor.node() == self.node() {
            return actors::call(self, by, actor, method, args, returns);
        }
        if returns == Returning::Stream {
            return Err(TaskError::new(
                ErrorKind::InvalidArgument,
                method,
                format!("actor {actor} runs on another node: a streaming call is read on its caller's node, so it is supported only for actors on the caller's node yet"),
            ));
        }
        let label = Label::named(method.as_str());
        // A cancel of it is sent on to the actor's node, which finds the
        // call by this node's id of it (`Runtime::call_actor_for_peer`).
        let id = TaskId(self.ids.next());
        let caller = by.job;
        let control = caller.map(|job| {
            let c = TaskControl::new(job, CallKind::RemoteActorMethod);
            c.set_peer(Some(PeerRun {
                node: actor.node(),
                job,
                task: id,
            }));
            c
        });
        let (held, mut returns) = Returns::new(&self.objects, num_returns, label, control);
        returns.on_drop = ErrorKind::ActorDied;
        returns.quota = by.quota;
        self.counters.submitted.fetch_add(1, Ordering::Relaxed);
        let call = RemoteCall {
            id,
            caller,
            actor,
            method,
            args,
            num_returns,
        };
        self.remote
            .call_actor(call, Box::new(move |outcome| returns.complete(outcome)));
        Ok(held)
    }

    /// Finds a named actor: on this node, else anywhere in the cluster.
    pub(crate) async fn lookup_actor(&self, namespace: &str, name: &str) -> Option<ActorId> {
        match self.actors.lookup(namespace, name) {
            Some(id) => Some(id),
            None => self.directory.lookup_name(namespace, name).await,
        }
    }

    /// Kills an actor `caller` may see (`None`: the host), wherever it is;
    /// with `restart`, only its instance, and it restarts while it has
    /// restarts left. Resolves once the actor's node has done it or said
    /// why not; another job's actor reads as one that never was.
    pub(crate) fn kill_actor(
        self: &Arc<Self>,
        caller: Option<JobId>,
        actor: ActorId,
        restart: bool,
    ) -> BoxFuture<'static, Result<(), TaskError>> {
        if actor.node() != self.node() {
            return self.remote.kill_actor(caller, actor, restart);
        }
        let done = self.kill_actor_here(caller, actor, restart);
        Box::pin(std::future::ready(done))
    }

    /// Kills an actor of this node that `caller` may see.
    pub(crate) fn kill_actor_here(
        self: &Arc<Self>,
        caller: Option<JobId>,
        actor: ActorId,
        restart: bool,
    ) -> Result<(), TaskError> {
        if actor.node() != self.node() {
            return Err(TaskError::no_live_actor(actor));
        }
        if restart {
            self.actors.restart(caller, actor)
        } else {
            self.actors
                .kill(caller, actor, "killed by a kill request")?;
            self.bury_children(actor);
            Ok(())
        }
    }

    /// Kills the actors a dead actor of this node created, wherever they
    /// are (fate sharing, as in Ray: an actor's children go with it).
    pub(crate) fn bury_children(self: &Arc<Self>, creator: ActorId) {
        for child in self.actors.take_children(creator) {
            tracing::debug!(actor = %child, %creator, "actor dies with the actor that created it");
            if child.node() == self.node() {
                if self
                    .actors
                    .kill(
                        None,
                        child,
                        &format!("the actor that created it ({creator}) died"),
                    )
                    .is_ok()
                {
                    self.bury_children(child);
                }
            } else {
                // Sent at once; the child's node answers to nobody.
                drop(self.remote.kill_actor(None, child, false));
            }
        }
    }

    /// An actor spec from a caller's options.
    pub(crate) fn actor_spec(
        caller: &Caller,
        class: String,
        args: Vec<TaskArg>,
        options: ActorOptions,
        placed: bool,
    ) -> ActorSpec {
        let name = options.name.map(|n| {
            (
                options
                    .namespace
                    .unwrap_or_else(|| caller.job.namespace.clone()),
                n,
            )
        });
        ActorSpec {
            class,
            caller_component: caller.component,
            args,
            resources: options.resources,
            name,
            max_restarts: options.max_restarts,
            depth: caller.depth + 1,
            environment: options.environment,
            runtime_env: options.runtime_env,
            caller_env: caller.env.clone(),
            placed,
            scheduling: options.scheduling,
            scheduler: None,
            get_if_exists: options.get_if_exists,
        }
    }
}

/// Whether an actor asked for no resources (then it is placed only on a
/// node with CPUs).
fn asked_nothing(resources: &Option<Resources>, env: &wrun_env::Environment) -> bool {
    resources.is_none() && env.actor_resources.is_none()
}

impl GuestCalls for RuntimeInner {
    fn submit(
        self: Arc<Self>,
        caller: &Caller,
        function: String,
        args: Vec<TaskArg>,
        options: TaskOptions,
    ) -> Result<Vec<Held>, TaskError> {
        self.submit_task(caller, function, args, options, None)
    }

    fn create_actor(
        self: Arc<Self>,
        caller: Caller,
        class: String,
        args: Vec<TaskArg>,
        options: ActorOptions,
    ) -> BoxFuture<'static, Result<ActorId, TaskError>> {
        Box::pin(async move {
            let spec = RuntimeInner::actor_spec(&caller, class, args, options, false);
            let id = RuntimeInner::create_actor(&self, &caller.job, spec).await?;
            if let Some(creator) = caller.actor {
                // Fate sharing: it dies with the actor that created it.
                self.actors.adopt(creator, id);
                if self.actors.death(None, creator).is_some() {
                    self.bury_children(creator);
                }
            }
            Ok(id)
        })
    }

    fn call_actor(
        self: Arc<Self>,
        caller: &Caller,
        actor: ActorId,
        method: String,
        args: Vec<TaskArg>,
        returns: Returning,
    ) -> Result<Vec<Held>, TaskError> {
        let by = ActorCaller {
            job: Some(caller.job.id),
            submitter: caller.task,
            quota: Some(caller.job.objects.clone()),
        };
        RuntimeInner::call_actor(&self, by, actor, method, args, returns)
    }

    fn lookup_actor(
        self: Arc<Self>,
        namespace: String,
        name: String,
    ) -> BoxFuture<'static, Option<ActorId>> {
        Box::pin(async move { RuntimeInner::lookup_actor(&self, &namespace, &name).await })
    }

    fn cancel(
        self: Arc<Self>,
        caller: &Caller,
        target: &Held,
        force: bool,
        recursive: bool,
    ) -> Result<(), TaskError> {
        self.cancel_object(caller.job.id, target.id(), target.owner(), force, recursive)
    }

    fn kill_actor(
        self: Arc<Self>,
        caller: &Caller,
        actor: ActorId,
        restart: bool,
    ) -> BoxFuture<'static, Result<(), TaskError>> {
        RuntimeInner::kill_actor(&self, Some(caller.job.id), actor, restart)
    }

    fn create_group(
        self: Arc<Self>,
        caller: Caller,
        bundles: Vec<Resources>,
        strategy: Strategy,
        timeout: Option<Duration>,
    ) -> BoxFuture<'static, Result<GroupId, TaskError>> {
        Box::pin(async move {
            RuntimeInner::create_group(&self, caller.job.id, bundles, strategy, timeout).await
        })
    }

    fn group_nodes(
        self: Arc<Self>,
        caller: &Caller,
        group: GroupId,
    ) -> BoxFuture<'static, Option<Vec<NodeId>>> {
        let job = caller.job.id;
        Box::pin(async move {
            let info = self.group_info(job, group).await?;
            Some(info.bundles.iter().map(|(n, _)| *n).collect())
        })
    }

    fn remove_group(
        self: Arc<Self>,
        caller: Caller,
        group: GroupId,
    ) -> BoxFuture<'static, Result<(), TaskError>> {
        Box::pin(async move { RuntimeInner::remove_group(&self, caller.job.id, group).await })
    }
}
