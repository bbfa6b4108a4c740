//! Warm task instances, for environments that allow reuse
//! (`runtime.reuse_instances = true`).
//!
//! A fresh instance per task is the default and costs a few microseconds for
//! a Rust guest, but hundreds for an interpreter (CPython starts its runtime
//! in every instance). With reuse, a finished task's instance waits here,
//! keyed by job, component and environment (the same `Arc`), and the next task of the same kind runs in
//! it: one task at a time, module-level state carried over, as Ray reuses a
//! worker process. An instance whose task trapped or timed out is dropped,
//! as is one that has run a task's `max_calls` tasks (Ray's `max_calls`).

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::OwnedSemaphorePermit;
use wasmtime::Store;
use wrun_core::JobId;
use wrun_env::Environment;

use crate::exports::Checked;
use crate::model::HostState;
use crate::model::LoadedJob;

/// An instance between tasks, with its pool slot.
pub(crate) struct WarmInstance {
    pub(crate) store: Store<HostState>,
    pub(crate) run_task: Checked,
    /// Tasks it has run; a task's `max_calls` retires it.
    pub(crate) calls: u32,
    pub(crate) _slot: OwnedSemaphorePermit,
}

/// Which instances may serve a task: same job, same component, same
/// environment.
pub(crate) type WarmKey = (JobId, usize, usize);

pub(crate) fn key(job: &LoadedJob, component: usize, env: &Arc<Environment>) -> WarmKey {
    (job.id, component, Arc::as_ptr(env) as usize)
}

/// Idle instances by job and environment.
#[derive(Default)]
pub(crate) struct WarmPool {
    idle: Mutex<HashMap<WarmKey, Vec<WarmInstance>>>,
}

impl WarmPool {
    pub(crate) fn take(&self, key: WarmKey) -> Option<WarmInstance> {
        self.idle.lock().get_mut(&key)?.pop()
    }

    /// Keeps `w` for a later task unless `cap` are idle already.
    pub(crate) fn give_back(&self, key: WarmKey, w: WarmInstance, cap: usize) {
        let mut idle = self.idle.lock();
        let list = idle.entry(key).or_default();
        if list.len() < cap {
            list.push(w);
        }
    }

    /// Drops one idle instance, freeing its pool slot; false if none is idle.
    pub(crate) fn evict_one(&self) -> bool {
        let evicted = {
            let mut idle = self.idle.lock();
            idle.values_mut().find_map(|list| list.pop())
        };
        evicted.is_some()
    }

    /// Drops the idle instances of a job that ended.
    /// Idle instances kept, of every kind.
    pub(crate) fn idle_count(&self) -> usize {
        self.idle.lock().values().map(Vec::len).sum()
    }

    pub(crate) fn drop_job(&self, job: JobId) {
        let gone: Vec<Vec<WarmInstance>> = {
            let mut idle = self.idle.lock();
            let keys: Vec<WarmKey> = idle.keys().filter(|k| k.0 == job).copied().collect();
            keys.iter().filter_map(|k| idle.remove(k)).collect()
        };
        drop(gone);
    }
}
