//! `wrun status`: the cluster's nodes, jobs and placement groups as the head
//! sees them, for people or (`--json`) for scripts and tests; a job's
//! record in JSON, which `wrun job` and `wrun list` print too.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use wrun_cluster as cluster;

use crate::cluster_cli::ClusterFiles;

#[derive(Args)]
pub struct StatusArgs {
    /// The head (default: the one this machine started).
    #[arg(long, env = "WRUN_ADDRESS")]
    address: Option<String>,
    /// Print the status as one JSON object (for scripts and tests) instead
    /// of text for people.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    files: ClusterFiles,
}

/// The head's address: given, or the one this machine's head wrote.
pub(crate) fn head_address(given: Option<String>, state: &Path) -> anyhow::Result<String> {
    match given {
        Some(a) => Ok(a),
        None => std::fs::read_to_string(state.join("head.addr"))
            .map(|s| s.trim().to_string())
            .map_err(|_| {
                anyhow::anyhow!(
                    "no head address: pass --address HOST:PORT (or WRUN_ADDRESS), or start a head here with `wrun start --head`"
                )
            }),
    }
}

pub fn status(a: StatusArgs) -> anyhow::Result<ExitCode> {
    let state = a.files.state_dir();
    let address = head_address(a.address, &state)?;
    let rt = tokio::runtime::Runtime::new()?;
    let creds = a.files.credentials(&address)?;
    let s = rt.block_on(cluster::client::status(&address, &creds))?;
    if a.json {
        println!("{}", status_json(&s, &address));
        return Ok(ExitCode::SUCCESS);
    }
    println!("head {} at {address}", s.head_id);
    println!("nodes:");
    for n in &s.nodes {
        let t = n.total.clone().unwrap_or_default();
        let f = n.available.clone().unwrap_or_default();
        let mut custom: Vec<String> = t.custom.iter().map(|(k, v)| format!("{k}={v}")).collect();
        custom.sort();
        let o = n.objects.unwrap_or_default();
        println!(
            "  {} {:<8} {:<21} cpus {}/{} free, {} jobs running, {} tasks queued, {} objects ({} bytes in memory, {} pulled){}",
            n.node_id,
            n.state,
            n.address,
            f.cpus,
            t.cpus,
            n.running_jobs,
            n.queued,
            o.objects,
            o.bytes_in_memory,
            o.fetches,
            if custom.is_empty() {
                String::new()
            } else {
                format!(", resources {}", custom.join(","))
            }
        );
        for w in &n.waiting {
            println!("      waiting: {w}");
        }
    }
    println!("jobs:");
    for j in &s.jobs {
        println!(
            "  {} {:<10} {:<9} on {}{}",
            j.job_id,
            j.name,
            j.state,
            j.node_id,
            if j.detail.is_empty() {
                String::new()
            } else {
                format!(": {}", j.detail)
            }
        );
    }
    if !s.groups.is_empty() {
        println!("placement groups:");
    }
    for g in &s.groups {
        let Some(info) = wrun_proto::from_group(g) else {
            continue;
        };
        let bundles: Vec<String> = info
            .bundles
            .iter()
            .enumerate()
            .map(|(i, (node, r))| format!("{i}: {r} on {node}"))
            .collect();
        println!(
            "  {} {:<13} {}",
            info.id,
            info.strategy.name(),
            bundles.join("; ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn resources_json(r: &Option<wrun_proto::pb::Resources>) -> serde_json::Value {
    let r = r.clone().unwrap_or_default();
    let custom: serde_json::Map<String, serde_json::Value> = r
        .custom
        .into_iter()
        .map(|(k, v)| (k, serde_json::json!(v)))
        .collect();
    serde_json::json!({ "cpus": r.cpus, "memory": r.memory, "custom": custom })
}

/// `wrun status --json`: the head's view as one object. A node's fields are
/// as of its last report; `reports` counts those reports, so a reader can
/// wait for a report newer than something it did.
pub(crate) fn status_json(s: &wrun_proto::pb::StatusReply, address: &str) -> serde_json::Value {
    let nodes: Vec<serde_json::Value> = s
        .nodes
        .iter()
        .map(|n| {
            let o = n.objects.unwrap_or_default();
            serde_json::json!({
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
    let jobs: Vec<serde_json::Value> = s.jobs.iter().map(job_json).collect();
    let groups: Vec<serde_json::Value> = s
        .groups
        .iter()
        .filter_map(wrun_proto::from_group)
        .map(|g| {
            let bundles: Vec<serde_json::Value> = g
                .bundles
                .iter()
                .map(|(node, r)| serde_json::json!({ "node": node.to_string(), "resources": r.to_string() }))
                .collect();
            serde_json::json!({ "id": g.id.to_string(), "strategy": g.strategy.name(), "bundles": bundles })
        })
        .collect();
    serde_json::json!({
        "head": s.head_id,
        "address": address,
        "nodes": nodes,
        "jobs": jobs,
        "placement_groups": groups,
    })
}

/// How long a job ran (so far, while it runs).
pub(crate) fn duration(j: &wrun_proto::pb::JobStatus) -> Option<Duration> {
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
pub(crate) fn job_json(j: &wrun_proto::pb::JobStatus) -> serde_json::Value {
    serde_json::json!({
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
        "result": (!j.result.is_empty()).then(|| crate::render_result(&j.result)),
    })
}
