//! A cluster inside the test process (`wrun_cluster::harness`): a head and
//! nodes on loopback with real gRPC between them, heartbeats forced instead
//! of waited for. Cases the issue "One clear core" found by reading the code.

use std::sync::Arc;
use std::time::Duration;

use wrun_cluster::auth::{Credentials, Token};
use wrun_cluster::harness::InProcessCluster;
use wrun_cluster::serve::{start_head, start_node};
use wrun_cluster::tls::{Authority, Transport};
use wrun_runtime::JobSpec;
use wrun_tests::{config, decode, example};

/// On a one-CPU node, a task whose argument is still being computed must
/// not take the CPU before the argument is ready: its producer (which needs
/// no CPU) waits for a child that needs that CPU. The cluster's placement
/// once reserved the CPU first, and the job hung.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_never_holds_the_cpu_its_producer_needs() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, _) = config(&dir.path().join("node"));
    cfg.cpus = 1.0;
    let cluster = InProcessCluster::start(dir.path(), vec![cfg])
        .await
        .unwrap();
    let rt = &cluster.nodes[0].runtime;
    let job = rt.load(JobSpec::file(example("cluster"))).unwrap();
    let run = rt.run_main(&job, vec!["chain".into(), "6".into(), "20".into()]);
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the chain finished (a consumer holding the only CPU deadlocks it)")
        .unwrap();
    let v = decode(&out);
    let nodes = wrun_tests::field(&v, "nodes").as_map().unwrap();
    let total: u64 = nodes.iter().map(|(_, n)| n.as_u64().unwrap()).sum();
    assert_eq!(total, 6, "{v}");
    cluster.stop().await.unwrap();
}

/// A node the head refuses (another cluster's token) reports the refusal
/// to its caller; library code never ends the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_node_is_an_error_for_its_caller_not_an_exit() {
    let dir = tempfile::tempdir().unwrap();
    let token = Token::load_or_create(&Token::path_in(dir.path())).unwrap();
    let other = tempfile::tempdir().unwrap();
    let wrong = Token::load_or_create(&Token::path_in(other.path())).unwrap();
    // With TLS, the head will not even certify the node's key.
    let authority =
        Arc::new(Authority::load_or_create(&dir.path().join(wrun_cluster::tls::CA_CERT)).unwrap());
    let transport = authority.transport();
    let head = start_head(
        dir.path().to_path_buf(),
        "127.0.0.1",
        0,
        token.clone(),
        Some(authority),
    )
    .await
    .unwrap();
    let (cfg, _) = config(&dir.path().join("node"));
    let creds = Credentials {
        token: wrong.clone(),
        transport,
    };
    let refused = start_node(
        cfg,
        dir.path().to_path_buf(),
        "127.0.0.1",
        &head.address,
        creds,
    )
    .await
    .err()
    .expect("a node with another cluster's token is not certified");
    assert!(refused.to_string().contains("token"), "{refused}");
    head.stop().await.unwrap();
    // In plain text (loopback), it is refused when it joins.
    let head = start_head(dir.path().to_path_buf(), "127.0.0.1", 0, token, None)
        .await
        .unwrap();
    let (cfg, _) = config(&dir.path().join("node"));
    let creds = Credentials {
        token: wrong,
        transport: Transport::Plain,
    };
    let mut node = start_node(
        cfg,
        dir.path().to_path_buf(),
        "127.0.0.1",
        &head.address,
        creds,
    )
    .await
    .unwrap();
    let refused = tokio::time::timeout(Duration::from_secs(20), node.refused())
        .await
        .expect("the refusal reached the node's handle");
    assert!(refused.0.contains("token"), "{refused}");
    // This process is still here to say so, and the head still serves.
    node.stop().await.unwrap();
    head.stop().await.unwrap();
}
