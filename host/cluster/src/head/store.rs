//! The head's control state in sled: nodes, jobs, named actors, registered
//! components and environment bundles (by content hash), and placement
//! groups, so a restarted head knows the cluster it had. Node, job and actor
//! records are JSON (readable with any sled tool, and tolerant of added
//! fields); placement groups are their encoded `GroupRecord` messages.

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
}

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
}
