//! Spilling: once memory passes the cap, the oldest ready objects are
//! written to disk (on a blocking thread) and their bytes dropped from
//! memory; a read brings them back.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use wrun_core::{ErrorKind, ObjectId, TaskError};

use crate::store::{lost, ObjectStore, Slot, State};
use crate::ObjectValue;

use crate::blocking::off_runtime;

impl ObjectStore {
    pub(crate) fn spill_path(&self, id: ObjectId) -> PathBuf {
        self.config.spill_dir.join(format!("{id}.obj"))
    }

    /// What memory may hold past the cap while the spiller catches up: a
    /// quarter of the cap, at least 16 MiB.
    pub fn headroom(&self) -> usize {
        (self.config.memory_cap / 4).max(16 << 20)
    }

    /// Writes a new object's bytes to its spill file now, on the writer's
    /// thread, when keeping them in memory would take the store past its
    /// cap and headroom: the writer waits for the disk instead of memory
    /// growing without bound (Ray's fallback allocation). Whether it did
    /// (a failed write keeps the object in memory, as a failed spill does).
    pub(crate) fn spill_new(&self, id: ObjectId, data: &[u8]) -> bool {
        let limit = self.config.memory_cap.saturating_add(self.headroom());
        let after = self.bytes_in_memory.load(Ordering::Relaxed) + data.len();
        if data.is_empty() || after <= limit {
            return false;
        }
        let path = self.spill_path(id);
        let written = std::fs::create_dir_all(&self.config.spill_dir)
            .and_then(|()| write_atomically(&path, data));
        if let Err(e) = written {
            tracing::error!(object = %id, error = %e, "writing a new object to disk failed; it stays in memory");
            return false;
        }
        self.spilled.fetch_add(1, Ordering::Relaxed);
        self.spills.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(object = %id, bytes = data.len(), "past the cap and its headroom: written to disk at once");
        true
    }

    fn over_cap(&self) -> bool {
        self.bytes_in_memory.load(Ordering::Relaxed) > self.config.memory_cap
    }

    /// Starts the spiller when memory is over the cap and none runs.
    pub(crate) fn maybe_spill(self: &Arc<Self>) {
        if !self.over_cap() || self.spilling.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = self.clone();
        let run = move || loop {
            store.spill_until_under_cap();
            store.spilling.store(false, Ordering::Release);
            // Objects put while it finished: go again unless another started.
            if !store.over_cap() || store.spilling.swap(true, Ordering::AcqRel) {
                break;
            }
        };
        off_runtime(run);
    }

    /// Moves the oldest in-memory objects to disk until memory is under the cap.
    fn spill_until_under_cap(&self) {
        let used = self.bytes_in_memory.load(Ordering::Relaxed);
        if used <= self.config.memory_cap {
            return;
        }
        let mut candidates: Vec<(u64, Arc<Slot>, Bytes, bool)> = {
            let entries = self.entries.lock();
            entries
                .values()
                .filter_map(|s| match &s.inner.lock().state {
                    State::Ready(r) => match &r.data {
                        Some(d) if !d.is_empty() => Some((r.seq, s.clone(), d.clone(), r.on_disk)),
                        _ => None,
                    },
                    _ => None,
                })
                .collect()
        };
        candidates.sort_unstable_by_key(|c| c.0);
        if let Err(e) = std::fs::create_dir_all(&self.config.spill_dir) {
            tracing::error!(dir = %self.config.spill_dir.display(), error = %e, "cannot create the spill directory; objects stay in memory");
            return;
        }
        let mut excess = used - self.config.memory_cap;
        for (_, slot, data, already_on_disk) in candidates {
            if excess == 0 {
                break;
            }
            let path = self.spill_path(slot.id);
            if !already_on_disk {
                if let Err(e) = write_atomically(&path, &data) {
                    tracing::error!(object = %slot.id, error = %e, "spilling failed; the object stays in memory");
                    continue;
                }
            }
            drop(data);
            let mut g = slot.inner.lock();
            match &mut g.state {
                State::Ready(r) => {
                    r.on_disk = true;
                    if r.data.take().is_some() {
                        excess = excess.saturating_sub(r.size);
                        self.bytes_in_memory.fetch_sub(r.size, Ordering::Relaxed);
                        self.spilled.fetch_add(1, Ordering::Relaxed);
                        self.spills.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(object = %slot.id, bytes = r.size, "spilled to disk");
                    }
                }
                // Freed meanwhile: its file may have been written after the
                // free looked for one.
                _ => {
                    drop(g);
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }

    /// Reads a spilled object back into memory.
    pub(crate) async fn restore(
        self: &Arc<Self>,
        slot: &Arc<Slot>,
    ) -> Result<ObjectValue, TaskError> {
        let path = self.spill_path(slot.id);
        let bytes = tokio::fs::read(&path).await.map_err(|e| {
            TaskError::new(
                ErrorKind::ObjectLost,
                "get",
                format!(
                    "object {} was spilled to {} but cannot be read back: {e}",
                    slot.id,
                    path.display()
                ),
            )
        })?;
        let value = {
            let mut g = slot.inner.lock();
            let State::Ready(r) = &mut g.state else {
                return Err(lost(slot.id));
            };
            if r.data.is_none() {
                r.data = Some(Bytes::from(bytes));
                self.bytes_in_memory.fetch_add(r.size, Ordering::Relaxed);
                self.spilled.fetch_sub(1, Ordering::Relaxed);
                self.restores.fetch_add(1, Ordering::Relaxed);
            }
            ObjectValue {
                data: r.data.clone().unwrap_or_default(),
                refs: r.refs.clone(),
            }
        };
        self.maybe_spill();
        Ok(value)
    }
}

fn write_atomically(path: &Path, data: &[u8]) -> std::io::Result<()> {
    // A name of its own per write: two spillers may write the same object.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let tmp = path.with_extension(format!("tmp{}", NEXT.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}
