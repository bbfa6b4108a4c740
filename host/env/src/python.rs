//! What a Python guest gets mounted when its manifest adds packages at
//! submit: plain paths, filled by the runtime (host/runtime/src/pypkgs.rs)
//! and mounted by the sandbox (host/sandbox/src/wasi.rs).

use std::path::PathBuf;

/// What a Python guest gets mounted, read-only, when its manifest adds
/// packages at submit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonMounts {
    /// The packages, installed once per list (`pypkgs/<hash>` in the cache).
    pub packages: PathBuf,
    /// The guests' standard library (runtimes/python/setup.sh keeps it):
    /// what a package imports that the build did not.
    pub stdlib: PathBuf,
}

/// Where a Python guest sees [`PythonMounts::packages`].
pub const PYTHON_PACKAGES_GUEST_PATH: &str = "/wrun/python/packages";
/// Where a Python guest sees [`PythonMounts::stdlib`].
pub const PYTHON_STDLIB_GUEST_PATH: &str = "/wrun/python/stdlib";
