//! The wasmtime engine wrun runs every guest on, and the content-addressed
//! cache of compiled components.
//!
//! Choices, and why:
//! - the pooling allocator: instances come from pre-reserved slots, so a task
//!   instantiates in microseconds; slots keep part of their memory resident to
//!   skip page faults on reuse;
//! - async calls: a guest blocked in a host call (`get`, `wait`) is a
//!   suspended fiber, not a parked thread;
//! - epoch interruption: a ticker thread advances the epoch; a running guest
//!   yields at each tick (fairness) and is interrupted past its deadline;
//! - compiled components are cached on disk by the SHA-256 of the component and
//!   the engine's compatibility hash, and loaded with mmap.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::error::LoadError;

/// Sizes of the engine, chosen per node.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Instance slots in the pool: the most guests alive at once.
    pub max_instances: u32,
    /// The largest linear memory any guest may have (per-job limits are lower).
    pub max_memory_bytes: usize,
    /// How often the epoch advances.
    pub epoch_tick: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            max_instances: 1000,
            max_memory_bytes: 1 << 30,
            epoch_tick: Duration::from_millis(5),
        }
    }
}

/// An engine with its epoch ticker; the ticker stops when this is dropped.
pub struct WasmEngine {
    pub engine: Engine,
    stop: Arc<AtomicBool>,
}

impl WasmEngine {
    pub fn new(opts: &EngineOptions) -> anyhow::Result<Self> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(opts.max_instances)
            .total_core_instances(opts.max_instances * 4)
            .total_memories(opts.max_instances * 2)
            .total_tables(opts.max_instances * 4)
            .total_stacks(opts.max_instances)
            .max_memories_per_module(2)
            .max_tables_per_module(8)
            .table_elements(100_000)
            .max_core_instance_size(4 << 20)
            .max_component_instance_size(4 << 20)
            .max_memory_size(opts.max_memory_bytes)
            // Slots are reset in place: with PAGEMAP_SCAN (Linux 6.7+) only
            // the pages a guest dirtied are rewritten, nothing is unmapped, and
            // the next instance takes no page faults. Decommits that remain are
            // batched, since each one is a cross-core TLB shootdown.
            .linear_memory_keep_resident(16 << 20)
            .table_keep_resident(1 << 20)
            .pagemap_scan(wasmtime::Enabled::Auto)
            .decommit_batch_size(64);

        let mut cfg = Config::new();
        cfg.wasm_component_model(true)
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .max_wasm_stack(1 << 20)
            .async_stack_size(2 << 20);
        let engine = Engine::new(&cfg).map_err(|e| anyhow::anyhow!("{e:#}"))?;

        let stop = Arc::new(AtomicBool::new(false));
        let (e2, s2, tick) = (engine.clone(), stop.clone(), opts.epoch_tick);
        std::thread::Builder::new()
            .name("wrun-epoch".into())
            .spawn(move || {
                while !s2.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    e2.increment_epoch();
                }
            })?;
        Ok(WasmEngine { engine, stop })
    }
}

impl Drop for WasmEngine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Compiled components on disk, by content hash.
#[derive(Clone, Debug)]
pub struct ComponentCache {
    dir: PathBuf,
}

/// Where a component came from (for the figures printed to users).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Compiled,
}

impl ComponentCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ComponentCache { dir: dir.into() }
    }

    /// The default cache: `$WRUN_CACHE_DIR` or `$XDG_CACHE_HOME/wrun` or `~/.cache/wrun`.
    pub fn default_dir() -> PathBuf {
        if let Some(d) = std::env::var_os("WRUN_CACHE_DIR") {
            return PathBuf::from(d);
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("wrun")
    }

    /// The content hash of a component (hex SHA-256).
    pub fn content_hash(bytes: &[u8]) -> String {
        let d = Sha256::digest(bytes);
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Loads `bytes` as a component, compiling it only when no compiled copy
    /// for this engine exists yet.
    pub fn load(
        &self,
        engine: &Engine,
        bytes: &[u8],
        what: &str,
    ) -> Result<(Component, CacheOutcome, String), LoadError> {
        check_is_component(bytes, what)?;
        let hash = Self::content_hash(bytes);
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let path = self
            .dir
            .join("components")
            .join(format!("{hash}-{:016x}.cwasm", h.finish()));
        if path.exists() {
            // SAFETY: files in the cache were written by `Engine::precompile_component`
            // of an engine with the same compatibility hash (it is in the name), and
            // are only ever replaced atomically.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => return Ok((c, CacheOutcome::Hit, hash)),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "discarding unreadable cache entry");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        let compiled = engine
            .precompile_component(bytes)
            .map_err(|e| LoadError::Malformed {
                what: what.to_string(),
                reason: format!("{e:#}"),
            })?;
        let cache_err = |e: std::io::Error| LoadError::Cache {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(path.parent().expect("has parent")).map_err(cache_err)?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, &compiled).map_err(cache_err)?;
        std::fs::rename(&tmp, &path).map_err(cache_err)?;
        // SAFETY: just written by this engine, see above.
        let c = unsafe { Component::deserialize_file(engine, &path) }.map_err(|e| {
            LoadError::Cache {
                path: path.display().to_string(),
                reason: format!("{e:#}"),
            }
        })?;
        Ok((c, CacheOutcome::Compiled, hash))
    }
}

/// Tells a component from a core module or from something that is not Wasm,
/// so the error says what to do.
fn check_is_component(bytes: &[u8], what: &str) -> Result<(), LoadError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(LoadError::Malformed {
            what: what.to_string(),
            reason: "it does not start with the WebAssembly magic bytes `\\0asm`".into(),
        });
    }
    // Core modules are version 1 layer 0; components carry layer 1.
    if bytes[4..8] == [1, 0, 0, 0] {
        return Err(LoadError::CoreModule {
            what: what.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_wasm_and_core_modules_get_specific_errors() {
        let e = check_is_component(b"hello world!", "x.wasm").unwrap_err();
        assert!(e.to_string().contains("magic bytes"), "{e}");
        let e = check_is_component(b"\0asm\x01\0\0\0", "m.wasm").unwrap_err();
        assert!(e.to_string().contains("core WebAssembly module"), "{e}");
        assert!(check_is_component(b"\0asm\x0d\0\x01\0", "c.wasm").is_ok());
    }
}
