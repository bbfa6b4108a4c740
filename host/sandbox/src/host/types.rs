//! `wrun:runtime/types`: the `object-ref` resource.

use wasmtime::component::Resource;
use wrun_objects::Held;

use crate::bindings::wrun::runtime::types;
use crate::bindings::WitId;
use crate::model::HostState;

impl types::Host for HostState {}

impl types::HostObjectRef for HostState {
    fn id(&mut self, this: Resource<Held>) -> wasmtime::Result<WitId> {
        Ok(self.table.get(&this)?.id().0.into())
    }

    fn owner(&mut self, this: Resource<Held>) -> wasmtime::Result<WitId> {
        Ok(self.table.get(&this)?.owner().as_id().into())
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
