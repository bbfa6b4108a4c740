//! `wrun list KIND`: a cluster's records of one kind as the head knows
//! them — nodes, jobs, placement groups — filtered by field, limited, for
//! people or (`--json`) for scripts. Tasks, actors and objects live on the
//! nodes and are not listed yet; clap refuses those kinds.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::Value;
use wrun_cluster as cluster;

use crate::jobs_cli::HeadArgs;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Kind {
    Nodes,
    Jobs,
    PlacementGroups,
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
        anyhow::bail!(
            "{kind:?} records have no field `{key}`; they have: {}",
            fields.join(", ")
        );
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

/// `wrun list KIND`.
pub fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let (address, creds, rt) = a.head.connect()?;
    let s = rt.block_on(cluster::client::status(&address, &creds))?;
    let records: Vec<Value> = match a.kind {
        Kind::Jobs => s.jobs.iter().map(crate::cluster_status::job_json).collect(),
        Kind::Nodes | Kind::PlacementGroups => {
            let all = crate::cluster_status::status_json(&s, &address);
            let key = if a.kind == Kind::Nodes {
                "nodes"
            } else {
                "placement_groups"
            };
            all[key].as_array().cloned().unwrap_or_default()
        }
    };
    let mut chosen = select(a.kind, records, &a.filter)?;
    let more = chosen.len().saturating_sub(a.limit);
    chosen.truncate(a.limit);
    if a.json {
        println!("{}", Value::Array(chosen));
    } else {
        for r in &chosen {
            println!("{}", line(a.kind, r));
        }
    }
    if more > 0 {
        eprintln!("{more} more; --limit {} shows them", a.limit + more);
    }
    Ok(ExitCode::SUCCESS)
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
