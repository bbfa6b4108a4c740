//! The Kubernetes manifests (deploy/kubernetes) checked as far as one
//! machine without a Kubernetes cluster can: kustomize renders them, they
//! parse, they hold what docs/kubernetes.md promises (a persistent head
//! behind a stable Service, nodes that never see the CA key, disruption
//! budgets, a network policy), and every container's command, arguments
//! and environment are run here as Kubernetes would run them, a real head,
//! two nodes and the submitting Job on loopback, with only the pod address,
//! the head's port and the mounted paths swapped for local ones.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use wrun_tests::{example, free_port, repo_root, wrun_bin};

/// The rendered manifests, one value per object.
fn rendered() -> Vec<Value> {
    let dir = repo_root().join("deploy/kubernetes");
    let kustomize = kustomize();
    let out = Command::new(&kustomize)
        .arg("build")
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", kustomize.display()));
    assert!(
        out.status.success(),
        "kustomize build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| {
            let v: Value = serde::Deserialize::deserialize(doc).expect("each document parses");
            v
        })
        .collect()
}

/// kustomize, as scripts/setup-kubernetes.sh installs it (once per run).
fn kustomize() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(install_kustomize).clone()
}

fn install_kustomize() -> PathBuf {
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/setup-kubernetes.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("scripts/setup-kubernetes.sh runs");
    assert!(out.status.success(), "scripts/setup-kubernetes.sh failed");
    PathBuf::from(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .last()
            .unwrap()
            .trim(),
    )
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in the rendered manifests"))
}

/// The one container of a workload's pod template.
fn container(workload: &Value) -> &Value {
    let cs = workload["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(cs.len(), 1, "{workload}");
    &cs[0]
}

/// Local stand-ins for what a pod has: its address, the head's port and
/// Service name, and the mounted paths.
struct Pod {
    swaps: Vec<(String, String)>,
}

impl Pod {
    fn swap(&self, s: &str) -> String {
        self.swaps
            .iter()
            .fold(s.to_string(), |acc, (from, to)| acc.replace(from, to))
    }

    /// The container's environment as Kubernetes sets it (a field
    /// reference to the pod's address becomes the loopback one).
    fn env(&self, c: &Value) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        for e in c["env"].as_array().into_iter().flatten() {
            let name = e["name"].as_str().unwrap().to_string();
            let value = match (&e["value"], &e["valueFrom"]["fieldRef"]["fieldPath"]) {
                (Value::String(v), _) => self.swap(v),
                (_, Value::String(f)) if f == "status.podIP" => "127.0.0.1".to_string(),
                other => panic!("env {name}: {other:?} is not what this test knows"),
            };
            env.insert(name, value);
        }
        env
    }

    /// The container's command line, `$(VAR)` expanded from its
    /// environment as Kubernetes does.
    fn argv(&self, c: &Value, env: &BTreeMap<String, String>) -> Vec<String> {
        let words = c["command"]
            .as_array()
            .unwrap()
            .iter()
            .chain(c["args"].as_array().into_iter().flatten());
        words
            .map(|w| {
                let mut w = self.swap(w.as_str().unwrap());
                for (k, v) in env {
                    w = w.replace(&format!("$({k})"), v);
                }
                assert!(!w.contains("$("), "an unexpanded variable in {w}");
                w
            })
            .collect()
    }

    /// A `Command` for the container's process.
    fn command(&self, c: &Value) -> Command {
        let env = self.env(c);
        let argv = self.argv(c, &env);
        assert_eq!(argv[0], "wrun", "{argv:?}");
        let mut cmd = Command::new(wrun_bin());
        cmd.args(&argv[1..]);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("WRUN_")) {
            cmd.env_remove(k);
        }
        cmd.envs(&env);
        cmd
    }

    /// Asks a probe as kubelet would: an exec probe's command run in the
    /// container's environment, or a gRPC probe's health check of its port
    /// (swapped like the rest) and service.
    fn probe(&self, c: &Value, probe: &str) -> bool {
        let p = &c[probe];
        if p["grpc"].is_object() {
            let port = self.swap(&p["grpc"]["port"].to_string());
            let service = p["grpc"]["service"].as_str().unwrap_or("");
            return grpc_health(&format!("127.0.0.1:{port}"), service);
        }
        let argv: Vec<String> = p["exec"]["command"]
            .as_array()
            .unwrap_or_else(|| panic!("{probe}: {p} is neither a gRPC nor an exec probe"))
            .iter()
            .map(|w| self.swap(w.as_str().unwrap()))
            .collect();
        let bin_dir = wrun_bin().parent().unwrap().to_path_buf();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]).envs(self.env(c)).env("PATH", path);
        // Failing until the head serves is expected: only success counts.
        cmd.stderr(Stdio::null());
        cmd.status().is_ok_and(|s| s.success())
    }
}

