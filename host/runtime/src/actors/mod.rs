//! Actors: one long-lived instance each (`life.rs`), calls run one at a
//! time in the order they were submitted, named actors found through the
//! registry (and the directory, in a cluster), restarts after failures (the
//! constructor runs again).

pub(crate) mod gate;
mod life;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::mpsc;
use wrun_core::logs::Label;
use wrun_core::state::TaskKind;
use wrun_core::{ActorId, ErrorKind, JobId, Resources, Returning, Scheduling, TaskError, TaskId};
use wrun_env::Environment;
use wrun_objects::{Held, ObjectQuota, TaskArg};
use wrun_sandbox::{CallKind, LoadedJob, TaskControl};
use wrun_sched::Scheduler;

use crate::inner::{resolve_environment, RuntimeInner};
use crate::ledger::{NewCall, Waiting};
use crate::registry::ActorEntry;
use crate::returns::Returns;
use gate::{ActorCall, Gate};

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
    /// An inline environment (JSON) changing that one.
    pub(crate) runtime_env: Option<String>,
    pub(crate) caller_env: Arc<Environment>,
    /// Create it here: it was placed already (or the host asked for this node).
    pub(crate) placed: bool,
    pub(crate) scheduling: Scheduling,
    /// Where its resources come from when not the node's: a placement
    /// group bundle's scheduler.
    pub(crate) scheduler: Option<Arc<Scheduler>>,
    /// With a name: the actor already registered under it, if any, instead
    /// (`RuntimeInner::create_actor`).
    pub(crate) get_if_exists: bool,
}

/// One of a job's actors alive on this node, counted against its
/// `limits.max_actors` from creation until its life ends (or its runner is
/// aborted: the count goes with the future).
pub(super) struct Counted(Arc<LoadedJob>);

impl Counted {
    fn take(job: &Arc<LoadedJob>, class: &str) -> Result<Counted, TaskError> {
        let limit = job.env.limits.max_actors;
        if job.actors_alive.fetch_add(1, Ordering::Relaxed) >= limit {
            job.actors_alive.fetch_sub(1, Ordering::Relaxed);
            return Err(TaskError::new(
                ErrorKind::InvalidArgument,
                class.to_string(),
                format!(
                    "the job already has {limit} actors alive on this node, its limit (limits.max_actors in the job's manifest): kill some first, or raise the limit"
                ),
            ));
        }
        Ok(Counted(job.clone()))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.actors_alive.fetch_sub(1, Ordering::Relaxed);
    }
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
        spec.runtime_env.as_deref(),
        &spec.class,
    )?;
    if spec.class.is_empty() {
        return Err(TaskError::new(
            ErrorKind::InvalidArgument,
            "create actor",
            "the class name is empty",
        ));
    }
    let target = job.resolve(spec.caller_component, &Arc::from(spec.class.as_str()))?;
    // The class's own name, however the creator spelled it
    // (`COMPONENT/NAME` from another component or node).
    let class = target.name.clone();
    let counted = Counted::take(job, &class)?;
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
        gate: Default::default(),
        dead: Mutex::new(None),
        restart: Default::default(),
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
        counted,
    ));
    *entry.runner.lock() = Some(runner);
    Ok(id)
}

/// Who calls an actor.
#[derive(Default)]
pub(crate) struct ActorCaller {
    /// The calling job, for the tenancy checks (`None`: the host).
    pub job: Option<JobId>,
    /// The task the call is made from (one submitter's calls run in order).
    pub submitter: Option<TaskId>,
    /// The quota the call's results are charged to while they live on this
    /// node: the calling job's, for a guest of this node (`None` for the
    /// host, and for another node's guest, whose node charges them).
    pub quota: Option<Arc<ObjectQuota>>,
}

/// Queues a method call for an actor of this node.
pub(crate) fn call(
    rt: &Arc<RuntimeInner>,
    by: ActorCaller,
    actor: ActorId,
    method: String,
    args: Vec<TaskArg>,
    returns: Returning,
) -> Result<Vec<Held>, TaskError> {
    let ActorCaller {
        job: caller,
        submitter,
        quota,
    } = by;
    // Another job's actor reads as one that never was.
    let entry = rt.actors.actors.lock().get(&actor).cloned();
    let entry = entry.filter(|e| e.visible_to(caller));
    let Some(entry) = entry else {
        let message = match rt.actors.death(caller, actor) {
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
    // Calls from guests can be cancelled while queued (the host API's not).
    let control = caller.map(|job| TaskControl::new(job, CallKind::ActorMethod));
    let (held, mut returns) = match (&control, returns) {
        (Some(c), Returning::Stream) => {
            let (held, returns) = Returns::streaming(&rt.objects, label, c.clone());
            (vec![held], returns)
        }
        (None, Returning::Stream) => {
            return Err(TaskError::new(
                ErrorKind::InvalidArgument,
                label.to_string(),
                "a streaming call is made by a guest (actors.call-streaming)",
            ))
        }
        (_, Returning::Values(n)) => {
            let (held, mut returns) = Returns::new(&rt.objects, n, label, control.clone());
            returns.quota = quota;
            (held, returns)
        }
    };
    returns.on_drop = ErrorKind::ActorDied;
    returns.tracked = Some(
        rt.ledger.track(NewCall {
            // Its first result's id, as Ray's object ids embed their call's:
            // no id minted on the hot path.
            id: held
                .first()
                .map_or_else(|| TaskId(rt.ids.next()), |h| TaskId(h.id().0)),
            job: caller.unwrap_or(entry.job),
            kind: TaskKind::ActorCall,
            label: returns.label().clone(),
            actor: Some(actor),
            waiting: gate::args_ready(&rt.objects, &args).then_some(Waiting::ActorQueue),
        }),
    );
    rt.counters.submitted.fetch_add(1, Ordering::Relaxed);
    let call = ActorCall {
        method,
        args,
        returns,
        control,
    };
    Gate::send(&entry.gate, &entry.mailbox, &rt.objects, submitter, call).map_err(|label| {
        TaskError::new(
            ErrorKind::ActorDied,
            label,
            format!("actor {actor} is dead"),
        )
    })?;
    Ok(held)
}
