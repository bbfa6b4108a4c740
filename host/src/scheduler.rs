//! The local scheduler: per-node resource accounting and a queue for work
//! that does not fit yet.
//!
//! Resources are counted in thousandths so fractional CPUs add up exactly.
//! The queue is ordered by nesting depth first (deeper first), then by
//! submission order: a task submitted by a running task is a step towards
//! finishing work already under way, so running it first keeps the number of
//! live, blocked instances proportional to the depth of a task tree rather
//! than to its breadth. Work that fits is granted even when work queued ahead
//! of it does not (backfill), so a task waiting for a custom resource never
//! stalls CPU-only work.
//!
//! [`Scheduler`] is the seam the cluster scheduler implements.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::object_store::BoxFuture;

/// A set of resources in thousandths (cpus, custom) and bytes (memory).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    pub cpu_millis: i64,
    pub memory: i64,
    pub custom: BTreeMap<String, i64>,
}

impl Resources {
    pub fn new(cpus: f64, memory: u64) -> Self {
        Resources {
            cpu_millis: to_millis(cpus),
            memory: memory.min(i64::MAX as u64) as i64,
            custom: BTreeMap::new(),
        }
    }

    pub fn with_custom(mut self, name: &str, amount: f64) -> Self {
        *self.custom.entry(name.to_string()).or_default() += to_millis(amount);
        self
    }

    pub fn fits_in(&self, avail: &Resources) -> bool {
        self.cpu_millis <= avail.cpu_millis
            && self.memory <= avail.memory
            && self
                .custom
                .iter()
                .all(|(k, v)| *v <= avail.custom.get(k).copied().unwrap_or(0))
    }

    /// Adds `other` in (summing bundles).
    pub fn add_all(&mut self, other: &Resources) {
        self.add(other, 1);
    }

    /// Takes `other` out (planning what is left).
    pub fn take(&mut self, other: &Resources) {
        self.add(other, -1);
    }

    fn add(&mut self, other: &Resources, sign: i64) {
        self.cpu_millis += sign * other.cpu_millis;
        self.memory += sign * other.memory;
        for (k, v) in &other.custom {
            *self.custom.entry(k.clone()).or_default() += sign * v;
        }
    }

    /// Why `self` can never fit in `total`, if it cannot.
    pub fn infeasible_in(&self, total: &Resources) -> Option<String> {
        if self.cpu_millis > total.cpu_millis {
            return Some(format!(
                "needs {} cpus but the node has {}",
                from_millis(self.cpu_millis),
                from_millis(total.cpu_millis)
            ));
        }
        if self.memory > total.memory {
            return Some(format!(
                "needs {} bytes of memory but the node has {}",
                self.memory, total.memory
            ));
        }
        for (k, v) in &self.custom {
            let have = total.custom.get(k).copied().unwrap_or(0);
            if *v > have {
                return Some(format!(
                    "needs {} of custom resource `{k}` but the node has {}",
                    from_millis(*v),
                    from_millis(have)
                ));
            }
        }
        None
    }
}

impl std::fmt::Display for Resources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cpus={} memory={}",
            from_millis(self.cpu_millis),
            self.memory
        )?;
        for (k, v) in &self.custom {
            write!(f, " {k}={}", from_millis(*v))?;
        }
        Ok(())
    }
}

fn to_millis(x: f64) -> i64 {
    if x.is_finite() && x > 0.0 {
        (x * 1000.0).round().min(i64::MAX as f64 / 2.0) as i64
    } else {
        0
    }
}

fn from_millis(x: i64) -> f64 {
    x as f64 / 1000.0
}

/// A request that can never be satisfied.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the request ({request}) can never be scheduled: it {reason}")]
pub struct Infeasible {
    pub request: String,
    pub reason: String,
}

