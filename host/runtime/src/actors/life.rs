//! One actor's life: its constructor, then its calls one at a time in
//! submission order, restarts after traps and `kill(no_restart=False)`
//! while it has them, an end when a method calls `exit_actor()`, and — when
//! it dies — an `actor-died` error for every call still queued.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::mpsc;
use wrun_core::logs::Label;
use wrun_core::{ActorId, ErrorKind, TaskError, TaskId};
use wrun_env::Environment;
use wrun_sandbox::{CallError, InstanceSpec, LoadedJob, Target};

use super::gate::ActorCall;
use super::ActorSpec;
use crate::args::resolve_args;
use crate::inner::RuntimeInner;

/// Runs an actor until it dies, then fails what is still queued.
#[allow(
    clippy::too_many_arguments,
    reason = "the pieces `create` resolved, moved in once"
)]
pub(super) async fn run(
    rt: Arc<RuntimeInner>,
    job: Arc<LoadedJob>,
    id: ActorId,
    class: Arc<str>,
    spec: ActorSpec,
    target: Target,
    env: Arc<Environment>,
    mut mailbox: mpsc::UnboundedReceiver<ActorCall>,
    counted: super::Counted,
) {
    // Counted against the job's actors until this life ends.
    let _counted = counted;
    // An actor in a placement group's bundle dies with the group (its call
    // under way, if any, fails with it).
    let bundle = spec.scheduler.clone();
    let life = lifetime(&rt, &job, id, &class, spec, target, env, &mut mailbox);
    let why = match bundle {
        Some(bundle) => tokio::select! {
            why = life => why,
            () = bundle.closed() => "its placement group was removed".to_string(),
        },
        None => life.await,
    };
    tracing::debug!(actor = %id, %class, why = %why, "actor stopped");
    rt.actors.bury(id, &why);
    rt.bury_children(id);
    if let Some(e) = rt.actors.remove(id) {
        e.dead.lock().get_or_insert(why.clone());
    }
    // Calls still queued fail with the reason.
    mailbox.close();
    while let Ok(call) = mailbox.try_recv() {
        let label = call.returns.label().to_string();
        call.returns.complete(Err(TaskError::new(
            ErrorKind::ActorDied,
            label,
            format!("actor {id} is dead: {why}"),
        )));
    }
}

/// The error of a call whose instance died under it (`cause`: the trap,
/// timeout or memory-limit hit).
fn died_mid_call(cause: &TaskError, restarting: bool) -> TaskError {
    let then = if restarting {
        "the actor restarts (its state is lost)"
    } else {
        "it has no restarts left"
    };
    TaskError {
        kind: ErrorKind::ActorDied,
        message: format!(
            "its instance died during the call ({}: {}); {then}",
            cause.kind.wit_name(),
            cause.message
        ),
        ..cause.clone()
    }
}

