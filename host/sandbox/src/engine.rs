//! The wasmtime engine wrun runs every guest on.
//!
//! Choices, and why:
//! - the pooling allocator: instances come from pre-reserved slots, so a task
//!   instantiates in microseconds; slots keep part of their memory resident to
//!   skip page faults on reuse;
//! - async calls: a guest blocked in a host call (`get`, `wait`) is a
//!   suspended fiber, not a parked thread;
//! - epoch interruption: a ticker thread advances the epoch; a running guest
//!   yields at each tick (fairness) and is interrupted past its deadline.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

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
pub(crate) struct WasmEngine {
    pub(crate) engine: Engine,
    stop: Arc<AtomicBool>,
}

impl WasmEngine {
    pub(crate) fn new(opts: &EngineOptions) -> anyhow::Result<Self> {
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
            // the next instance takes no page faults. Only a guest that
            // dirtied more than that is decommitted, and at once: batching
            // those (to save TLB shootdowns) left a memory-limit hit's 512 MiB
            // resident until 63 more came.
            .linear_memory_keep_resident(16 << 20)
            .table_keep_resident(1 << 20)
            .pagemap_scan(wasmtime::Enabled::Auto)
            .decommit_batch_size(1);

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
