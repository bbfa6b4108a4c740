//! What a node keeps of the jobs other nodes run tasks of: loaded once
//! however many calls arrive for it at once, and never dropped while any of
//! its work runs here.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::OnceCell;

/// Values by key, made once each; past `cap` entries, the idle ones (no
/// clone held outside the cache) are dropped, oldest first.
/// An entry: when it was first asked for, and its value once made.
type Entry<V> = (u64, Arc<OnceCell<Arc<V>>>);

pub(crate) struct OnceMap<K, V> {
    cap: usize,
    entries: Mutex<HashMap<K, Entry<V>>>,
    next: Mutex<u64>,
}

impl<K: Hash + Eq + Clone, V> OnceMap<K, V> {
    pub(crate) fn new(cap: usize) -> Self {
        OnceMap {
            cap,
            entries: Mutex::new(HashMap::new()),
            next: Mutex::new(0),
        }
    }

    /// The value of `key`, made by `make` if no one has (concurrent callers
    /// wait for the first; a failure leaves it to the next caller).
    pub(crate) async fn get_or_try<E, F>(&self, key: K, make: F) -> Result<Arc<V>, E>
    where
        F: Future<Output = Result<Arc<V>, E>>,
    {
        let cell = {
            let mut entries = self.entries.lock();
            let seq = {
                let mut n = self.next.lock();
                *n += 1;
                *n
            };
            let cell = entries
                .entry(key)
                .or_insert_with(|| (seq, Arc::new(OnceCell::new())))
                .1
                .clone();
            if entries.len() > self.cap {
                Self::evict_idle(&mut entries, self.cap);
            }
            cell
        };
        cell.get_or_try_init(|| make).await.cloned()
    }

    /// Drops what is idle, oldest first, until at most `cap` are kept.
    fn evict_idle(entries: &mut HashMap<K, Entry<V>>, cap: usize) {
        let mut idle: Vec<(u64, K)> = entries
            .iter()
            .filter(|(_, (_, cell))| {
                Arc::strong_count(cell) == 1
                    && cell.get().is_some_and(|v| Arc::strong_count(v) == 1)
            })
            .map(|(k, (seq, _))| (*seq, k.clone()))
            .collect();
        idle.sort_by_key(|(seq, _)| *seq);
        let excess = entries.len().saturating_sub(cap);
        for (_, k) in idle.into_iter().take(excess) {
            entries.remove(&k);
        }
    }

    /// Forgets `key` (its job ended).
    pub(crate) fn remove(&self, key: &K) -> bool {
        self.entries.lock().remove(key).is_some()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The issue "One clear core" found a node clearing every loaded job at
    /// 64 entries, running ones included.
    #[tokio::test]
    async fn jobs_in_use_are_never_dropped_and_idle_ones_go_oldest_first() {
        let cache: OnceMap<u32, String> = OnceMap::new(2);
        let busy = cache
            .get_or_try(1, async { Ok::<_, ()>(Arc::new("one".to_string())) })
            .await
            .unwrap();
        for k in 2..6 {
            cache
                .get_or_try(k, async move { Ok::<_, ()>(Arc::new(k.to_string())) })
                .await
                .unwrap();
        }
        assert!(cache.len() <= 3, "idle jobs are dropped past the cap");
        let made = AtomicUsize::new(0);
        let again = cache
            .get_or_try(1, async {
                made.fetch_add(1, Ordering::Relaxed);
                Ok::<_, ()>(Arc::new("reloaded".to_string()))
            })
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&busy, &again), "the job in use was kept");
        assert_eq!(made.load(Ordering::Relaxed), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_make_a_value_once() {
        let cache: Arc<OnceMap<u32, u32>> = Arc::new(OnceMap::new(8));
        let made = Arc::new(AtomicUsize::new(0));
        let mut all = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (cache, made) = (cache.clone(), made.clone());
            all.spawn(async move {
                cache
                    .get_or_try(7, async move {
                        made.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        Ok::<_, ()>(Arc::new(7))
                    })
                    .await
                    .unwrap()
            });
        }
        while let Some(v) = all.join_next().await {
            assert_eq!(*v.unwrap(), 7);
        }
        assert_eq!(made.load(Ordering::Relaxed), 1);
    }
}
