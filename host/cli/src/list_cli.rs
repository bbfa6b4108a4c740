//! `wrun list KIND`: a cluster's records of one kind — nodes, jobs and
//! placement groups as the head keeps them; tasks, actors and objects as
//! every live node holds them (the head asks each and merges) — filtered
//! by field, limited, for people or (`--json`) for scripts.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::Value;
use wrun_cluster as cluster;
use wrun_cluster::views;

use wrun_proto::pb;

use crate::jobs_cli::HeadArgs;
use crate::records;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Kind {
    Nodes,
    Jobs,
    PlacementGroups,
    Tasks,
    Actors,
    Objects,
}

impl Kind {
    /// The kind of record the nodes hold, for those the head asks them for.
    pub(crate) fn on_nodes(self) -> Option<pb::StateKind> {
        match self {
            Kind::Tasks => Some(pb::StateKind::StateTasks),
            Kind::Actors => Some(pb::StateKind::StateActors),
            Kind::Objects => Some(pb::StateKind::StateObjects),
            Kind::Nodes | Kind::Jobs | Kind::PlacementGroups => None,
        }
    }
}

#[derive(Args)]
pub struct ListArgs {
    /// What to list.
    #[arg(value_enum)]
    kind: Kind,
    /// Only records whose field KEY reads VALUE (repeatable: all must hold),
    /// e.g. `--filter state=alive`.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_filter)]
    filter: Vec<(String, String)>,
    /// At most this many records (the rest are counted on stderr).
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// The next page: records after this place in the listing's order
    /// (tasks newest first, actors and objects by id descending), as the last page's
    /// stderr gave it (`SUBMITTED_US:ID` of a task, `ID` of the rest).
    #[arg(long, value_name = "PLACE")]
    after: Option<String>,
    /// Every field of each record, one per line (the JSON has them all).
    #[arg(long)]
    detail: bool,
    /// A JSON array instead of text for people.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    head: HeadArgs,
}

fn parse_filter(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!(
            "`{s}` is not KEY=VALUE (e.g. --filter state=alive)"
        )),
    }
}

/// A field as a filter compares it: strings as they are, anything else
/// as JSON.
fn reads(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The records of `kind` that pass every filter; an unknown field is an
/// error naming the fields there are.
fn select(
    kind: Kind,
    records: Vec<Value>,
    filters: &[(String, String)],
) -> anyhow::Result<Vec<Value>> {
    if let (Some((key, _)), Some(first)) = (
        filters
            .iter()
            .find(|(k, _)| records.first().is_some_and(|r| r.get(k).is_none())),
        records.first(),
    ) {
        let fields: Vec<&str> = first
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        return Err(crate::user_error(format!(
            "{kind:?} records have no field `{key}`; they have: {}",
            fields.join(", ")
        )));
    }
    Ok(records
        .into_iter()
        .filter(|r| {
            filters
                .iter()
                .all(|(k, v)| r.get(k).is_some_and(|f| reads(f) == *v))
        })
        .collect())
}

/// Records of a kind the nodes hold, filtered there: as JSON, with how
/// many passed in all. Nodes that did not answer are named on stderr.
pub(crate) fn from_nodes(
    head: &HeadArgs,
    kind: pb::StateKind,
    filters: &[(String, String)],
    limit: usize,
) -> anyhow::Result<(Vec<Value>, usize)> {
    let (records, total, _) = page_from_nodes(head, kind, filters, None, limit)?;
    Ok((records, total))
}

/// A page of the live nodes' records of `kind` after `after`: the records,
/// how many passed after `after`, and where the next page starts (empty:
/// no more).
fn page_from_nodes(
    head: &HeadArgs,
    kind: pb::StateKind,
    filters: &[(String, String)],
    after: Option<&str>,
    limit: usize,
) -> anyhow::Result<(Vec<Value>, usize, String)> {
    let (address, creds, rt) = head.connect()?;
    let mut req = cluster::client::state_request(kind, filters, limit as u64, false);
    req.after = after.unwrap_or_default().to_string();
    let reply = rt.block_on(cluster::client::list_state(&address, &creds, req))?;
    warn_unreachable(&reply.unreachable);
    let records = views::records_json(kind, &reply);
    Ok((records, reply.total as usize, reply.next))
}

/// Names on stderr the nodes whose records a listing lacks.
pub(crate) fn warn_unreachable(unreachable: &[String]) {
    for why in unreachable {
        eprintln!("wrun: records missing: {why}");
    }
}

/// `wrun list KIND`.
pub fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let (chosen, total, next) = match a.kind.on_nodes() {
        Some(kind) => page_from_nodes(&a.head, kind, &a.filter, a.after.as_deref(), a.limit)?,
        None if a.after.is_some() => {
            return Err(crate::user_error(format!(
                "--after pages tasks, actors and objects; the head lists all its {} at once (use --limit and --filter)",
                a.kind.to_possible_value().map_or_else(String::new, |v| v.get_name().to_string())
            )))
        }
        None => {
            let chosen = select(a.kind, head_records(&a.head, a.kind)?, &a.filter)?;
            let total = chosen.len();
            (chosen.into_iter().take(a.limit).collect(), total, String::new())
        }
    };
    if a.json {
        println!("{}", Value::Array(chosen.clone()));
    } else if a.detail {
        for r in &chosen {
            for (k, v) in r.as_object().into_iter().flatten() {
                println!("{k}: {}", records::reads(v));
            }
            println!();
        }
    } else {
        for r in &chosen {
            println!("{}", line(a.kind, r));
        }
    }
    let more = total.saturating_sub(chosen.len());
    if more > 0 && !next.is_empty() {
        eprintln!(
            "{more} more; --after {next} lists the next page, --limit {} lists them all",
            chosen.len() + more
        );
    } else if more > 0 {
        eprintln!("{more} more; --limit {} shows them", chosen.len() + more);
    }
    Ok(ExitCode::SUCCESS)
}

