//! A task's life: submitted (result objects pending at once), placed, its
//! arguments resolved, run in an instance with its resources, retried as its
//! options allow, and its results fulfilled.
//!
//! The order matters: a task first waits for the arguments this node is
//! computing, and only then reserves resources, so it never holds a CPU its
//! producers need (ARCHITECTURE invariant "a blocked guest holds no thread
//! and lends its CPU"). Arguments other nodes own are pulled with the CPU
//! lent out.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use wrun_core::logs::Label;
use wrun_core::{
    ErrorKind, GroupId, Resources, Scheduling, TaskError, TaskId, TaskOptions, MAX_RETURNS,
};
use wrun_env::Environment;
use wrun_objects::{Held, ObjectStore, ObjectValue, TaskArg};
use wrun_sandbox::{CallKind, Caller, InstanceSpec, LoadedJob, PeerRun, Target, TaskControl};
use wrun_sched::{Grant, Refused, Scheduler};

use crate::args::{local_args_ready, resolve_args};
use crate::cluster::{RemoteFailure, RemoteTask};
use crate::inner::{environment_identity, resolve_environment, RuntimeInner};
use crate::ledger::{NewCall, Tracked, Waiting};
use crate::place::Where;
use crate::retry::retriable;
use crate::returns::Returns;

/// One submitted task, as it moves through its life.
struct TaskSpec {
    id: TaskId,
    control: Arc<TaskControl>,
    job: Arc<LoadedJob>,
    target: Target,
    label: Label,
    options: TaskOptions,
    resources: Resources,
    depth: u32,
    env: Arc<Environment>,
    /// Its record in the node's ledger.
    tracked: Arc<Tracked>,
    /// It waited for arguments of this node's when it was made.
    args_pending: bool,
}

/// Whether every by-reference argument is this node's and ready (a task
/// with such arguments needs to wait for nothing but resources).
fn args_ready_here(store: &ObjectStore, args: &[TaskArg]) -> bool {
    let here = store.node();
    args.iter().all(|a| match a {
        TaskArg::Value(_) => true,
        TaskArg::Ref(h) => h.owner() == here && h.is_ready(),
    })
}

