//! What a cluster holds, beyond listings: `wrun get KIND ID` (one record),
//! `wrun summary tasks|actors|objects` (counts by name and state, as `ray
//! summary`), `wrun memory` (object bytes by job and node: in memory,
//! spilled, pending) and `wrun timeline JOB` (its calls in the Chrome trace
//! event format Perfetto opens).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::Value;
use wrun_cluster as cluster;
use wrun_cluster::views;
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
    let reply = rt.block_on(cluster::client::counts(
        &address,
        &creds,
        kind,
        job.as_deref(),
    ))?;
    warn_unreachable(&reply.unreachable);
    Ok(reply.counts)
}

/// `wrun summary KIND`: one entry per name, its counts by state summed over
/// the nodes (objects: by job, with their bytes).
pub fn summary(a: SummaryArgs) -> anyhow::Result<ExitCode> {
    let kind = match a.kind {
        SummaryKind::Tasks => pb::StateKind::StateTasks,
        SummaryKind::Actors => pb::StateKind::StateActors,
        SummaryKind::Objects => pb::StateKind::StateObjects,
    };
    let entries = views::summary_json(kind, counts(&a.head, kind, &a.job)?);
    let entries = entries.as_array().cloned().unwrap_or_default();
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
    let entries = views::memory_json(counts(&a.head, pb::StateKind::StateObjects, &a.job)?);
    let entries = entries.as_array().cloned().unwrap_or_default();
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
    let trace = views::trace_json(&calls, views::now_us());
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
