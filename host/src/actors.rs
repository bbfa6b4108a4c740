//! Actors: one long-lived instance each, calls run one at a time in the order
//! they were submitted, named actors found through a registry, restarts after
//! failures (the constructor runs again), and kills.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::environment::Environment;
use crate::error::{ErrorKind, TaskError};
use crate::host_api::{from_wit_value, to_wit_value};
use crate::ids::{ActorId, JobId, TaskId};
use crate::object_store::{Held, ObjectValue};
use crate::runtime::{
    classify, internal, resolve_args, resolve_environment, InstanceCtx, LoadedJob, Returns,
    RuntimeInner, Target, TaskArg,
};
use crate::scheduler::Resources;

/// One method call waiting in an actor's mailbox.
struct ActorCall {
    method: String,
    args: Vec<TaskArg>,
    returns: Returns,
}

struct ActorEntry {
    class: String,
    job: JobId,
    name: Option<(String, String)>,
    mailbox: mpsc::UnboundedSender<ActorCall>,
    /// Why the actor is dead, once it is.
    dead: Mutex<Option<String>>,
    runner: Mutex<Option<JoinHandle<()>>>,
}

/// Live actors and their names, and why recent ones died.
#[derive(Default)]
pub struct ActorRegistry {
    actors: Mutex<HashMap<ActorId, Arc<ActorEntry>>>,
    names: Mutex<HashMap<(String, String), ActorId>>,
    /// Why actors died, for the errors of later calls (the most recent
    /// `GRAVEYARD_SIZE`, oldest dropped first).
    graveyard: Mutex<(
        HashMap<ActorId, String>,
        std::collections::VecDeque<ActorId>,
    )>,
    /// Told when a named actor's name goes (a cluster frees it cluster-wide).
    on_unnamed: std::sync::OnceLock<UnnamedHook>,
}

type UnnamedHook = Box<dyn Fn(&str, &str, ActorId) + Send + Sync>;

const GRAVEYARD_SIZE: usize = 10_000;

impl ActorRegistry {
    pub fn lookup(&self, namespace: &str, name: &str) -> Option<ActorId> {
        self.names
            .lock()
            .get(&(namespace.to_string(), name.to_string()))
            .copied()
    }

    /// Calls `hook(namespace, name, actor)` whenever a named actor is removed.
    pub(crate) fn on_unnamed(&self, hook: UnnamedHook) {
        let _ = self.on_unnamed.set(hook);
    }

    pub fn live(&self) -> usize {
        self.actors.lock().len()
    }

    /// Refuses a job access to another job's actor unless that actor is
    /// named in a shared namespace (`caller` `None` is the host: trusted).
    pub(crate) fn check_visible(
        &self,
        caller: Option<JobId>,
        id: ActorId,
    ) -> Result<(), TaskError> {
        let Some(job) = caller else { return Ok(()) };
        let Some(entry) = self.actors.lock().get(&id).cloned() else {
            return Ok(());
        };
        let shared = entry
            .name
            .as_ref()
            .is_some_and(|(ns, _)| !crate::host_api::is_private_namespace(ns));
        if entry.job == job || shared {
            return Ok(());
        }
        Err(TaskError::new(
            ErrorKind::NotFound,
            "actor",
            format!("no actor {id} is visible to this job"),
        ))
    }

    /// Why a dead actor died, if it died recently.
    pub fn death(&self, id: ActorId) -> Option<String> {
        self.graveyard.lock().0.get(&id).cloned()
    }

    fn bury(&self, id: ActorId, why: &str) {
        let mut g = self.graveyard.lock();
        if g.0.insert(id, why.to_string()).is_none() {
            g.1.push_back(id);
            if g.1.len() > GRAVEYARD_SIZE {
                if let Some(old) = g.1.pop_front() {
                    g.0.remove(&old);
                }
            }
        }
    }

    fn remove(&self, id: ActorId) -> Option<Arc<ActorEntry>> {
        let entry = self.actors.lock().remove(&id)?;
        if let Some(n) = &entry.name {
            let mut names = self.names.lock();
            if names.get(n) == Some(&id) {
                names.remove(n);
            }
            drop(names);
            if let Some(hook) = self.on_unnamed.get() {
                hook(&n.0, &n.1, id);
            }
        }
        Some(entry)
    }

    /// Kills an actor: its running call is interrupted and queued calls fail
    /// with `actor-died`.
    pub fn kill(&self, id: ActorId, why: &str) -> Result<(), TaskError> {
        let entry = self.remove(id).ok_or_else(|| {
            TaskError::new(
                ErrorKind::NotFound,
                "kill",
                format!("no live actor with id {id}"),
            )
        })?;
        entry.dead.lock().get_or_insert_with(|| why.to_string());
        self.bury(id, why);
        if let Some(h) = entry.runner.lock().take() {
            h.abort();
        }
        tracing::debug!(actor = %id, class = %entry.class, why, "actor killed");
        Ok(())
    }

