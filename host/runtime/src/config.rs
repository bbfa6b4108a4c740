//! How a node is set up.

use std::path::PathBuf;

use wrun_core::logs::{tracing_sink, LogSink};
use wrun_core::JobLimits;
use wrun_sandbox::{ComponentCache, EngineOptions};

/// How a node is set up.
#[derive(Clone)]
pub struct RuntimeConfig {
    /// CPUs the scheduler hands out (default: the machine's cores).
    pub cpus: f64,
    /// Memory the scheduler hands out, in bytes (default: the machine's memory).
    pub memory: u64,
    /// Custom resources of this node.
    pub custom: Vec<(String, f64)>,
    /// Bytes of objects kept in memory before the oldest spill to disk.
    pub object_memory_cap: usize,
    /// Where spilled objects go.
    pub spill_dir: PathBuf,
    /// Where compiled components and packed working directories are cached.
    pub cache_dir: PathBuf,
    /// Where per-task scratch directories are made (and removed).
    pub scratch_dir: PathBuf,
    /// The engine's sizes.
    pub engine: EngineOptions,
    /// Limits every job gets unless it declares others.
    pub job_limits: JobLimits,
    /// Where guest log lines go.
    pub log_sink: LogSink,
    /// Told before a component not in the cache is compiled (`wrun submit`
    /// shows a line on a terminal).
    pub on_compile: Option<wrun_sandbox::CompileNotice>,
    /// How many ended tasks and actor calls the node remembers for
    /// listings and timelines (the oldest go first).
    pub task_history: usize,
}

/// The default of [`RuntimeConfig::task_history`]: about 20 MB of records.
pub const DEFAULT_TASK_HISTORY: usize = 100_000;

impl Default for RuntimeConfig {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1) as f64;
        let memory = total_memory_bytes().unwrap_or(4 << 30);
        RuntimeConfig {
            cpus,
            memory,
            custom: Vec::new(),
            object_memory_cap: (memory / 4) as usize,
            spill_dir: std::env::temp_dir().join(format!("wrun-spill-{}", std::process::id())),
            cache_dir: ComponentCache::default_dir(),
            scratch_dir: std::env::temp_dir().join(format!("wrun-scratch-{}", std::process::id())),
            engine: EngineOptions::default(),
            job_limits: JobLimits::default(),
            log_sink: tracing_sink(),
            on_compile: None,
            task_history: DEFAULT_TASK_HISTORY,
        }
    }
}

impl RuntimeConfig {
    /// The node's object store, as this configuration sizes it.
    pub fn store(
        &self,
        ids: std::sync::Arc<wrun_core::IdGen>,
        transport: std::sync::Arc<dyn wrun_objects::ObjectTransport>,
    ) -> std::sync::Arc<wrun_objects::ObjectStore> {
        wrun_objects::ObjectStore::new(
            ids,
            wrun_objects::StoreConfig {
                memory_cap: self.object_memory_cap,
                spill_dir: self.spill_dir.clone(),
            },
            transport,
        )
    }
}

fn total_memory_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = s
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}
