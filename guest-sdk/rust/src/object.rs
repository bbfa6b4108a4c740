//! Object references and the object store: `put`, `get`, `wait`.

use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;
use std::time::Duration;

use serde::de::{DeserializeOwned, Error as _};
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_bytes::ByteBuf;

use crate::bindings::wrun::runtime::{objects, types as wit};
use crate::codec::{self, Ext, EXT_OBJECT_REF};
use crate::handle::Handle;
use crate::{Error, Id, Result};

/// A reference to an immutable object of type `T` in the store.
///
/// Holding one keeps the object alive; clones share one host handle. As an
/// argument or inside a value it travels as a reference (extension type 1),
/// never as its contents.
///
/// References compare and hash by object id.
pub struct ObjectRef<T> {
    handle: Rc<Handle>,
    _type: PhantomData<fn() -> T>,
}

impl<T> ObjectRef<T> {
    pub(crate) fn from_handle(handle: wit::ObjectRef) -> Self {
        Self::from_rc(Rc::new(Handle::new(handle)))
    }

    pub(crate) fn from_rc(handle: Rc<Handle>) -> Self {
        ObjectRef {
            handle,
            _type: PhantomData,
        }
    }

    /// The object's identifier.
    pub fn id(&self) -> Id {
        *self.handle.id.get_or_init(|| self.handle.raw.id().into())
    }

    /// The worker that owns the object.
    pub fn owner(&self) -> Id {
        self.handle.raw.owner().into()
    }

    /// The same reference, seen as holding a `U` (decoding is checked on get).
    pub fn cast<U>(self) -> ObjectRef<U> {
        ObjectRef::from_rc(self.handle)
    }

    /// A new owned host handle to the object, e.g. to give away as an argument.
    pub(crate) fn new_handle(&self) -> wit::ObjectRef {
        // The WIT `clone` method: a second host handle, not an `Rc` clone.
        self.handle.raw.clone()
    }

    pub(crate) fn raw(&self) -> &wit::ObjectRef {
        &self.handle.raw
    }

    /// Cancels the call that produces this object, and the tasks it
    /// submitted (Ray's `ray.cancel(ref)`); see [`cancel`].
    pub fn cancel(&self) -> Result<()> {
        cancel(self, false, true)
    }
}

/// Cancels the call that produces `r` (Ray's `ray.cancel(ref, force,
/// recursive)`): a task that has not started never runs; a running one is
/// interrupted (running its own code, at its next epoch tick; blocked in a
/// `get`, which fails with [`crate::ErrorKind::TaskCancelled`] so it may
/// clean up and return); `force` drops its instance at once. Getting its results then
/// fails with `task-cancelled`, as do the calls waiting on them; it is never
/// retried. `recursive` also cancels the tasks it submitted. A finished
/// call, or an object no call produces, is left alone. An actor method is
/// cancelled only while it waits in the actor's queue; `force` on one is
/// refused.
pub fn cancel<T>(r: &ObjectRef<T>, force: bool, recursive: bool) -> Result<()> {
    Ok(crate::bindings::wrun::runtime::tasks::cancel(
        r.raw(),
        force,
        recursive,
    )?)
}

impl<T: DeserializeOwned> ObjectRef<T> {
    /// Waits for the object and returns its value.
    pub fn get(&self) -> Result<T> {
        get(self)
    }

    /// Like [`ObjectRef::get`], failing with `get-timeout` after `timeout`.
    pub fn get_timeout(&self, timeout: Duration) -> Result<T> {
        let mut v = get_all_timeout(std::slice::from_ref(self), Some(timeout))?;
        Ok(v.remove(0))
    }
}

impl<T> Clone for ObjectRef<T> {
    fn clone(&self) -> Self {
        ObjectRef::from_rc(self.handle.clone())
    }
}

impl<T> PartialEq for ObjectRef<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.handle, &other.handle) || self.id() == other.id()
    }
}

impl<T> Eq for ObjectRef<T> {}

impl<T> std::hash::Hash for ObjectRef<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl<T> fmt::Debug for ObjectRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectRef({})", self.id())
    }
}

impl<T> Serialize for ObjectRef<T> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let index = codec::push_ref(|| self.new_handle())
            .ok_or_else(|| S::Error::custom("an ObjectRef can only be encoded by wrun"))?;
        Ext((EXT_OBJECT_REF, ByteBuf::from(index.to_be_bytes().to_vec()))).serialize(s)
    }
}

