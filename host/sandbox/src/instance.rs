//! Instances: a fresh store per task (pooling allocator, limits, the epoch
//! callback that enforces timeouts and CPU time), the calls into the guest's
//! `guest` interface with arguments lowered straight from the stored bytes,
//! and what a failure of the guest becomes.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;
use wasmtime::component::{Instance, ResourceTable};
use wasmtime::{Store, UpdateDeadline};
use wrun_core::logs::Label;
use wrun_core::{ActorId, ErrorKind, TaskError, TaskId};
use wrun_env::{Environment, SCRATCH_GUEST_PATH};
use wrun_objects::{ObjectValue, Stream};
use wrun_sched::Grant;

use crate::bindings::{Value, WitError};
use crate::control::TaskControl;
use crate::exports::Checked;
use crate::failure::{cancelled_error, classify, classify_host, timeout_error};
use crate::guest_io::{GuestOutput, LabelCell, StderrTail};
use crate::limits::MemoryLimit;
use crate::model::{Caller, GuestCalls, HostState, LoadedJob};
use crate::scratch::ScratchDir;
use crate::values::{from_wit_value, to_shared, SharedValue};
use crate::Sandbox;

/// What an instance is made for.
pub struct InstanceSpec {
    /// The job.
    pub job: Arc<LoadedJob>,
    /// Which of its components.
    pub component: usize,
    /// The task (or actor, or driver run).
    pub task: TaskId,
    /// The actor it holds, if it is one.
    pub actor: Option<ActorId>,
    /// What runs, for logs and errors.
    pub label: Label,
    /// Nesting depth: what it submits runs at `depth + 1`.
    pub depth: u32,
    /// The resources it holds while it lives (lent out while blocked).
    pub grant: Option<Grant>,
    /// The environment it runs in.
    pub env: Arc<Environment>,
    /// The runtime its calls reach.
    pub calls: Arc<dyn GuestCalls>,
    /// The cancellation state of the task it runs (none for drivers and
    /// actors).
    pub control: Option<Arc<TaskControl>>,
}

/// How a call into a guest failed.
#[derive(Debug)]
pub enum CallError {
    /// The guest returned an error: its instance is still usable.
    Returned(TaskError),
    /// The guest trapped, ran out of time or memory: its instance is not.
    Broken(TaskError),
}

impl CallError {
    /// The error, whichever way it came.
    pub fn into_error(self) -> TaskError {
        match self {
            CallError::Returned(e) | CallError::Broken(e) => e,
        }
    }
}

