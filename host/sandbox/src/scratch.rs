//! A task's writable `/scratch`, made for its instance and removed with it.

use std::path::{Path, PathBuf};

use wrun_core::TaskId;

/// A task's writable `/scratch`, removed with its instance.
pub(crate) struct ScratchDir(pub(crate) PathBuf);

impl ScratchDir {
    pub(crate) fn create(root: &Path, task: TaskId) -> std::io::Result<Self> {
        let dir = root.join(task.to_string());
        std::fs::create_dir_all(&dir)?;
        Ok(ScratchDir(dir))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
