//! The CPU time of the jobs on this node, for their budget across a
//! cluster: the node reports what each job's guests used here, and is told
//! what they used on the other nodes, so `limits.job_cpu_time` bounds a
//! job's whole tree wherever its work runs (each guest's epoch check adds
//! the two). A job's count lives from its first load here until it ends
//! (`Runtime::end_job`), across loads that end before it does.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::Mutex;
use wrun_core::JobId;
use wrun_sandbox::JobCpu;

/// Counts past which those no load holds are dropped (host-API jobs that
/// never end): a bound on what this map can hold.
const KEPT_UNHELD: usize = 10_000;

/// The CPU time of each job loaded here since it started.
#[derive(Default)]
pub(crate) struct LoadedJobs {
    jobs: Mutex<HashMap<JobId, Arc<JobCpu>>>,
}

impl LoadedJobs {
    /// The count a new load of `job` shares with its earlier ones.
    pub(crate) fn cpu_of(&self, job: JobId) -> Arc<JobCpu> {
        let mut jobs = self.jobs.lock();
        if jobs.len() > KEPT_UNHELD {
            jobs.retain(|_, cpu| Arc::strong_count(cpu) > 1);
        }
        jobs.entry(job).or_default().clone()
    }

    /// The epoch ticks each job has used on this node.
    pub(crate) fn ticks_used(&self) -> Vec<(JobId, u64)> {
        self.jobs
            .lock()
            .iter()
            .map(|(id, cpu)| (*id, cpu.used.load(Ordering::Relaxed)))
            .collect()
    }

    /// Records that `job` used `ticks` on the other nodes.
    pub(crate) fn set_elsewhere(&self, job: JobId, ticks: u64) {
        if let Some(cpu) = self.jobs.lock().get(&job) {
            cpu.elsewhere.store(ticks, Ordering::Relaxed);
        }
    }

    /// Forgets a job that ended.
    pub(crate) fn end(&self, job: JobId) {
        self.jobs.lock().remove(&job);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wrun_core::Id;

    #[test]
    fn a_jobs_count_outlives_its_loads_until_the_job_ends() {
        let jobs = LoadedJobs::default();
        let job = JobId(Id::new(3, 1));
        let first = jobs.cpu_of(job);
        first.used.fetch_add(7, Ordering::Relaxed);
        drop(first);
        let again = jobs.cpu_of(job);
        again.used.fetch_add(1, Ordering::Relaxed);
        assert_eq!(jobs.ticks_used(), vec![(job, 8)]);
        jobs.set_elsewhere(job, 5);
        assert_eq!(again.elsewhere.load(Ordering::Relaxed), 5);
        jobs.end(job);
        assert!(jobs.ticks_used().is_empty());
    }
}
