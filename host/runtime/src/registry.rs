//! The actors of this node by id, their names per namespace (private to a
//! job, or shared), who may see which, and why recent ones died.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use wrun_core::page::{page, Place};
use wrun_core::state::{ActorRecord, Filter};
use wrun_core::{is_private_namespace, ActorId, JobId, NodeId, TaskError};

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

impl ActorEntry {
    /// Whether `caller` may see this actor (`None` is the host: trusted).
    pub(crate) fn visible_to(&self, caller: Option<JobId>) -> bool {
        self.seen_by().admits(caller)
    }

    /// Who may see this actor.
    fn seen_by(&self) -> SeenBy {
        SeenBy {
            job: self.job,
            shared: self
                .name
                .as_ref()
                .is_some_and(|(ns, _)| !is_private_namespace(ns)),
        }
    }
}

/// Who may see an actor: its job, or every job when it is named in a shared
/// namespace.
#[derive(Clone, Copy)]
struct SeenBy {
    job: JobId,
    shared: bool,
}

impl SeenBy {
    /// Whether `caller` may see it (`None` is the host: trusted).
    fn admits(self, caller: Option<JobId>) -> bool {
        caller.is_none_or(|job| job == self.job || self.shared)
    }
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
    graveyard: Mutex<Graveyard>,
    /// Told when a named actor's name goes (a cluster frees it cluster-wide).
    directory: Arc<dyn Directory>,
}

const GRAVEYARD_SIZE: usize = 10_000;

/// Why recent actors died and who may be told, oldest first in `order`.
#[derive(Default)]
struct Graveyard {
    graves: HashMap<ActorId, Grave>,
    order: std::collections::VecDeque<ActorId>,
}

/// A dead actor: who may be told, its class, why it died.
struct Grave {
    seen_by: SeenBy,
    class: Arc<str>,
    why: String,
}

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

    /// Dead actors this node still remembers (its graveyard is bounded).
    pub(crate) fn remembered_dead(&self) -> usize {
        self.graveyard.lock().graves.len()
    }

    /// Whether `caller` may see actor `id` (`None` is the host: trusted).
    /// An actor no job may see unless it is its own or named in a shared
    /// namespace; to every other job it reads exactly as an id nobody
    /// minted (no oracle), which is why an unknown id is "visible" here:
    /// the caller goes on to find nothing.
    pub(crate) fn visible(&self, caller: Option<JobId>, id: ActorId) -> bool {
        self.actors
            .lock()
            .get(&id)
            .is_none_or(|entry| entry.visible_to(caller))
    }

    /// Why a dead actor died, if it died recently and `caller` may see it.
    pub(crate) fn death(&self, caller: Option<JobId>, id: ActorId) -> Option<String> {
        let graves = self.graveyard.lock();
        let grave = graves.graves.get(&id)?;
        grave.seen_by.admits(caller).then(|| grave.why.clone())
    }

    /// Records why a live actor died (the first reason given stays).
    pub(crate) fn bury(&self, id: ActorId, why: &str) {
        let Some((seen_by, class)) = self
            .actors
            .lock()
            .get(&id)
            .map(|e| (e.seen_by(), e.class.clone()))
        else {
            return;
        };
        self.bury_as(id, seen_by, class, why);
    }

    fn bury_as(&self, id: ActorId, seen_by: SeenBy, class: Arc<str>, why: &str) {
        let mut g = self.graveyard.lock();
        if let std::collections::hash_map::Entry::Vacant(grave) = g.graves.entry(id) {
            grave.insert(Grave {
                seen_by,
                class,
                why: why.to_string(),
            });
            g.order.push_back(id);
            if g.order.len() > GRAVEYARD_SIZE {
                if let Some(old) = g.order.pop_front() {
                    g.graves.remove(&old);
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

    /// Kills an actor `caller` may see: its running call is interrupted and
    /// queued calls fail with `actor-died`.
    pub(crate) fn kill(
        &self,
        caller: Option<JobId>,
        id: ActorId,
        why: &str,
    ) -> Result<(), TaskError> {
        if !self.visible(caller, id) {
            return Err(TaskError::no_live_actor(id));
        }
        let entry = self
            .remove(id)
            .ok_or_else(|| TaskError::no_live_actor(id))?;
        entry.dead.lock().get_or_insert_with(|| why.to_string());
        self.bury_as(id, entry.seen_by(), entry.class.clone(), why);
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

    /// Ends the instance of an actor `caller` may see; it restarts while it
    /// has restarts left (`life.rs` decides).
    pub(crate) fn restart(&self, caller: Option<JobId>, id: ActorId) -> Result<(), TaskError> {
        let entry = self.actors.lock().get(&id).cloned();
        let entry = entry
            .filter(|e| e.visible_to(caller))
            .ok_or_else(|| TaskError::no_live_actor(id))?;
        entry.restart.notify_one();
        tracing::debug!(actor = %id, class = %entry.class, "actor instance killed to restart");
        Ok(())
    }

    /// The page of this node's (`node`) actors, live and recently dead,
    /// passing `filters` after `after` (by id), at most `limit`; and how
    /// many passed after `after` in all.
    pub(crate) fn records(
        &self,
        node: NodeId,
        filters: &[Filter],
        after: Option<Place>,
        limit: usize,
    ) -> (Vec<ActorRecord>, usize) {
        let live: Vec<(ActorId, Arc<ActorEntry>)> = self
            .actors
            .lock()
            .iter()
            .map(|(id, e)| (*id, e.clone()))
            .collect();
        let mut records: Vec<ActorRecord> = live
            .into_iter()
            .map(|(id, e)| ActorRecord {
                id,
                job: e.job,
                class: e.class.clone(),
                name: e
                    .name
                    .as_ref()
                    .map(|(ns, n)| format!("{ns}/{n}"))
                    .unwrap_or_default(),
                node,
                state: "alive",
                death: String::new(),
            })
            .collect();
        // An actor dying now is buried before it leaves the live map.
        let alive: std::collections::HashSet<ActorId> = records.iter().map(|r| r.id).collect();
        let g = self.graveyard.lock();
        records.extend(g.order.iter().rev().filter_map(|id| {
            if alive.contains(id) {
                return None;
            }
            let grave = g.graves.get(id)?;
            Some(ActorRecord {
                id: *id,
                job: grave.seen_by.job,
                class: grave.class.clone(),
                name: String::new(),
                node,
                state: "dead",
                death: grave.why.clone(),
            })
        }));
        drop(g);
        page(records, filters, after, limit)
    }

    /// Kills every actor a job created (the job ended or was stopped).
    pub(crate) fn kill_job(&self, job: JobId, why: &str) -> Vec<ActorId> {
        let ids: Vec<ActorId> = self
            .actors
            .lock()
            .iter()
            .filter(|(_, e)| e.job == job)
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            let _ = self.kill(None, *id, why);
        }
        ids
    }
}
