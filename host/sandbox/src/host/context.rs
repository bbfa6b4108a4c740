//! `wrun:runtime/context`: who and where the guest is.

use crate::bindings::wrun::runtime::context;
use crate::bindings::WitId;
use crate::model::HostState;

impl context::Host for HostState {
    fn job_id(&mut self) -> wasmtime::Result<WitId> {
        Ok(self.caller.job.id.0.into())
    }

    fn task_id(&mut self) -> wasmtime::Result<WitId> {
        Ok(self.task_id.0.into())
    }

    fn node_id(&mut self) -> wasmtime::Result<WitId> {
        Ok(self.node.as_id().into())
    }

    fn actor_id(&mut self) -> wasmtime::Result<Option<WitId>> {
        Ok(self.actor_id.map(|a| a.0.into()))
    }
}
