//! Who and where the caller is.

use crate::bindings::wrun::runtime::context as wit;
use crate::Id;

/// The job this code runs for.
pub fn job_id() -> Id {
    wit::job_id().into()
}

/// The running task, actor call or driver.
pub fn task_id() -> Id {
    wit::task_id().into()
}

/// The node this code runs on.
pub fn node_id() -> Id {
    wit::node_id().into()
}

/// The running actor, if this instance is one.
pub fn actor_id() -> Option<Id> {
    wit::actor_id().map(Into::into)
}
