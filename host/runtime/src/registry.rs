//! The actors of this node by id, their names per namespace (private to a
//! job, or shared), who may see which, and why recent ones died.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use wrun_core::{is_private_namespace, ActorId, ErrorKind, JobId, TaskError};

use crate::actors::gate::{ActorCall, Gate};
use crate::cluster::Directory;

pub(crate) struct ActorEntry {
    pub(crate) class: Arc<str>,
    pub(crate) job: JobId,
    pub(crate) name: Option<(String, String)>,
    pub(crate) mailbox: mpsc::UnboundedSender<ActorCall>,
    /// Calls waiting for their arguments before they go in the mailbox.
    pub(crate) gate: Arc<Gate>,
    /// Why the actor is dead, once it is.
    pub(crate) dead: Mutex<Option<String>>,
    /// Told by `kill(no_restart=False)`: its life ends this instance.
    pub(crate) restart: tokio::sync::Notify,
    pub(crate) runner: Mutex<Option<JoinHandle<()>>>,
}

/// Live actors and their names, and why recent ones died.
pub(crate) struct ActorRegistry {
    pub(crate) actors: Mutex<HashMap<ActorId, Arc<ActorEntry>>>,
    pub(crate) names: Mutex<HashMap<(String, String), ActorId>>,
    /// The actors each live actor of this node created (on any node): they
    /// die with it (fate sharing, as in Ray).
    children: Mutex<HashMap<ActorId, Vec<ActorId>>>,
    /// Why actors died, for the errors of later calls (the most recent
    /// `GRAVEYARD_SIZE`, oldest dropped first).
    graveyard: Mutex<(
        HashMap<ActorId, String>,
        std::collections::VecDeque<ActorId>,
    )>,
    /// Told when a named actor's name goes (a cluster frees it cluster-wide).
    directory: Arc<dyn Directory>,
}

const GRAVEYARD_SIZE: usize = 10_000;

impl ActorRegistry {
    pub(crate) fn new(directory: Arc<dyn Directory>) -> Self {
        ActorRegistry {
            actors: Mutex::default(),
            names: Mutex::default(),
            children: Mutex::default(),
            graveyard: Mutex::default(),
            directory,
        }
    }

    pub(crate) fn lookup(&self, namespace: &str, name: &str) -> Option<ActorId> {
        self.names
            .lock()
            .get(&(namespace.to_string(), name.to_string()))
            .copied()
    }

    pub(crate) fn live(&self) -> usize {
        self.actors.lock().len()
    }

    /// Refuses a job access to another job's actor unless that actor is
    /// named in a shared namespace (`caller` `None` is the host: trusted).
    pub(crate) fn check_visible(
        &self,
        caller: Option<JobId>,
        id: ActorId,
    ) -> Result<(), TaskError> {
        let Some(job) = caller else { return Ok(()) };
        let Some(entry) = self.actors.lock().get(&id).cloned() else {
            return Ok(());
        };
        let shared = entry
            .name
            .as_ref()
            .is_some_and(|(ns, _)| !is_private_namespace(ns));
        if entry.job == job || shared {
            return Ok(());
        }
        Err(TaskError::new(
            ErrorKind::NotFound,
            "actor",
            format!("no actor {id} is visible to this job"),
        ))
    }

    /// Why a dead actor died, if it died recently.
    pub(crate) fn death(&self, id: ActorId) -> Option<String> {
        self.graveyard.lock().0.get(&id).cloned()
    }

    pub(crate) fn bury(&self, id: ActorId, why: &str) {
        let mut g = self.graveyard.lock();
        if g.0.insert(id, why.to_string()).is_none() {
            g.1.push_back(id);
            if g.1.len() > GRAVEYARD_SIZE {
                if let Some(old) = g.1.pop_front() {
                    g.0.remove(&old);
                }
            }
        }
    }

    pub(crate) fn remove(&self, id: ActorId) -> Option<Arc<ActorEntry>> {
        let entry = self.actors.lock().remove(&id)?;
        if let Some(n) = &entry.name {
            let mut names = self.names.lock();
            if names.get(n) == Some(&id) {
                names.remove(n);
            }
            drop(names);
            self.directory.unregister_name(&n.0, &n.1, id);
        }
        Some(entry)
    }

    /// Kills an actor: its running call is interrupted and queued calls fail
    /// with `actor-died`.
    pub(crate) fn kill(&self, id: ActorId, why: &str) -> Result<(), TaskError> {
        let entry = self.remove(id).ok_or_else(|| {
            TaskError::new(
                ErrorKind::NotFound,
                "kill",
                format!("no live actor with id {id}"),
            )
        })?;
        entry.dead.lock().get_or_insert_with(|| why.to_string());
        self.bury(id, why);
        if let Some(h) = entry.runner.lock().take() {
            h.abort();
        }
        tracing::debug!(actor = %id, class = %entry.class, why, "actor killed");
        Ok(())
    }

    /// Records that actor `creator` (of this node) created `child`.
    pub(crate) fn adopt(&self, creator: ActorId, child: ActorId) {
        self.children.lock().entry(creator).or_default().push(child);
    }

    /// The actors `creator` created, which die with it; forgotten here.
    pub(crate) fn take_children(&self, creator: ActorId) -> Vec<ActorId> {
        self.children.lock().remove(&creator).unwrap_or_default()
    }

    /// Ends an actor's instance; it restarts while it has restarts left
    /// (`life.rs` decides).
    pub(crate) fn restart(&self, id: ActorId) -> Result<(), TaskError> {
        let entry = self.actors.lock().get(&id).cloned().ok_or_else(|| {
            TaskError::new(
                ErrorKind::NotFound,
                "kill",
                format!("no live actor with id {id}"),
            )
        })?;
        entry.restart.notify_one();
        tracing::debug!(actor = %id, class = %entry.class, "actor instance killed to restart");
        Ok(())
    }

    /// Kills every actor a job created (the job ended).
    pub(crate) fn kill_job(&self, job: JobId) {
        let ids: Vec<ActorId> = self
            .actors
            .lock()
            .iter()
            .filter(|(_, e)| e.job == job)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let _ = self.kill(id, "its job ended");
        }
    }
}
