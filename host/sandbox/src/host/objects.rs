//! `wrun:runtime/objects`: put, get and wait. `put` and `get` are re-linked
//! over the generated ones ([`link_shared_objects`]) to move object bytes as
//! shared `Bytes`, one copy each way.

use std::sync::Arc;

use bytes::Bytes;
use wasmtime::component::{Linker, Resource};
use wrun_core::ErrorKind;
use wrun_objects::{Held, ObjectValue, OverQuota};

use super::deadline_after;
use crate::bindings::wrun::runtime::objects;
use crate::bindings::{Value, WitError};
use crate::failure::cancelled_error;
use crate::model::HostState;
use crate::values::{GuestValue, SharedValue};

/// Replaces the generated `objects.put` and `objects.get` with versions that
/// move bytes as [`SharedValue`]s (the generated ones use `Vec<u8>`, which
/// costs a second copy of every object).
pub(crate) fn link_shared_objects(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
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
            let data = wrun_objects::copy_to_bytes(v.data.as_le_slice(&store));
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

impl HostState {
    /// The error for a `put` of `len` bytes over the environment's limit.
    pub(crate) fn object_too_large(&self, len: usize) -> Option<WitError> {
        let max = self.caller.env.limits.max_object_bytes;
        (len > max).then(|| {
            self.error(
                ErrorKind::InvalidArgument,
                format!("put of {len} bytes exceeds the job's object size limit of {max} bytes"),
            )
        })
    }

    /// A charge of `len` bytes to the job's object quota.
    pub(crate) fn charge(&self, len: usize) -> Result<wrun_objects::Charge, OverQuota> {
        self.caller.job.objects.charge(len)
    }

    /// The error for a put the job's object quota cannot take.
    pub(crate) fn over_quota(&self, over: OverQuota) -> WitError {
        self.error(ErrorKind::InvalidArgument, over.to_string())
    }

    /// Stores a value a guest put.
    fn put_shared(&mut self, v: SharedValue) -> wasmtime::Result<Result<Resource<Held>, WitError>> {
        let charged = match self.object_too_large(v.data.len()) {
            Some(e) => Err(e),
            None => self.charge(v.data.len()).map_err(|o| self.over_quota(o)),
        };
        let charge = match charged {
            Ok(c) => c,
            Err(e) => {
                for r in v.refs {
                    self.table.delete(r)?;
                }
                return Ok(Err(e));
            }
        };
        let mut refs = Vec::with_capacity(v.refs.len());
        for r in v.refs {
            refs.push(self.table.delete(r)?);
        }
        let held = self
            .objects
            .put_charged(ObjectValue { data: v.data, refs }, Some(charge));
        Ok(Ok(self.table.push(held)?))
    }

    /// The references behind borrowed handles, counted (the table is not
    /// borrowed across the wait).
    fn held_of(&self, refs: &[Resource<Held>]) -> wasmtime::Result<Vec<Held>> {
        refs.iter()
            .map(|r| Ok(self.table.get(r)?.clone()))
            .collect()
    }

    /// Waits for the objects behind `refs` (the `get` import), lending this
    /// instance's CPU while it waits.
    async fn get_values(
        &mut self,
        refs: &[Resource<Held>],
        timeout_ms: Option<u64>,
    ) -> wasmtime::Result<Result<Vec<ObjectValue>, WitError>> {
        let held = self.held_of(refs)?;
        let deadline = deadline_after(timeout_ms);
        let blocking = held.iter().any(|h| !h.is_ready());
        if blocking {
            self.lend_cpu();
        }
        let store = Arc::clone(&self.objects);
        let fetch = async {
            let mut values = Vec::with_capacity(held.len());
            for h in &held {
                values.push(store.get(h, deadline).await?);
            }
            Ok(values)
        };
        // A cancel of its call ends the wait: the guest sees it here.
        let outcome = match self.caller.control.clone().filter(|_| blocking) {
            Some(control) => tokio::select! {
                outcome = fetch => outcome,
                () = control.cancelled_for_guest() => {
                    self.cancel_delivered = true;
                    Err(cancelled_error(&self.label.to_string()))
                }
            },
            None => fetch.await,
        };
        if blocking {
            self.reclaim_cpu();
        }
        Ok(outcome.map_err(Into::into))
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
        for v in values {
            let mut refs = Vec::with_capacity(v.refs.len());
            for h in v.refs {
                refs.push(self.table.push(h)?);
            }
            out.push(Value {
                data: v.data.to_vec(),
                refs,
            });
        }
        Ok(Ok(out))
    }

    async fn wait(
        &mut self,
        refs: Vec<Resource<Held>>,
        num_ready: u32,
        timeout_ms: Option<u64>,
        fetch_local: bool,
    ) -> wasmtime::Result<Vec<bool>> {
        let held = self.held_of(&refs)?;
        let want = (num_ready as usize).min(held.len());
        let ready: Vec<bool> = held.iter().map(Held::is_ready).collect();
        if ready.iter().filter(|r| **r).count() >= want || timeout_ms == Some(0) {
            return Ok(ready);
        }
        self.lend_cpu();
        let borrowed: Vec<&Held> = held.iter().collect();
        let store = Arc::clone(&self.objects);
        let waiting = store.wait_where(&borrowed, want, deadline_after(timeout_ms), fetch_local);
        // A cancel of its call ends the wait with the objects ready so far
        // (the guest stops at its next epoch tick).
        let ready = match self.caller.control.clone() {
            Some(control) => tokio::select! {
                ready = waiting => ready,
                () = control.cancelled_for_guest() => held.iter().map(Held::is_ready).collect(),
            },
            None => waiting.await,
        };
        self.reclaim_cpu();
        Ok(ready)
    }
}
