//! The dashboard in a real browser (headless chromium over the DevTools
//! protocol), against a real two-node cluster with a finished and a running
//! job: refused without the token, logged in with it, every page opened,
//! its figures compared with what `wrun list|summary|memory --json` say,
//! and a screenshot of each kept in `target/test-artifacts/dashboard/`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use wrun_tests::cdp::Browser;
use wrun_tests::cluster_harness::*;
use wrun_tests::{example, target_dir};

/// The ids of records as `wrun list KIND --json` prints them.
fn ids(records: &Value) -> BTreeSet<String> {
    records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn artifacts() -> PathBuf {
    target_dir().join("test-artifacts").join("dashboard")
}

/// Opens page `hash` and waits until it has drawn itself.
fn open(b: &mut Browser, hash: &str, page: &str) {
    b.eval(&format!(
        "document.getElementById('main').dataset.ready = 'false'; location.hash = '{hash}'; true"
    ))
    .unwrap();
    b.wait_for(
        &format!("page {page} drawn"),
        &format!(
            "(() => {{ const m = document.getElementById('main'); \
              return m.dataset.page === '{page}' && m.dataset.ready === 'true'; }})()"
        ),
    )
    .unwrap();
}

/// The `data-id`s of a table's rows.
fn row_ids(b: &mut Browser, table: &str) -> BTreeSet<String> {
    let v = b
        .eval(&format!(
            "[...document.querySelectorAll('[data-testid=\"{table}-row\"]')].map(r => r.dataset.id)"
        ))
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The text of the element with `data-testid` `id`.
fn text(b: &mut Browser, id: &str) -> String {
    b.eval(&format!(
        "document.querySelector('[data-testid=\"{id}\"]')?.textContent ?? null"
    ))
    .unwrap()
    .as_str()
    .unwrap_or_else(|| panic!("no element {id}"))
    .to_string()
}

#[test]
fn the_dashboard_shows_what_the_cli_lists_behind_the_token() {
    let c = Cluster::start_with(&["--cpus", "2", "--resources", "a=2", "--dashboard-port", "0"]);
    c.add_node(&["--cpus", "2", "--resources", "b=2"]);
    c.wait_nodes(2);
    let site = format!(
        "https://{}",
        std::fs::read_to_string(c.state().join("dashboard.addr"))
            .unwrap()
            .trim()
    );
    let token = std::fs::read_to_string(c.state().join("cluster.token")).unwrap();
    // A finished job whose tasks ran on both nodes, and one that runs on.
    let (code, _, err) = c.submit(&example("chatty"), &["lines", "3", "a", "b", "a"]);
    assert_eq!(code, 0, "{err}");
    let finished = job_id_in(&err);
    // One with more calls than a page holds.
    let mut args = vec!["lines", "1"];
    args.extend(std::iter::repeat_n("a", 120));
    let (code, _, err) = c.submit(&example("chatty"), &args);
    assert_eq!(code, 0, "{err}");
    let many = job_id_in(&err);
    let running = c.submit_no_wait(&example("chatty"), &["forever", "a", "b"]);
    wait_for("the running job's actors", || {
        let a = c.json(&["list", "actors", "--filter", &format!("job={running}")]);
        if a.as_array().unwrap().len() == 2 {
            Ok(())
        } else {
            Err(a)
        }
    });

    let mut b = Browser::launch().unwrap();
    // Without a session: the API refuses, the page sends one to log in.
    b.goto(&format!("{site}/api/status")).unwrap();
    let body = b.eval("document.body.innerText").unwrap();
    assert!(body.as_str().unwrap().contains("log in first"), "{body}");
    b.goto(&format!("{site}/")).unwrap();
    b.wait_for("the login page", "location.pathname === '/login'")
        .unwrap();
    b.screenshot(&artifacts().join("login.png")).unwrap();
    // A wrong token is refused, saying so.
    b.eval(
        "document.getElementById('token').value = 'not-the-token'; \
         document.getElementById('login-button').click(); true",
    )
    .unwrap();
    b.wait_for(
        "the refusal",
        "document.getElementById('error')?.textContent.includes('not the cluster token')",
    )
    .unwrap();
    b.eval(&format!(
        "document.getElementById('token').value = {}; document.getElementById('login-button').click(); true",
        Value::from(token.trim())
    ))
    .unwrap();
    b.wait_for(
        "the dashboard",
        "location.pathname === '/' && !!document.getElementById('main')",
    )
    .unwrap();

    // Overview: nodes and jobs as the CLI lists them.
    open(&mut b, "#/", "overview");
    let alive = c.json(&["list", "nodes", "--filter", "state=alive"]);
    assert_eq!(
        text(&mut b, "nodes-alive"),
        alive.as_array().unwrap().len().to_string()
    );
    assert_eq!(row_ids(&mut b, "nodes"), ids(&alive));
    // A chart per resource: CPUs, and the custom `a` and `b` in use by the
    // running job's actors and tasks (one of each on each node).
    for chart in ["cpus", "a", "b", "object store"] {
        b.wait_for(
            &format!("the {chart} chart"),
            &format!("document.querySelector('[data-testid=\"chart-{chart}\"]')?.textContent"),
        )
        .unwrap();
    }
    assert_eq!(text(&mut b, "chart-a"), "2 of 2");
    b.screenshot(&artifacts().join("overview.png")).unwrap();

    open(&mut b, "#/jobs", "jobs");
    assert_eq!(row_ids(&mut b, "jobs"), ids(&c.json(&["list", "jobs"])));
    b.screenshot(&artifacts().join("jobs.png")).unwrap();

    // A job: its state, its calls by name and state, its calls, its lines.
    open(&mut b, &format!("#/jobs/{finished}"), "job");
    assert_eq!(text(&mut b, "job-state"), "succeeded");
    let summary = c.json(&["summary", "tasks", "--job", &finished]);
    assert_eq!(summary[0]["name"], "speak");
    let shown_total = b
        .eval(
            "document.querySelector('[data-testid=\"job-summary-row\"][data-id=\"speak\"] [data-field=\"total\"]').textContent",
        )
        .unwrap();
    assert_eq!(shown_total, Value::from(summary[0]["total"].to_string()));
    let calls = c.json(&["list", "tasks", "--filter", &format!("job={finished}")]);
    assert_eq!(row_ids(&mut b, "job-tasks"), ids(&calls));
    let logs = text(&mut b, "job-logs");
    assert!(logs.contains("task 2 line 2"), "{logs}");
    b.screenshot(&artifacts().join("job.png")).unwrap();

    // 120 calls: a page of 100, then the next page of 20; together, each
    // call the CLI lists, once.
    open(&mut b, &format!("#/jobs/{many}"), "job");
    let first = row_ids(&mut b, "job-tasks");
    assert_eq!(first.len(), 100);
    b.eval("document.querySelector('[data-next=\"job-tasks\"]').click(); true")
        .unwrap();
    b.wait_for(
        "the next page of calls",
        "document.querySelectorAll('[data-testid=\"job-tasks-row\"]').length === 20",
    )
    .unwrap();
    let second = row_ids(&mut b, "job-tasks");
    assert!(first.is_disjoint(&second), "no call on both pages");
    let all = c.json(&[
        "list",
        "tasks",
        "--filter",
        &format!("job={many}"),
        "--limit",
        "1000",
    ]);
    assert_eq!(&first | &second, ids(&all));
    b.screenshot(&artifacts().join("job-page-2.png")).unwrap();

    open(&mut b, "#/nodes", "nodes");
    assert_eq!(row_ids(&mut b, "nodes"), ids(&c.json(&["list", "nodes"])));
    let running_calls = c.json(&["list", "tasks", "--filter", "state=running"]);
    assert_eq!(row_ids(&mut b, "running"), ids(&running_calls));
    b.screenshot(&artifacts().join("nodes.png")).unwrap();

    open(&mut b, "#/actors", "actors");
    assert_eq!(row_ids(&mut b, "actors"), ids(&c.json(&["list", "actors"])));
    b.screenshot(&artifacts().join("actors.png")).unwrap();

    open(&mut b, "#/objects", "objects");
    let memory = c.json(&["memory"]);
    let rows: BTreeSet<String> = memory
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}@{}",
                r["job"].as_str().unwrap_or("null"),
                r["node"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        rows.iter().any(|r| r.starts_with(&running)),
        "the running job's object: {memory}"
    );
    assert_eq!(row_ids(&mut b, "memory"), rows);
    assert_eq!(
        row_ids(&mut b, "objects"),
        ids(&c.json(&["list", "objects"]))
    );
    b.screenshot(&artifacts().join("objects.png")).unwrap();

    open(&mut b, "#/groups", "groups");
    assert_eq!(text(&mut b, "groups-total"), "0");
    assert!(c
        .json(&["list", "placement-groups"])
        .as_array()
        .unwrap()
        .is_empty());
    b.screenshot(&artifacts().join("groups.png")).unwrap();

    // Logs with a search: each of the three tasks' line 1.
    open(
        &mut b,
        &format!("#/logs?job={finished}&search=line%201"),
        "logs",
    );
    assert_eq!(text(&mut b, "log-count"), "3");
    b.screenshot(&artifacts().join("logs.png")).unwrap();
    // Followed, the running job's lines (a tick every 100 ms) keep coming
    // without the page being opened again, each once and in order.
    open(&mut b, &format!("#/logs?job={running}&follow=1"), "logs");
    let before: u64 = text(&mut b, "log-count").parse().unwrap();
    b.wait_for(
        "more lines, followed",
        &format!(
            "Number(document.querySelector('[data-testid=\"log-count\"]').textContent) >= {}",
            before + 10
        ),
    )
    .unwrap();
    let numbers: Vec<u64> = text(&mut b, "logs")
        .lines()
        .map(|l| l.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1), "{numbers:?}");
    b.screenshot(&artifacts().join("logs-followed.png"))
        .unwrap();
    for page in [
        "login", "overview", "jobs", "job", "nodes", "actors", "objects", "groups", "logs",
    ] {
        let png = std::fs::read(artifacts().join(format!("{page}.png"))).unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 1000,
            "{page}.png"
        );
    }
    let (done, _, err) = wrun(c.state(), &["job", "stop", &running]);
    assert!(done, "{err}");
}
