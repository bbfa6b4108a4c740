//! What a cluster holds, as `wrun list tasks|actors|objects`, `get`,
//! `summary`, `memory` and `timeline` report it, with real processes on
//! loopback: every call of a job spread over three nodes listed exactly
//! once (a task sent to another node is that node's to report), live
//! states of running work and their end after `wrun job stop`, and a trace
//! Perfetto can open.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use wrun_tests::cluster_harness::*;
use wrun_tests::{example, wrun_bin};

/// `wrun list KIND --filter job=JOB [--filter F]... --json`.
fn list(c: &Cluster, kind: &str, job: &str, filters: &[&str]) -> Vec<Value> {
    let job = format!("job={job}");
    let mut args = vec!["list", kind, "--limit", "10000", "--filter", &job];
    for f in filters {
        args.extend(["--filter", f]);
    }
    c.json(&args).as_array().unwrap().clone()
}

/// Ten tasks over three nodes: each listed once, finished, on the node that
/// ran it, with its times; `get` finds one by id; `summary` counts them;
/// the timeline has one span each, one process per node.
#[test]
fn every_call_of_a_job_over_three_nodes_is_listed_once_and_traced() {
    let c = Cluster::start_with(&["--cpus", "2", "--resources", "a=1"]);
    c.add_node(&["--cpus", "2", "--resources", "b=1"]);
    c.add_node(&["--cpus", "2", "--resources", "c=1"]);
    c.wait_nodes(3);
    let spread = ["a", "b", "c", "a", "b", "c", "a", "b", "c", "a"];
    let mut args = vec!["lines", "3"];
    args.extend(spread);
    let (code, out, err) = c.submit(&example("chatty"), &args);
    assert_eq!(code, 0, "{err}");
    let ran_on: Value = serde_json::from_str(&out).unwrap();
    let id = job_id_in(&err);

    let tasks = list(&c, "tasks", &id, &[]);
    assert_eq!(tasks.len(), 10, "each task once: {tasks:#?}");
    let ids: BTreeSet<&str> = tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 10, "distinct ids");
    let mut per_node: BTreeMap<String, u64> = BTreeMap::new();
    for t in &tasks {
        assert_eq!(
            (&t["name"], &t["state"], &t["kind"]),
            (
                &Value::from("speak"),
                &Value::from("finished"),
                &Value::from("task")
            ),
            "{t}"
        );
        let (s, b, e) = (
            t["submitted_us"].as_u64().unwrap(),
            t["started_us"].as_u64().unwrap(),
            t["ended_us"].as_u64().unwrap(),
        );
        assert!(s <= b && b <= e, "submitted, started, ended in order: {t}");
        assert!(t["error"].is_null() && t["waiting_for"].is_null(), "{t}");
        *per_node
            .entry(t["node"].as_str().unwrap().into())
            .or_default() += 1;
    }
    // Each task's lines, found by the id it is listed under (a task sent to
    // another node too): its three, all of one task, each naming the node
    // the task ran on; together, all 30.
    let mut every = BTreeSet::new();
    for t in &tasks {
        let (done, out, err) = wrun(
            c.state(),
            &[
                "job",
                "logs",
                &id,
                "--task",
                t["id"].as_str().unwrap(),
                "--json",
            ],
        );
        assert!(done, "{err}");
        let lines: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{t}: {out}");
        let speaker: BTreeSet<&str> = lines
            .iter()
            .map(|l| {
                l["message"]
                    .as_str()
                    .unwrap()
                    .split(" line ")
                    .next()
                    .unwrap()
            })
            .collect();
        assert_eq!(speaker.len(), 1, "one task's lines: {out}");
        assert!(lines.iter().all(|l| l["node"] == t["node"]), "{t}: {out}");
        every.extend(
            lines
                .iter()
                .map(|l| l["message"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(every.len(), 30);
    // The nodes the tasks said they ran on, with as many tasks each.
    let said: BTreeMap<String, u64> = ran_on["nodes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(n, k)| (n.clone(), k.as_u64().unwrap()))
        .collect();
    assert_eq!(per_node, said, "listed where they ran");

    let one = c.json(&["get", "tasks", tasks[3]["id"].as_str().unwrap()]);
    assert_eq!(one, tasks[3]);
    let (found, _, why) = wrun(c.state(), &["get", "tasks", "00ff", "--json"]);
    assert!(
        !found && why.contains("no Tasks record with id 00ff"),
        "{why}"
    );

    let summary = c.json(&["summary", "tasks", "--job", &id]);
    assert_eq!(
        summary,
        serde_json::json!([{"name": "speak", "total": 10, "states": {"finished": 10}}])
    );

    let trace_file = c.state().join("trace.json");
    let (done, _, err) = wrun(
        c.state(),
        &["timeline", &id, "-o", trace_file.to_str().unwrap()],
    );
    assert!(done, "{err}");
    let trace: Value = serde_json::from_slice(&std::fs::read(&trace_file).unwrap()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    let spans: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    assert_eq!(spans.len(), 10, "{trace}");
    for s in &spans {
        assert_eq!(s["name"], "speak");
        assert!(s["ts"].as_u64().unwrap() > 0 && s["dur"].is_u64(), "{s}");
    }
    let processes: BTreeSet<String> = events
        .iter()
        .filter(|e| e["ph"] == "M")
        .map(|e| e["args"]["name"].as_str().unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = said.keys().map(|n| format!("node {n}")).collect();
    assert_eq!(processes, expected, "one process per node");

    // A filter on a field records do not have is refused, naming those
    // they have.
    let (done, _, err) = wrun(c.state(), &["list", "tasks", "--filter", "colour=red"]);
    assert!(
        !done && err.contains("tasks have no field `colour`; they have: id, job"),
        "{err}"
    );
    // The user's mistakes exit 2 (bad usage or input), not 4 (wrun failed).
    for args in [
        &["list", "tasks", "--filter", "colour=red"][..],
        &["get", "tasks", "00ff"],
        &["job", "status", "00ff"],
        &["job", "stop", "00ff"],
    ] {
        let code = std::process::Command::new(wrun_bin())
            .args(args)
            .env("WRUN_STATE_DIR", c.state())
            .env_remove("WRUN_ADDRESS")
            .output()
            .unwrap()
            .status
            .code();
        assert_eq!(code, Some(2), "wrun {args:?}");
    }
}

/// A job that runs until stopped: its burning tasks are listed running on
/// the nodes that hold their resource, its actors alive, its 1 MiB object
/// in memory on its driver's node; after `wrun job stop` its tasks read
/// cancelled and its actors dead, saying why.
#[test]
fn running_work_is_listed_as_it_is_and_as_it_ended_after_a_stop() {
    let c = Cluster::start_with(&["--cpus", "2", "--resources", "a=2"]);
    c.add_node(&["--cpus", "2", "--resources", "b=2"]);
    c.wait_nodes(2);
    let id = c.submit_no_wait(&example("chatty"), &["forever", "a", "b"]);

    let running = wait_for("both burning tasks running", || {
        let r = list(&c, "tasks", &id, &["state=running", "name=burn"]);
        if r.len() == 2 {
            Ok(r)
        } else {
            Err(Value::from(r))
        }
    });
    let nodes: BTreeSet<&str> = running
        .iter()
        .map(|t| t["node"].as_str().unwrap())
        .collect();
    assert_eq!(nodes.len(), 2, "one on each node: {running:#?}");
    assert!(running.iter().all(|t| t["ended_us"].is_null()));
    let actors = list(&c, "actors", &id, &["state=alive"]);
    assert_eq!(actors.len(), 2, "{actors:#?}");
    assert!(actors.iter().all(|a| a["class"] == "Holder"));
    // Each actor's line, by actor; then all lines as JSON.
    for a in &actors {
        let want = format!("[Holder.node] holder on {}\n", a["node"].as_str().unwrap());
        wait_for("the actor's line", || {
            let (done, out, err) = wrun(
                c.state(),
                &["logs", &id, "--actor", a["id"].as_str().unwrap()],
            );
            if done && out == want {
                Ok(())
            } else {
                Err(Value::from(format!("{out}{err}")))
            }
        });
    }
    let (done, out, err) = wrun(c.state(), &["logs", &id, "--json"]);
    assert!(done, "{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["n"], i as u64, "numbered from 0: {l}");
    }
    let by_actor: BTreeSet<&str> = lines
        .iter()
        .filter(|l| l["task"] == "Holder.node")
        .map(|l| l["actor"].as_str().unwrap())
        .collect();
    let actor_ids: BTreeSet<&str> = actors.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(by_actor, actor_ids, "each actor's line says whose: {out}");
    let calls = list(&c, "tasks", &id, &["kind=actor-call"]);
    assert_eq!(calls.len(), 2, "each actor's node() call: {calls:#?}");
    assert!(calls
        .iter()
        .all(|t| t["name"] == "Holder.node" && t["state"] == "finished" && t["actor"].is_string()));

    // The driver's object, then its bytes in `wrun memory`.
    let objects = wait_for("the driver's 1 MiB object", || {
        let o = list(&c, "objects", &id, &["state=ready"]);
        if o.iter().any(|o| o["size"].as_u64() > Some(1 << 20)) {
            Ok(o)
        } else {
            Err(Value::from(o))
        }
    });
    let kept = objects
        .iter()
        .find(|o| o["size"].as_u64() > Some(1 << 20))
        .unwrap();
    assert_eq!(kept["spilled"], false);
    assert_eq!(kept["refs"], 1, "the driver's reference: {kept}");
    let memory = c.json(&["memory", "--job", &id]);
    let row = memory
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["node"] == kept["node"])
        .unwrap_or_else(|| panic!("{memory}"));
    assert!(row["in_memory_bytes"].as_u64() > Some(1 << 20), "{memory}");
    assert_eq!(row["spilled_bytes"], 0);
    // A burning task's result, pending (the one the node running it
    // holds while it runs), is the job's too.
    let pending = list(&c, "objects", &id, &["state=pending"]);
    assert!(!pending.is_empty(), "a burn's result");
    assert!(
        pending.iter().all(|o| o["job"] == id.as_str()),
        "{pending:#?}"
    );

    let (done, _, err) = wrun(c.state(), &["job", "stop", &id]);
    assert!(done, "{err}");
    let burns = wait_for("the burning tasks cancelled", || {
        let r = list(&c, "tasks", &id, &["name=burn"]);
        if r.len() == 2 && r.iter().all(|t| t["state"] == "cancelled") {
            Ok(r)
        } else {
            Err(Value::from(r))
        }
    });
    assert!(burns.iter().all(|t| t["error"]
        .as_str()
        .is_some_and(|e| e.starts_with("task-cancelled: "))));
    let dead = wait_for("the actors dead", || {
        let a = list(&c, "actors", &id, &[]);
        if a.len() == 2 && a.iter().all(|a| a["state"] == "dead") {
            Ok(a)
        } else {
            Err(Value::from(a))
        }
    });
    assert!(dead.iter().all(|a| a["death"].is_string()), "{dead:#?}");
    let summary = c.json(&["summary", "actors", "--job", &id]);
    assert_eq!(
        summary,
        serde_json::json!([{"name": "Holder", "total": 2, "states": {"dead": 2}}])
    );
}

/// A node remembers only the newest `--task-history` ended calls.
#[test]
fn a_node_remembers_only_as_many_ended_calls_as_it_was_told() {
    let c = Cluster::start_with(&["--cpus", "2", "--resources", "a=1", "--task-history", "4"]);
    c.wait_nodes(1);
    let (code, _, err) = c.submit(
        &example("chatty"),
        &["lines", "1", "a", "a", "a", "a", "a", "a", "a", "a"],
    );
    assert_eq!(code, 0, "{err}");
    let id = job_id_in(&err);
    let kept = list(&c, "tasks", &id, &[]);
    assert_eq!(kept.len(), 4, "{kept:#?}");
    assert!(kept.iter().all(|t| t["state"] == "finished"));
    let (done, _, err) = wrun(c.state(), &["list", "tasks", "--limit", "1"]);
    assert!(
        done && err.contains("3 more; --after ") && err.contains("--limit 4 lists them all"),
        "{err}"
    );
}

/// `--after` pages a listing of 120 calls by 50: the pages, newest first,
/// hold every call exactly once; each full page's place (its last call's
/// `SUBMITTED_US:ID`) is what stderr offers for the next; a malformed place
/// and paging what the head lists at once are refused, saying why.
#[test]
fn pages_of_a_listing_hold_every_record_once() {
    let c = Cluster::start_with(&["--cpus", "2", "--resources", "a=2"]);
    c.wait_nodes(1);
    let mut args = vec!["lines", "1"];
    args.extend(std::iter::repeat_n("a", 120));
    let (code, _, err) = c.submit(&example("chatty"), &args);
    assert_eq!(code, 0, "{err}");
    let job = format!("job={}", job_id_in(&err));
    let (mut seen, mut after) = (Vec::<Value>::new(), None::<String>);
    for want in [50, 50, 20] {
        let mut args = vec!["list", "tasks", "--filter", &job, "--limit", "50", "--json"];
        if let Some(place) = &after {
            args.extend(["--after", place]);
        }
        let (done, out, err) = wrun(c.state(), &args);
        assert!(done, "{err}");
        let page: Vec<Value> = serde_json::from_str(&out).unwrap();
        assert_eq!(page.len(), want, "{args:?}");
        let last = page.last().unwrap();
        let place = format!("{}:{}", last["submitted_us"], last["id"].as_str().unwrap());
        let offered = err.contains(&format!("--after {place} lists the next page"));
        assert_eq!(offered, want == 50, "{err}");
        seen.extend(page);
        after = Some(place);
    }
    let ids: BTreeSet<&str> = seen.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!((seen.len(), ids.len()), (120, 120), "each call once");
    let times: Vec<u64> = seen
        .iter()
        .map(|t| t["submitted_us"].as_u64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let (done, _, err) = wrun(c.state(), &["list", "tasks", "--after", "00ff"]);
    assert!(!done && err.contains("give SUBMITTED_US:ID"), "{err}");
    let (done, _, err) = wrun(c.state(), &["list", "jobs", "--after", "00ff"]);
    assert!(
        !done && err.contains("--after pages tasks, actors and objects"),
        "{err}"
    );
}
