//! The head's control state in sled: nodes, jobs with their guests' lines
//! and outcomes, named actors, registered components and environment
//! bundles (by content hash), and placement groups, so a restarted head
//! knows the cluster it had and the history of its jobs. Node, job and
//! actor records are JSON (readable with any sled tool, and tolerant of
//! added fields); placement groups, log lines and outcomes are encoded
//! messages (`GroupRecord`, `LogLine`, `JobEvent`).

use std::path::Path;

use serde::{Deserialize, Serialize};

/// A node as the head remembers it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeRecord {
    pub node_id: String,
    pub address: String,
    pub cpus: f64,
    pub memory: u64,
    pub custom: Vec<(String, f64)>,
}

/// A job as the head remembers it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub job_id: String,
    pub name: String,
    /// pending, running, succeeded, failed
    pub state: String,
    pub node_id: String,
    pub detail: String,
    /// Content hashes of its components, the driver's first.
    pub components: Vec<String>,
    /// When it was submitted and ended (ms since the Unix epoch; 0: not yet).
    #[serde(default)]
    pub submitted_ms: u64,
    #[serde(default)]
    pub ended_ms: u64,
    /// The arguments its `main` was given.
    #[serde(default)]
    pub args: Vec<String>,
    /// Content hash of its runtime environment (empty: deny-all).
    #[serde(default)]
    pub env_hash: String,
    /// `wrun job stop` asked for it (its end reads `stopped`).
    #[serde(default)]
    pub stop_requested: bool,
    /// Lines its guests wrote (those kept: see `MAX_JOB_LINES`).
    #[serde(default)]
    pub log_lines: u64,
    /// Bytes of the driver's value (0: none), so a listing reads back only
    /// values up to `MAX_LISTED_VALUE`.
    #[serde(default)]
    pub value_bytes: u64,
}

/// The largest driver value a job listing carries; larger ones are kept
/// for the job's followers only (a listing of 1,000 jobs must not read
/// back 1,000 values of up to 64 MiB).
pub const MAX_LISTED_VALUE: u64 = 64 << 10;

impl JobRecord {
    /// Whether it has ended (or will never end: lost).
    pub fn ended(&self) -> bool {
        !matches!(self.state.as_str(), "pending" | "running")
    }
}

/// Lines kept per job at the head; past them, one line says how many more
/// were dropped (a guest's output is bounded by its `limits.log_rate` too).
pub const MAX_JOB_LINES: u64 = 100_000;

/// A named actor as the head remembers it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActorRecord {
    pub namespace: String,
    pub name: String,
    /// The actor's id, hex (its high half is the node it runs on).
    pub actor_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the head's state at {path} cannot be opened: {source} (is another head running with this state directory?)")]
    Open { path: String, source: sled::Error },
    #[error("the head's state store failed: {0}")]
    Sled(#[from] sled::Error),
    #[error("a record in the head's state is unreadable: {0}")]
    Record(#[from] serde_json::Error),
}

/// The head's persistent state.
pub struct HeadStore {
    db: sled::Db,
    nodes: sled::Tree,
    jobs: sled::Tree,
    actors: sled::Tree,
    /// Placement groups: id (hex) -> the `GroupRecord` message's bytes.
    groups: sled::Tree,
    components: sled::Tree,
    /// Jobs' lines: job id, 0, line number (big-endian) -> a `LogLine`.
    job_lines: sled::Tree,
    /// How jobs ended: job id -> the final `JobEvent` (value or error).
    outcomes: sled::Tree,
}

/// The key of line `n` of a job; a job's lines sort in order.
fn line_key(job_id: &str, n: u64) -> Vec<u8> {
    let mut k = job_id.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&n.to_be_bytes());
    k
}

fn actor_key(namespace: &str, name: &str) -> Vec<u8> {
    let mut k = namespace.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(name.as_bytes());
    k
}

