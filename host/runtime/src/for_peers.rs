//! Tasks this node runs for other nodes, by the sender's id of each: a
//! cancel the sender forwards names the task so.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use wrun_core::TaskId;
use wrun_sandbox::TaskControl;

/// The controls of tasks run here for other nodes.
#[derive(Default)]
pub(crate) struct ForPeers(Mutex<HashMap<TaskId, Arc<TaskControl>>>);

impl ForPeers {
    /// Records a task run here for another node, under that node's id.
    pub(crate) fn insert(&self, task: TaskId, control: Arc<TaskControl>) {
        self.0.lock().insert(task, control);
    }

    /// Forgets a task run for another node.
    pub(crate) fn remove(&self, task: TaskId) {
        self.0.lock().remove(&task);
    }

    /// The control of a task run here for another node.
    pub(crate) fn get(&self, task: TaskId) -> Option<Arc<TaskControl>> {
        self.0.lock().get(&task).cloned()
    }
}
