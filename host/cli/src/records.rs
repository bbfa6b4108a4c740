//! Records of tasks, actors and objects as `wrun list`, `get` and
//! `timeline` print them: JSON for scripts, a line for people.

use serde_json::{json, Value};
use wrun_proto::pb;

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

/// A task or actor call.
pub(crate) fn task_json(t: &pb::TaskRecord) -> Value {
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
pub(crate) fn actor_json(a: &pb::ActorRecord) -> Value {
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
pub(crate) fn object_json(o: &pb::ObjectRecord) -> Value {
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

/// A size for people (`1.5 MiB`).
pub(crate) fn size(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().iec().to_string()
}

/// A field as people read it: strings bare, null as `-`.
pub(crate) fn reads(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}
