//! What a node reports of the work it holds, for `wrun list`, `get`,
//! `summary`, `memory` and `timeline`: records of tasks and actor calls
//! (live, and a bounded history of ended ones), actors and objects, each
//! with the fields people filter on.

use std::sync::Arc;

use crate::{ActorId, JobId, NodeId, ObjectId, TaskId};

/// A call's state as a user thinks of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskState {
    /// Its by-reference arguments are not ready yet.
    WaitingForArgs,
    /// Its arguments are ready; it waits for resources (or, an actor call,
    /// for the actor to finish earlier calls).
    WaitingForResources,
    /// Running in an instance.
    Running,
    /// Returned its values.
    Finished,
    /// Ended with an error (after any retries).
    Failed,
    /// Cancelled before or while it ran.
    Cancelled,
}

impl TaskState {
    /// Every state, in the order a call goes through them.
    pub const ALL: [TaskState; 6] = [
        TaskState::WaitingForArgs,
        TaskState::WaitingForResources,
        TaskState::Running,
        TaskState::Finished,
        TaskState::Failed,
        TaskState::Cancelled,
    ];

    /// The name in listings and filters.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::WaitingForArgs => "waiting-for-args",
            TaskState::WaitingForResources => "waiting-for-resources",
            TaskState::Running => "running",
            TaskState::Finished => "finished",
            TaskState::Failed => "failed",
            TaskState::Cancelled => "cancelled",
        }
    }

    /// The state named `s` (as [`TaskState::as_str`] writes it).
    pub fn parse(s: &str) -> Option<TaskState> {
        TaskState::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether the call is over.
    pub fn is_ended(self) -> bool {
        self >= TaskState::Finished
    }
}

/// What kind of call a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskKind {
    /// A task (a function run in a fresh or warm instance).
    Task,
    /// A method call of an actor.
    ActorCall,
}

impl TaskKind {
    /// The name in listings and filters.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Task => "task",
            TaskKind::ActorCall => "actor-call",
        }
    }
}

/// One task or actor call as the node that runs it (or holds it waiting)
/// knows it. Times are microseconds since the Unix epoch (0: not yet).
#[derive(Clone, Debug, PartialEq)]
pub struct TaskRecord {
    /// The call's id, unique across the cluster (a task sent to another
    /// node keeps its sender's id there).
    pub id: TaskId,
    /// The job that made it.
    pub job: JobId,
    /// A task or an actor call.
    pub kind: TaskKind,
    /// The function, or `Class.method`.
    pub name: Arc<str>,
    /// The actor, for an actor call.
    pub actor: Option<ActorId>,
    /// Where it runs (or waits).
    pub node: NodeId,
    /// Where it is in its life.
    pub state: TaskState,
    /// While waiting for resources: what it asked for.
    pub waiting_for: String,
    /// When it was made, started (its last attempt) and ended.
    pub submitted_us: u64,
    /// Microseconds since the epoch when it started running (0: not yet).
    pub started_us: u64,
    /// Microseconds since the epoch when it ended (0: not yet).
    pub ended_us: u64,
    /// Attempts retried before the last one.
    pub attempt: u32,
    /// Its error, when it failed or was cancelled (`kind: message`).
    pub error: String,
}

/// An actor hosted by a node.
#[derive(Clone, Debug, PartialEq)]
pub struct ActorRecord {
    /// The actor's id.
    pub id: ActorId,
    /// The job that created it.
    pub job: JobId,
    /// Its class.
    pub class: Arc<str>,
    /// `namespace/name` when it is named.
    pub name: String,
    /// The node that hosts it.
    pub node: NodeId,
    /// `alive` or `dead`.
    pub state: &'static str,
    /// Why it died, once dead.
    pub death: String,
}

/// One object in a node's store.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectRecord {
    /// The object's id.
    pub id: ObjectId,
    /// The node that owns it (holds its value and counts its references).
    pub owner: NodeId,
    /// The node whose store reports it.
    pub node: NodeId,
    /// The job its bytes are charged to, when any.
    pub job: Option<JobId>,
    /// `pending`, `ready`, `failed` or `borrowed` (another node's, not
    /// read here).
    pub state: &'static str,
    /// Its size in bytes (0 while pending).
    pub size: u64,
    /// References held on this node.
    pub refs: u64,
    /// Its bytes are in the spill file, not in memory.
    pub spilled: bool,
}

