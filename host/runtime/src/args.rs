//! A call's by-reference arguments: waiting until this node's are ready,
//! and resolving them to their values (shared by tasks and actor calls).

use std::sync::Arc;

use wrun_core::logs::Label;
use wrun_core::TaskError;
use wrun_objects::{Held, ObjectStore, ObjectValue, TaskArg};

/// Waits until the by-reference arguments this node computes are ready, so
/// a call holds no resources while its producers may still need them.
pub(crate) async fn local_args_ready(store: &Arc<ObjectStore>, args: &[TaskArg]) {
    let here = store.node();
    let pending: Vec<&Held> = args
        .iter()
        .filter_map(|a| match a {
            TaskArg::Ref(h) if h.owner() == here && !h.is_ready() => Some(h),
            _ => None,
        })
        .collect();
    if !pending.is_empty() {
        // Boxed, as below: every waiting task's future holds this state.
        Box::pin(store.wait(&pending, pending.len(), None)).await;
    }
}

/// Resolves by-reference arguments to their values.
pub(crate) async fn resolve_args(
    args: Vec<TaskArg>,
    label: &Label,
) -> Result<Vec<ObjectValue>, TaskError> {
    let mut values = Vec::with_capacity(args.len());
    for (i, a) in args.into_iter().enumerate() {
        match a {
            TaskArg::Value(v) => values.push(v),
            // Boxed: a get's future (a fetch from another node) is large,
            // and the future of every waiting task would carry its size.
            TaskArg::Ref(h) => match Box::pin(h.get(None)).await {
                Ok(v) => values.push(v),
                Err(e) => {
                    return Err(TaskError::new(
                        e.kind,
                        label.to_string(),
                        format!("argument {i} could not be resolved: {e}"),
                    ))
                }
            },
        }
    }
    Ok(values)
}
