//! Streaming calls (Ray's `num_returns="streaming"`): a task or method that
//! yields its results one at a time, and the generator its caller reads them
//! from as they are produced.

use std::marker::PhantomData;
use std::time::Duration;

use serde::Serialize;

use crate::bindings::wrun::runtime::tasks;
use crate::export::WitResult;
use crate::task::{Arg, TaskOptions};
use crate::{codec, Error, ObjectRef, Result, Scheduling};

/// The results of a streaming call, one [`ObjectRef`] per item in the order
/// they were yielded, each available as soon as it is stored (Ray's
/// `ObjectRefGenerator`).
///
/// Iterating yields `Ok(ref)` per item and ends after the last one. When the
/// call fails after `k` items (an `Err` item, a trap, a cancel), item `k` is a
/// reference whose `get` returns that error, and the stream ends there; an
/// `Err` from the iterator itself means the stream could not be read (for
/// [`ObjectRefGenerator::next_timeout`], a timeout).
pub struct ObjectRefGenerator<T> {
    stream: ObjectRef<Vec<ObjectRef<T>>>,
    next: u32,
    ended: bool,
    _type: PhantomData<fn() -> T>,
}

impl<T> ObjectRefGenerator<T> {
    pub(crate) fn new(stream: ObjectRef<Vec<ObjectRef<T>>>) -> Self {
        ObjectRefGenerator {
            stream,
            next: 0,
            ended: false,
            _type: PhantomData,
        }
    }

    /// The next item's reference, waiting at most `timeout` (forever when
    /// `None`) for the call to yield it; `Ok(None)` once the stream ended.
    pub fn next_timeout(&mut self, timeout: Option<Duration>) -> Result<Option<ObjectRef<T>>> {
        if self.ended {
            return Ok(None);
        }
        let ms = timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX));
        match tasks::stream_next(self.stream.raw(), self.next, ms)? {
            Some(h) => {
                self.next += 1;
                Ok(Some(ObjectRef::from_handle(h)))
            }
            None => {
                self.ended = true;
                Ok(None)
            }
        }
    }

    /// The stream's own reference: once the call ends, its value is the list
    /// of every item's reference (it may be passed to other tasks).
    pub fn stream_ref(&self) -> &ObjectRef<Vec<ObjectRef<T>>> {
        &self.stream
    }

    /// Cancels the call (as [`crate::cancel`] on any of its results).
    pub fn cancel(&self) -> Result<()> {
        self.stream.cancel()
    }
}

impl<T> Iterator for ObjectRefGenerator<T> {
    type Item = Result<ObjectRef<T>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_timeout(None).transpose()
    }
}

/// Yields one item of the streaming task or method running now: stored at
/// once, readable by the caller while this call goes on. Tasks marked
/// `#[wrun::task(streaming)]` and methods marked `#[streaming]` yield what
/// their iterator produces; call this directly only from code they run. An
/// error outside a streaming call.
pub fn yield_item<T: Serialize + ?Sized>(item: &T) -> Result<()> {
    let v = codec::encode(item).map_err(|m| Error::invalid("", m))?;
    Ok(tasks::yield_item(v)?)
}

/// Submits a streaming task of this job's component.
#[doc(hidden)]
pub fn submit_streaming<T>(
    function: &str,
    args: Vec<Arg>,
    options: &TaskOptions,
) -> Result<ObjectRefGenerator<T>> {
    let args = args.into_iter().map(|a| a.0).collect();
    let scheduling: Scheduling = options.scheduling;
    let stream = tasks::submit_streaming(function, args, &options.to_wit(), scheduling.to_wit())?;
    Ok(ObjectRefGenerator::new(ObjectRef::from_handle(stream)))
}

/// Yields one item of a streaming task or method, naming it in errors
/// (generated code).
#[doc(hidden)]
pub fn yield_ret<T: Serialize>(task: &str, item: &T) -> WitResult<()> {
    let v = codec::encode(item)
        .map_err(|m| Error::invalid(task, format!("item yielded by {task}: {m}")))?;
    tasks::yield_item(v)
}
