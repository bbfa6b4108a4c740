//! Records of tasks, actors and objects as the wire carries them (ids in
//! hex, states by name): what a node reports to the head for listings.

use std::cmp::Reverse;

use wrun_core::page::Place;
use wrun_core::state::{ActorRecord, Filter, ObjectRecord, TaskRecord};

use crate::pb;

/// A task record for the wire.
pub fn to_task(r: &TaskRecord) -> pb::TaskRecord {
    pb::TaskRecord {
        id: r.id.to_string(),
        job: r.job.to_string(),
        kind: r.kind.as_str().into(),
        name: r.name.to_string(),
        actor: r.actor.map(|a| a.to_string()).unwrap_or_default(),
        node: r.node.to_string(),
        state: r.state.as_str().into(),
        waiting_for: r.waiting_for.clone(),
        submitted_us: r.submitted_us,
        started_us: r.started_us,
        ended_us: r.ended_us,
        attempt: r.attempt,
        error: r.error.clone(),
    }
}

/// An actor record for the wire.
pub fn to_actor(r: &ActorRecord) -> pb::ActorRecord {
    pb::ActorRecord {
        id: r.id.to_string(),
        job: r.job.to_string(),
        class: r.class.to_string(),
        name: r.name.clone(),
        node: r.node.to_string(),
        state: r.state.into(),
        death: r.death.clone(),
    }
}

/// An object record for the wire.
pub fn to_object(r: &ObjectRecord) -> pb::ObjectRecord {
    pb::ObjectRecord {
        id: r.id.to_string(),
        owner: r.owner.to_string(),
        node: r.node.to_string(),
        job: r.job.map(|j| j.to_string()).unwrap_or_default(),
        state: r.state.into(),
        size: r.size,
        refs: r.refs,
        spilled: r.spilled,
    }
}

/// Filters as the runtime takes them.
pub fn from_filters(f: &[pb::StateFilter]) -> Vec<Filter> {
    f.iter()
        .map(|f| Filter {
            key: f.key.clone(),
            value: f.value.clone(),
        })
        .collect()
}

/// The most records one ListState reply carries from one node (a node
/// keeps 100,000 ended calls by default: a whole history fits).
pub const MAX_LISTED: u64 = 200_000;

/// What a ListState request asks for, checked: its kind, its filters, each
/// naming a field records of that kind have, and where its page starts.
pub fn check_request(r: &pb::ListStateRequest) -> Result<Checked, String> {
    use wrun_core::state::check_filters;
    let kind = pb::StateKind::try_from(r.kind)
        .map_err(|_| format!("unknown kind of record {}", r.kind))?;
    let filters = from_filters(&r.filters);
    match kind {
        pb::StateKind::StateTasks => check_filters::<TaskRecord>("tasks", &filters)?,
        pb::StateKind::StateActors => check_filters::<ActorRecord>("actors", &filters)?,
        pb::StateKind::StateObjects => check_filters::<ObjectRecord>("objects", &filters)?,
    }
    let after = match r.after.as_str() {
        "" => None,
        place => Some(Place::parse(place, kind == pb::StateKind::StateTasks)?),
    };
    Ok(Checked {
        kind,
        filters,
        after,
    })
}

/// A ListState request, checked.
pub struct Checked {
    /// What it lists.
    pub kind: pb::StateKind,
    /// Each naming a field of that kind.
    pub filters: Vec<Filter>,
    /// Where the page starts.
    pub after: Option<Place>,
}

/// A task record's place in listings: sorting by it is sorting by
/// [`Place`] (ids are fixed-width hex).
pub fn task_place(r: &pb::TaskRecord) -> (Reverse<u64>, Reverse<&str>) {
    (Reverse(r.submitted_us), Reverse(r.id.as_str()))
}

/// An actor's or object's place in listings (its id's, descending).
pub fn id_place(id: &str) -> Reverse<&str> {
    Reverse(id)
}
