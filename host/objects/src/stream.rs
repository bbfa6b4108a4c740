//! The items of a streaming call (Ray's `num_returns="streaming"`): objects
//! its producer yields one at a time, readable by index as soon as each is
//! stored, while the call still runs.
//!
//! A streaming call has one result object, *the stream*. While the call
//! runs, its items live here (found through the stream object's producer);
//! when it ends, the stream object is fulfilled with the list of its items'
//! references ([`stream_value`]), so the items live exactly as long as the
//! stream object does and a reader after the end (or on another node) reads
//! them from its value. A call that fails after `k` items gets one more
//! item, an object failed with its error: reading item `k` raises it and the
//! stream then ends, as a Ray generator's `next` does.

use std::time::Instant;

use parking_lot::Mutex;
use tokio::sync::Notify;
use wrun_core::{ErrorKind, TaskError};

use crate::{Held, ObjectStore, ObjectValue};

/// Why a yield was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The call ended already.
    Ended,
    /// The stream holds its most items.
    Full,
}

/// The items a streaming call yielded so far, and whether it ended.
#[derive(Default)]
pub struct Stream {
    state: Mutex<StreamState>,
    changed: Notify,
}

#[derive(Default)]
struct StreamState {
    items: Vec<Held>,
    /// Items the running attempt yielded (a retried attempt's first ones
    /// are the items an earlier attempt stored already: skipped, as Ray does).
    this_attempt: usize,
    ended: bool,
}

impl Stream {
    /// A new attempt of the call starts yielding from the first item again.
    pub fn begin_attempt(&self) {
        self.state.lock().this_attempt = 0;
    }

    /// Appends a yielded item, unless an earlier attempt of the call already
    /// yielded this one; refused once the stream has ended (a yield after
    /// the call's end) or holds `max_items` already.
    pub fn push(&self, item: Held, max_items: usize) -> Result<(), Refused> {
        let mut s = self.state.lock();
        if s.ended {
            return Err(Refused::Ended);
        }
        if s.this_attempt >= max_items {
            return Err(Refused::Full);
        }
        s.this_attempt += 1;
        if s.this_attempt > s.items.len() {
            s.items.push(item);
            drop(s);
            self.changed.notify_waiters();
        }
        Ok(())
    }

    /// Ends the stream: its items, with one object failed with the call's
    /// error after them when it failed.
    pub fn end(&self, store: &std::sync::Arc<ObjectStore>, error: Option<TaskError>) -> Vec<Held> {
        let mut s = self.state.lock();
        if !s.ended {
            s.ended = true;
            if let Some(e) = error {
                let (held, promise) = store.pending();
                promise.fulfil(Err(e));
                s.items.push(held);
            }
        }
        let items = s.items.clone();
        drop(s);
        self.changed.notify_waiters();
        items
    }

    /// Item `index` once it is stored, or `None` once the stream has ended
    /// with fewer items; a get-timeout error past `deadline`.
    pub async fn item(
        &self,
        index: usize,
        deadline: Option<Instant>,
    ) -> Result<Option<Held>, TaskError> {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            {
                let s = self.state.lock();
                if let Some(h) = s.items.get(index) {
                    return Ok(Some(h.clone()));
                }
                if s.ended {
                    return Ok(None);
                }
            }
            match deadline {
                Some(d) => {
                    if tokio::time::timeout_at(d.into(), changed).await.is_err() {
                        return Err(TaskError::new(
                            ErrorKind::GetTimeout,
                            "stream",
                            format!(
                                "item {index} of the stream was not yielded before the timeout"
                            ),
                        ));
                    }
                }
                None => changed.await,
            }
        }
    }
}

/// The value of an ended stream object: a list of its items' references.
pub fn stream_value(items: Vec<Held>) -> ObjectValue {
    ObjectValue {
        data: wrun_core::values::ref_list(items.len()).into(),
        refs: items,
    }
}

/// Item `index` of an ended stream, from the stream object's value.
pub fn item_of_value(value: &ObjectValue, index: usize) -> Option<Held> {
    value.refs.get(index).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    use wrun_core::{IdGen, NodeId};

    use crate::{NoTransport, StoreConfig};

    fn store() -> Arc<ObjectStore> {
        let dir = std::env::temp_dir().join("wrun-stream-tests");
        ObjectStore::new(
            Arc::new(IdGen::for_node(NodeId(1))),
            StoreConfig {
                memory_cap: 1 << 20,
                spill_dir: dir,
            },
            Arc::new(NoTransport),
        )
    }

    #[tokio::test]
    async fn a_reader_gets_each_item_as_it_is_yielded_then_the_end() {
        let store = store();
        let stream = Arc::new(Stream::default());
        let reader = tokio::spawn({
            let stream = stream.clone();
            async move {
                let mut got = Vec::new();
                let mut i = 0;
                while let Some(h) = stream.item(i, None).await.unwrap() {
                    got.push(h.get(None).await.unwrap().data);
                    i += 1;
                }
                got
            }
        });
        for n in 0..3u8 {
            stream
                .push(store.put(ObjectValue::from_bytes(vec![n])), 10)
                .unwrap();
            tokio::task::yield_now().await;
        }
        let items = stream.end(&store, None);
        assert_eq!(items.len(), 3);
        let got = tokio::time::timeout(Duration::from_secs(5), reader)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, vec![vec![0u8], vec![1], vec![2]]);
        assert_eq!(
            stream.push(store.put(ObjectValue::from_bytes(vec![9])), 10),
            Err(Refused::Ended),
            "no yield after the end"
        );
    }

    #[tokio::test]
    async fn a_failure_after_k_items_is_item_k_and_then_the_stream_ends() {
        let store = store();
        let stream = Stream::default();
        stream
            .push(store.put(ObjectValue::from_bytes(vec![1])), 10)
            .unwrap();
        let e = TaskError::new(ErrorKind::Application, "gen", "boom");
        let items = stream.end(&store, Some(e));
        assert_eq!(items.len(), 2);
        let failed = stream.item(1, None).await.unwrap().unwrap();
        assert_eq!(failed.get(None).await.unwrap_err().message, "boom");
        assert!(stream.item(2, None).await.unwrap().is_none());
        let value = stream_value(items);
        assert_eq!(
            wrun_core::values::render(&value.data),
            "[ObjectRef(0), ObjectRef(1)]"
        );
        assert!(item_of_value(&value, 1).is_some() && item_of_value(&value, 2).is_none());
    }

    #[tokio::test]
    async fn a_retried_attempt_skips_the_items_stored_already() {
        let store = store();
        let stream = Stream::default();
        for n in 0..2u8 {
            stream
                .push(store.put(ObjectValue::from_bytes(vec![n])), 3)
                .unwrap();
        }
        stream.begin_attempt();
        for n in 10..13u8 {
            stream
                .push(store.put(ObjectValue::from_bytes(vec![n])), 3)
                .unwrap();
        }
        assert_eq!(
            stream.push(store.put(ObjectValue::from_bytes(vec![13])), 3),
            Err(Refused::Full),
            "a stream holds at most its limit"
        );
        let items = stream.end(&store, None);
        let mut bytes = Vec::new();
        for h in &items {
            bytes.push(h.get(None).await.unwrap().data[0]);
        }
        assert_eq!(
            bytes,
            vec![0, 1, 12],
            "items 0 and 1 are the first attempt's"
        );
    }

    #[tokio::test]
    async fn a_read_past_the_deadline_is_a_get_timeout() {
        let stream = Stream::default();
        let e = stream
            .item(0, Some(Instant::now() + Duration::from_millis(20)))
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::GetTimeout);
    }
}
