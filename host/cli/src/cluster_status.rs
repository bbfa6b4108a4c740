//! `wrun status`: the cluster's nodes, jobs and placement groups as the head
//! sees them, for people or (`--json`, `wrun_cluster::views`) for scripts
//! and tests; where the head is.

use std::path::Path;
use std::process::ExitCode;

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
                crate::user_error(
                    "no head address: pass --address HOST:PORT (or WRUN_ADDRESS), or start a head here with `wrun start --head`",
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
        println!("{}", cluster::views::status_json(&s, &address));
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
            "  {} {:<8} {:<21} cpus {}/{} free, {} jobs running, {} tasks queued, {} objects ({} in memory, {} pulled){}",
            n.node_id,
            n.state,
            n.address,
            f.cpus,
            t.cpus,
            n.running_jobs,
            n.queued,
            o.objects,
            crate::records::size(o.bytes_in_memory),
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
