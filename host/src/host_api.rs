//! The host side of the WIT imports: what a guest can ask of wrun.
//!
//! Every instance gets a [`HostState`]. Object references a guest holds are
//! entries of its resource table ([`Held`]s), so a guest can only name objects
//! it was handed, and everything it still holds is released when its instance
//! is dropped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use wasmtime::component::{Resource, ResourceTable};
use wasmtime::ResourceLimiter;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::actors::ActorSpec;
use crate::bindings::wrun::runtime::{
    actors, context, logging, objects, placement_groups, tasks, types,
};
use crate::bindings::{
    ActorOptions, Arg, Bundle as WitBundle, PlacementStrategy as WitStrategy,
    Scheduling as WitScheduling, TaskOptions as WitTaskOptions, Value, WitError, WitId,
};
use crate::environment::Environment;
use crate::error::{ErrorKind, TaskError};
use crate::guest_io::{LabelCell, StderrTail};
use crate::ids::{ActorId, GroupId, Id, NodeId, TaskId};
use crate::logs::{Level, LogLine};
use crate::object_store::{Held, ObjectValue};
use crate::placement::Strategy;
use crate::runtime::{
    LoadedJob, NodeAffinity, RuntimeInner, Scheduling, ScratchDir, TaskArg, TaskOptions,
};
use crate::scheduler::{Grant, Resources};

/// The WIT `value` record with its bytes in a shared [`Bytes`]: lowered into
/// the guest straight from the store's buffer, so a `get` copies the bytes
/// once.
#[derive(wasmtime::component::ComponentType, wasmtime::component::Lower)]
#[component(record)]
pub(crate) struct SharedValue {
    #[component(name = "data")]
    data: Bytes,
    #[component(name = "refs")]
    refs: Vec<Resource<Held>>,
}

/// The WIT `value` record as a guest's `put` passes it: the bytes stay in
/// guest memory until copied, with one `memcpy`, into the store's buffer.
#[derive(wasmtime::component::ComponentType, wasmtime::component::Lift)]
#[component(record)]
pub(crate) struct GuestValue {
    #[component(name = "data")]
    data: wasmtime::component::WasmList<u8>,
    #[component(name = "refs")]
    refs: Vec<Resource<Held>>,
}

