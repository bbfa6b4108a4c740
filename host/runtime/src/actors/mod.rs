//! Actors: one long-lived instance each (`life.rs`), calls run one at a
//! time in the order they were submitted, named actors found through this
//! registry (and the directory, in a cluster), restarts after failures (the
//! constructor runs again), kills, and why recent actors died.

mod life;

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use wrun_core::logs::Label;
use wrun_core::{
    is_private_namespace, ActorId, ErrorKind, JobId, Resources, Scheduling, TaskError,
};
use wrun_env::Environment;
use wrun_objects::{Held, TaskArg};
use wrun_sandbox::LoadedJob;
use wrun_sched::Scheduler;

use crate::cluster::Directory;
use crate::inner::{resolve_environment, RuntimeInner};
use crate::returns::Returns;

/// One method call waiting in an actor's mailbox.
struct ActorCall {
    method: String,
    args: Vec<TaskArg>,
    returns: Returns,
}

struct ActorEntry {
    class: Arc<str>,
    job: JobId,
    name: Option<(String, String)>,
    mailbox: mpsc::UnboundedSender<ActorCall>,
    /// Why the actor is dead, once it is.
    dead: Mutex<Option<String>>,
    runner: Mutex<Option<JoinHandle<()>>>,
}

/// Live actors and their names, and why recent ones died.
pub(crate) struct ActorRegistry {
    actors: Mutex<HashMap<ActorId, Arc<ActorEntry>>>,
    names: Mutex<HashMap<(String, String), ActorId>>,
    /// Why actors died, for the errors of later calls (the most recent
    /// `GRAVEYARD_SIZE`, oldest dropped first).
    graveyard: Mutex<(
        HashMap<ActorId, String>,
        std::collections::VecDeque<ActorId>,
    )>,
    /// Told when a named actor's name goes (a cluster frees it cluster-wide).
    directory: Arc<dyn Directory>,
}

const GRAVEYARD_SIZE: usize = 10_000;

impl ActorRegistry {
    pub(crate) fn new(directory: Arc<dyn Directory>) -> Self {
        ActorRegistry {
            actors: Mutex::default(),
            names: Mutex::default(),
            graveyard: Mutex::default(),
            directory,
        }
    }

    pub(crate) fn lookup(&self, namespace: &str, name: &str) -> Option<ActorId> {
        self.names
            .lock()
            .get(&(namespace.to_string(), name.to_string()))
            .copied()
    }

    pub(crate) fn live(&self) -> usize {
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
            .is_some_and(|(ns, _)| !is_private_namespace(ns));
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
    pub(crate) fn death(&self, id: ActorId) -> Option<String> {
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
            self.directory.unregister_name(&n.0, &n.1, id);
        }
        Some(entry)
    }

    /// Kills an actor: its running call is interrupted and queued calls fail
    /// with `actor-died`.
    pub(crate) fn kill(&self, id: ActorId, why: &str) -> Result<(), TaskError> {
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
    pub(crate) fn kill_job(&self, job: JobId) {
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
    pub(crate) class: String,
    /// The creator's component, which a bare class name refers to.
    pub(crate) caller_component: usize,
    pub(crate) args: Vec<TaskArg>,
    /// `None`: the environment's default for actors, or nothing.
    pub(crate) resources: Option<Resources>,
    /// `(namespace, name)` when the actor is named.
    pub(crate) name: Option<(String, String)>,
    pub(crate) max_restarts: u32,
    /// Nesting depth of the creator plus one (queue priority).
    pub(crate) depth: u32,
    /// A named environment of the job's manifest, else the creator's.
    pub(crate) environment: Option<String>,
    pub(crate) caller_env: Arc<Environment>,
    /// Create it here: it was placed already (or the host asked for this node).
    pub(crate) placed: bool,
    pub(crate) scheduling: Scheduling,
    /// Where its resources come from when not the node's: a placement
    /// group bundle's scheduler.
    pub(crate) scheduler: Option<Arc<Scheduler>>,
}

/// Creates an actor on this node: registers it (and its name) and starts
/// its life.
pub(crate) fn create(
    rt: &Arc<RuntimeInner>,
    job: &Arc<LoadedJob>,
    spec: ActorSpec,
) -> Result<ActorId, TaskError> {
    let name = spec.name.clone();
    let env = resolve_environment(
        job,
        &spec.caller_env,
        spec.environment.as_deref(),
        &spec.class,
    )?;
    if spec.class.is_empty() {
        return Err(TaskError::new(
            ErrorKind::InvalidArgument,
            "create actor",
            "the class name is empty",
        ));
    }
    let class: Arc<str> = Arc::from(spec.class.as_str());
    let target = job.resolve(spec.caller_component, &class)?;
    let id = ActorId(rt.ids.next());
    if let Some(n) = &name {
        let mut names = rt.actors.names.lock();
        if names.contains_key(n) {
            return Err(TaskError::new(
                ErrorKind::InvalidArgument,
                spec.class,
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
    let runner = tokio::spawn(life::run(
        rt.clone(),
        job.clone(),
        id,
        class,
        spec,
        target,
        env,
        rx,
    ));
    *entry.runner.lock() = Some(runner);
    Ok(id)
}

/// Queues a method call for an actor of this node.
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
    let label = Label::method(entry.class.clone(), method.as_str());
    if let Some(why) = entry.dead.lock().clone() {
        return Err(TaskError::new(
            ErrorKind::ActorDied,
            label.to_string(),
            format!("actor {actor} is dead: {why}"),
        ));
    }
    let (held, mut returns) = Returns::new(&rt.objects, num_returns, label);
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
        .map_err(|e| {
            TaskError::new(
                ErrorKind::ActorDied,
                e.0.returns.label().to_string(),
                format!("actor {actor} is dead"),
            )
        })?;
    Ok(held)
}