/// A `KEY=VALUE` filter on records' fields, as `wrun list --filter` takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// The field's name.
    pub key: String,
    /// What it must read.
    pub value: String,
}

/// Records people can filter by field.
pub trait Fields {
    /// The fields a filter may name.
    const FIELDS: &'static [&'static str];
    /// Field `key` as a filter compares it (`None`: no such field).
    fn field(&self, key: &str) -> Option<String>;

    /// Whether every filter holds.
    fn passes(&self, filters: &[Filter]) -> bool {
        filters
            .iter()
            .all(|f| self.field(&f.key).is_some_and(|v| v == f.value))
    }
}

/// The first filter naming a field `R` does not have, as an error that
/// lists the fields it has.
pub fn check_filters<R: Fields>(what: &str, filters: &[Filter]) -> Result<(), String> {
    match filters
        .iter()
        .find(|f| !R::FIELDS.contains(&f.key.as_str()))
    {
        Some(f) => Err(format!(
            "{what} have no field `{}`; they have: {}",
            f.key,
            R::FIELDS.join(", ")
        )),
        None => Ok(()),
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

impl Fields for TaskRecord {
    const FIELDS: &'static [&'static str] = &[
        "id", "job", "kind", "name", "actor", "node", "state", "attempt",
    ];
    fn field(&self, key: &str) -> Option<String> {
        Some(match key {
            "id" => self.id.to_string(),
            "job" => self.job.to_string(),
            "kind" => self.kind.as_str().into(),
            "name" => self.name.to_string(),
            "actor" => opt(&self.actor),
            "node" => self.node.to_string(),
            "state" => self.state.as_str().into(),
            "attempt" => self.attempt.to_string(),
            _ => return None,
        })
    }
}

impl Fields for ActorRecord {
    const FIELDS: &'static [&'static str] = &["id", "job", "class", "name", "node", "state"];
    fn field(&self, key: &str) -> Option<String> {
        Some(match key {
            "id" => self.id.to_string(),
            "job" => self.job.to_string(),
            "class" => self.class.to_string(),
            "name" => self.name.clone(),
            "node" => self.node.to_string(),
            "state" => self.state.into(),
            _ => return None,
        })
    }
}

impl Fields for ObjectRecord {
    const FIELDS: &'static [&'static str] = &["id", "owner", "node", "job", "state", "spilled"];
    fn field(&self, key: &str) -> Option<String> {
        Some(match key {
            "id" => self.id.to_string(),
            "owner" => self.owner.to_string(),
            "node" => self.node.to_string(),
            "job" => opt(&self.job),
            "state" => self.state.into(),
            "spilled" => self.spilled.to_string(),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Id;

    fn task(state: TaskState) -> TaskRecord {
        TaskRecord {
            id: TaskId(Id { hi: 1, lo: 2 }),
            job: JobId(Id { hi: 1, lo: 3 }),
            kind: TaskKind::Task,
            name: "square".into(),
            actor: None,
            node: NodeId(1),
            state,
            waiting_for: String::new(),
            submitted_us: 1,
            started_us: 0,
            ended_us: 0,
            attempt: 0,
            error: String::new(),
        }
    }

    #[test]
    fn states_read_back_and_know_when_a_call_is_over() {
        for s in TaskState::ALL {
            assert_eq!(TaskState::parse(s.as_str()), Some(s));
        }
        assert!(!TaskState::Running.is_ended() && TaskState::Cancelled.is_ended());
        assert_eq!(TaskState::parse("done"), None);
    }

    #[test]
    fn filters_hold_on_every_field_and_unknown_fields_are_named() {
        let t = task(TaskState::Running);
        let f = |k: &str, v: &str| Filter {
            key: k.into(),
            value: v.into(),
        };
        assert!(t.passes(&[f("state", "running"), f("name", "square")]));
        assert!(!t.passes(&[f("state", "finished")]));
        assert!(!t.passes(&[f("actor", "x")]), "no actor reads empty");
        let e = check_filters::<TaskRecord>("tasks", &[f("colour", "red")]).unwrap_err();
        assert!(e.contains("no field `colour`; they have: id, job,"), "{e}");
        assert!(check_filters::<TaskRecord>("tasks", &[f("state", "x")]).is_ok());
    }
}