/// Replaces the generated `objects.put` and `objects.get` with versions that
/// move bytes as [`SharedValue`]s (the generated ones use `Vec<u8>`, which
/// costs a second copy of every object).
pub(crate) fn link_shared_objects(
    linker: &mut wasmtime::component::Linker<HostState>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut objects = linker.instance("wrun:runtime/objects@0.1.0")?;
    objects.func_wrap(
        "put",
        |mut store: wasmtime::StoreContextMut<'_, HostState>, (v,): (GuestValue,)| {
            // Refuse an object over the limit before copying a byte of it.
            if let Some(e) = store.data().object_too_large(v.data.len()) {
                for r in v.refs {
                    store.data_mut().table.delete(r)?;
                }
                return Ok((Err(e),));
            }
            let data = Bytes::copy_from_slice(v.data.as_le_slice(&store));
            let value = SharedValue { data, refs: v.refs };
            Ok((store.data_mut().put_shared(value)?,))
        },
    )?;
    objects.func_wrap_async(
        "get",
        |mut store: wasmtime::StoreContextMut<'_, HostState>,
         (refs, timeout_ms): (Vec<Resource<Held>>, Option<u64>)| {
            Box::new(async move {
                let values = match store.data_mut().get_values(&refs, timeout_ms).await? {
                    Ok(v) => v,
                    Err(e) => return Ok((Err(e),)),
                };
                let table = &mut store.data_mut().table;
                let mut out = Vec::with_capacity(values.len());
                for v in values {
                    let mut refs = Vec::with_capacity(v.refs.len());
                    for h in v.refs {
                        refs.push(table.push(h)?);
                    }
                    out.push(SharedValue { data: v.data, refs });
                }
                Ok((Ok(out),))
            })
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Per-instance memory cap; remembers being hit so the error can say so.
pub struct MemoryLimit {
    pub limit: usize,
    pub hit: bool,
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.hit = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// The data of one guest instance's store.
pub struct HostState {
    pub(crate) table: ResourceTable,
    pub(crate) wasi: WasiCtx,
    pub(crate) limits: MemoryLimit,
    pub(crate) rt: Arc<RuntimeInner>,
    pub(crate) job: Arc<LoadedJob>,
    /// Which of the job's components this instance runs (bare names in its
    /// calls refer to it).
    pub(crate) component: usize,
    pub(crate) task_id: TaskId,
    pub(crate) actor_id: Option<ActorId>,
    /// The task or method running now, for logs and errors.
    pub(crate) label: Arc<str>,
    /// The same, as the instance's output streams see it.
    pub(crate) label_cell: LabelCell,
    /// Nesting depth: tasks this instance submits run at `depth + 1`.
    pub(crate) depth: u32,
    /// The resources this instance holds; its CPU is lent out while blocked.
    pub(crate) grant: Option<Grant>,
    /// Past this instant the running guest is interrupted.
    pub(crate) deadline: Option<Instant>,
    pub(crate) timed_out: bool,
    /// Epoch ticks of running time left before the CPU-time limit.
    pub(crate) cpu_ticks_left: Option<u64>,
    pub(crate) cpu_exceeded: bool,
    pub(crate) stderr_tail: StderrTail,
    /// The environment this instance runs in.
    pub(crate) env: Arc<Environment>,
    /// Held for its `Drop`, which removes the directory with the instance.
    #[allow(dead_code)]
    pub(crate) scratch: Option<ScratchDir>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Copies a stored value into the guest's view: its bytes, and a new counted
/// handle for each reference it contains.
pub(crate) fn to_wit_value(table: &mut ResourceTable, v: &ObjectValue) -> wasmtime::Result<Value> {
    let mut refs = Vec::with_capacity(v.refs.len());
    for h in &v.refs {
        refs.push(table.push(h.clone())?);
    }
    Ok(Value {
        data: v.data.to_vec(),
        refs,
    })
}

/// Takes a value from the guest, with ownership of the handles it passes.
pub(crate) fn from_wit_value(table: &mut ResourceTable, v: Value) -> wasmtime::Result<ObjectValue> {
    let mut refs = Vec::with_capacity(v.refs.len());
    for r in v.refs {
        refs.push(table.delete(r)?);
    }
    Ok(ObjectValue {
        data: Bytes::from(v.data),
        refs,
    })
}

impl HostState {
    /// Names the task or method now running (logs, errors, output lines).
    pub(crate) fn set_label(&mut self, label: Arc<str>) {
        self.label_cell.set(label.clone());
        self.label = label;
    }

    fn error(&self, kind: ErrorKind, message: impl Into<String>) -> WitError {
        TaskError::new(kind, self.label.to_string(), message).into()
    }

    fn take_args(&mut self, args: Vec<Arg>) -> wasmtime::Result<Vec<TaskArg>> {
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            out.push(match a {
                Arg::Inline(v) => TaskArg::Value(from_wit_value(&mut self.table, v)?),
                Arg::ByRef(r) => TaskArg::Ref(self.table.delete(r)?),
            });
        }
        Ok(out)
    }

    fn push_refs(&mut self, held: Vec<Held>) -> wasmtime::Result<Vec<Resource<Held>>> {
        held.into_iter().map(|h| Ok(self.table.push(h)?)).collect()
    }

    fn lend_cpu(&mut self) {
        if let Some(g) = &mut self.grant {
            g.lend_cpu();
        }
    }

    fn reclaim_cpu(&mut self) {
        if let Some(g) = &mut self.grant {
            g.reclaim_cpu();
        }
    }
}

/// Each job's own namespace (`job-<id>`) is private to it; every other
/// namespace is shared by the jobs that know its name.
pub(crate) fn is_private_namespace(ns: &str) -> bool {
    ns.starts_with("job-")
}

fn deadline_after(timeout_ms: Option<u64>) -> Option<Instant> {
    timeout_ms.map(|ms| Instant::now() + Duration::from_millis(ms))
}

/// The resources a call asked for; `None` when it asked for nothing (the
/// environment's default applies), with `default_cpus` when it named only
/// memory or custom resources.
fn resources(
    cpus: Option<f64>,
    memory: u64,
    custom: &[(String, f64)],
    default_cpus: f64,
) -> Result<Option<Resources>, String> {
    if cpus.is_none() && memory == 0 && custom.is_empty() {
        return Ok(None);
    }
    let cpus = cpus.unwrap_or(default_cpus);
    if !cpus.is_finite() || cpus < 0.0 {
        return Err(format!("cpus must be a finite number >= 0, got {cpus}"));
    }
    let mut r = Resources::new(cpus, memory);
    for (name, amount) in custom {
        if name.is_empty() || !amount.is_finite() || *amount < 0.0 {
            return Err(format!(
                "custom resource `{name}` = {amount}: names must be non-empty and amounts finite and >= 0"
            ));
        }
        r = r.with_custom(name, *amount);
    }
    Ok(Some(r))
}

impl types::Host for HostState {}

impl types::HostObjectRef for HostState {
    fn id(&mut self, this: Resource<Held>) -> wasmtime::Result<WitId> {
        Ok(self.table.get(&this)?.id().0.into())
    }

    fn owner(&mut self, this: Resource<Held>) -> wasmtime::Result<WitId> {
        Ok(self.table.get(&this)?.owner().0.into())
    }

    fn clone(&mut self, this: Resource<Held>) -> wasmtime::Result<Resource<Held>> {
        let h = self.table.get(&this)?.clone();
        Ok(self.table.push(h)?)
    }

    fn drop(&mut self, this: Resource<Held>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl HostState {
    /// Stores a value a guest put (the `put` import).
    /// The error for a `put` of `len` bytes over the environment's limit.
    fn object_too_large(&self, len: usize) -> Option<WitError> {
        let max = self.env.limits.max_object_bytes;
        (len > max).then(|| {
            self.error(
                ErrorKind::InvalidArgument,
                format!("put of {len} bytes exceeds the job's object size limit of {max} bytes"),
            )
        })
    }

    fn put_shared(&mut self, v: SharedValue) -> wasmtime::Result<Result<Resource<Held>, WitError>> {
        if let Some(e) = self.object_too_large(v.data.len()) {
            for r in v.refs {
                self.table.delete(r)?;
            }
            return Ok(Err(e));
        }
        let mut refs = Vec::with_capacity(v.refs.len());
        for r in v.refs {
            refs.push(self.table.delete(r)?);
        }
        let held = self.rt.put(ObjectValue { data: v.data, refs });
        Ok(Ok(self.table.push(held)?))
    }

    /// Waits for the objects behind `refs` (the `get` import), lending this
    /// instance's CPU while it waits.
    async fn get_values(
        &mut self,
        refs: &[Resource<Held>],
        timeout_ms: Option<u64>,
    ) -> wasmtime::Result<Result<Vec<ObjectValue>, WitError>> {
        let mut ids = Vec::with_capacity(refs.len());
        for r in refs {
            ids.push(self.table.get(r)?.id());
        }
        let deadline = deadline_after(timeout_ms);
        let store = self.rt.store.clone();
        let blocking = ids.iter().any(|id| !store.is_ready(*id));
        if blocking {
            self.lend_cpu();
        }
        let mut values = Vec::with_capacity(ids.len());
        let mut failure = None;
        for id in ids {
            match store.get(id, deadline).await {
                Ok(v) => values.push(v),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if blocking {
            self.reclaim_cpu();
        }
        Ok(match failure {
            Some(e) => Err(e.into()),
            None => Ok(values),
        })
    }
}

/// The generated `objects` bindings; `put` and `get` are shadowed at link
/// time by [`link_shared_objects`] and only delegate here.
impl objects::Host for HostState {
    fn put(&mut self, v: Value) -> wasmtime::Result<Result<Resource<Held>, WitError>> {
        self.put_shared(SharedValue {
            data: Bytes::from(v.data),
            refs: v.refs,
        })
    }

    async fn get(
        &mut self,
        refs: Vec<Resource<Held>>,
        timeout_ms: Option<u64>,
    ) -> wasmtime::Result<Result<Vec<Value>, WitError>> {
        let values = match self.get_values(&refs, timeout_ms).await? {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        let mut out = Vec::with_capacity(values.len());
        for v in &values {
            out.push(to_wit_value(&mut self.table, v)?);
        }
        Ok(Ok(out))
    }

    async fn wait(
        &mut self,
        refs: Vec<Resource<Held>>,
        num_ready: u32,
        timeout_ms: Option<u64>,
    ) -> wasmtime::Result<Vec<bool>> {
        let mut ids = Vec::with_capacity(refs.len());
        for r in &refs {
            ids.push(self.table.get(r)?.id());
        }
        let store = self.rt.store.clone();
        let want = (num_ready as usize).min(ids.len());
        let mut ready: Vec<bool> = ids.iter().map(|id| store.is_ready(*id)).collect();
        let count = ready.iter().filter(|r| **r).count();
        if count >= want || timeout_ms == Some(0) {
            return Ok(ready);
        }
        self.lend_cpu();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut watchers = tokio::task::JoinSet::new();
        for (i, id) in ids.iter().enumerate().filter(|(i, _)| !ready[*i]) {
            let (store, tx, id) = (store.clone(), tx.clone(), *id);
            watchers.spawn(async move {
                store.ready(id).await;
                let _ = tx.send(i);
            });
        }
        drop(tx);
        let deadline = deadline_after(timeout_ms);
        let mut count = count;
        while count < want {
            let next = match deadline {
                Some(d) => match tokio::time::timeout_at(d.into(), rx.recv()).await {
                    Ok(n) => n,
                    Err(_) => break,
                },
                None => rx.recv().await,
            };
            let Some(i) = next else { break };
            ready[i] = true;
            count += 1;
        }
        watchers.abort_all();
        self.reclaim_cpu();
        Ok(ready)
    }
}

/// A guest's scheduling choice as the runtime takes it.
fn scheduling(s: WitScheduling) -> Scheduling {
    match s {
        WitScheduling::Default => Scheduling::Default,
        WitScheduling::Spread => Scheduling::Spread,
        WitScheduling::NodeAffinity(a) => Scheduling::NodeAffinity(NodeAffinity {
            node: NodeId(Id::new(a.node.hi, 0)),
            soft: a.soft,
        }),
        WitScheduling::PlacementGroup(t) => Scheduling::PlacementGroup {
            group: GroupId(t.group.into()),
            bundle: t.bundle,
        },
    }
}

impl HostState {
    fn submit_with(
        &mut self,
        function: String,
        args: Vec<Arg>,
        options: WitTaskOptions,
        scheduling: Scheduling,
    ) -> wasmtime::Result<Result<Vec<Resource<Held>>, WitError>> {
        let args = self.take_args(args)?;
        let res = match resources(options.cpus, options.memory, &options.custom, 1.0) {
            Ok(r) => r,
            Err(m) => return Ok(Err(self.error(ErrorKind::InvalidArgument, m))),
        };
        let opts = TaskOptions {
            num_returns: options.num_returns,
            resources: res,
            max_retries: options.max_retries,
            retry_exceptions: options.retry_exceptions,
            timeout: options.timeout_ms.map(Duration::from_millis),
            environment: options.environment,
            scheduling,
        };
        match self.rt.submit_task(
            &self.job,
            self.component,
            &self.env,
            function,
            args,
            opts,
            self.depth + 1,
        ) {
            Ok(held) => Ok(Ok(self.push_refs(held)?)),
            Err(e) => Ok(Err(e.into())),
        }
    }

    async fn create_with(
        &mut self,
        class: String,
        args: Vec<Arg>,
        options: ActorOptions,
        scheduling: Scheduling,
    ) -> wasmtime::Result<Result<WitId, WitError>> {
        let args = self.take_args(args)?;
        let res = match resources(options.cpus, options.memory, &options.custom, 0.0) {
            Ok(r) => r,
            Err(m) => return Ok(Err(self.error(ErrorKind::InvalidArgument, m))),
        };
        let name = options.name.map(|n| {
            let ns = options
                .namespace
                .unwrap_or_else(|| self.job.namespace.clone());
            (ns, n)
        });
        if let Some((ns, _)) = &name {
            if is_private_namespace(ns) && *ns != self.job.namespace {
                return Ok(Err(self.error(
                    ErrorKind::InvalidArgument,
                    format!("namespace `{ns}` is another job's private namespace; use a shared one (any name not starting with `job-`)"),
                )));
            }
        }
        Ok(self
            .rt
            .create_actor(
                &self.job,
                ActorSpec {
                    class,
                    caller_component: self.component,
                    args,
                    resources: res,
                    name,
                    max_restarts: options.max_restarts,
                    depth: self.depth + 1,
                    environment: options.environment,
                    caller_env: self.env.clone(),
                    placed: false,
                    scheduling,
                    scheduler: None,
                },
            )
            .await
            .map(|id| id.0.into())
            .map_err(Into::into))
    }
}

impl tasks::Host for HostState {
    fn submit(
        &mut self,
        function: String,
        args: Vec<Arg>,
        options: WitTaskOptions,
    ) -> wasmtime::Result<Result<Vec<Resource<Held>>, WitError>> {
        self.submit_with(function, args, options, Scheduling::Default)
    }

    fn submit_scheduled(
        &mut self,
        function: String,
        args: Vec<Arg>,
        options: WitTaskOptions,
        s: WitScheduling,
    ) -> wasmtime::Result<Result<Vec<Resource<Held>>, WitError>> {
        self.submit_with(function, args, options, scheduling(s))
    }
}

impl actors::Host for HostState {
    async fn create(
        &mut self,
        class: String,
        args: Vec<Arg>,
        options: ActorOptions,
    ) -> wasmtime::Result<Result<WitId, WitError>> {
        self.create_with(class, args, options, Scheduling::Default)
            .await
    }

    async fn create_scheduled(
        &mut self,
        class: String,
        args: Vec<Arg>,
        options: ActorOptions,
        s: WitScheduling,
    ) -> wasmtime::Result<Result<WitId, WitError>> {
        self.create_with(class, args, options, scheduling(s)).await
    }

    fn call(
        &mut self,
        actor: WitId,
        method: String,
        args: Vec<Arg>,
        num_returns: u32,
    ) -> wasmtime::Result<Result<Vec<Resource<Held>>, WitError>> {
        let args = self.take_args(args)?;
        match self.rt.call_actor(
            Some(self.job.id),
            ActorId(actor.into()),
            method,
            args,
            num_returns,
        ) {
            Ok(held) => Ok(Ok(self.push_refs(held)?)),
            Err(e) => Ok(Err(e.into())),
        }
    }

    async fn lookup(
        &mut self,
        name: String,
        namespace: Option<String>,
    ) -> wasmtime::Result<Option<WitId>> {
        let ns = namespace.unwrap_or_else(|| self.job.namespace.clone());
        // Another job's private namespace looks empty.
        if is_private_namespace(&ns) && ns != self.job.namespace {
            return Ok(None);
        }
        Ok(self.rt.lookup_actor(&ns, &name).await.map(|id| id.0.into()))
    }

    fn kill(&mut self, actor: WitId) -> wasmtime::Result<Result<(), WitError>> {
        Ok(self
            .rt
            .kill_actor(Some(self.job.id), ActorId(actor.into()))
            .map_err(Into::into))
    }
}

impl placement_groups::Host for HostState {
    async fn create(
        &mut self,
        bundles: Vec<WitBundle>,
        strategy: WitStrategy,
        timeout_ms: Option<u64>,
    ) -> wasmtime::Result<Result<WitId, WitError>> {
        let mut wanted = Vec::with_capacity(bundles.len());
        for (i, b) in bundles.iter().enumerate() {
            match resources(Some(b.cpus), b.memory, &b.custom, 0.0) {
                Ok(r) => wanted.push(r.unwrap_or_default()),
                Err(m) => {
                    return Ok(Err(
                        self.error(ErrorKind::InvalidArgument, format!("bundle {i}: {m}"))
                    ))
                }
            }
        }
        let strategy = match strategy {
            WitStrategy::Pack => Strategy::Pack,
            WitStrategy::Spread => Strategy::Spread,
            WitStrategy::StrictPack => Strategy::StrictPack,
            WitStrategy::StrictSpread => Strategy::StrictSpread,
        };
        // Waiting for room is blocking: the CPU goes back meanwhile.
        self.lend_cpu();
        let created = self
            .rt
            .create_group(
                self.job.id,
                wanted,
                strategy,
                timeout_ms.map(Duration::from_millis),
            )
            .await;
        self.reclaim_cpu();
        Ok(created.map(|g| g.0.into()).map_err(Into::into))
    }

    async fn bundle_nodes(
        &mut self,
        group: WitId,
    ) -> wasmtime::Result<Result<Vec<WitId>, WitError>> {
        let group = GroupId(group.into());
        Ok(match self.rt.group_info(group).await {
            Some(info) => Ok(info.bundles.iter().map(|(n, _)| n.0.into()).collect()),
            None => Err(self.error(
                ErrorKind::NotFound,
                format!(
                    "placement group {group} does not exist (it was removed, or never created)"
                ),
            )),
        })
    }

    async fn remove(&mut self, group: WitId) -> wasmtime::Result<Result<(), WitError>> {
        let group = GroupId(group.into());
        Ok(self.rt.remove_group(group).await.map_err(Into::into))
    }
}

impl logging::Host for HostState {
    fn log(&mut self, level: logging::Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            logging::Level::Trace => Level::Trace,
            logging::Level::Debug => Level::Debug,
            logging::Level::Info => Level::Info,
            logging::Level::Warn => Level::Warn,
            logging::Level::Error => Level::Error,
        };
        let line = LogLine {
            task: self.label.clone(),
            level,
            message,
        };
        match &self.job.log_sink {
            Some(sink) => sink(line),
            None => (self.rt.log_sink)(line),
        }
        Ok(())
    }
}

impl context::Host for HostState {
    fn job_id(&mut self) -> wasmtime::Result<WitId> {
        Ok(self.job.id.0.into())
    }

    fn task_id(&mut self) -> wasmtime::Result<WitId> {
        Ok(self.task_id.0.into())
    }

    fn node_id(&mut self) -> wasmtime::Result<WitId> {
        Ok(self.rt.ids.node_id().0.into())
    }

    fn actor_id(&mut self) -> wasmtime::Result<Option<WitId>> {
        Ok(self.actor_id.map(|a| a.0.into()))
    }
}