/// The head's records of `kind` (nodes, jobs, placement groups), as JSON.
pub(crate) fn head_records(head: &HeadArgs, kind: Kind) -> anyhow::Result<Vec<Value>> {
    let (address, creds, rt) = head.connect()?;
    let s = rt.block_on(cluster::client::status(&address, &creds))?;
    Ok(match kind {
        Kind::Jobs => s.jobs.iter().map(views::job_json).collect(),
        _ => {
            let all = views::status_json(&s, &address);
            let key = if kind == Kind::Nodes {
                "nodes"
            } else {
                "placement_groups"
            };
            all[key].as_array().cloned().unwrap_or_default()
        }
    })
}

/// One record as people read it.
fn line(kind: Kind, r: &Value) -> String {
    let f = |k: &str| reads(&r[k]);
    match kind {
        Kind::Nodes => format!(
            "{} {:<8} {:<21} cpus {}/{} free",
            f("id"),
            f("state"),
            f("address"),
            reads(&r["available"]["cpus"]),
            reads(&r["total"]["cpus"])
        ),
        Kind::Jobs => format!(
            "{} {:<12} {:<9} on {}",
            f("id"),
            f("name"),
            f("state"),
            f("node")
        ),
        Kind::PlacementGroups => format!("{} {:<13} {}", f("id"), f("strategy"), r["bundles"]),
        Kind::Tasks => {
            let ran = match &r["ran_ms"] {
                Value::Number(ms) => format!(" {ms} ms"),
                _ => String::new(),
            };
            let why = [&r["waiting_for"], &r["error"]]
                .into_iter()
                .find(|v| !v.is_null())
                .map(|v| format!(" ({})", records::reads(v)))
                .unwrap_or_default();
            format!(
                "{} {:<20} {:<21} on {}{ran}{why}",
                f("id"),
                f("name"),
                f("state"),
                f("node")
            )
        }
        Kind::Actors => format!(
            "{} {:<16} {:<5} on {} {}",
            f("id"),
            f("class"),
            f("state"),
            f("node"),
            records::reads(&r["name"])
        ),
        Kind::Objects => format!(
            "{} {:<9} {:>10} refs {} on {}{}",
            f("id"),
            f("state"),
            records::size(r["size"].as_u64().unwrap_or(0)),
            f("refs"),
            f("node"),
            if r["spilled"] == Value::Bool(true) {
                " (spilled)"
            } else {
                ""
            }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_compare_fields_as_they_read_and_name_the_fields_there_are() {
        let nodes = vec![
            json!({"id": "a", "state": "alive", "peers": 1}),
            json!({"id": "b", "state": "lost", "peers": 1}),
        ];
        let alive = select(
            Kind::Nodes,
            nodes.clone(),
            &[("state".into(), "alive".into())],
        )
        .unwrap();
        assert_eq!(alive, vec![nodes[0].clone()]);
        let both = select(Kind::Nodes, nodes.clone(), &[("peers".into(), "1".into())]).unwrap();
        assert_eq!(both.len(), 2);
        let e = select(Kind::Nodes, nodes, &[("colour".into(), "red".into())]).unwrap_err();
        assert!(
            e.to_string()
                .contains("no field `colour`; they have: id, peers, state"),
            "{e}"
        );
        assert!(parse_filter("state").is_err());
    }
}