impl RuntimeInner {
    /// Submits `function` (`NAME` of the caller's component, or
    /// `COMPONENT/NAME`) on behalf of `caller`; its results at once.
    /// `sent_as`: the id another node gave the task it sent here (the id
    /// this node records it under).
    pub(crate) fn submit_task(
        self: &Arc<Self>,
        caller: &Caller,
        function: String,
        args: Vec<TaskArg>,
        mut options: TaskOptions,
        sent_as: Option<TaskId>,
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
        if options.streaming {
            self.check_streaming(&mut options, &function)?;
        }
        if let Scheduling::PlacementGroup {
            group,
            bundle: Some(index),
        } = options.scheduling
        {
            self.check_bundle_index(caller.job.id, group, index, &function)?;
        }
        let function: Arc<str> = Arc::from(function);
        let target = caller.job.resolve(caller.component, &function)?;
        let env = resolve_environment(
            &caller.job,
            &caller.env,
            options.environment.as_deref(),
            options.runtime_env.as_deref(),
            &function,
        )?;
        // From here on the options name the environment itself, not
        // relative to the caller: another node resolves them to the same.
        (options.environment, options.runtime_env) = environment_identity(&env);
        let depth_limit = caller.job.env.limits.max_depth;
        if caller.depth >= depth_limit {
            return Err(TaskError::new(
                ErrorKind::InvalidArgument,
                function.to_string(),
                format!(
                    "it would nest {} deep, past the job's limit of {depth_limit} (limits.max_depth in the job's manifest): a recursion that never ends, or raise the limit",
                    caller.depth + 1
                ),
            ));
        }
        // The job's quota of waiting tasks on this node (what bounds the
        // memory one job can make the node hold), counted down at its end.
        let in_flight = &caller.job.tasks_in_flight;
        let limit = caller.job.env.limits.max_tasks_in_flight;
        if in_flight.fetch_add(1, Ordering::Relaxed) >= limit {
            in_flight.fetch_sub(1, Ordering::Relaxed);
            return Err(TaskError::new(
                ErrorKind::InvalidArgument,
                function.to_string(),
                format!(
                    "the job already has {limit} tasks in flight on this node, its limit (limits.tasks_in_flight in the job's manifest): get some results first, or raise the limit"
                ),
            ));
        }
        let id = TaskId(self.ids.next());
        let resources = match &options.resources {
            Some(r) => r.clone(),
            None => env
                .task_resources
                .clone()
                .unwrap_or_else(|| Resources::new(1.0, 0)),
        };
        // Its arguments pending here: it waits for them first.
        let args_pending = !args_ready_here(&self.objects, &args);
        let tracked = self.ledger.track(NewCall {
            id: sent_as.unwrap_or(id),
            job: caller.job.id,
            kind: wrun_core::state::TaskKind::Task,
            // The function's own name, however the caller spelled it
            // (`COMPONENT/NAME` from another component or node).
            label: Label::named(target.name.clone()),
            actor: None,
            waiting: (!args_pending).then(|| Waiting::Resources(resources.clone())),
        });
        // Named by the function alone, however the caller spelled it, and
        // the id it is listed under (its sender's, when sent here), so a
        // task's lines and errors read the same on every node and name the
        // call `wrun list tasks` shows.
        let label = Label::task(target.name.clone(), sent_as.unwrap_or(id));
        let control = TaskControl::new(caller.job.id, CallKind::Task);
        let (held, returns) = if options.streaming {
            let (held, returns) = Returns::streaming(&self.objects, label.clone(), control.clone());
            (vec![held], returns)
        } else {
            let (held, mut returns) = Returns::new(
                &self.objects,
                options.num_returns,
                label.clone(),
                Some(control.clone()),
            );
            returns.quota = Some(caller.job.objects.clone());
            (held, returns)
        };
        let mut returns = returns;
        returns.tracked = Some(tracked.clone());
        if let Some(parent) = &caller.control {
            parent.adopt(&control);
        }
        self.counters.submitted.fetch_add(1, Ordering::Relaxed);
        let spec = TaskSpec {
            id,
            control: control.clone(),
            job: caller.job.clone(),
            target,
            label,
            options,
            resources,
            depth: caller.depth + 1,
            env,
            tracked,
            args_pending,
        };
        let settle = Settle {
            rt: self.clone(),
            job: caller.job.clone(),
            returns: Some(returns),
        };
        let task = tokio::spawn(async move {
            let outcome = settle.rt.run_task(&spec, args).await;
            // Interrupted or not, a cancelled call's outcome is the cancel.
            let outcome = match outcome {
                _ if spec.control.is_cancelled() => Err(cancelled(&spec)),
                outcome => outcome,
            };
            settle.finish(outcome);
        });
        // A cancel before it starts, or a forced one, aborts it where it is
        // (`Settle` then fulfils its results with the cancel).
        control.set_abort(task.abort_handle());
        Ok(held)
    }

