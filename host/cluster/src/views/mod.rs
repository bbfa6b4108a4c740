//! The cluster's records as JSON, one form for every reader: `wrun status
//! --json`, `wrun job`, `wrun list`, `get`, `summary`, `memory`,
//! `timeline`, and the dashboard's API. Tests read these forms.

use std::time::Duration;

use serde_json::{json, Value};
use wrun_proto::pb;

mod state;

pub use state::{memory_json, summary_json, trace_json};

/// The records of a `ListState` reply of `kind`, as JSON.
pub fn records_json(kind: pb::StateKind, reply: &pb::ListStateReply) -> Vec<Value> {
    match kind {
        pb::StateKind::StateTasks => reply.tasks.iter().map(task_json).collect(),
        pb::StateKind::StateActors => reply.actors.iter().map(actor_json).collect(),
        pb::StateKind::StateObjects => reply.objects.iter().map(object_json).collect(),
    }
}

/// Microseconds since the Unix epoch (where a running call's span ends).
pub fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// A string field, `null` when empty.
fn or_null(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s.to_string())
    }
}

/// A time in µs since the epoch, `null` when not yet.
fn time(us: u64) -> Value {
    if us == 0 {
        Value::Null
    } else {
        json!(us)
    }
}

/// A job's line `n` (`wrun job logs --json`, the dashboard's logs): the
/// task, actor (`null`: a task or the driver) and node that wrote it.
pub fn line_json(n: u64, l: &pb::LogLine) -> Value {
    json!({
        "n": n,
        "task": l.task,
        "actor": or_null(&l.actor),
        "node": or_null(&l.node),
        "message": l.message,
        "stderr": l.stderr,
    })
}

/// A task or actor call.
pub fn task_json(t: &pb::TaskRecord) -> Value {
    let ran_ms = (t.started_us > 0 && t.ended_us >= t.started_us)
        .then(|| (t.ended_us - t.started_us) as f64 / 1000.0);
    json!({
        "id": t.id,
        "job": t.job,
        "kind": t.kind,
        "name": t.name,
        "actor": or_null(&t.actor),
        "node": t.node,
        "state": t.state,
        "waiting_for": or_null(&t.waiting_for),
        "submitted_us": t.submitted_us,
        "started_us": time(t.started_us),
        "ended_us": time(t.ended_us),
        "ran_ms": ran_ms,
        "attempt": t.attempt,
        "error": or_null(&t.error),
    })
}

/// An actor.
pub fn actor_json(a: &pb::ActorRecord) -> Value {
    json!({
        "id": a.id,
        "job": a.job,
        "class": a.class,
        "name": or_null(&a.name),
        "node": a.node,
        "state": a.state,
        "death": or_null(&a.death),
    })
}

/// An object.
pub fn object_json(o: &pb::ObjectRecord) -> Value {
    json!({
        "id": o.id,
        "owner": o.owner,
        "node": o.node,
        "job": or_null(&o.job),
        "state": o.state,
        "size": o.size,
        "refs": o.refs,
        "spilled": o.spilled,
    })
}

/// Resources as JSON: CPUs, memory and custom amounts.
pub fn resources_json(r: &Option<pb::Resources>) -> Value {
    let r = r.clone().unwrap_or_default();
    let custom: serde_json::Map<String, Value> =
        r.custom.into_iter().map(|(k, v)| (k, json!(v))).collect();
    json!({ "cpus": r.cpus, "memory": r.memory, "custom": custom })
}

/// `wrun status --json`: the head's view as one object. A node's fields are
/// as of its last report; `reports` counts those reports, so a reader can
/// wait for a report newer than something it did.
pub fn status_json(s: &pb::StatusReply, address: &str) -> Value {
    let nodes: Vec<Value> = s
        .nodes
        .iter()
        .map(|n| {
            let o = n.objects.unwrap_or_default();
            json!({
                "id": n.node_id,
                "address": n.address,
                "state": n.state,
                "total": resources_json(&n.total),
                "available": resources_json(&n.available),
                "running_jobs": n.running_jobs,
                "queued": n.queued,
                "waiting": n.waiting,
                "objects": o.objects,
                "bytes_in_memory": o.bytes_in_memory,
                "fetches": o.fetches,
                "peers": n.peers,
                "reports": n.reports,
            })
        })
        .collect();
    let jobs: Vec<Value> = s.jobs.iter().map(job_json).collect();
    let groups: Vec<Value> = s
        .groups
        .iter()
        .filter_map(wrun_proto::from_group)
        .map(|g| {
            let bundles: Vec<Value> = g
                .bundles
                .iter()
                .map(|(node, r)| json!({ "node": node.to_string(), "resources": r.to_string() }))
                .collect();
            json!({ "id": g.id.to_string(), "strategy": g.strategy.name(), "bundles": bundles })
        })
        .collect();
    json!({
        "head": s.head_id,
        "address": address,
        "nodes": nodes,
        "jobs": jobs,
        "placement_groups": groups,
    })
}

/// How long a job ran (so far, while it runs).
pub fn duration(j: &pb::JobStatus) -> Option<Duration> {
    let end = match j.ended_ms {
        0 => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_millis() as u64,
        t => t,
    };
    (j.submitted_ms > 0).then(|| Duration::from_millis(end.saturating_sub(j.submitted_ms)))
}

/// A job as `--json` prints it.
pub fn job_json(j: &pb::JobStatus) -> Value {
    json!({
        "id": j.job_id,
        "name": j.name,
        "state": j.state,
        "node": j.node_id,
        "detail": j.detail,
        "submitted_ms": j.submitted_ms,
        "ended_ms": j.ended_ms,
        "duration_ms": duration(j).map(|d| d.as_millis() as u64),
        "args": j.args,
        "components": j.components,
        "env_hash": j.env_hash,
        "log_lines": j.log_lines,
        "result": (!j.result.is_empty()).then(|| wrun_core::values::render_text(&j.result)),
    })
}
