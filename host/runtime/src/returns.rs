//! The result objects of one call: created pending when the call is made,
//! fulfilled exactly once — with the call's values, or with an error if the
//! call is dropped before it completes (its actor was killed, say), so no
//! reader waits forever on a lost call. A streaming call's one result is its
//! stream: fulfilled, however the call ends, with the list of the items it
//! yielded (and its error as a last, failed item).

use std::sync::Arc;

use wrun_core::logs::Label;
use wrun_core::{ErrorKind, TaskError};
use wrun_objects::{
    stream_value, Held, ObjectQuota, ObjectStore, ObjectValue, Producer, Promise, Stream,
};
use wrun_sandbox::TaskControl;

use crate::ledger::Tracked;

/// The promises of one call's results.
pub(crate) struct Returns {
    promises: Vec<Promise>,
    label: Label,
    /// The error readers get if the call is dropped unfinished.
    pub(crate) on_drop: ErrorKind,
    done: bool,
    /// The call's cancellation state (the producer of each result).
    control: Option<Arc<TaskControl>>,
    /// A streaming call's items, and the store its error item goes in.
    stream: Option<(Arc<Stream>, Arc<ObjectStore>)>,
    /// The calling job's object quota, which the values are charged to.
    pub(crate) quota: Option<Arc<ObjectQuota>>,
    /// The call's record in the node's ledger, ended with the results.
    pub(crate) tracked: Option<Arc<Tracked>>,
}

impl Returns {
    /// `n` pending results: the references for the caller, and the promises.
    /// `control`, when given, is each result's producer in the store: a
    /// cancel of any result finds the call by it.
    pub(crate) fn new(
        store: &Arc<ObjectStore>,
        n: u32,
        label: Label,
        control: Option<Arc<TaskControl>>,
    ) -> (Vec<Held>, Returns) {
        let mut held = Vec::with_capacity(n as usize);
        let mut promises = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let producer = control.clone().map(|c| c as Producer);
            let (h, p) = store.pending_from(producer);
            held.push(h);
            promises.push(p);
        }
        let returns = Returns {
            promises,
            label,
            on_drop: ErrorKind::Internal,
            done: false,
            control,
            stream: None,
            quota: None,
            tracked: None,
        };
        (held, returns)
    }

    /// The stream of a streaming call: one pending result, whose producer
    /// `control` finds the items while the call runs.
    pub(crate) fn streaming(
        store: &Arc<ObjectStore>,
        label: Label,
        control: Arc<TaskControl>,
    ) -> (Held, Returns) {
        let stream = Arc::new(Stream::default());
        control.set_stream(stream.clone());
        let (mut held, mut returns) = Returns::new(store, 1, label, Some(control));
        returns.stream = Some((stream, store.clone()));
        (held.remove(0), returns)
    }

    /// The items of a streaming call (a retried attempt starts again here).
    pub(crate) fn stream(&self) -> Option<&Arc<Stream>> {
        self.stream.as_ref().map(|(s, _)| s)
    }

    /// Ends a streaming call's stream: its object gets the items (the
    /// error, when it failed, as a last item).
    fn end_stream(&mut self, error: Option<TaskError>) -> bool {
        let Some((stream, store)) = self.stream.take() else {
            return false;
        };
        let items = stream.end(&store, error);
        for p in self.promises.drain(..) {
            p.fulfil(Ok(stream_value(items.clone())));
        }
        true
    }

    /// The call's label.
    pub(crate) fn label(&self) -> &Label {
        &self.label
    }

    /// Fulfils every result with the call's outcome.
    pub(crate) fn complete(mut self, outcome: Result<Vec<ObjectValue>, TaskError>) {
        self.done = true;
        if let Some(t) = self.tracked.take() {
            t.end(outcome.as_ref().err());
        }
        if self.stream.is_some() {
            // A generator's items are what it yielded. It returns nothing (a
            // C++ or Java function returning void returns nil); any other
            // value means the callee does not stream (declared otherwise),
            // and is refused rather than dropped unseen.
            let error = match outcome {
                Ok(v) if v.iter().all(|v| v.data.as_ref() == [0xc0]) => None,
                Ok(v) => Some(TaskError::new(
                    ErrorKind::InvalidArgument,
                    self.label.to_string(),
                    format!(
                        "it was called as a streaming call but returned {} value(s) instead of yielding them (yield-item): is it declared to stream?",
                        v.len()
                    ),
                )),
                Err(e) => Some(e),
            };
            self.end_stream(error);
            return;
        }
        let promises = std::mem::take(&mut self.promises);
        if promises.is_empty() {
            // A call nobody waits for (num_returns = 0): its values are
            // dropped, and a failure can only be reported here.
            if let Err(e) = &outcome {
                tracing::warn!(call = %self.label, error = %e, "a call with num_returns = 0 failed");
            }
            return;
        }
        // Every reference handed out must be fulfilled: a call that returned
        // another number of values than was asked fails as a whole.
        let outcome = match outcome {
            Ok(values) if values.len() != promises.len() => Err(TaskError::new(
                ErrorKind::InvalidArgument,
                self.label.to_string(),
                format!(
                    "returned {} values but the call asked for num_returns = {}",
                    values.len(),
                    promises.len()
                ),
            )),
            other => other,
        };
        // Charged to the calling job's quota, all or none.
        let outcome = match (outcome, &self.quota) {
            (Ok(values), Some(quota)) => {
                let charges: Result<Vec<_>, _> =
                    values.iter().map(|v| quota.charge(v.data.len())).collect();
                match charges {
                    Ok(charges) => {
                        for ((p, v), c) in promises.into_iter().zip(values).zip(charges) {
                            p.fulfil_charged(v, c);
                        }
                        return;
                    }
                    Err(over) => Err(TaskError::new(
                        ErrorKind::InvalidArgument,
                        self.label.to_string(),
                        format!("its results were not kept: {over}"),
                    )),
                }
            }
            (other, _) => other,
        };
        match outcome {
            Ok(values) => {
                for (p, v) in promises.into_iter().zip(values) {
                    p.fulfil(Ok(v));
                }
            }
            Err(e) => {
                for p in promises {
                    p.fulfil(Err(e.clone()));
                }
            }
        }
    }
}

impl Drop for Returns {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // A cancelled call's task is aborted where it is: this says why.
        let cancelled = self.control.as_ref().filter(|c| c.is_cancelled());
        let e = if let Some(c) = cancelled {
            TaskError::new(
                ErrorKind::TaskCancelled,
                self.label.to_string(),
                c.cause().reason(),
            )
        } else {
            TaskError::new(
                self.on_drop,
                self.label.to_string(),
                match self.on_drop {
                    ErrorKind::ActorDied => "the actor died before the call ran",
                    _ => "the call was dropped before it finished",
                },
            )
        };
        if let Some(t) = self.tracked.take() {
            t.end(Some(&e));
        }
        if self.end_stream(Some(e.clone())) {
            return;
        }
        for p in self.promises.drain(..) {
            p.fulfil(Err(e.clone()));
        }
    }
}
