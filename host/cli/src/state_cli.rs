//! What a cluster holds, beyond listings: `wrun get KIND ID` (one record),
//! `wrun summary tasks|actors|objects` (counts by name and state, as `ray
//! summary`), `wrun memory` (object bytes by job and node: in memory,
//! spilled, pending) and `wrun timeline JOB` (its calls in the Chrome trace
//! event format Perfetto opens).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use wrun_cluster as cluster;
use wrun_proto::pb;
use wrun_proto::state::MAX_LISTED;

use crate::jobs_cli::HeadArgs;
use crate::list_cli::{from_nodes, head_records, warn_unreachable, Kind};
use crate::records;

/// The exit code of a record that is not there (bad usage, as clap's).
const NOT_FOUND: u8 = 2;

#[derive(Args)]
pub struct GetArgs {
    /// What kind of record.
    #[arg(value_enum)]
    kind: Kind,
    /// Its id (as `wrun list` prints it).
    id: String,
    /// JSON instead of text for people.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    head: HeadArgs,
}

/// `wrun get KIND ID`.
pub fn get(a: GetArgs) -> anyhow::Result<ExitCode> {
    let by_id = [("id".to_string(), a.id.clone())];
    let found = match a.kind.on_nodes() {
        Some(kind) => from_nodes(&a.head, kind, &by_id, 1)?.0.into_iter().next(),
        None => head_records(&a.head, a.kind)?
            .into_iter()
            .find(|r| r["id"] == Value::String(a.id.clone())),
    };
    let Some(record) = found else {
        eprintln!(
            "wrun: no {:?} record with id {} (`wrun list {}` lists them)",
            a.kind,
            a.id,
            kind_arg(a.kind)
        );
        return Ok(ExitCode::from(NOT_FOUND));
    };
    if a.json {
        println!("{record}");
    } else {
        for (k, v) in record.as_object().into_iter().flatten() {
            println!("{k}: {}", records::reads(v));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn kind_arg(kind: Kind) -> String {
    kind.to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum SummaryKind {
    Tasks,
    Actors,
    Objects,
}

#[derive(Args)]
pub struct SummaryArgs {
    /// What to count.
    #[arg(value_enum)]
    kind: SummaryKind,
    /// Only this job's.
    #[arg(long)]
    job: Option<String>,
    /// JSON instead of text for people.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    head: HeadArgs,
}

/// Counts of every node, by name (function, class or job) and state.
fn counts(
    head: &HeadArgs,
    kind: pb::StateKind,
    job: &Option<String>,
) -> anyhow::Result<Vec<pb::StateCount>> {
    let (address, creds, rt) = head.connect()?;
    let req = pb::ListStateRequest {
        kind: kind as i32,
        filters: job
            .iter()
            .map(|j| pb::StateFilter {
                key: "job".into(),
                value: j.clone(),
            })
            .collect(),
        counts: true,
        ..Default::default()
    };
    let reply = rt.block_on(cluster::client::list_state(&address, &creds, req))?;
    warn_unreachable(&reply.unreachable);
    Ok(reply.counts)
}

/// A figure per state.
type ByState = BTreeMap<String, u64>;

/// `wrun summary KIND`: one entry per name, its counts by state summed over
/// the nodes (objects: by job, with their bytes).
pub fn summary(a: SummaryArgs) -> anyhow::Result<ExitCode> {
    let kind = match a.kind {
        SummaryKind::Tasks => pb::StateKind::StateTasks,
        SummaryKind::Actors => pb::StateKind::StateActors,
        SummaryKind::Objects => pb::StateKind::StateObjects,
    };
    let rows = counts(&a.head, kind, &a.job)?;
    let mut by_name: BTreeMap<String, (ByState, ByState)> = BTreeMap::new();
    for r in rows {
        let (states, bytes) = by_name.entry(r.name).or_default();
        *states.entry(r.state.clone()).or_default() += r.count;
        *bytes.entry(r.state).or_default() += r.bytes;
    }
    let entries: Vec<Value> = by_name
        .into_iter()
        .map(|(name, (states, bytes))| {
            let total: u64 = states.values().sum();
            let mut e = json!({"name": name, "total": total, "states": states});
            if kind == pb::StateKind::StateObjects {
                e["bytes"] = json!(bytes);
            }
            e
        })
        .collect();
    if a.json {
        println!("{}", Value::Array(entries));
        return Ok(ExitCode::SUCCESS);
    }
    let what = match a.kind {
        SummaryKind::Tasks => "name",
        SummaryKind::Actors => "class",
        SummaryKind::Objects => "job",
    };
    println!("{what:<24} {:>8}  by state", "total");
    for e in &entries {
        let states: Vec<String> = e["states"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        println!(
            "{:<24} {:>8}  {}",
            records::reads(&e["name"]),
            e["total"].as_u64().unwrap_or(0),
            states.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct MemoryArgs {
    /// Only this job's objects.
    #[arg(long)]
    job: Option<String>,
    /// JSON instead of text for people.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    head: HeadArgs,
}

/// `wrun memory`: the objects of each job on each node, and where their
/// bytes are.
pub fn memory(a: MemoryArgs) -> anyhow::Result<ExitCode> {
    let rows = counts(&a.head, pb::StateKind::StateObjects, &a.job)?;
    let mut by: BTreeMap<(String, String), BTreeMap<String, (u64, u64)>> = BTreeMap::new();
    for r in rows {
        by.entry((r.name, r.node))
            .or_default()
            .insert(r.state, (r.count, r.bytes));
    }
    let entries: Vec<Value> = by
        .into_iter()
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
        .collect();
    if a.json {
        println!("{}", Value::Array(entries));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<34} {:<18} {:>8} {:>12} {:>12}",
        "job", "node", "objects", "in memory", "spilled"
    );
    for e in &entries {
        println!(
            "{:<34} {:<18} {:>8} {:>12} {:>12}",
            records::reads(&e["job"]),
            records::reads(&e["node"]),
            e["objects"],
            records::size(e["in_memory_bytes"].as_u64().unwrap_or(0)),
            records::size(e["spilled_bytes"].as_u64().unwrap_or(0)),
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct TimelineArgs {
    /// The job (as `wrun submit` printed it).
    job: String,
    /// Where to write the trace (Chrome trace event format: open it in
    /// Perfetto or chrome://tracing).
    #[arg(short, long, default_value = "timeline.json")]
    output: PathBuf,
    #[command(flatten)]
    head: HeadArgs,
}

/// `wrun timeline JOB -o FILE`.
pub fn timeline(a: TimelineArgs) -> anyhow::Result<ExitCode> {
    let filter = [("job".to_string(), a.job.clone())];
    let (calls, total) = from_nodes(
        &a.head,
        pb::StateKind::StateTasks,
        &filter,
        MAX_LISTED as usize,
    )?;
    if total > calls.len() {
        eprintln!(
            "wrun: the trace has the newest {} of {total} calls",
            calls.len()
        );
    }
    let trace = trace_events(&calls);
    let events = trace["traceEvents"].as_array().map_or(0, Vec::len);
    std::fs::write(&a.output, serde_json::to_vec(&trace)?)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", a.output.display()))?;
    eprintln!(
        "wrote {} calls of job {} to {} ({events} events): open it in https://ui.perfetto.dev",
        calls.len(),
        a.job,
        a.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The calls that ran, as complete events: one process per node, and
/// within it one lane (thread) per overlapping call, so calls that ran at
/// the same time sit side by side rather than falsely nested.
fn trace_events(calls: &[Value]) -> Value {
    let mut ran: Vec<&Value> = calls.iter().filter(|c| c["started_us"].is_u64()).collect();
    ran.sort_by_key(|c| c["started_us"].as_u64());
    let mut nodes: HashMap<String, (u64, Vec<u64>)> = HashMap::new();
    let mut events = Vec::new();
    let now = now_us();
    for c in ran {
        let start = c["started_us"].as_u64().unwrap_or(0);
        let end = c["ended_us"].as_u64().unwrap_or(now).max(start);
        let next_pid = nodes.len() as u64 + 1;
        let (pid, lanes) = nodes
            .entry(records::reads(&c["node"]))
            .or_insert((next_pid, Vec::new()));
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

/// Microseconds since the Unix epoch: where a call still running ends.
fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
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
        let t = trace_events(&[
            call("a", 10, 20),
            call("a", 15, 30),
            call("a", 25, 40),
            call("b", 10, 20),
            waiting,
        ]);
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
}
