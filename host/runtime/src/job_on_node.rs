//! What this node keeps of each job from its first load here until it ends
//! (`Runtime::end_job`), across loads that end before it does: its CPU
//! time, for the budget across a cluster (the node reports what the job's
//! guests used here and is told what they used on the other nodes, so
//! `limits.job_cpu_time` bounds a job's whole tree wherever its work runs;
//! each guest's epoch check adds the two), and whether it was stopped.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use wrun_core::JobId;
use wrun_sandbox::JobOnNode;

/// Counts past which those no load holds are dropped (host-API jobs that
/// never end): a bound on what this map can hold.
const KEPT_UNHELD: usize = 10_000;

/// Jobs that ended whose work may still run here, kept to be stopped: a
/// stop can arrive after the job's end (its driver's node ended it first).
const ENDED_KEPT: usize = 1024;

/// What this node keeps of each job loaded here since it started.
#[derive(Default)]
pub(crate) struct LoadedJobs {
    jobs: Mutex<HashMap<JobId, Arc<JobOnNode>>>,
    /// Recently ended jobs, while loads of them live.
    ended: Mutex<std::collections::VecDeque<(JobId, Weak<JobOnNode>)>>,
}

impl LoadedJobs {
    /// What a new load of `job` shares with its earlier ones.
    pub(crate) fn cpu_of(&self, job: JobId) -> Arc<JobOnNode> {
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

    /// Stops `job` here: its guests stop at their next epoch tick, and
    /// loads of it until it ends start stopped.
    pub(crate) fn stop(&self, job: JobId) {
        let on_node = self.jobs.lock().entry(job).or_default().clone();
        on_node.stop();
        // Work of it that outlived its end here (the end came first).
        for (_, ended) in self.ended.lock().iter().filter(|(id, _)| *id == job) {
            if let Some(on_node) = ended.upgrade() {
                on_node.stop();
            }
        }
    }

    /// Forgets a job that ended (what its loads still running hold stays
    /// reachable for a stop).
    pub(crate) fn end(&self, job: JobId) {
        let Some(on_node) = self.jobs.lock().remove(&job) else {
            return;
        };
        let mut ended = self.ended.lock();
        ended.retain(|(_, e)| e.strong_count() > 0);
        if ended.len() >= ENDED_KEPT {
            ended.pop_front();
        }
        ended.push_back((job, Arc::downgrade(&on_node)));
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

    #[test]
    fn a_stopped_job_stays_stopped_for_its_later_loads_until_it_ends() {
        let jobs = LoadedJobs::default();
        let job = JobId(Id::new(3, 2));
        let running = jobs.cpu_of(job);
        jobs.stop(job);
        assert!(running.is_stopped());
        assert!(jobs.cpu_of(job).is_stopped(), "a later load starts stopped");
        assert!(!jobs.cpu_of(JobId(Id::new(3, 3))).is_stopped());
        jobs.end(job);
        assert!(!jobs.cpu_of(job).is_stopped(), "a new job of that id");
    }

    #[test]
    fn a_stop_after_the_end_still_reaches_the_work_still_running() {
        let jobs = LoadedJobs::default();
        let job = JobId(Id::new(3, 4));
        let running = jobs.cpu_of(job);
        jobs.end(job);
        jobs.stop(job);
        assert!(running.is_stopped());
    }
}