/// What the runtime asks of a scheduler, local or cluster-wide.
pub trait Scheduler: Send + Sync + 'static {
    /// Waits until `request` fits, reserves it and returns the grant that
    /// gives it back when dropped. Higher `priority` goes first.
    fn acquire(
        self: Arc<Self>,
        request: Resources,
        priority: u32,
    ) -> BoxFuture<'static, Result<Grant, Infeasible>>;
    /// Reserves `request` if it fits now and nothing of at least its
    /// priority waits ahead of it (a cluster node decides from this whether
    /// to run a task here or send it to a node with room).
    fn try_acquire(self: Arc<Self>, request: &Resources, priority: u32) -> Option<Grant>;
    /// Gives back resources of a grant (called by [`Grant`]).
    fn give_back(&self, resources: &Resources);
    /// Takes resources without waiting, possibly over the total (a task that
    /// was blocked takes its CPU back when it resumes).
    fn take_over(&self, resources: &Resources);
    fn available(&self) -> Resources;
    fn total(&self) -> Resources;
    /// Requests waiting in the queue.
    fn queued(&self) -> usize;
    /// What the queue waits for: each distinct request and how many wait
    /// with it, most common first.
    fn waiting(&self) -> Vec<(Resources, usize)>;
}

/// Resources held by one running task or actor. Dropping gives them back.
pub struct Grant {
    scheduler: Arc<dyn Scheduler>,
    resources: Resources,
    cpu_lent: bool,
}

impl Grant {
    /// Gives the CPU share back while the holder is blocked.
    pub fn lend_cpu(&mut self) {
        if !self.cpu_lent && self.resources.cpu_millis > 0 {
            self.cpu_lent = true;
            self.scheduler.give_back(&Resources {
                cpu_millis: self.resources.cpu_millis,
                ..Default::default()
            });
        }
    }

    /// Takes the CPU share back when the holder resumes.
    pub fn reclaim_cpu(&mut self) {
        if self.cpu_lent {
            self.cpu_lent = false;
            self.scheduler.take_over(&Resources {
                cpu_millis: self.resources.cpu_millis,
                ..Default::default()
            });
        }
    }

    pub fn resources(&self) -> &Resources {
        &self.resources
    }
}

impl Drop for Grant {
    fn drop(&mut self) {
        let mut back = self.resources.clone();
        if self.cpu_lent {
            back.cpu_millis = 0;
        }
        self.scheduler.give_back(&back);
    }
}

struct Waiter {
    request: Resources,
    wake: oneshot::Sender<()>,
}

/// Queue order: highest priority first, then oldest first.
type QueueKey = (Reverse<u32>, u64);

struct State {
    available: Resources,
    queue: BTreeMap<QueueKey, Waiter>,
    /// Queued requests that need no CPU (they may fit when no CPU is free).
    queued_without_cpu: usize,
    seq: u64,
}

/// The scheduler of one node.
pub struct LocalScheduler {
    total: Resources,
    state: Mutex<State>,
}

impl LocalScheduler {
    pub fn new(total: Resources) -> Arc<Self> {
        Arc::new(LocalScheduler {
            state: Mutex::new(State {
                available: total.clone(),
                queue: BTreeMap::new(),
                queued_without_cpu: 0,
                seq: 0,
            }),
            total,
        })
    }

    /// Grants queued requests that fit now, in queue order. Stops as soon as
    /// no CPU is left and every queued request needs some, so a release costs
    /// O(log n) in the common case rather than a scan of the whole queue.
    fn dispatch(state: &mut State) {
        let mut granted = Vec::new();
        for (key, w) in state.queue.iter() {
            if state.available.cpu_millis <= 0 && state.queued_without_cpu == 0 {
                break;
            }
            if w.request.fits_in(&state.available) {
                state.available.add(&w.request, -1);
                granted.push(*key);
            }
        }
        for key in granted {
            let w = state.queue.remove(&key).expect("queued");
            if w.request.cpu_millis == 0 {
                state.queued_without_cpu -= 1;
            }
            if w.wake.send(()).is_err() {
                // The waiter gave up (its task was cancelled).
                state.available.add(&w.request, 1);
            }
        }
    }
}

