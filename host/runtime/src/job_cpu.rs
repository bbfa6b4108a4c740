//! The jobs loaded on this node, for their CPU time across a cluster: the
//! node reports what each job's guests used here, and is told what they
//! used on the other nodes, so `limits.job_cpu_time` bounds a job's whole
//! tree wherever its work runs (each guest's epoch check adds the two).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use wrun_core::JobId;
use wrun_sandbox::LoadedJob;

/// Every job loaded here and still alive. One job may be loaded more than
/// once on a node (its driver's load, and a guest load for work of it that
/// another node placed back here): each load counts the others' ticks as
/// used elsewhere.
#[derive(Default)]
pub(crate) struct LoadedJobs {
    jobs: Mutex<HashMap<JobId, Vec<Weak<LoadedJob>>>>,
}

fn used(job: &LoadedJob) -> u64 {
    job.cpu_ticks_used.load(Ordering::Relaxed)
}

impl LoadedJobs {
    /// Remembers a load (and forgets the loads that ended).
    pub(crate) fn add(&self, job: &Arc<LoadedJob>) {
        let mut jobs = self.jobs.lock();
        jobs.retain(|_, loads| {
            loads.retain(|l| l.strong_count() > 0);
            !loads.is_empty()
        });
        jobs.entry(job.id).or_default().push(Arc::downgrade(job));
    }

    /// The live loads of `job`.
    fn loads(&self, job: JobId) -> Vec<Arc<LoadedJob>> {
        self.jobs
            .lock()
            .get(&job)
            .map(|l| l.iter().filter_map(Weak::upgrade).collect())
            .unwrap_or_default()
    }

    /// The epoch ticks each job with a live load has used on this node.
    pub(crate) fn ticks_used(&self) -> Vec<(JobId, u64)> {
        let ids: Vec<JobId> = self.jobs.lock().keys().copied().collect();
        ids.into_iter()
            .filter_map(|id| {
                let loads = self.loads(id);
                (!loads.is_empty()).then(|| (id, loads.iter().map(|j| used(j)).sum()))
            })
            .collect()
    }

    /// Records that `job` used `other_nodes` ticks on the other nodes.
    pub(crate) fn set_elsewhere(&self, job: JobId, other_nodes: u64) {
        let loads = self.loads(job);
        let here: u64 = loads.iter().map(|j| used(j)).sum();
        for j in &loads {
            let other_loads = here.saturating_sub(used(j));
            j.cpu_ticks_elsewhere
                .store(other_nodes.saturating_add(other_loads), Ordering::Relaxed);
        }
    }
}