impl HeadStore {
    pub fn open(dir: &Path) -> Result<HeadStore, StoreError> {
        let db = sled::open(dir).map_err(|source| StoreError::Open {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(HeadStore {
            nodes: db.open_tree("nodes")?,
            jobs: db.open_tree("jobs")?,
            actors: db.open_tree("actors")?,
            groups: db.open_tree("groups")?,
            components: db.open_tree("components")?,
            job_lines: db.open_tree("job_lines")?,
            outcomes: db.open_tree("outcomes")?,
            db,
        })
    }

    /// The head's id: made once, kept across restarts.
    pub fn head_id(&self) -> Result<String, StoreError> {
        if let Some(v) = self.db.get("head_id")? {
            return Ok(String::from_utf8_lossy(&v).into_owned());
        }
        let id = wrun_core::IdGen::new().node_id().to_string();
        self.db.insert("head_id", id.as_bytes())?;
        self.db.flush()?;
        Ok(id)
    }

    pub fn put_node(&self, n: &NodeRecord) -> Result<(), StoreError> {
        self.nodes.insert(&n.node_id, serde_json::to_vec(n)?)?;
        self.nodes.flush()?;
        Ok(())
    }

    pub fn nodes(&self) -> Result<Vec<NodeRecord>, StoreError> {
        self.nodes
            .iter()
            .values()
            .map(|v| Ok(serde_json::from_slice(&v?)?))
            .collect()
    }

    pub fn put_job(&self, j: &JobRecord) -> Result<(), StoreError> {
        self.jobs.insert(&j.job_id, serde_json::to_vec(j)?)?;
        self.jobs.flush()?;
        Ok(())
    }

    pub fn jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        self.jobs
            .iter()
            .values()
            .map(|v| Ok(serde_json::from_slice(&v?)?))
            .collect()
    }

    pub fn job(&self, job_id: &str) -> Result<Option<JobRecord>, StoreError> {
        match self.jobs.get(job_id)? {
            Some(v) => Ok(Some(serde_json::from_slice(&v)?)),
            None => Ok(None),
        }
    }

    /// Keeps line `n` of a job (an encoded `LogLine`). Not flushed on its
    /// own: sled writes it out within half a second, and the job's end
    /// flushes everything.
    pub fn put_line(&self, job_id: &str, n: u64, line: &[u8]) -> Result<(), StoreError> {
        self.job_lines.insert(line_key(job_id, n), line)?;
        Ok(())
    }

    /// Up to `max` lines of a job from line `from` on, with their numbers.
    pub fn lines(
        &self,
        job_id: &str,
        from: u64,
        max: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let end = line_key(job_id, u64::MAX);
        self.job_lines
            .range(line_key(job_id, from)..=end)
            .take(max)
            .map(|kv| {
                let (k, v) = kv?;
                let mut n = [0u8; 8];
                n.copy_from_slice(&k[k.len() - 8..]);
                Ok((u64::from_be_bytes(n), v.to_vec()))
            })
            .collect()
    }

    /// Records how a job ended (its final `JobEvent`).
    pub fn put_outcome(&self, job_id: &str, event: &[u8]) -> Result<(), StoreError> {
        self.outcomes.insert(job_id, event)?;
        Ok(())
    }

    pub fn outcome(&self, job_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.outcomes.get(job_id)?.map(|v| v.to_vec()))
    }

    /// Forgets the oldest ended jobs, their lines and outcomes, past the
    /// newest `keep` ended ones; how many went.
    pub fn prune_jobs(&self, keep: usize) -> Result<usize, StoreError> {
        let mut ended: Vec<JobRecord> = self.jobs()?.into_iter().filter(JobRecord::ended).collect();
        if ended.len() <= keep {
            return Ok(0);
        }
        ended.sort_by_key(|j| j.submitted_ms);
        let gone = ended.len() - keep;
        for j in &ended[..gone] {
            self.jobs.remove(&j.job_id)?;
            self.outcomes.remove(&j.job_id)?;
            let mut prefix = j.job_id.as_bytes().to_vec();
            prefix.push(0);
            for k in self.job_lines.scan_prefix(prefix).keys() {
                self.job_lines.remove(k?)?;
            }
        }
        self.db.flush()?;
        Ok(gone)
    }

