//! A cluster's jobs as a user handles them, with real processes on
//! loopback: the job id at once, `--no-wait`, ^C that stops following and
//! leaves the job running, `wrun job list|status|logs [-f]|stop`, every
//! line of tasks spread over three nodes kept exactly once, and job history
//! across a restart of the head.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wrun_tests::cluster_harness::*;
use wrun_tests::scrape::{sample, samples, scrape};
use wrun_tests::{example, free_port, shared_cache_dir, wrun_bin};

/// `wrun ARGS` on the cluster, which must succeed; its stdout.
fn ok(c: &Cluster, args: &[&str]) -> String {
    let (done, out, err) = wrun(c.state(), args);
    assert!(done, "wrun {args:?}: {err}");
    out
}

/// `wrun job list --json`.
fn jobs(c: &Cluster) -> Vec<serde_json::Value> {
    let out = ok(c, &["job", "list", "--json"]);
    serde_json::from_str::<serde_json::Value>(&out)
        .unwrap_or_else(|e| panic!("{e}: {out}"))
        .as_array()
        .unwrap()
        .clone()
}

/// Job `id` in `wrun job status ID --json`.
fn job(c: &Cluster, id: &str) -> serde_json::Value {
    let out = ok(c, &["job", "status", id, "--json"]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// Waits until job `id` satisfies `check`.
fn wait_job(c: &Cluster, id: &str, what: &str, check: impl Fn(&serde_json::Value) -> bool) {
    wait_for(what, || {
        let j = job(c, id);
        if check(&j) {
            Ok(())
        } else {
            Err(j)
        }
    });
}

/// The `task K line I` lines among `text`'s lines (prefixed `[TASK] `), by
/// task, in the order they came; panics on a line seen twice.
fn task_lines(text: &str) -> BTreeMap<u64, Vec<u64>> {
    let mut seen = std::collections::HashSet::new();
    let mut by_task: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.split("] task ").nth(1) else {
            continue;
        };
        assert!(seen.insert(rest.to_string()), "`{line}` came twice");
        let (k, i) = rest.split_once(" line ").unwrap();
        by_task
            .entry(k.parse().unwrap())
            .or_default()
            .push(i.parse().unwrap());
    }
    by_task
}

/// A job's lines beyond its guests': where a node compiled one of its
/// components first, the node's line saying so (the test cache is shared,
/// so whether one did depends on the tests run before).
fn compile_lines(c: &Cluster, id: &str) -> u64 {
    ok(c, &["job", "logs", id])
        .lines()
        .filter(|l| l.contains("wrun: compiling "))
        .count() as u64
}

/// Every one of `tasks` tasks' `n` lines, each task's in order.
fn assert_all_lines(what: &str, text: &str, tasks: u64, n: u64) {
    let by_task = task_lines(text);
    assert_eq!(
        by_task.len() as u64,
        tasks,
        "{what}: lines of every task in {text}"
    );
    for (k, lines) in by_task {
        assert_eq!(
            lines,
            (0..n).collect::<Vec<_>>(),
            "task {k}'s lines, in order"
        );
    }
}

/// Ten tasks on three nodes print 100 numbered lines each: all 1,000 reach
/// the submitter exactly once, each task's in order, and so does every
/// later reader (`wrun job logs`, also after the head restarted), with the
/// job's record as `wrun job list` shows it.
#[test]
fn every_line_of_a_job_spread_over_three_nodes_arrives_once_live_and_afterwards() {
    let c = Cluster::start_with(&["--cpus", "2", "--resources", "a=1"]);
    c.add_node(&["--cpus", "2", "--resources", "b=1"]);
    c.add_node(&["--cpus", "2", "--resources", "c=1"]);
    c.wait_nodes(3);
    let spread = ["a", "b", "c", "a", "b", "c", "a", "b", "c", "a"];
    let mut args = vec!["lines", "100"];
    args.extend(spread);
    let (code, out, err) = c.submit(&example("chatty"), &args);
    assert_eq!(code, 0, "{err}");
    let result: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(result["nodes"].as_object().unwrap().len(), 3, "{out}");
    assert_all_lines("the submitter's", &err, 10, 100);
    let id = job_id_in(&err);
    // Afterwards, from the head; by task name too.
    assert_all_lines("afterwards", &ok(&c, &["job", "logs", &id]), 10, 100);
    let speak = ok(&c, &["job", "logs", &id, "--task", "speak"]);
    assert_all_lines("the task's", &speak, 10, 100);
    assert_eq!(
        ok(&c, &["job", "logs", &id, "--task", "main"]),
        "",
        "the driver wrote none"
    );
    let listed = jobs(&c);
    let j = listed.iter().find(|j| j["id"] == id.as_str()).unwrap();
    assert_eq!(j["state"], "succeeded", "{j}");
    assert_eq!(j["name"], "chatty");
    assert_eq!(j["args"].as_array().unwrap().len(), args.len(), "{j}");
    assert_eq!(j["components"][0].as_str().unwrap().len(), 64, "{j}");
    assert_eq!(j["log_lines"], 1000 + compile_lines(&c, &id), "{j}");
    assert_eq!(j["result"].as_str(), Some(out.as_str()), "{j}");
    let (from, to) = (
        j["submitted_ms"].as_u64().unwrap(),
        j["ended_ms"].as_u64().unwrap(),
    );
    assert!(from > 0 && to >= from, "{j}");
    // Followed live by another reader (`wrun logs -f`), from the start,
    // while it runs.
    let mut args = vec!["submit", "--no-wait", "--address", &c.address];
    let chatty = example("chatty");
    args.push(chatty.to_str().unwrap());
    args.extend(["lines", "100"]);
    args.extend(spread);
    let live = ok(&c, &args).trim().to_string();
    assert_eq!(live.len(), 32, "--no-wait prints the id alone: {live}");
    assert_all_lines("followed", &ok(&c, &["logs", &live, "-f"]), 10, 100);
    // A restarted head still has both jobs and their lines.
    assert!(wrun(c.state(), &["stop"]).0);
    ok(&c, &["start", "--head", "--port", "0", "--cpus", "1"]);
    assert_all_lines("after a restart", &ok(&c, &["job", "logs", &id]), 10, 100);
    assert_eq!(job(&c, &live)["log_lines"], 1000 + compile_lines(&c, &live));
}

/// As in Ray, a driver's end ends its job's work: the tasks it left running
/// on three nodes are cancelled there, every line they wrote reaches the
/// submitter exactly once and in order, and so does a later reader; none
/// reaches the head after the job's outcome (the head counts such lines);
/// they list as cancelled because the driver ended; their resources come
/// back.
#[test]
fn a_drivers_end_ends_the_work_it_left_running_and_keeps_every_line() {
    let port = free_port();
    let p = port.to_string();
    let c = Cluster::start_with(&["--cpus", "2", "--resources", "a=1", "--metrics-port", &p]);
    c.add_node(&["--cpus", "2", "--resources", "b=1"]);
    c.add_node(&["--cpus", "2", "--resources", "c=1"]);
    c.wait_nodes(3);
    let (code, out, err) = c.submit(&example("chatty"), &["leave", "1500", "a", "b", "c"]);
    assert_eq!((code, out.as_str()), (0, "left 3 tasks"), "{err}");
    let live = task_lines(&err);
    assert_eq!(live.len(), 3, "lines of every task in {err}");
    for (k, lines) in &live {
        let n = lines.len() as u64;
        assert!(n >= 10, "task {k} ran a while: {lines:?}");
        assert_eq!(*lines, (0..n).collect::<Vec<_>>(), "task {k}'s lines");
    }
    let id = job_id_in(&err);
    let after = ok(&c, &["job", "logs", &id]);
    assert_eq!(task_lines(&after), live, "afterwards: {after}");
    assert_eq!(job(&c, &id)["state"], "succeeded");
    wait_for("every resource back on every node", || {
        let s = c.status_json();
        let free = alive_nodes(&s).iter().all(|n| n["available"] == n["total"]);
        free.then_some(()).ok_or(s)
    });
    let listed = ok(
        &c,
        &[
            "list",
            "tasks",
            "--filter",
            &format!("job={id}"),
            "--filter",
            "name=chatter",
            "--json",
        ],
    );
    let listed: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    for t in &listed {
        assert_eq!(t["state"], "cancelled", "{t}");
        assert!(t["error"].as_str().unwrap().contains("driver ended"), "{t}");
    }
    let token = std::fs::read_to_string(c.state().join("cluster.token")).unwrap();
    let ca = c.state().join(wrun_cluster::tls::CA_CERT);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (status, text) = rt.block_on(scrape(port, &ca, Some(token.trim())));
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        sample(
            &samples(&text),
            "wrun_job_lines_late_total{server=\"head\"}"
        ),
        0.0
    );
}

