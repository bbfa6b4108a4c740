//! Counts and traces made from what the nodes report: `summary` (by name
//! and state, as `ray summary`), `memory` (object bytes by job and node)
//! and the timeline (Chrome trace events, which Perfetto opens).

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};
use wrun_proto::pb;

/// A figure per state.
type ByState = BTreeMap<String, u64>;

/// One entry per name (function, class, or job for objects), its counts by
/// state summed over the nodes; objects also carry their bytes by state.
pub fn summary_json(kind: pb::StateKind, rows: Vec<pb::StateCount>) -> Value {
    let mut by_name: BTreeMap<String, (ByState, ByState)> = BTreeMap::new();
    for r in rows {
        let (states, bytes) = by_name.entry(r.name).or_default();
        *states.entry(r.state.clone()).or_default() += r.count;
        *bytes.entry(r.state).or_default() += r.bytes;
    }
    by_name
        .into_iter()
        .map(|(name, (states, bytes))| {
            let total: u64 = states.values().sum();
            let mut e = json!({"name": name, "total": total, "states": states});
            if kind == pb::StateKind::StateObjects {
                e["bytes"] = json!(bytes);
            }
            e
        })
        .collect()
}

/// The objects of each job on each node (from object counts), and where
/// their bytes are.
pub fn memory_json(rows: Vec<pb::StateCount>) -> Value {
    let mut by: BTreeMap<(String, String), BTreeMap<String, (u64, u64)>> = BTreeMap::new();
    for r in rows {
        by.entry((r.name, r.node))
            .or_default()
            .insert(r.state, (r.count, r.bytes));
    }
    by.into_iter()
        .map(|((job, node), states)| {
            let n = |s: &str| states.get(s).copied().unwrap_or_default();
            json!({
                "job": if job.is_empty() { Value::Null } else { Value::String(job) },
                "node": node,
                "objects": states.values().map(|c| c.0).sum::<u64>(),
                "in_memory_bytes": n("in-memory").1,
                "spilled_bytes": n("spilled").1,
                "spilled_objects": n("spilled").0,
                "pending_objects": n("pending").0,
                "borrowed_objects": n("borrowed").0,
                "failed_objects": n("failed").0,
            })
        })
        .collect()
}

/// The calls that ran (task records as JSON) as complete events: one
/// process per node, and within it one lane (thread) per overlapping call,
/// so calls that ran at the same time sit side by side rather than falsely
/// nested. A call still running ends at `now_us`.
pub fn trace_json(calls: &[Value], now_us: u64) -> Value {
    let mut ran: Vec<&Value> = calls.iter().filter(|c| c["started_us"].is_u64()).collect();
    ran.sort_by_key(|c| c["started_us"].as_u64());
    let mut nodes: HashMap<String, (u64, Vec<u64>)> = HashMap::new();
    let mut events = Vec::new();
    for c in ran {
        let start = c["started_us"].as_u64().unwrap_or(0);
        let end = c["ended_us"].as_u64().unwrap_or(now_us).max(start);
        let next_pid = nodes.len() as u64 + 1;
        let node = c["node"].as_str().unwrap_or_default().to_string();
        let (pid, lanes) = nodes.entry(node).or_insert((next_pid, Vec::new()));
        // The first lane free at `start`, else a new one.
        let lane = match lanes.iter().position(|free_at| *free_at <= start) {
            Some(i) => i,
            None => {
                lanes.push(0);
                lanes.len() - 1
            }
        };
        lanes[lane] = end;
        events.push(json!({
            "name": c["name"],
            "cat": c["kind"],
            "ph": "X",
            "ts": start,
            "dur": end - start,
            "pid": pid,
            "tid": lane + 1,
            "args": {
                "id": c["id"],
                "state": c["state"],
                "attempt": c["attempt"],
                "error": c["error"],
                "waited_us": start.saturating_sub(c["submitted_us"].as_u64().unwrap_or(start)),
            },
        }));
    }
    for (node, (pid, _)) in nodes {
        events.push(json!({
            "name": "process_name", "ph": "M", "pid": pid,
            "args": {"name": format!("node {node}")},
        }));
    }
    json!({"traceEvents": events, "displayTimeUnit": "ms"})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_calls_get_lanes_of_their_own_and_nodes_processes() {
        let call = |node: &str, s: u64, e: u64| {
            json!({"name": "f", "kind": "task", "node": node, "started_us": s,
                   "ended_us": e, "submitted_us": s, "id": "x", "state": "finished",
                   "attempt": 0, "error": null})
        };
        let waiting = json!({"name": "g", "node": "a", "started_us": null, "submitted_us": 1});
        let t = trace_json(
            &[
                call("a", 10, 20),
                call("a", 15, 30),
                call("a", 25, 40),
                call("b", 10, 20),
                waiting,
            ],
            100,
        );
        let ev = t["traceEvents"].as_array().unwrap();
        let spans: Vec<(u64, u64, u64)> = ev
            .iter()
            .filter(|e| e["ph"] == "X")
            .map(|e| {
                (
                    e["pid"].as_u64().unwrap(),
                    e["tid"].as_u64().unwrap(),
                    e["ts"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(spans.len(), 4, "a call that never ran has no span");
        let (a, b) = (spans[0].0, spans[1].0);
        assert_ne!(a, b, "one process per node");
        assert!(spans.contains(&(a, 1, 10)) && spans.contains(&(a, 2, 15)));
        assert!(spans.contains(&(a, 1, 25)), "lane 1 is free again at 25");
        assert_eq!(ev.iter().filter(|e| e["ph"] == "M").count(), 2);
    }

    #[test]
    fn summaries_sum_nodes_and_memory_splits_where_bytes_are() {
        let row = |name: &str, state: &str, node: &str, count, bytes| pb::StateCount {
            name: name.into(),
            state: state.into(),
            node: node.into(),
            count,
            bytes,
        };
        let s = summary_json(
            pb::StateKind::StateTasks,
            vec![
                row("f", "finished", "a", 2, 0),
                row("f", "finished", "b", 3, 0),
            ],
        );
        assert_eq!(
            s,
            json!([{"name": "f", "total": 5, "states": {"finished": 5}}])
        );
        let m = memory_json(vec![
            row("j", "in-memory", "a", 2, 100),
            row("j", "spilled", "a", 1, 50),
            row("", "borrowed", "b", 1, 0),
        ]);
        assert_eq!(m[1]["in_memory_bytes"], 100);
        assert_eq!(m[1]["spilled_bytes"], 50);
        assert_eq!(m[1]["objects"], 3);
        assert_eq!(m[0]["job"], Value::Null);
    }
}