    /// Kills every actor a job created (the job ended).
    pub fn kill_job(&self, job: JobId) {
        let ids: Vec<ActorId> = self
            .actors
            .lock()
            .iter()
            .filter(|(_, e)| e.job == job)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let _ = self.kill(id, "its job ended");
        }
    }
}

/// What an actor is made of: its class, constructor arguments and policy.
pub(crate) struct ActorSpec {
    /// `NAME` (of the creator's component) or `COMPONENT/NAME`.
    pub class: String,
    /// The creator's component, which a bare class name refers to.
    pub caller_component: usize,
    pub args: Vec<TaskArg>,
    /// `None`: the environment's default for actors, or nothing.
    pub resources: Option<Resources>,
    /// `(namespace, name)` when the actor is named.
    pub name: Option<(String, String)>,
    pub max_restarts: u32,
    /// Nesting depth of the creator plus one (queue priority).
    pub depth: u32,
    /// A named environment of the job's manifest, else the creator's.
    pub environment: Option<String>,
    pub caller_env: Arc<Environment>,
    /// Create it here: it was placed already (or the host asked for this node).
    pub placed: bool,
    pub scheduling: crate::runtime::Scheduling,
    /// Where its resources come from when not the node's: a placement
    /// group bundle's scheduler.
    pub scheduler: Option<Arc<dyn crate::scheduler::Scheduler>>,
}

