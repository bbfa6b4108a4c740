//! Values across the boundary: the WIT `value` record with its bytes in a
//! shared [`Bytes`], lowered straight from the store's buffer, and lifted
//! from the guest with one copy.

use bytes::Bytes;
use wasmtime::component::{Resource, ResourceTable};
use wrun_objects::{Held, ObjectValue};

use crate::bindings::Value;

/// The WIT `value` record with its bytes in a shared [`Bytes`]: lowered into
/// the guest straight from the store's buffer, so an argument or a `get`
/// copies the bytes once.
#[derive(wasmtime::component::ComponentType, wasmtime::component::Lower)]
#[component(record)]
pub(crate) struct SharedValue {
    #[component(name = "data")]
    pub(crate) data: Bytes,
    #[component(name = "refs")]
    pub(crate) refs: Vec<Resource<Held>>,
}

/// The WIT `value` record as a guest's `put` passes it: the bytes stay in
/// guest memory until copied, with one `memcpy`, into the store's buffer.
#[derive(wasmtime::component::ComponentType, wasmtime::component::Lift)]
#[component(record)]
pub(crate) struct GuestValue {
    #[component(name = "data")]
    pub(crate) data: wasmtime::component::WasmList<u8>,
    #[component(name = "refs")]
    pub(crate) refs: Vec<Resource<Held>>,
}

/// A stored value as the guest will see it: its bytes shared, and a new
/// counted handle for each reference it contains.
pub(crate) fn to_shared(
    table: &mut ResourceTable,
    v: &ObjectValue,
) -> wasmtime::Result<SharedValue> {
    let mut refs = Vec::with_capacity(v.refs.len());
    for h in &v.refs {
        refs.push(table.push(h.clone())?);
    }
    Ok(SharedValue {
        data: v.data.clone(),
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