impl Sandbox {
    /// Makes a fresh instance of a job's component.
    pub(crate) async fn instantiate(
        &self,
        spec: InstanceSpec,
    ) -> Result<(Store<HostState>, Instance), TaskError> {
        let label = spec.label.clone();
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            TaskError::internal(label.to_string(), format!("{what}: {e:#}"))
        };
        if spec.control.as_ref().is_some_and(|c| c.is_cancelled()) {
            return Err(cancelled_error(&label.to_string()));
        }
        let tail = StderrTail::default();
        let label_cell = LabelCell::new(spec.label.clone());
        let mut wasi = crate::wasi::builder(&spec.env).map_err(|e| fail("its environment", &e))?;
        let sink = spec
            .job
            .log_sink
            .clone()
            .unwrap_or_else(|| self.options.log_sink.clone());
        let sink =
            crate::log_budget::bounded(sink, spec.job.logs.clone(), spec.job.env.limits.log_rate);
        // An actor's lines say whose they are.
        let sink: wrun_core::logs::LogSink = match spec.actor {
            Some(actor) => Arc::new(move |mut line: wrun_core::logs::LogLine| {
                line.actor = Some(actor);
                sink(line)
            }),
            None => sink,
        };
        wasi.stdout(GuestOutput::stdout(sink.clone(), label_cell.clone()))
            .stderr(GuestOutput::stderr(
                sink.clone(),
                label_cell.clone(),
                tail.clone(),
            ));
        let scratch = if spec.env.scratch {
            let dir = ScratchDir::create(&self.options.scratch_dir, spec.task)
                .map_err(|e| fail("creating a scratch directory", &e))?;
            wasi.preopened_dir(
                &dir.0,
                SCRATCH_GUEST_PATH,
                wasmtime_wasi::FsPerms::ReadWrite,
            )
            .map_err(|e| fail("mounting the scratch directory", &e))?;
            Some(dir)
        } else {
            None
        };
        let max_refs = spec.env.limits.max_refs;
        let memory_limit = spec.env.limits.memory_per_instance;
        let mut table = ResourceTable::new();
        // The guest's references (and other handles) are entries here: the
        // limit fails a push with a typed error the failure names.
        table.set_max_capacity(max_refs);
        let stream = spec.control.as_ref().and_then(|c| c.stream().cloned());
        let state = HostState {
            table,
            wasi: wasi.build(),
            limits: MemoryLimit {
                limit: memory_limit,
                hit: false,
            },
            objects: self.objects.clone(),
            calls: spec.calls,
            caller: Caller {
                job: spec.job.clone(),
                component: spec.component,
                env: spec.env.clone(),
                depth: spec.depth,
                control: spec.control,
                task: Some(spec.task),
                actor: spec.actor,
            },
            node: self.objects.node(),
            task_id: spec.task,
            actor_id: spec.actor,
            stream,
            exit_requested: false,
            label: spec.label,
            label_cell,
            log_sink: sink,
            grant: spec.grant,
            deadline: None,
            timed_out: false,
            cancelled: false,
            cancel_delivered: false,
            cpu_ticks_left: self.cpu_ticks(&spec.env),
            cpu_exceeded: false,
            job_cpu_ticks: self.ticks(spec.job.env.limits.job_cpu_time),
            job_cpu_exceeded: false,
            job_stopped: false,
            stderr_tail: tail,
            scratch,
        };
        let mut store = Store::new(&self.engine.engine, state);
        store.limiter(|s| &mut s.limits);
        // A backstop behind the table's own limit (WASI handles included).
        store.set_max_component_handles(max_refs.saturating_mul(2).saturating_add(1024));
        // What a guest may pass the host in one call (a `put` of a large
        // object): bounded by its own memory anyway, so the memory limit is
        // the bound, not wasmtime's 128 MiB default.
        store.set_hostcall_fuel(memory_limit.max(128 << 20));
        store.epoch_deadline_callback(|mut ctx| {
            let s = ctx.data_mut();
            if !s.cancel_delivered && s.caller.control.as_ref().is_some_and(|c| c.is_cancelled()) {
                s.cancelled = true;
                return Ok(UpdateDeadline::Interrupt);
            }
            // The callback runs once per epoch tick while the guest runs (not
            // while it is blocked), so counting calls counts CPU time.
            let cpu = &s.caller.job.cpu;
            if cpu.is_stopped() {
                s.job_stopped = true;
                return Ok(UpdateDeadline::Interrupt);
            }
            let job_used = cpu.used.fetch_add(1, Ordering::Relaxed)
                + 1
                + cpu.elsewhere.load(Ordering::Relaxed);
            if job_used > s.job_cpu_ticks {
                s.job_cpu_exceeded = true;
                return Ok(UpdateDeadline::Interrupt);
            }
            if let Some(left) = &mut s.cpu_ticks_left {
                *left = left.saturating_sub(1);
                if *left == 0 {
                    s.cpu_exceeded = true;
                    return Ok(UpdateDeadline::Interrupt);
                }
            }
            if let Some((d, _)) = s.deadline {
                if Instant::now() >= d {
                    s.timed_out = true;
                    return Ok(UpdateDeadline::Interrupt);
                }
            }
            Ok(UpdateDeadline::Yield(1))
        });
        store.set_epoch_deadline(1);
        let component = &spec.job.components[spec.component];
        match component.pre.instantiate_async(&mut store).await {
            Ok(inst) => Ok((store, inst)),
            Err(e) => {
                let label = store.data().label.to_string();
                Err(classify(e, store.data(), &label))
            }
        }
    }

    /// Epoch ticks of the environment's CPU-time limit.
    pub(crate) fn cpu_ticks(&self, env: &Environment) -> Option<u64> {
        env.cpu_time.map(|t| self.ticks(t))
    }

    /// Epoch ticks in `t` (at least one).
    fn ticks(&self, t: Duration) -> u64 {
        let tick = self.options.engine.epoch_tick.as_nanos().max(1);
        (t.as_nanos() / tick).clamp(1, u64::MAX as u128) as u64
    }

    /// Runs a job's driver (`main`) with `args`.
    pub async fn run_main(
        &self,
        spec: InstanceSpec,
        args: &[String],
    ) -> Result<ObjectValue, TaskError> {
        let label = spec.label.to_string();
        let _slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| TaskError::internal(&label, e))?;
        let exports = spec.job.components[spec.component].exports;
        let (mut store, inst) = self.instantiate(spec).await?;
        let main = inst
            .get_typed_func::<(&[String],), (Result<Value, WitError>,)>(&mut store, exports.main)
            .map_err(|e| TaskError::internal(&label, format!("{e:#}")))?;
        match main.call_async(&mut store, (args,)).await {
            Ok((Ok(v),)) => from_wit_value(&mut store.data_mut().table, v)
                .map_err(|e| TaskError::internal(&label, format!("{e:#}"))),
            Ok((Err(e),)) => Err(TaskError::from(e).in_task(&label)),
            Err(e) => Err(classify(e, store.data(), &label)),
        }
    }

    /// Runs task `function` in an instance: a warm one of the same job,
    /// component and environment when the environment allows reuse, else a
    /// fresh one (waiting for a pool slot if none is free). A reused
    /// instance retires once it has run `max_calls` tasks (0: no limit).
    pub async fn run_task(
        &self,
        spec: InstanceSpec,
        function: &str,
        args: &[ObjectValue],
        timeout: Option<Duration>,
        max_calls: u32,
    ) -> Result<Vec<ObjectValue>, TaskError> {
        let label = spec.label.to_string();
        let reuse = spec.env.reuse_instances;
        let key = crate::warm::key(&spec.job, spec.component, &spec.env);
        let warm = if reuse { self.warm.take(key) } else { None };
        let mut w = match warm {
            Some(mut w) => {
                self.prepare_reused(w.store.data_mut(), spec);
                w
            }
            None => {
                // Idle warm instances give way to work that needs a slot.
                while self.slots.available_permits() == 0 && self.warm.evict_one() {}
                let slot = self
                    .slots
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|e| TaskError::internal(&label, e))?;
                let index = spec.job.components[spec.component].exports.run_task;
                let (mut store, inst) = self.instantiate(spec).await?;
                let run_task = Checked::values_of(&mut store, &inst, index)
                    .map_err(|e| TaskError::internal(&label, format!("{e:#}")))?;
                crate::warm::WarmInstance {
                    store,
                    run_task,
                    calls: 0,
                    _slot: slot,
                }
            }
        };
        let outcome = call_values(&mut w.store, w.run_task, function, args, timeout, &label).await;
        w.calls += 1;
        match outcome {
            Err(CallError::Broken(e)) => Err(e),
            outcome => {
                if reuse && (max_calls == 0 || w.calls < max_calls) {
                    // The guest returned: its instance may serve the next task.
                    drop(w.store.data_mut().grant.take());
                    self.warm.give_back(key, w, self.options.warm_per_kind);
                }
                outcome.map_err(CallError::into_error)
            }
        }
    }

    /// Readies a warm instance for another task.
    fn prepare_reused(&self, s: &mut HostState, spec: InstanceSpec) {
        s.task_id = spec.task;
        s.set_label(spec.label);
        s.caller.depth = spec.depth;
        s.grant = spec.grant;
        s.deadline = None;
        s.timed_out = false;
        s.cancelled = false;
        s.cancel_delivered = false;
        s.stream = spec.control.as_ref().and_then(|c| c.stream().cloned());
        s.caller.control = spec.control;
        s.caller.task = Some(spec.task);
        s.cpu_exceeded = false;
        s.cpu_ticks_left = self.cpu_ticks(&spec.env);
        s.limits.hit = false;
        s.stderr_tail.clear();
    }

    /// Makes an actor's instance. An actor holds its pool slot for life:
    /// when none is free, waiting could wait forever (on other actors), so
    /// this fails with the remedy.
    pub async fn actor(&self, spec: InstanceSpec) -> Result<ActorInstance, TaskError> {
        let label = spec.label.to_string();
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            return Err(TaskError::new(
                ErrorKind::Internal,
                label,
                format!(
                    "no instance slot is free: all {} are held by live instances; kill actors or start wrun with a larger --max-instances",
                    self.options.engine.max_instances
                ),
            ));
        };
        let exports = spec.job.components[spec.component].exports;
        let (mut store, inst) = self.instantiate(spec).await?;
        let bad = |e: wasmtime::Error| TaskError::internal(&label, format!("{e:#}"));
        let construct = Checked::construct_of(&mut store, &inst, exports.construct).map_err(bad)?;
        let call_method =
            Checked::values_of(&mut store, &inst, exports.call_method).map_err(bad)?;
        Ok(ActorInstance {
            store,
            construct,
            call_method,
            _slot: slot,
        })
    }
}

