//! `wrun-python-patch COMPONENT.wasm`: frees the byte lists a Python guest
//! hands the host, which componentize-py 0.25.1 leaks.
//!
//! componentize-py lowers a Python `bytes` given to an import (or returned
//! from an export) as a `list<u8>` by copying it into a buffer its runtime
//! allocates (`maybe_pop_list` in its `runtime/src/lib.rs`) and never frees,
//! while the wit-dylib bindings it links expect the runtime to own that
//! buffer. Every `wrun.put` of 8 MiB left 8 MiB behind in guest memory: a
//! driver died of MemoryError after 60 such puts under a 512 MiB limit.
//! `runtimes/python/build.sh` runs this tool on each component it makes;
//! the patch makes the bindings hand such a buffer to the same deferred free
//! they use for buffers they allocate themselves (see `module`). Drop it when
//! componentize-py frees the buffer itself: the pinned version in
//! `runtimes/python/setup.sh` and this tool change together.

mod component;
mod module;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path] = args.as_slice() else {
        bail!("usage: wrun-python-patch COMPONENT.wasm (patched in place)");
    };
    let path = PathBuf::from(path);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let patched =
        component::patch(&bytes).with_context(|| format!("patching {}", path.display()))?;
    let tmp = path.with_extension("wasm.patching");
    std::fs::write(&tmp, &patched).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}