impl Scheduler for LocalScheduler {
    fn acquire(
        self: Arc<Self>,
        request: Resources,
        priority: u32,
    ) -> BoxFuture<'static, Result<Grant, Infeasible>> {
        Box::pin(async move {
            if let Some(reason) = request.infeasible_in(&self.total) {
                return Err(Infeasible {
                    request: request.to_string(),
                    reason,
                });
            }
            let rx = {
                let mut st = self.state.lock();
                let ahead = st
                    .queue
                    .first_key_value()
                    .is_some_and(|((Reverse(p), _), _)| *p >= priority);
                if !ahead && request.fits_in(&st.available) {
                    st.available.add(&request, -1);
                    None
                } else {
                    let (tx, rx) = oneshot::channel();
                    st.seq += 1;
                    let key = (Reverse(priority), st.seq);
                    if request.cpu_millis == 0 {
                        st.queued_without_cpu += 1;
                    }
                    st.queue.insert(
                        key,
                        Waiter {
                            request: request.clone(),
                            wake: tx,
                        },
                    );
                    Self::dispatch(&mut st);
                    Some(rx)
                }
            };
            if let Some(rx) = rx {
                // The sender is only dropped after it sent, or with the scheduler.
                let _ = rx.await;
            }
            Ok(Grant {
                scheduler: self,
                resources: request,
                cpu_lent: false,
            })
        })
    }

    fn try_acquire(self: Arc<Self>, request: &Resources, priority: u32) -> Option<Grant> {
        {
            let mut st = self.state.lock();
            let ahead = st
                .queue
                .first_key_value()
                .is_some_and(|((Reverse(p), _), _)| *p >= priority);
            if ahead || !request.fits_in(&st.available) {
                return None;
            }
            st.available.add(request, -1);
        }
        Some(Grant {
            scheduler: self,
            resources: request.clone(),
            cpu_lent: false,
        })
    }

    fn give_back(&self, resources: &Resources) {
        let mut st = self.state.lock();
        st.available.add(resources, 1);
        Self::dispatch(&mut st);
    }

    fn take_over(&self, resources: &Resources) {
        self.state.lock().available.add(resources, -1);
    }

    fn available(&self) -> Resources {
        self.state.lock().available.clone()
    }

    fn total(&self) -> Resources {
        self.total.clone()
    }

    fn queued(&self) -> usize {
        self.state.lock().queue.len()
    }

    fn waiting(&self) -> Vec<(Resources, usize)> {
        let st = self.state.lock();
        let mut out: Vec<(Resources, usize)> = Vec::new();
        for w in st.queue.values() {
            match out.iter_mut().find(|(r, _)| *r == w.request) {
                Some((_, n)) => *n += 1,
                None => out.push((w.request.clone(), 1)),
            }
        }
        out.sort_by_key(|w| std::cmp::Reverse(w.1));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn work_queues_when_full_and_runs_when_resources_return() {
        let s = LocalScheduler::new(Resources::new(2.0, 1000));
        let a = s.clone().acquire(Resources::new(1.5, 0), 0).await.unwrap();
        let s2 = s.clone();
        let waiting = tokio::spawn(async move { s2.acquire(Resources::new(1.0, 0), 0).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished());
        assert_eq!(s.queued(), 1);
        drop(a);
        let b = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(s.available().cpu_millis, 1000);
        drop(b);
        assert_eq!(s.available(), s.total());
    }

    #[tokio::test]
    async fn a_blocked_holder_lends_its_cpu_to_others() {
        let s = LocalScheduler::new(Resources::new(1.0, 0));
        let mut parent = s.clone().acquire(Resources::new(1.0, 0), 0).await.unwrap();
        parent.lend_cpu();
        let child = tokio::time::timeout(
            Duration::from_secs(5),
            s.clone().acquire(Resources::new(1.0, 0), 1),
        )
        .await
        .expect("the child runs while its parent is blocked")
        .unwrap();
        parent.reclaim_cpu();
        drop(child);
        drop(parent);
        assert_eq!(s.available(), s.total());
    }

    #[tokio::test]
    async fn impossible_requests_are_refused_with_the_reason() {
        let s = LocalScheduler::new(Resources::new(2.0, 0));
        let err = s
            .clone()
            .acquire(Resources::new(0.0, 0).with_custom("gpu", 1.0), 0)
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("custom resource `gpu`"), "{err}");
    }

    #[tokio::test]
    async fn custom_resources_are_counted() {
        let total = Resources::new(4.0, 0).with_custom("license", 1.0);
        let s = LocalScheduler::new(total);
        let req = Resources::new(1.0, 0).with_custom("license", 1.0);
        let g = s.clone().acquire(req.clone(), 0).await.unwrap();
        let s2 = s.clone();
        let second = tokio::spawn(async move { s2.acquire(req, 0).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!second.is_finished(), "only one license exists");
        // CPU-only work is not stuck behind it.
        let cpu_only = tokio::time::timeout(
            Duration::from_secs(5),
            s.clone().acquire(Resources::new(1.0, 0), 0),
        )
        .await
        .unwrap()
        .unwrap();
        drop(cpu_only);
        drop(g);
        second.await.unwrap().unwrap();
    }
}
