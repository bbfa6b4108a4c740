//! The sandbox: everything that touches wasmtime. The engine (pooling
//! allocator, epoch interruption), the compiled-component cache, the one
//! `bindgen!` of the `job` world, the host side of every WIT import (one file
//! per interface in `host/`), instances with their limits, what a guest's
//! failure becomes, and warm instances.
//!
//! The sandbox calls back into the runtime only through [`GuestCalls`] (as
//! wasmtime-wasi's host code depends only on `WasiView`): it knows no
//! scheduler policy, actor registry or cluster.
//!
//! **Architecture Invariant:** this is the only crate that names wasmtime;
//! nothing it exports is a wasmtime type.

#![warn(missing_docs)]

mod bindings;
mod cache;
mod control;
mod engine;
mod exports;
mod failure;
mod guest_io;
mod host;
mod instance;
mod limits;
mod log_budget;
mod model;
mod scratch;
mod state;
mod values;
mod warm;
mod wasi;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Semaphore;
use wasmtime::component::Linker;
use wrun_core::logs::LogSink;
use wrun_core::JobId;
use wrun_objects::ObjectStore;

pub use cache::{build_marks, BuildMarks, CacheOutcome, CompileNotice, ComponentCache, LoadError};
pub use control::{CallKind, CancelCause, PeerRun, TaskControl};
pub use engine::EngineOptions;
pub use instance::{ActorInstance, CallError, InstanceSpec};
pub use log_budget::LogBudget;
pub use model::{
    Caller, GuestCalls, HostState, JobComponent, JobOnNode, LoadedJob, Prepared, Target,
};

use engine::WasmEngine;
use model::GuestExports;
use model::HostState as State;

/// How a node's sandbox is set up.
#[derive(Clone)]
pub struct SandboxOptions {
    /// The engine's sizes.
    pub engine: EngineOptions,
    /// Where compiled components are cached.
    pub cache_dir: PathBuf,
    /// Where per-task scratch directories are made (and removed).
    pub scratch_dir: PathBuf,
    /// Idle warm instances kept per (job, component, environment).
    pub warm_per_kind: usize,
    /// Where guest lines go unless their job has a sink of its own.
    pub log_sink: LogSink,
    /// Told before a component not in the cache is compiled.
    pub on_compile: Option<CompileNotice>,
}

/// The wasmtime side of one node.
pub struct Sandbox {
    engine: WasmEngine,
    linker: Linker<State>,
    cache: ComponentCache,
    /// Instance slots of the pool; waiting here instead of failing when full.
    slots: Arc<Semaphore>,
    warm: warm::WarmPool,
    objects: Arc<ObjectStore>,
    options: SandboxOptions,
    /// Components loaded compiled from the cache, and compiled now.
    loads: [std::sync::atomic::AtomicU64; 2],
}

/// What the sandbox of a node holds and has done, for its metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SandboxFigures {
    /// Instance slots of the pool.
    pub max_instances: usize,
    /// Slots taken: instances running, and idle warm ones.
    pub instances_in_use: usize,
    /// Idle warm instances among them.
    pub warm_idle: usize,
    /// Components found compiled in the cache.
    pub cache_hits: u64,
    /// Components compiled.
    pub compiled: u64,
}

impl Sandbox {
    /// An engine with its pool and ticker, and the linker of the `job` world
    /// and WASI; guests put and get objects in `objects`.
    pub fn new(options: SandboxOptions, objects: Arc<ObjectStore>) -> anyhow::Result<Self> {
        let engine = WasmEngine::new(&options.engine)?;
        let mut linker = Linker::<State>::new(&engine.engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| anyhow::anyhow!("linking WASI: {e:#}"))?;
        bindings::Job::add_to_linker::<State, wasmtime::component::HasSelf<State>>(
            &mut linker,
            |s| s,
        )
        .map_err(|e| anyhow::anyhow!("linking the wrun interfaces: {e:#}"))?;
        host::objects::link_shared_objects(&mut linker)
            .map_err(|e| anyhow::anyhow!("linking the object imports: {e:#}"))?;
        Ok(Sandbox {
            cache: ComponentCache::new(options.cache_dir.clone())
                .with_compile_notice(options.on_compile.clone()),
            slots: Arc::new(Semaphore::new(options.engine.max_instances as usize)),
            engine,
            linker,
            warm: warm::WarmPool::default(),
            loads: Default::default(),
            objects,
            options,
        })
    }

    /// Compiles (or loads from the cache) and pre-links a component,
    /// refusing anything that is not a component of the `job` world; tells
    /// `notice` (else the sandbox's own) before compiling.
    /// Blocking: run it off the async workers where that matters.
    pub fn prepare(
        &self,
        bytes: &[u8],
        what: &str,
        notice: Option<&CompileNotice>,
    ) -> Result<Prepared, LoadError> {
        let (component, cache, hash) = self.cache.load(&self.engine.engine, bytes, what, notice)?;
        let counted = &self.loads[usize::from(cache == CacheOutcome::Compiled)];
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let wrong_world = |reason: String| LoadError::WrongWorld {
            what: what.to_string(),
            reason,
        };
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| wrong_world(format!("{e:#}")))?;
        // The generated bindings check every import and export of the world.
        bindings::JobPre::new(pre.clone()).map_err(|e| wrong_world(format!("{e:#}")))?;
        let guest = component
            .get_export_index(None, "wrun:runtime/guest@0.1.0")
            .ok_or_else(|| wrong_world("it exports no wrun:runtime/guest".into()))?;
        let export = |name: &str| {
            component
                .get_export_index(Some(&guest), name)
                .ok_or_else(|| wrong_world(format!("its guest interface has no `{name}`")))
        };
        let exports = GuestExports {
            main: export("main")?,
            run_task: export("run-task")?,
            construct: export("construct")?,
            call_method: export("call-method")?,
        };
        Ok(Prepared {
            pre,
            exports,
            hash,
            cache,
        })
    }

    /// Drops the idle instances of a job that ended.
    pub fn drop_job(&self, job: JobId) {
        self.warm.drop_job(job);
    }

    /// The pool's use and the component cache's counts.
    pub fn figures(&self) -> SandboxFigures {
        let max = self.options.engine.max_instances as usize;
        let load = |i: usize| self.loads[i].load(std::sync::atomic::Ordering::Relaxed);
        SandboxFigures {
            max_instances: max,
            instances_in_use: max.saturating_sub(self.slots.available_permits()),
            warm_idle: self.warm.idle_count(),
            cache_hits: load(0),
            compiled: load(1),
        }
    }

    /// Instance slots in the pool.
    pub fn max_instances(&self) -> u32 {
        self.options.engine.max_instances
    }

    /// Where compiled components (and what else a node caches) live.
    pub fn cache_dir(&self) -> &std::path::Path {
        &self.options.cache_dir
    }

    /// The store guests put their objects in.
    pub fn objects(&self) -> &Arc<ObjectStore> {
        &self.objects
    }
}