/// The instance of one actor, kept for its life.
pub struct ActorInstance {
    store: Store<HostState>,
    construct: Checked,
    call_method: Checked,
    _slot: OwnedSemaphorePermit,
}

impl ActorInstance {
    /// Runs the constructor of `class`.
    pub async fn construct(&mut self, class: &str, args: &[ObjectValue]) -> Result<(), CallError> {
        let label = self.store.data().label.to_string();
        let shared = lower_args(&mut self.store, args, &label).map_err(CallError::Broken)?;
        match self
            .construct
            .construct()
            .call_async(&mut self.store, (class, &shared))
            .await
        {
            Ok((Ok(()),)) => Ok(()),
            Ok((Err(e),)) => Err(CallError::Returned(TaskError::from(e).in_task(&label))),
            Err(e) => Err(CallError::Broken(classify(e, self.store.data(), &label))),
        }
    }

    /// Runs method `method` as `label`; a streaming call's items go to
    /// `stream`.
    pub async fn call(
        &mut self,
        label: Label,
        method: &str,
        args: &[ObjectValue],
        stream: Option<Arc<Stream>>,
    ) -> Result<Vec<ObjectValue>, CallError> {
        let text = label.to_string();
        let state = self.store.data_mut();
        state.set_label(label);
        state.stream = stream;
        let outcome =
            call_values(&mut self.store, self.call_method, method, args, None, &text).await;
        self.store.data_mut().stream = None;
        outcome
    }