/// ^C on an attached submit stops following, says how to follow again, and
/// leaves the job running to its end.
#[test]
fn interrupting_a_submit_leaves_the_job_running() {
    let c = Cluster::start("2");
    c.wait_nodes(1);
    let mut submit = Command::new(wrun_bin())
        .args(["submit", "--address", &c.address])
        .arg(example("chatty"))
        .args(["slow", "20", "100"])
        .env("WRUN_STATE_DIR", c.state())
        .env("WRUN_CACHE_DIR", shared_cache_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let id = wait_for("the job running with a few lines", || {
        let all = jobs(&c);
        match all.iter().find(|j| j["state"] == "running") {
            Some(j) if j["log_lines"].as_u64() >= Some(3) => {
                Ok(j["id"].as_str().unwrap().to_string())
            }
            _ => Err(serde_json::Value::Array(all)),
        }
    });
    let interrupted = Command::new("kill")
        .args(["-INT", &submit.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while submit.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "submit did not stop following");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = submit.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains(&format!("stopped following job {id}; it keeps running")),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "no result: it was not waited for");
    wait_job(&c, &id, "the job to end on its own", |j| {
        j["state"] != "running"
    });
    let j = job(&c, &id);
    assert_eq!(j["state"], "succeeded", "{j}");
    assert_eq!(j["log_lines"], 20 + compile_lines(&c, &id), "{j}");
    assert_eq!(j["result"], "ticked 20 times", "{j}");
}

/// `wrun job stop` ends a job on every node: its driver, its actors and the
/// tasks burning CPU on two nodes; every CPU and resource comes back, the
/// job reads `stopped`, and stopping it again is refused.
#[test]
fn a_stopped_job_ends_everywhere_and_gives_its_resources_back() {
    let c = Cluster::start_with(&["--cpus", "2", "--resources", "a=2"]);
    c.add_node(&["--cpus", "2", "--resources", "b=2"]);
    c.wait_nodes(2);
    let chatty = example("chatty");
    let id = ok(
        &c,
        &[
            "submit",
            "--no-wait",
            "--address",
            &c.address,
            chatty.to_str().unwrap(),
            "forever",
            "a",
            "b",
        ],
    )
    .trim()
    .to_string();
    // Both actors and both burning tasks hold their node's resource.
    wait_for("the job's actors and tasks placed on both nodes", || {
        let s = c.status_json();
        let busy = alive_nodes(&s).iter().all(|n| {
            let custom = n["available"]["custom"].as_object().unwrap();
            custom.values().all(|v| v.as_f64() == Some(0.0))
        });
        busy.then_some(()).ok_or(s)
    });
    wait_job(&c, &id, "a few ticks", |j| {
        j["log_lines"].as_u64() >= Some(3)
    });
    let out = ok(&c, &["job", "stop", &id]);
    assert_eq!(out.trim(), format!("job {id} stopped"));
    let j = job(&c, &id);
    assert_eq!(j["state"], "stopped", "{j}");
    assert!(j["detail"].as_str().unwrap().contains("stopped"), "{j}");
    wait_for("every CPU and resource back on every node", || {
        let s = c.status_json();
        let free = alive_nodes(&s).iter().all(|n| n["available"] == n["total"]);
        free.then_some(()).ok_or(s)
    });
    let (done, _, err) = wrun(c.state(), &["job", "stop", &id]);
    assert!(!done && err.contains("has already ended: stopped"), "{err}");
}

/// A head keeps the newest `--keep-jobs` ended jobs; an id it does not keep
/// is refused with what to run instead.
#[test]
fn the_head_keeps_the_newest_ended_jobs_it_was_told_to() {
    let c = Cluster::start_with(&["--cpus", "1", "--keep-jobs", "2"]);
    c.wait_nodes(1);
    let mut ids = Vec::new();
    for name in ["Ada", "Grace", "Edsger"] {
        let (code, _, err) = c.submit(&example("hello"), &[name]);
        assert_eq!(code, 0, "{err}");
        ids.push(jobs(&c).last().unwrap()["id"].as_str().unwrap().to_string());
    }
    let kept: Vec<String> = jobs(&c)
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kept, ids[1..], "the two newest, oldest first");
    let (done, _, err) = wrun(c.state(), &["job", "logs", &ids[0]]);
    assert!(!done && err.contains("wrun job list"), "{err}");
    // `wrun list`: filtered, limited, as JSON.
    let list = |args: &[&str]| -> Vec<serde_json::Value> {
        let mut all = vec!["list"];
        all.extend(args);
        all.push("--json");
        serde_json::from_str::<serde_json::Value>(&ok(&c, &all))
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    let one = list(&["jobs", "--filter", "state=succeeded", "--limit", "1"]);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["id"], ids[1].as_str(), "the oldest kept first");
    assert!(list(&["jobs", "--filter", "state=failed"]).is_empty());
    let nodes = list(&["nodes", "--filter", "state=alive"]);
    assert_eq!(nodes.len(), 1, "{nodes:?}");
    assert!(list(&["placement-groups"]).is_empty());
    let (done, _, err) = wrun(c.state(), &["list", "nodes", "--filter", "colour=red"]);
    assert!(!done && err.contains("no field `colour`"), "{err}");
    // A value past what listings carry reaches its submitter only.
    let (code, out, err) = c.submit(&example("chatty"), &["value", "100000"]);
    assert_eq!((code, out.len()), (0, 100_000), "{err}");
    let big = jobs(&c).last().unwrap().clone();
    assert_eq!(big["state"], "succeeded", "{big}");
    assert!(big["result"].is_null(), "{big}");
}
