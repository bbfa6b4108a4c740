//! The guest's `guest` exports as typed functions, type-checked once when
//! an instance is made and called with arguments lowered from stored bytes.

use wasmtime::component::{ComponentExportIndex, Func, Instance, TypedFunc};
use wasmtime::Store;

use crate::bindings::{Value, WitError};
use crate::model::HostState;
use crate::values::SharedValue;

/// `run-task` and `call-method`: `(name, list<value>) -> result<list<value>, error>`.
pub(crate) type ValuesFn<'a> =
    TypedFunc<(&'a str, &'a [SharedValue]), (Result<Vec<Value>, WitError>,)>;
/// `construct`: `(class, list<value>) -> result<_, error>`.
pub(crate) type ConstructFn<'a> = TypedFunc<(&'a str, &'a [SharedValue]), (Result<(), WitError>,)>;

/// A `guest` export, type-checked once when its instance was made.
#[derive(Clone, Copy)]
pub(crate) struct Checked(Func);

impl Checked {
    pub(crate) fn values<'a>(self) -> ValuesFn<'a> {
        // SAFETY: `Checked::values_of` type-checked the function as a `ValuesFn`
        // (the lifetime of borrowed parameters does not change their types).
        unsafe { TypedFunc::new_unchecked(self.0) }
    }

    pub(crate) fn construct<'a>(self) -> ConstructFn<'a> {
        // SAFETY: as above, checked as a `ConstructFn` by `Checked::construct_of`.
        unsafe { TypedFunc::new_unchecked(self.0) }
    }

    /// The export at `index`, checked to be a `ValuesFn`.
    pub(crate) fn values_of(
        store: &mut Store<HostState>,
        inst: &Instance,
        index: ComponentExportIndex,
    ) -> wasmtime::Result<Self> {
        let f = inst
            .get_func(&mut *store, index)
            .ok_or_else(|| wasmtime::format_err!("the guest export is missing"))?;
        f.typed::<(&str, &[SharedValue]), (Result<Vec<Value>, WitError>,)>(&*store)?;
        Ok(Checked(f))
    }

    /// The export at `index`, checked to be a `ConstructFn`.
    pub(crate) fn construct_of(
        store: &mut Store<HostState>,
        inst: &Instance,
        index: ComponentExportIndex,
    ) -> wasmtime::Result<Self> {
        let f = inst
            .get_func(&mut *store, index)
            .ok_or_else(|| wasmtime::format_err!("the guest export is missing"))?;
        f.typed::<(&str, &[SharedValue]), (Result<(), WitError>,)>(&*store)?;
        Ok(Checked(f))
    }
}