pub(crate) fn create(
    rt: &Arc<RuntimeInner>,
    job: &Arc<LoadedJob>,
    spec: ActorSpec,
) -> Result<ActorId, TaskError> {
    let class = spec.class.clone();
    let name = spec.name.clone();
    let env = resolve_environment(job, &spec.caller_env, spec.environment.as_deref(), &class)?;
    if class.is_empty() {
        return Err(TaskError::new(
            ErrorKind::InvalidArgument,
            "create actor",
            "the class name is empty",
        ));
    }
    let target = job.resolve(spec.caller_component, &class)?;
    let id = ActorId(rt.ids.next());
    if let Some(n) = &name {
        let mut names = rt.actors.names.lock();
        if names.contains_key(n) {
            return Err(TaskError::new(
                ErrorKind::InvalidArgument,
                class,
                format!(
                    "an actor named `{}` already exists in namespace `{}`",
                    n.1, n.0
                ),
            ));
        }
        names.insert(n.clone(), id);
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let entry = Arc::new(ActorEntry {
        class: class.clone(),
        job: job.id,
        name,
        mailbox: tx,
        dead: Mutex::new(None),
        runner: Mutex::new(None),
    });
    rt.actors.actors.lock().insert(id, entry.clone());
    let runner = tokio::spawn(run_actor(
        rt.clone(),
        job.clone(),
        id,
        spec,
        target,
        env,
        rx,
    ));
    *entry.runner.lock() = Some(runner);
    Ok(id)
}

pub(crate) fn call(
    rt: &Arc<RuntimeInner>,
    caller: Option<JobId>,
    actor: ActorId,
    method: String,
    args: Vec<TaskArg>,
    num_returns: u32,
) -> Result<Vec<Held>, TaskError> {
    rt.actors.check_visible(caller, actor)?;
    let entry = rt.actors.actors.lock().get(&actor).cloned();
    let Some(entry) = entry else {
        let message = match rt.actors.death(actor) {
            Some(why) => format!("actor {actor} is dead: {why}"),
            None => format!("no actor {actor} exists (it never did, or died long ago)"),
        };
        return Err(TaskError::new(ErrorKind::ActorDied, method, message));
    };
    let label: Arc<str> = Arc::from(format!("{}.{method}", entry.class));
    if let Some(why) = entry.dead.lock().clone() {
        return Err(TaskError::new(
            ErrorKind::ActorDied,
            label.to_string(),
            format!("actor {actor} is dead: {why}"),
        ));
    }
    let (held, mut returns) = rt.pending_returns(num_returns, label.clone());
    returns.on_drop = ErrorKind::ActorDied;
    rt.counters
        .submitted
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    entry
        .mailbox
        .send(ActorCall {
            method,
            args,
            returns,
        })
        .map_err(|_| {
            TaskError::new(
                ErrorKind::ActorDied,
                label.to_string(),
                format!("actor {actor} is dead"),
            )
        })?;
    Ok(held)
}

async fn run_actor(
    rt: Arc<RuntimeInner>,
    job: Arc<LoadedJob>,
    id: ActorId,
    spec: ActorSpec,
    target: Target,
    env: Arc<Environment>,
    mut mailbox: mpsc::UnboundedReceiver<ActorCall>,
) {
    let class = spec.class.clone();
    let why = actor_lifetime(&rt, &job, id, spec, target, env, &mut mailbox).await;
    tracing::debug!(actor = %id, %class, why = %why, "actor stopped");
    rt.actors.bury(id, &why);
    if let Some(e) = rt.actors.remove(id) {
        e.dead.lock().get_or_insert(why.clone());
    }
    // Calls still queued fail with the reason.
    mailbox.close();
    while let Ok(call) = mailbox.try_recv() {
        let label = format!("{class}.{}", call.method);
        call.returns.complete(Err(TaskError::new(
            ErrorKind::ActorDied,
            label,
            format!("actor {id} is dead: {why}"),
        )));
    }
}

/// Runs the actor until it dies; returns why.
async fn actor_lifetime(
    rt: &Arc<RuntimeInner>,
    job: &Arc<LoadedJob>,
    id: ActorId,
    spec: ActorSpec,
    target: Target,
    env: Arc<Environment>,
    mailbox: &mut mpsc::UnboundedReceiver<ActorCall>,
) -> String {
    let ActorSpec {
        class,
        args,
        resources,
        max_restarts,
        depth,
        scheduler,
        ..
    } = spec;
    let class = class.as_str();
    let resources = resources
        .or_else(|| env.actor_resources.clone())
        .unwrap_or_default();
    let ctor_label: Arc<str> = Arc::from(format!("{class}.<init>"));
    let values = match resolve_args(args, &ctor_label).await {
        Ok(v) => v,
        Err(e) => return format!("its constructor arguments failed: {e}"),
    };
    let scheduler = scheduler.unwrap_or_else(|| rt.scheduler.clone());
    let grant = match scheduler.acquire(resources, depth).await {
        Ok(g) => g,
        Err(e) => return e.to_string(),
    };
    // An actor holds its slot for life: when none is free, waiting could
    // wait forever (on other actors), so creation fails with the remedy.
    let Ok(_slot) = rt.slots.clone().try_acquire_owned() else {
        return format!(
            "no instance slot is free: all {} are held by live instances; kill actors or start wrun with a larger --max-instances",
            rt.config.engine.max_instances
        );
    };
    let mut grant = Some(grant);
    let mut restarts = 0;
    'instance: loop {
        let (mut store, inst) = match rt
            .instantiate(InstanceCtx {
                job: job.clone(),
                component: target.component,
                task_id: TaskId(rt.ids.next()),
                actor_id: Some(id),
                label: ctor_label.clone(),
                depth,
                grant: grant.take(),
                env: env.clone(),
            })
            .await
        {
            Ok(x) => x,
            Err(e) => return format!("it could not be instantiated: {e}"),
        };
        let mut ctor_args = Vec::with_capacity(values.len());
        for v in &values {
            match to_wit_value(&mut store.data_mut().table, v) {
                Ok(a) => ctor_args.push(a),
                Err(e) => return internal(&ctor_label, e).to_string(),
            }
        }
        let guest = inst.wrun_runtime_guest();
        match guest
            .call_construct(&mut store, &target.name, &ctor_args)
            .await
        {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return format!("its constructor failed: {}", TaskError::from(e)),
            Err(e) => {
                let err = classify(e, store.data(), &ctor_label);
                if restarts < max_restarts {
                    restarts += 1;
                    grant = store.data_mut().grant.take();
                    continue 'instance;
                }
                return format!("its constructor failed: {err}");
            }
        }
        while let Some(call) = mailbox.recv().await {
            let label: Arc<str> = Arc::from(format!("{class}.{}", call.method));
            store.data_mut().set_label(label.clone());
            let values = match resolve_args(call.args, &label).await {
                Ok(v) => v,
                Err(e) => {
                    call.returns.complete(Err(e));
                    continue;
                }
            };
            let mut args = Vec::with_capacity(values.len());
            for v in &values {
                match to_wit_value(&mut store.data_mut().table, v) {
                    Ok(a) => args.push(a),
                    Err(e) => return internal(&label, e).to_string(),
                }
            }
            let res = guest
                .call_call_method(&mut store, &call.method, &args)
                .await;
            match res {
                Ok(Ok(outputs)) => {
                    let table = &mut store.data_mut().table;
                    let outcome: Result<Vec<ObjectValue>, TaskError> = outputs
                        .into_iter()
                        .map(|v| from_wit_value(table, v).map_err(|e| internal(&label, e)))
                        .collect();
                    call.returns.complete(outcome);
                    rt.counters
                        .finished
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Ok(Err(e)) => {
                    let mut e = TaskError::from(e);
                    if e.task.is_empty() {
                        e.task = label.to_string();
                    }
                    call.returns.complete(Err(e));
                    rt.counters
                        .failed
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Err(trap) => {
                    let err = classify(trap, store.data(), &label);
                    call.returns.complete(Err(err.clone()));
                    rt.counters
                        .failed
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if restarts < max_restarts {
                        restarts += 1;
                        tracing::warn!(actor = %id, %class, restarts, error = %err, "restarting actor");
                        grant = store.data_mut().grant.take();
                        continue 'instance;
                    }
                    return format!("it failed and has no restarts left: {err}");
                }
            }
        }
        return "its mailbox closed".into();
    }
}