/// Runs the actor until it dies; returns why.
#[allow(clippy::too_many_arguments, reason = "as `run`")]
async fn lifetime(
    rt: &Arc<RuntimeInner>,
    job: &Arc<LoadedJob>,
    id: ActorId,
    class: &Arc<str>,
    spec: ActorSpec,
    target: Target,
    env: Arc<Environment>,
    mailbox: &mut mpsc::UnboundedReceiver<ActorCall>,
) -> String {
    let ActorSpec {
        args,
        resources,
        max_restarts,
        depth,
        scheduler,
        ..
    } = spec;
    let resources = resources
        .or_else(|| env.actor_resources.clone())
        .unwrap_or_default();
    let ctor_label = Label::method(class.clone(), "<init>");
    let values = match resolve_args(args, &ctor_label).await {
        Ok(v) => v,
        Err(e) => return format!("its constructor arguments failed: {e}"),
    };
    // Killed meanwhile: nothing to run.
    let Some(entry) = rt.actors.actors.lock().get(&id).cloned() else {
        return "it was killed before it started".into();
    };
    let scheduler = scheduler.unwrap_or_else(|| rt.scheduler.clone());
    let mut grant = match scheduler.acquire(resources, depth).await {
        Ok(g) => Some(g),
        Err(e) => return e.to_string(),
    };
    let mut restarts = 0;
    'instance: loop {
        let spec = InstanceSpec {
            job: job.clone(),
            component: target.component,
            task: TaskId(rt.ids.next()),
            actor: Some(id),
            label: ctor_label.clone(),
            depth,
            grant: grant.take(),
            env: env.clone(),
            calls: rt.clone(),
            control: None,
        };
        let mut inst = match rt.sandbox.actor(spec).await {
            Ok(i) => i,
            Err(e) => return format!("it could not be instantiated: {e}"),
        };
        match inst.construct(&target.name, &values).await {
            Ok(()) if inst.exiting() => {
                return "it exited: exit_actor() was called in its constructor".into()
            }
            Ok(()) => {}
            Err(CallError::Returned(e)) => return format!("its constructor failed: {e}"),
            Err(CallError::Broken(e)) => {
                if restarts < max_restarts {
                    restarts += 1;
                    grant = inst.take_grant();
                    continue 'instance;
                }
                return format!("its constructor failed: {e}");
            }
        }
        loop {
            // A restart asked for before a call was queued wins over it.
            let call = tokio::select! {
                biased;
                () = entry.restart.notified() => {
                    if restarts < max_restarts {
                        restarts += 1;
                        tracing::warn!(actor = %id, %class, restarts, "restarting actor: killed with no_restart=False");
                        grant = inst.take_grant();
                        continue 'instance;
                    }
                    return KILLED_NO_RESTARTS.into();
                }
                call = mailbox.recv() => match call {
                    Some(call) => call,
                    None => return "its mailbox closed".into(),
                },
            };
            let label = call.returns.label().clone();
            // Cancelled while it was queued (before or while its arguments
            // are resolved): it never runs (a running call finishes, as in
            // Ray).
            let cancelled = || {
                TaskError::new(
                    ErrorKind::TaskCancelled,
                    label.to_string(),
                    "the call was cancelled (tasks.cancel) while it waited in the actor's queue",
                )
            };
            let resolved = match &call.control {
                Some(c) if c.is_cancelled() => Err(cancelled()),
                Some(c) => tokio::select! {
                    r = resolve_args(call.args, &label) => r,
                    () = c.cancelled() => Err(cancelled()),
                },
                None => resolve_args(call.args, &label).await,
            };
            let values = match resolved {
                Ok(v) => v,
                Err(e) => {
                    rt.counters.failed.fetch_add(1, Ordering::Relaxed);
                    call.returns.complete(Err(e));
                    continue;
                }
            };
            if call.control.as_ref().is_some_and(|c| c.is_cancelled()) {
                rt.counters.failed.fetch_add(1, Ordering::Relaxed);
                call.returns.complete(Err(cancelled()));
                continue;
            }
            if let Some(t) = &call.returns.tracked {
                t.running();
            }
            let outcome = tokio::select! {
                outcome = inst.call(label.clone(), &call.method, &values, call.returns.stream().cloned()) => outcome,
                () = entry.restart.notified() => {
                    rt.counters.failed.fetch_add(1, Ordering::Relaxed);
                    let restarting = restarts < max_restarts;
                    let then = if restarting {
                        "the actor restarts (its state is lost)"
                    } else {
                        "it has no restarts left"
                    };
                    if !restarting {
                        rt.bury_children(id);
                    }
                    call.returns.complete(Err(TaskError::new(
                        ErrorKind::ActorDied,
                        label.to_string(),
                        format!("its instance was killed during the call (kill with no_restart=False); {then}"),
                    )));
                    if restarting {
                        restarts += 1;
                        tracing::warn!(actor = %id, %class, restarts, "restarting actor: killed with no_restart=False");
                        grant = inst.take_grant();
                        continue 'instance;
                    }
                    return KILLED_NO_RESTARTS.into();
                }
            };
            // The method called exit_actor(): whatever it returned, its call
            // and every later one fail, and the actor ends for good.
            if inst.exiting() && !matches!(outcome, Err(CallError::Broken(_))) {
                rt.counters.failed.fetch_add(1, Ordering::Relaxed);
                let how = format!("exit_actor() was called in {label}");
                rt.bury_children(id);
                call.returns.complete(Err(TaskError::new(
                    ErrorKind::ActorDied,
                    label.to_string(),
                    format!("actor {id} exited: {how}"),
                )));
                return format!("it exited: {how}");
            }
            match outcome {
                Ok(values) => {
                    rt.counters.finished.fetch_add(1, Ordering::Relaxed);
                    call.returns.complete(Ok(values));
                }
                Err(CallError::Returned(e)) => {
                    rt.counters.failed.fetch_add(1, Ordering::Relaxed);
                    call.returns.complete(Err(e));
                }
                Err(CallError::Broken(e)) => {
                    rt.counters.failed.fetch_add(1, Ordering::Relaxed);
                    // Its instance is gone with the call (as a Ray actor's
                    // process): actor-died, whatever killed it.
                    let restarting = restarts < max_restarts;
                    // An actor that ends here takes its children with it
                    // before its caller hears of it, so a call to a child
                    // made after that error fails (fate sharing, no race).
                    if !restarting {
                        rt.bury_children(id);
                    }
                    call.returns.complete(Err(died_mid_call(&e, restarting)));
                    if restarting {
                        restarts += 1;
                        tracing::warn!(actor = %id, %class, restarts, error = %e, "restarting actor");
                        grant = inst.take_grant();
                        continue 'instance;
                    }
                    return format!("it failed and has no restarts left: {e}");
                }
            }
        }
    }
}

/// Why an actor killed with `no_restart=False` and no restarts left died.
const KILLED_NO_RESTARTS: &str =
    "killed by a kill request (no_restart=False, but no restarts were left)";