/// A gRPC health check (grpc.health.v1) of `service` at `address`, as
/// kubelet's gRPC probe makes it: passes only on `SERVING`.
fn grpc_health(address: &str, service: &str) -> bool {
    use tonic_health::pb::{health_check_response::ServingStatus, HealthCheckRequest};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
            .unwrap()
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(1));
        let Ok(channel) = endpoint.connect().await else {
            return false;
        };
        let reply = tonic_health::pb::health_client::HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: service.to_string(),
            })
            .await;
        reply.is_ok_and(|r| r.into_inner().status == ServingStatus::Serving as i32)
    })
}

/// Stops the daemons of the state directories it was given, the last
/// started first (nodes before their head).
struct Daemons(Vec<(Child, PathBuf)>);

impl Drop for Daemons {
    fn drop(&mut self) {
        for (child, state) in self.0.iter_mut().rev() {
            let _ = Command::new(wrun_bin())
                .args(["stop", "--state-dir"])
                .arg(&*state)
                .output();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ok() {
        assert!(Instant::now() < deadline, "{what}: not within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_manifests_render_and_promise_what_the_docs_say() {
    let objects = rendered();
    let head = find(&objects, "StatefulSet", "wrun-head");
    assert_eq!(head["spec"]["replicas"], 1);
    assert_eq!(
        head["spec"]["volumeClaimTemplates"][0]["metadata"]["name"], "state",
        "the head's control state is on a persistent volume"
    );
    let service = find(&objects, "Service", "wrun-head");
    assert_eq!(service["spec"]["ports"][0]["port"], 6390);
    for name in ["wrun-node", "wrun-gpu-node"] {
        let node = find(&objects, "Deployment", name);
        let items = &node["spec"]["template"]["spec"]["volumes"][1]["secret"]["items"];
        let keys: Vec<&str> = items
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["key"].as_str().unwrap())
            .collect();
        assert_eq!(
            keys,
            ["cluster.token", "cluster-ca.pem"],
            "{name} never sees the CA key"
        );
        assert!(container(node)["resources"]["requests"]["cpu"].is_string());
    }
    for (kind, name) in [
        ("StatefulSet", "wrun-head"),
        ("Deployment", "wrun-node"),
        ("Deployment", "wrun-gpu-node"),
    ] {
        let c = container(find(&objects, kind, name));
        assert!(
            c["args"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "--health-port=6391"),
            "{name} serves health"
        );
        // Prometheus finds /metrics from the pod's annotations.
        let workload = find(&objects, kind, name);
        let notes = &workload["spec"]["template"]["metadata"]["annotations"];
        assert_eq!(notes["prometheus.io/scrape"], "true", "{name}");
        assert_eq!(notes["prometheus.io/scheme"], "https", "{name}");
        let port = notes["prometheus.io/port"].as_str().unwrap();
        assert!(
            c["args"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a.as_str() == Some(&format!("--metrics-port={port}"))),
            "{name} serves metrics where its annotations say"
        );
        for (probe, service) in [("readinessProbe", ""), ("livenessProbe", "liveness")] {
            let p = &c[probe]["grpc"];
            assert_eq!(p["port"], 6391, "{name} {probe}: {c}");
            assert_eq!(
                p["service"].as_str().unwrap_or(""),
                service,
                "{name} {probe}"
            );
        }
    }
    let gpu = container(find(&objects, "Deployment", "wrun-gpu-node"));
    assert_eq!(gpu["resources"]["limits"]["nvidia.com/gpu"], 1);
    for pdb in ["wrun-head", "wrun-node"] {
        find(&objects, "PodDisruptionBudget", pdb);
    }
    find(&objects, "NetworkPolicy", "wrun");
    find(&objects, "Job", "wrun-hello");
    for o in &objects {
        assert_eq!(
            o["metadata"]["namespace"].as_str().unwrap_or("wrun"),
            "wrun"
        );
    }
}

/// A head, a node, a GPU-group node and the Job, each started with exactly
/// its container's command, arguments and environment.
#[test]
fn the_manifests_commands_run_a_cluster_and_a_job() {
    let objects = rendered();
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    let made = Command::new(wrun_bin())
        .args(["credentials", "--out"])
        .arg(&secrets)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let again = Command::new(wrun_bin())
        .args(["credentials", "--out"])
        .arg(&secrets)
        .output()
        .unwrap();
    assert!(
        !again.status.success()
            && String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "a cluster's credentials are never overwritten"
    );
    let port = free_port().to_string();
    let examples = example("hello").parent().unwrap().to_path_buf();
    // Each pod has its own address in Kubernetes; here each has its own
    // health port.
    let pod = |name: &str| {
        let state = dir.path().join(name);
        Pod {
            swaps: vec![
                ("wrun-head:6390".into(), format!("127.0.0.1:{port}")),
                ("6390".into(), port.clone()),
                ("6391".into(), free_port().to_string()),
                ("9464".into(), free_port().to_string()),
                ("/var/lib/wrun".into(), state.display().to_string()),
                ("/etc/wrun".into(), secrets.display().to_string()),
                ("/opt/wrun/examples".into(), examples.display().to_string()),
                (
                    "/tmp/wrun-cache".into(),
                    dir.path().join("job-cache").display().to_string(),
                ),
            ],
        }
    };
    let mut daemons = Daemons(Vec::new());
    let head = container(find(&objects, "StatefulSet", "wrun-head"));
    let head_pod = pod("head");
    let child = head_pod
        .command(head)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    daemons.0.push((child, dir.path().join("head")));
    wait_until("the head's readiness probe passes", || {
        head_pod.probe(head, "readinessProbe")
    });
    assert!(head_pod.probe(head, "livenessProbe"));
    let mut nodes = Vec::new();
    for (name, workload) in [("node", "wrun-node"), ("gpu-node", "wrun-gpu-node")] {
        let c = container(find(&objects, "Deployment", workload));
        let node_pod = pod(name);
        let child = node_pod.command(c).stdout(Stdio::null()).spawn().unwrap();
        daemons.0.push((child, dir.path().join(name)));
        nodes.push((node_pod, c));
    }
    for (node_pod, c) in &nodes {
        wait_until("a node's readiness probe passes", || {
            node_pod.probe(c, "readinessProbe")
        });
        assert!(node_pod.probe(c, "livenessProbe"));
    }
    let status = || -> Value {
        let out = Command::new(wrun_bin())
            .args([
                "status",
                "--json",
                "--address",
                &format!("127.0.0.1:{port}"),
            ])
            .env("WRUN_TOKEN_FILE", secrets.join("cluster.token"))
            .env("WRUN_CA_FILE", secrets.join("cluster-ca.pem"))
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    };
    wait_until("three nodes alive", || {
        status()["nodes"]
            .as_array()
            .is_some_and(|n| n.iter().filter(|n| n["state"] == "alive").count() == 3)
    });
    let s = status();
    assert!(
        s["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["total"]["custom"]["gpu"] == 1.0),
        "the GPU group's node offers gpu=1: {s}"
    );
    let job = container(find(&objects, "Job", "wrun-hello"));
    let out = pod("job").command(job).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Hello, Kubernetes!"
    );
    // Without their head, nodes are not ready but still alive (kubelet
    // leaves them running; they join again when it is back).
    let (mut head_child, head_state) = daemons.0.remove(0);
    let stopped = Command::new(wrun_bin())
        .args(["stop", "--state-dir"])
        .arg(&head_state)
        .output()
        .unwrap();
    assert!(stopped.status.success());
    head_child.wait().unwrap();
    assert!(!head_pod.probe(head, "livenessProbe"), "the head is gone");
    for (node_pod, c) in &nodes {
        wait_until("a node without its head reads not ready", || {
            !node_pod.probe(c, "readinessProbe")
        });
        assert!(node_pod.probe(c, "livenessProbe"), "the node still runs");
    }
    drop(daemons);
}

/// The image recipe cannot be built here (no Docker engine on this
/// machine); what it promises the manifests is checked instead: each file
/// it copies out of its build stage is one its build commands make (the
/// same commands built this checkout), and each path the manifests run is
/// one it puts in the image.
#[test]
fn the_image_recipe_holds_what_the_manifests_run() {
    let recipe = std::fs::read_to_string(repo_root().join("deploy/Dockerfile")).unwrap();
    let built_in = recipe
        .lines()
        .find_map(|l| l.trim().strip_prefix("ENV CARGO_TARGET_DIR="))
        .expect("the build stage names its target directory");
    assert!(
        recipe.contains("cargo build --release -p wrun-cli"),
        "{recipe}"
    );
    let mut copied = Vec::new();
    for line in recipe
        .lines()
        .filter(|l| l.starts_with("COPY --from=build "))
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (from, to) = (words[2], words[3]);
        let here = wrun_tests::target_dir()
            .join(from.strip_prefix(built_in).unwrap().trim_start_matches('/'));
        assert!(
            here.exists(),
            "{from} is made by the recipe's build: {} is missing",
            here.display()
        );
        copied.push(to.to_string());
    }
    assert!(
        copied.iter().any(|t| t == "/usr/local/bin/wrun"),
        "{copied:?}"
    );
    let objects = rendered();
    let job = container(find(&objects, "Job", "wrun-hello"));
    for w in job["args"].as_array().unwrap() {
        let w = w.as_str().unwrap();
        if w.starts_with("/opt/") {
            assert!(
                copied.iter().any(|t| t == w),
                "{w} is not in the image: {copied:?}"
            );
        }
    }
    for o in &objects {
        for c in o["spec"]["template"]["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
        {
            assert_eq!(
                c["command"][0], "wrun",
                "every container runs the image's wrun"
            );
            assert_eq!(c["image"], "wrun:latest");
        }
    }
}
