//! The result objects of one call: created pending when the call is made,
//! fulfilled exactly once — with the call's values, or with an error if the
//! call is dropped before it completes (its actor was killed, say), so no
//! reader waits forever on a lost call.

use std::sync::Arc;

use wrun_core::logs::Label;
use wrun_core::{ErrorKind, TaskError};
use wrun_objects::{Held, ObjectStore, ObjectValue, Producer, Promise};
use wrun_sandbox::TaskControl;

/// The promises of one call's results.
pub(crate) struct Returns {
    promises: Vec<Promise>,
    label: Label,
    /// The error readers get if the call is dropped unfinished.
    pub(crate) on_drop: ErrorKind,
    done: bool,
    /// The call's cancellation state (the producer of each result).
    control: Option<Arc<TaskControl>>,
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
        };
        (held, returns)
    }

    /// The call's label.
    pub(crate) fn label(&self) -> &Label {
        &self.label
    }

    /// Fulfils every result with the call's outcome.
    pub(crate) fn complete(mut self, outcome: Result<Vec<ObjectValue>, TaskError>) {
        self.done = true;
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
        let cancelled = self.control.as_ref().is_some_and(|c| c.is_cancelled());
        let e = if cancelled {
            TaskError::new(
                ErrorKind::TaskCancelled,
                self.label.to_string(),
                "the call was cancelled (tasks.cancel)",
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
        for p in self.promises.drain(..) {
            p.fulfil(Err(e.clone()));
        }
    }
}