    /// Writes everything out (a job ended).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    pub fn actor(&self, namespace: &str, name: &str) -> Result<Option<ActorRecord>, StoreError> {
        match self.actors.get(actor_key(namespace, name))? {
            Some(v) => Ok(Some(serde_json::from_slice(&v)?)),
            None => Ok(None),
        }
    }

    pub fn put_actor(&self, a: &ActorRecord) -> Result<(), StoreError> {
        self.actors
            .insert(actor_key(&a.namespace, &a.name), serde_json::to_vec(a)?)?;
        self.actors.flush()?;
        Ok(())
    }

    /// Forgets a name if it still belongs to `actor_id`.
    pub fn remove_actor(
        &self,
        namespace: &str,
        name: &str,
        actor_id: &str,
    ) -> Result<(), StoreError> {
        if self
            .actor(namespace, name)?
            .is_some_and(|a| a.actor_id == actor_id)
        {
            self.actors.remove(actor_key(namespace, name))?;
            self.actors.flush()?;
        }
        Ok(())
    }

    /// Records a placement group (its encoded `GroupRecord`).
    pub fn put_group(&self, id: &str, record: &[u8]) -> Result<(), StoreError> {
        self.groups.insert(id, record)?;
        self.groups.flush()?;
        Ok(())
    }

    pub fn group(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.groups.get(id)?.map(|v| v.to_vec()))
    }

    pub fn remove_group(&self, id: &str) -> Result<(), StoreError> {
        self.groups.remove(id)?;
        self.groups.flush()?;
        Ok(())
    }

    pub fn groups(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.groups
            .iter()
            .values()
            .map(|v| Ok(v?.to_vec()))
            .collect()
    }

    /// Registers a component's bytes under their content hash.
    pub fn put_component(&self, hash: &str, wasm: &[u8]) -> Result<(), StoreError> {
        if !self.components.contains_key(hash)? {
            self.components.insert(hash, wasm)?;
            self.components.flush()?;
        }
        Ok(())
    }

    pub fn component(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.components.get(hash)?.map(|v| v.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let node = NodeRecord {
            node_id: "00ff".into(),
            address: "127.0.0.1:1".into(),
            cpus: 2.0,
            memory: 1 << 30,
            custom: vec![("license".into(), 1.0)],
        };
        let job = JobRecord {
            job_id: "j1".into(),
            name: "hello".into(),
            state: "succeeded".into(),
            node_id: "00ff".into(),
            detail: String::new(),
            components: vec!["abc".into()],
            submitted_ms: 1,
            ended_ms: 2,
            args: vec!["Ada".into()],
            env_hash: String::new(),
            stop_requested: false,
            log_lines: 0,
            value_bytes: 0,
        };
        let actor = ActorRecord {
            namespace: "shared".into(),
            name: "counter".into(),
            actor_id: "00ff0000000000000000000000000001".into(),
        };
        let id = {
            let s = HeadStore::open(dir.path()).unwrap();
            s.put_node(&node).unwrap();
            s.put_job(&job).unwrap();
            s.put_component("abc", b"\0asm").unwrap();
            s.put_actor(&actor).unwrap();
            s.head_id().unwrap()
        };
        let s = HeadStore::open(dir.path()).unwrap();
        assert_eq!(s.head_id().unwrap(), id);
        assert_eq!(s.nodes().unwrap(), vec![node]);
        assert_eq!(s.jobs().unwrap(), vec![job]);
        assert_eq!(s.component("abc").unwrap().as_deref(), Some(&b"\0asm"[..]));
        assert_eq!(s.component("nope").unwrap(), None);
        assert_eq!(s.actor("shared", "counter").unwrap(), Some(actor.clone()));
        s.remove_actor("shared", "counter", "another").unwrap();
        assert!(
            s.actor("shared", "counter").unwrap().is_some(),
            "only its own actor removes a name"
        );
        s.remove_actor("shared", "counter", &actor.actor_id)
            .unwrap();
        assert_eq!(s.actor("shared", "counter").unwrap(), None);
    }

    fn job(id: &str, state: &str, submitted_ms: u64) -> JobRecord {
        JobRecord {
            job_id: id.into(),
            name: "j".into(),
            state: state.into(),
            node_id: String::new(),
            detail: String::new(),
            components: Vec::new(),
            submitted_ms,
            ended_ms: 0,
            args: Vec::new(),
            env_hash: String::new(),
            stop_requested: false,
            log_lines: 0,
            value_bytes: 0,
        }
    }

    #[test]
    fn a_jobs_lines_come_back_in_order_from_any_line_and_go_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let s = HeadStore::open(dir.path()).unwrap();
        // Line 256 sorts after 255 (big-endian), and jobs do not mix.
        for n in [0u64, 1, 255, 256, 70_000] {
            s.put_line("a", n, format!("a{n}").as_bytes()).unwrap();
        }
        s.put_line("ab", 0, b"ab0").unwrap();
        let read = |from, max| {
            s.lines("a", from, max)
                .unwrap()
                .into_iter()
                .map(|(n, v)| (n, String::from_utf8(v).unwrap()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            read(0, 10),
            [
                (0, "a0"),
                (1, "a1"),
                (255, "a255"),
                (256, "a256"),
                (70_000, "a70000")
            ]
            .map(|(n, v)| (n, v.to_string()))
        );
        assert_eq!(read(2, 2), vec![(255, "a255".into()), (256, "a256".into())]);
        // The oldest ended jobs go, with their lines; running ones stay.
        s.put_job(&job("a", "succeeded", 1)).unwrap();
        s.put_job(&job("ab", "failed", 2)).unwrap();
        s.put_job(&job("old-but-running", "running", 0)).unwrap();
        s.put_outcome("a", b"x").unwrap();
        assert_eq!(s.prune_jobs(1).unwrap(), 1);
        assert!(s.job("a").unwrap().is_none() && s.outcome("a").unwrap().is_none());
        assert!(read(0, 10).is_empty());
        assert_eq!(s.lines("ab", 0, 10).unwrap().len(), 1);
        assert!(s.job("old-but-running").unwrap().is_some());
    }
}
