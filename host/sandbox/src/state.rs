//! An instance's state at work: WASI's view of it, and the helpers every
//! host interface uses (labels, errors, handles in and out, lending the CPU).

use wasmtime::component::Resource;
use wasmtime_wasi::{WasiCtxView, WasiView};
use wrun_core::logs::{Label, LogLine};
use wrun_core::{ErrorKind, TaskError};
use wrun_objects::{Held, TaskArg};

use crate::bindings::{Arg, WitError};
use crate::model::HostState;
use crate::values::from_wit_value;

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

    /// The one reference a streaming call makes: its stream.
    pub(crate) fn one_stream(
        &mut self,
        mut refs: Vec<Resource<Held>>,
    ) -> wasmtime::Result<Result<Resource<Held>, WitError>> {
        if refs.len() == 1 {
            return Ok(Ok(refs.remove(0)));
        }
        let n = refs.len();
        for r in refs {
            self.table.delete(r)?;
        }
        Ok(Err(self.error(
            ErrorKind::Internal,
            format!("a streaming call made {n} references, not 1"),
        )))
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