    /// The method that just ran called `actors.exit-actor`.
    pub fn exiting(&self) -> bool {
        self.store.data().exit_requested
    }

    /// Takes the grant back out (to hand it to a restarted instance).
    pub fn take_grant(&mut self) -> Option<Grant> {
        self.store.data_mut().grant.take()
    }
}

/// Lowers stored values for a call: bytes shared, references counted anew.
fn lower_args(
    store: &mut Store<HostState>,
    args: &[ObjectValue],
    label: &str,
) -> Result<Vec<SharedValue>, TaskError> {
    let table = &mut store.data_mut().table;
    args.iter()
        .map(|v| to_shared(table, v))
        .collect::<wasmtime::Result<_>>()
        .map_err(|e| classify_host(e, label))
}

/// Calls a `(name, list<value>) -> result<list<value>, error>` export.
async fn call_values(
    store: &mut Store<HostState>,
    f: Checked,
    name: &str,
    args: &[ObjectValue],
    timeout: Option<Duration>,
    label: &str,
) -> Result<Vec<ObjectValue>, CallError> {
    let shared = lower_args(store, args, label).map_err(CallError::Broken)?;
    if let Some(t) = timeout {
        store.data_mut().deadline = Some((Instant::now() + t, t));
    }
    let typed = f.values();
    let call = typed.call_async(&mut *store, (name, &shared));
    let res = match timeout {
        // The epoch callback interrupts a running guest; this covers one
        // blocked in a host call.
        Some(t) => match tokio::time::timeout(t + Duration::from_millis(50), call).await {
            Ok(r) => r,
            Err(_) => return Err(CallError::Broken(timeout_error(label, t))),
        },
        None => call.await,
    };
    match res {
        Ok((Ok(outputs),)) => {
            let table = &mut store.data_mut().table;
            outputs
                .into_iter()
                .map(|v| from_wit_value(table, v).map_err(|e| classify_host(e, label)))
                .collect::<Result<_, _>>()
                .map_err(CallError::Broken)
        }
        Ok((Err(e),)) => Err(CallError::Returned(TaskError::from(e).in_task(label))),
        Err(e) => Err(CallError::Broken(classify(e, store.data(), label))),
    }
}