    async fn run_task(
        self: &Arc<Self>,
        spec: &TaskSpec,
        args: Vec<TaskArg>,
    ) -> Result<Vec<ObjectValue>, TaskError> {
        local_args_ready(&self.objects, &args).await;
        if spec.args_pending {
            spec.tracked
                .waiting_for(Waiting::Resources(spec.resources.clone()));
        }
        let mut attempt = 0;
        let (mut grant, scheduler) = loop {
            let placed = self
                .place(
                    spec.job.id,
                    &spec.label,
                    &spec.resources,
                    spec.options.scheduling,
                    &args,
                    Some(spec.depth),
                )
                .await?;
            let (node, bundle) = match placed {
                Where::Here { grant, scheduler } => break (grant, scheduler),
                Where::Peer { node, bundle } => (node, bundle),
            };
            // Boxed, as the instance below: the future every submitted task
            // keeps while it waits stays small (bulk submits hold thousands).
            match Box::pin(self.run_on_peer(spec, node, bundle, args.clone())).await {
                // The node died under it: place it again, elsewhere, while
                // it has retries left (a bundle's node cannot be replaced).
                Err(RemoteFailure::NodeLost(e))
                    if bundle.is_none()
                        && attempt < spec.options.max_retries
                        && !spec.control.is_cancelled() =>
                {
                    attempt += 1;
                    self.counters.retried.fetch_add(1, Ordering::Relaxed);
                    spec.tracked.retrying(attempt);
                    tracing::warn!(task = %spec.label, %node, attempt, error = %e, "its node was lost; placing the task again");
                }
                Err(RemoteFailure::NodeLost(e)) => {
                    spec.tracked.came_back();
                    return Err(e);
                }
                outcome => return outcome.map_err(RemoteFailure::into_error),
            }
        };
        // Arguments owned elsewhere are pulled without holding the CPU (when
        // all are here and ready, lending it would only start another task
        // that takes this one's CPU).
        let lend = grant
            .as_mut()
            .filter(|_| !args_ready_here(&self.objects, &args));
        if let Some(g) = lend {
            g.lend_cpu();
        }
        let values = resolve_args(args, &spec.label).await;
        if let Some(g) = &mut grant {
            g.reclaim_cpu();
        }
        let values = values?;
        loop {
            if let Some(stream) = spec.control.stream() {
                stream.begin_attempt();
            }
            match self
                .run_attempt(spec, &values, grant.take(), scheduler.as_ref())
                .await
            {
                Ok(v) => return Ok(v),
                Err(e) if retriable(&e, &spec.options, attempt) && !spec.control.is_cancelled() => {
                    attempt += 1;
                    self.counters.retried.fetch_add(1, Ordering::Relaxed);
                    spec.tracked.retrying(attempt);
                    tracing::info!(task = %spec.label, attempt, error = %e, "retrying task");
                }
                Err(mut e) => {
                    if attempt > 0 {
                        e.message = format!("{} (after {attempt} retries)", e.message);
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Refuses what a streaming task cannot do yet, and ties it to this
    /// node: its items are stored where its caller reads them, so it runs
    /// here (a running stream is read on its caller's node).
    fn check_streaming(&self, options: &mut TaskOptions, function: &str) -> Result<(), TaskError> {
        let refuse = |why: String| Err(TaskError::new(ErrorKind::InvalidArgument, function, why));
        if options.num_returns != 1 {
            return refuse(format!(
                "a streaming task has one result, its stream (num_returns = 1), got {}",
                options.num_returns
            ));
        }
        if options.scheduling != Scheduling::Default {
            return refuse(
                "a streaming task runs on its caller's node: scheduling strategies (SPREAD, node affinity, placement groups) are not supported for it yet".into(),
            );
        }
        options.scheduling = Scheduling::NodeAffinity(wrun_core::NodeAffinity {
            node: self.node(),
            soft: false,
        });
        Ok(())
    }

    /// Sends the task to `node`, in the bundle it was placed in there.
    async fn run_on_peer(
        &self,
        spec: &TaskSpec,
        node: wrun_core::NodeId,
        bundle: Option<(GroupId, u32)>,
        args: Vec<TaskArg>,
    ) -> Result<Vec<ObjectValue>, RemoteFailure> {
        let mut options = spec.options.clone();
        if let Some((group, index)) = bundle {
            options.scheduling = Scheduling::PlacementGroup {
                group,
                bundle: Some(index),
            };
        }
        let task = RemoteTask {
            id: spec.id,
            job: &spec.job,
            component: spec.target.component,
            function: &spec.target.name,
            args,
            resources: &spec.resources,
            options: &options,
        };
        // A cancel from now on is sent on to `node` (the task is started
        // there: an unforced cancel interrupts it, as here).
        spec.control.start();
        spec.tracked.forwarded(node);
        spec.control.set_peer(Some(PeerRun {
            node,
            job: spec.job.id,
            task: spec.id,
        }));
        if spec.control.is_cancelled() {
            spec.control.set_peer(None);
            return Err(RemoteFailure::Failed(cancelled(spec)));
        }
        let outcome = self.remote.run_task(node, task).await;
        spec.control.set_peer(None);
        outcome
    }

    /// One attempt of a task: waits for its resources (from `scheduler`, a
    /// placement group bundle's, else the node's) unless `grant` already
    /// holds them, then runs it in an instance. In a bundle, the release of
    /// its group fails it (`placement-group-removed`), waiting or running:
    /// a running instance is dropped where it is.
    async fn run_attempt(
        self: &Arc<Self>,
        spec: &TaskSpec,
        values: &[ObjectValue],
        grant: Option<Grant>,
        scheduler: Option<&Arc<Scheduler>>,
    ) -> Result<Vec<ObjectValue>, TaskError> {
        let grant = match grant {
            Some(g) => g,
            None => scheduler
                .unwrap_or(&self.scheduler)
                .acquire(spec.resources.clone(), spec.depth)
                .await
                .map_err(|e| match e {
                    Refused::Infeasible(e) => {
                        TaskError::new(ErrorKind::Infeasible, spec.label.to_string(), e.to_string())
                    }
                    Refused::Closed => group_removed(spec, "before it ran"),
                })?,
        };
        spec.control.start();
        spec.tracked.running();
        let instance = InstanceSpec {
            control: Some(spec.control.clone()),
            job: spec.job.clone(),
            component: spec.target.component,
            task: spec.id,
            actor: None,
            label: spec.label.clone(),
            depth: spec.depth,
            grant: Some(grant),
            env: spec.env.clone(),
            calls: self.clone(),
        };
        // Boxed: the call's future (instantiation, the guest's fiber) is
        // several KiB, and only running tasks need it, not the waiting ones.
        let run = Box::pin(self.sandbox.run_task(
            instance,
            &spec.target.name,
            values,
            spec.options.timeout,
            spec.options.max_calls,
        ));
        match scheduler {
            Some(bundle) => tokio::select! {
                outcome = run => outcome,
                () = bundle.closed() => Err(group_removed(spec, "while it ran")),
            },
            None => run.await,
        }
    }
}

/// What a task's spawned future settles however it ends: its results and
/// counters when it completes, and also when it is aborted (cancelled).
struct Settle {
    rt: Arc<RuntimeInner>,
    job: Arc<LoadedJob>,
    returns: Option<Returns>,
}

impl Settle {
    fn finish(mut self, outcome: Result<Vec<ObjectValue>, TaskError>) {
        self.rt.counters.count(&outcome);
        if let Some(r) = self.returns.take() {
            r.complete(outcome);
        }
    }
}

impl Drop for Settle {
    fn drop(&mut self) {
        if let Some(r) = self.returns.take() {
            // Aborted: its results say it was cancelled (`Returns::drop`).
            self.rt.counters.failed.fetch_add(1, Ordering::Relaxed);
            drop(r);
        }
        self.job.tasks_in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The error of a cancelled task.
fn cancelled(spec: &TaskSpec) -> TaskError {
    TaskError::new(
        ErrorKind::TaskCancelled,
        spec.label.to_string(),
        spec.control.cause().reason(),
    )
}

/// The error of a task whose placement group was removed `when`.
fn group_removed(spec: &TaskSpec, when: &str) -> TaskError {
    let group = match spec.options.scheduling {
        Scheduling::PlacementGroup { group, .. } => format!(" {group}"),
        _ => String::new(),
    };
    TaskError::new(
        ErrorKind::PlacementGroupRemoved,
        spec.label.to_string(),
        format!("its placement group{group} was removed {when}"),
    )
}
