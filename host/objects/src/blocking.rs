//! File I/O kept off the async runtime's workers.

use std::path::PathBuf;

/// Runs `f` on a blocking thread inside a tokio runtime (file I/O never
/// holds up a runtime worker), here outside one (a synchronous caller).
pub(crate) fn off_runtime(f: impl FnOnce() + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => {
            rt.spawn_blocking(f);
        }
        Err(_) => f(),
    }
}

/// Removes a freed object's spill file, off the runtime's workers.
pub(crate) fn remove_off_runtime(path: PathBuf) {
    off_runtime(move || {
        let _ = std::fs::remove_file(&path);
    });
}
