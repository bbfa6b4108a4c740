//! The data of one guest instance's store: its resource table (the object
//! references it holds), its WASI context, its limits, who it is, and the
//! runtime it calls.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::{Resource, ResourceTable};
use wasmtime::ResourceLimiter;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wrun_core::logs::{Label, LogLine, LogSink};
use wrun_core::{ActorId, ErrorKind, NodeId, TaskError, TaskId};
use wrun_objects::{Held, ObjectStore, TaskArg};
use wrun_sched::Grant;

use crate::bindings::{Arg, WitError};
use crate::calls::{Caller, GuestCalls};
use crate::guest_io::{LabelCell, StderrTail};
use crate::instance::ScratchDir;
use crate::values::from_wit_value;

/// Per-instance memory cap; remembers being hit so the error can say so.
pub(crate) struct MemoryLimit {
    pub(crate) limit: usize,
    pub(crate) hit: bool,
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
    pub(crate) objects: Arc<ObjectStore>,
    pub(crate) calls: Arc<dyn GuestCalls>,
    /// Its job, component, environment and depth.
    pub(crate) caller: Caller,
    pub(crate) node: NodeId,
    pub(crate) task_id: TaskId,
    pub(crate) actor_id: Option<ActorId>,
    /// The task or method running now, for logs and errors.
    pub(crate) label: Label,
    /// The same, as the instance's output streams see it.
    pub(crate) label_cell: LabelCell,
    /// Where its `logging.log` lines go.
    pub(crate) log_sink: LogSink,
    /// The resources this instance holds; its CPU is lent out while blocked.
    pub(crate) grant: Option<Grant>,
    /// Past this instant the running guest is interrupted.
    pub(crate) deadline: Option<Instant>,
    pub(crate) timed_out: bool,
    /// Epoch ticks of running time left before the CPU-time limit.
    pub(crate) cpu_ticks_left: Option<u64>,
    pub(crate) cpu_exceeded: bool,
    pub(crate) stderr_tail: StderrTail,
    /// Held for its `Drop`, which removes the directory with the instance.
    #[allow(dead_code, reason = "held for its Drop")]
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

impl HostState {
    /// Names the task or method now running (logs, errors, output lines).
    pub(crate) fn set_label(&mut self, label: Label) {
        self.label_cell.set(label.clone());
        self.label = label;
    }

    /// An error of the running task or method.
    pub(crate) fn error(&self, kind: ErrorKind, message: impl Into<String>) -> WitError {
        TaskError::new(kind, self.label.to_string(), message).into()
    }

    /// Takes the guest's arguments, with ownership of the handles it passes.
    pub(crate) fn take_args(&mut self, args: Vec<Arg>) -> wasmtime::Result<Vec<TaskArg>> {
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            out.push(match a {
                Arg::Inline(v) => TaskArg::Value(from_wit_value(&mut self.table, v)?),
                Arg::ByRef(r) => TaskArg::Ref(self.table.delete(r)?),
            });
        }
        Ok(out)
    }

    /// Hands references to the guest.
    pub(crate) fn push_refs(&mut self, held: Vec<Held>) -> wasmtime::Result<Vec<Resource<Held>>> {
        held.into_iter().map(|h| Ok(self.table.push(h)?)).collect()
    }

    /// Gives the instance's CPU back while it blocks.
    pub(crate) fn lend_cpu(&mut self) {
        if let Some(g) = &mut self.grant {
            g.lend_cpu();
        }
    }

    /// Takes it back when it resumes.
    pub(crate) fn reclaim_cpu(&mut self) {
        if let Some(g) = &mut self.grant {
            g.reclaim_cpu();
        }
    }

    /// Writes a guest log line.
    pub(crate) fn write_line(&self, line: LogLine) {
        (self.log_sink)(line);
    }
}
