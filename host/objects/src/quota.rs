//! A job's share of a node's store: the bytes of the objects its guests
//! make here (puts, stream items, task and actor-call results, in memory
//! or spilled) are charged to its quota for as long as they live, so one
//! job cannot make a node keep more than its limit. A [`Charge`] lives in the stored
//! object and gives its bytes back when the object is freed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use wrun_core::JobId;

/// One job's object bytes on one node, and their limit.
#[derive(Debug)]
pub struct ObjectQuota {
    /// The job whose quota it is (for listings of who holds what).
    job: Option<JobId>,
    used: AtomicUsize,
    limit: usize,
}

/// Bytes charged to a quota until dropped.
#[derive(Debug)]
pub struct Charge {
    quota: Arc<ObjectQuota>,
    bytes: usize,
}

/// A charge the quota could not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the job keeps {used} bytes of objects on this node; {asked} more would pass its limit of {limit} bytes (limits.object_bytes in the job's manifest): free some objects first, or raise the limit")]
pub struct OverQuota {
    /// Bytes in use.
    pub used: usize,
    /// Bytes asked for.
    pub asked: usize,
    /// The limit.
    pub limit: usize,
}

impl ObjectQuota {
    /// A quota of `limit` bytes for `job`, none used.
    pub fn new(job: Option<JobId>, limit: usize) -> Arc<ObjectQuota> {
        Arc::new(ObjectQuota {
            job,
            used: AtomicUsize::new(0),
            limit,
        })
    }

    /// The job whose quota it is.
    pub fn job(&self) -> Option<JobId> {
        self.job
    }

    /// Bytes charged now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Charges `bytes`, unless that would pass the limit.
    pub fn charge(self: &Arc<Self>, bytes: usize) -> Result<Charge, OverQuota> {
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            let next = used.saturating_add(bytes);
            if next > self.limit {
                return Err(OverQuota {
                    used,
                    asked: bytes,
                    limit: self.limit,
                });
            }
            match self
                .used
                .compare_exchange_weak(used, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => {
                    return Ok(Charge {
                        quota: self.clone(),
                        bytes,
                    })
                }
                Err(now) => used = now,
            }
        }
    }
}

impl Charge {
    /// The job the bytes are charged to.
    pub fn job(&self) -> Option<JobId> {
        self.quota.job
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.quota.used.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_are_bounded_and_given_back_on_drop() {
        let q = ObjectQuota::new(None, 100);
        let a = q.charge(60).unwrap();
        let refused = q.charge(41).unwrap_err();
        assert_eq!(
            refused,
            OverQuota {
                used: 60,
                asked: 41,
                limit: 100
            }
        );
        assert!(refused.to_string().contains("limits.object_bytes"));
        let b = q.charge(40).unwrap();
        assert_eq!(q.used(), 100);
        drop(a);
        assert_eq!(q.used(), 40);
        drop(b);
        assert_eq!(q.used(), 0);
    }
}