impl<'de, T> Deserialize<'de> for ObjectRef<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let Ext((tag, payload)) = Ext::deserialize(d)
            .map_err(|e| D::Error::custom(format!("expected an object reference: {e}")))?;
        if tag != EXT_OBJECT_REF {
            return Err(D::Error::custom(format!(
                "expected an object reference (extension type 1), found extension type {tag}"
            )));
        }
        let index: [u8; 4] = payload
            .as_slice()
            .try_into()
            .map_err(|_| D::Error::custom("object reference payload is not a 4-byte index"))?;
        let handle = codec::take_ref(u32::from_be_bytes(index)).map_err(D::Error::custom)?;
        Ok(ObjectRef::from_rc(handle))
    }
}

fn timeout_ms(timeout: Option<Duration>) -> Option<u64> {
    timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX))
}

/// Stores a value and returns a reference to it.
pub fn put<T: Serialize>(value: &T) -> Result<ObjectRef<T>> {
    let v = codec::encode(value).map_err(|m| Error::invalid("put", m))?;
    let handle = objects::put(v)?;
    Ok(ObjectRef::from_handle(handle))
}

/// Waits for an object and returns its value.
pub fn get<T: DeserializeOwned>(r: &ObjectRef<T>) -> Result<T> {
    let mut v = get_all(std::slice::from_ref(r))?;
    Ok(v.remove(0))
}

/// Waits for all the objects and returns their values, in order.
pub fn get_all<T: DeserializeOwned>(refs: &[ObjectRef<T>]) -> Result<Vec<T>> {
    get_all_timeout(refs, None)
}

/// Like [`get_all`], failing with `get-timeout` once `timeout` has passed.
pub fn get_all_timeout<T: DeserializeOwned>(
    refs: &[ObjectRef<T>],
    timeout: Option<Duration>,
) -> Result<Vec<T>> {
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let raw: Vec<&wit::ObjectRef> = refs.iter().map(ObjectRef::raw).collect();
    let values = objects::get(&raw, timeout_ms(timeout))?;
    if values.len() != refs.len() {
        return Err(Error::new(
            crate::ErrorKind::Internal,
            "get",
            format!("asked for {} values, got {}", refs.len(), values.len()),
        ));
    }
    values
        .into_iter()
        .zip(refs)
        .map(|(v, r)| {
            codec::decode(v).map_err(|m| Error::invalid("get", format!("object {}: {m}", r.id())))
        })
        .collect()
}

/// What [`wait`] returns: `(ready, pending)`.
pub type Ready<T> = (Vec<ObjectRef<T>>, Vec<ObjectRef<T>>);

/// Waits until `num_ready` of the objects are ready or `timeout` passes, and
/// splits them into `(ready, pending)`, each in the original order. An
/// object another node owns is ready once it is here (waiting pulls it, Ray's
/// `fetch_local=True`); see [`wait_fetch_local`].
pub fn wait<T>(
    refs: &[ObjectRef<T>],
    num_ready: usize,
    timeout: Option<Duration>,
) -> Result<Ready<T>> {
    wait_fetch_local(refs, num_ready, timeout, true)
}

/// [`wait`]; with `fetch_local` false, an object another node owns is ready
/// once its owner has it, and it is not pulled here (Ray's
/// `wait(fetch_local=False)`).
pub fn wait_fetch_local<T>(
    refs: &[ObjectRef<T>],
    num_ready: usize,
    timeout: Option<Duration>,
    fetch_local: bool,
) -> Result<Ready<T>> {
    if num_ready > refs.len() {
        return Err(Error::invalid(
            "wait",
            format!(
                "num_ready {num_ready} exceeds the {} references",
                refs.len()
            ),
        ));
    }
    if refs.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let raw: Vec<&wit::ObjectRef> = refs.iter().map(ObjectRef::raw).collect();
    let flags = objects::wait(&raw, num_ready as u32, timeout_ms(timeout), fetch_local);
    let (mut ready, mut pending) = (Vec::new(), Vec::new());
    for (i, r) in refs.iter().enumerate() {
        if flags.get(i).copied().unwrap_or(false) {
            ready.push(r.clone());
        } else {
            pending.push(r.clone());
        }
    }
    Ok((ready, pending))
}
