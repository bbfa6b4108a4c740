//! `/metrics` of a real cluster, scraped as Prometheus does: over the
//! cluster's TLS (the CA pinned, its server name), with the cluster token;
//! the text parses, and its figures are those of what ran. Without the
//! token, or in plain text, nothing is served.

use std::collections::HashMap;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wrun_tests::cluster_harness::*;
use wrun_tests::scrape::{sample, samples, scrape};
use wrun_tests::{example, free_port};

/// A sample of the node by metric name and `state` label.
type Reading<'a> = dyn Fn(&str, &str) -> f64 + 'a;

/// The `wrun_*` metric names the Grafana dashboard's queries use.
fn dashboard_metrics() -> Vec<String> {
    let path = wrun_tests::repo_root().join("deploy/grafana/wrun.json");
    let dash: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut names = Vec::new();
    for panel in dash["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let mut rest = expr;
            while let Some(at) = rest.find("wrun_") {
                let name: String = rest[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                rest = &rest[at + name.len()..];
                names.push(name);
            }
        }
    }
    assert!(names.len() >= 10, "{names:?}");
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_over_tls_to_token_holders_and_count_what_ran() {
    let (head_port, node_port) = (free_port(), free_port());
    let hp = head_port.to_string();
    let np = node_port.to_string();
    let c = Cluster::start_with(&["--cpus", "2", "--metrics-port", &hp]);
    c.add_node(&[
        "--cpus",
        "1",
        "--resources",
        "license=2",
        "--metrics-port",
        &np,
    ]);
    c.wait_nodes(2);
    let (code, out, err) = c.submit(&example("hello"), &["Ada"]);
    assert_eq!((code, out.as_str()), (0, "Hello, Ada!"), "{err}");
    let token = std::fs::read_to_string(c.state().join("cluster.token")).unwrap();
    let ca = c.state().join(wrun_cluster::tls::CA_CERT);

    let (status, text) = scrape(head_port, &ca, Some(token.trim())).await;
    assert_eq!(status, 200, "{text}");
    let head = samples(&text);
    assert_eq!(
        sample(&head, r#"wrun_jobs{server="head",state="succeeded"}"#),
        1.0
    );
    assert_eq!(
        sample(&head, r#"wrun_nodes{server="head",state="alive"}"#),
        2.0
    );
    assert_eq!(
        sample(
            &head,
            r#"wrun_rpc_calls_total{server="head",rpc="SubmitJob",code="Ok"}"#
        ),
        1.0
    );
    assert!(
        sample(
            &head,
            r#"wrun_rpc_calls_total{server="head",rpc="Heartbeat",code="Ok"}"#
        ) >= 2.0
    );
    assert_eq!(
        sample(
            &head,
            r#"wrun_resource_total{server="node",resource="cpus"}"#
        ),
        2.0
    );

    let (status, text) = scrape(node_port, &ca, Some(token.trim())).await;
    assert_eq!(status, 200, "{text}");
    let node = samples(&text);
    assert_eq!(
        sample(
            &node,
            r#"wrun_resource_total{server="node",resource="license"}"#
        ),
        2.0
    );
    assert_eq!(
        sample(
            &node,
            r#"wrun_resource_available{server="node",resource="cpus"}"#
        ),
        1.0
    );
    assert!(
        !node.keys().any(|k| k.contains(r#"server="head""#)),
        "a node serves its own figures"
    );
    // The instance pool and the component cache: the job's component was
    // loaded on the node that ran it, compiled or from the cache.
    for all in [&head, &node] {
        assert_eq!(sample(all, r#"wrun_instances_max{server="node"}"#), 1000.0);
        assert!(sample(all, r#"wrun_instances_in_use{server="node"}"#) <= 1000.0);
    }
    let loaded = |all: &HashMap<String, f64>| {
        sample(
            all,
            r#"wrun_components_loaded_total{server="node",from="cache"}"#,
        ) + sample(
            all,
            r#"wrun_components_loaded_total{server="node",from="compiled"}"#,
        )
    };
    assert!(loaded(&head) + loaded(&node) >= 1.0);
    // The job's driver ran on one of the two nodes.
    let runs = |all: &HashMap<String, f64>| {
        all.get(r#"wrun_rpc_calls_total{server="node",rpc="RunJob",code="Ok"}"#)
            .copied()
            .unwrap_or(0.0)
    };
    assert_eq!(runs(&head) + runs(&node), 1.0);

    // Calls and actors by state, as the node holding them reports them: a
    // job whose actor and CPU-burning task need the node's `license`.
    let job = c.submit_no_wait(&example("chatty"), &["forever", "license"]);
    let by_state = |all: &HashMap<String, f64>, name: &str, state: &str| {
        sample(all, &format!(r#"{name}{{server="node",state="{state}"}}"#))
    };
    let node_until = |what: &'static str, holds: fn(&Reading) -> bool| {
        let (ca, token) = (ca.clone(), token.trim().to_string());
        async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            loop {
                let node = samples(&scrape(node_port, &ca, Some(&token)).await.1);
                if holds(&|name, state| by_state(&node, name, state)) {
                    return;
                }
                assert!(std::time::Instant::now() < deadline, "{what}: {node:?}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    };
    node_until("the burning task running and the actor alive", |n| {
        n("wrun_calls_live", "running") == 1.0
            && n("wrun_actors", "alive") == 1.0
            && n("wrun_calls_live", "waiting-for-args") == 0.0
    })
    .await;
    assert!(wrun(c.state(), &["job", "stop", &job]).0);
    node_until("nothing running, the actor dead", |n| {
        n("wrun_calls_live", "running") == 0.0
            && n("wrun_actors", "alive") == 0.0
            && n("wrun_actors", "dead") == 1.0
    })
    .await;

    // Every metric the Grafana dashboard queries is one the daemons serve.
    let served: std::collections::HashSet<&str> = head
        .keys()
        .chain(node.keys())
        .map(|k| k.split('{').next().unwrap())
        .collect();
    for name in dashboard_metrics() {
        assert!(
            served.contains(name.as_str()) || served.contains(format!("{name}_bucket").as_str()),
            "deploy/grafana/wrun.json queries {name}, which no daemon serves"
        );
    }

    // No token, or another: refused, and logged with the caller's address.
    assert_eq!(scrape(head_port, &ca, None).await.0, 401);
    assert_eq!(scrape(node_port, &ca, Some(&"0".repeat(64))).await.0, 401);
    assert!(c
        .logs()
        .contains("refused a metrics scrape without the cluster token"));
    // Plain text gets no HTTP answer from a TLS port.
    let mut plain = tokio::net::TcpStream::connect(("127.0.0.1", head_port))
        .await
        .unwrap();
    plain
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut reply = Vec::new();
    let _ = plain.read_to_end(&mut reply).await;
    assert!(
        !String::from_utf8_lossy(&reply).starts_with("HTTP/"),
        "plain text is refused"
    );
}

/// `--metrics-open` serves anyone who reaches the port (the operator's
/// choice, e.g. behind a network policy).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opened_metrics_port_needs_no_token() {
    let port = free_port();
    let p = port.to_string();
    let c = Cluster::start_with(&["--cpus", "1", "--metrics-port", &p, "--metrics-open"]);
    c.wait_nodes(1);
    let ca = c.state().join(wrun_cluster::tls::CA_CERT);
    let (status, text) = scrape(port, &ca, None).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        sample(
            &samples(&text),
            r#"wrun_nodes{server="head",state="alive"}"#
        ),
        1.0
    );
}
