//! A cluster of real `wrun` processes on loopback for tests: a head and
//! nodes started with `wrun start` in a temporary state directory (stopped
//! when dropped), `wrun status --json` read back, jobs submitted with the
//! real CLI, and waits on conditions under a deadline.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use wrun_cluster::tls::Transport;

use crate::{shared_cache_dir, wrun_bin};

/// A cluster's state directory; stops its daemons when dropped, so a failing
/// test leaves no process behind.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub address: String,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = wrun(self.state(), &["stop"]);
    }
}

impl Cluster {
    pub fn state(&self) -> &Path {
        self.dir.path()
    }

    /// Starts a head (whose own node offers `cpus`).
    pub fn start(cpus: &str) -> Cluster {
        Cluster::start_with(&["--cpus", cpus])
    }

    /// Starts a head whose own node is started with `extra`.
    pub fn start_with(extra: &[&str]) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec!["start", "--head", "--port", "0"];
        args.extend_from_slice(extra);
        let out = wrun(dir.path(), &args);
        assert!(out.0, "{}", out.2);
        let address = out
            .1
            .lines()
            .next()
            .and_then(|l| l.rsplit(" at ").next())
            .unwrap()
            .trim()
            .to_string();
        Cluster { dir, address }
    }

    /// TLS pinned to the CA the head made.
    pub fn transport(&self) -> Transport {
        Transport::tls_from(&self.state().join(wrun_cluster::tls::CA_CERT)).unwrap()
    }

    pub fn add_node(&self, extra: &[&str]) {
        let mut args = vec!["start", "--address", &self.address];
        args.extend_from_slice(extra);
        let out = wrun(self.state(), &args);
        assert!(out.0, "{}", out.2);
    }

    /// `wrun status`, as people read it.
    pub fn status(&self) -> String {
        let out = wrun(self.state(), &["status"]);
        assert!(out.0, "{}", out.2);
        out.1
    }

    /// `wrun status --json`.
    pub fn status_json(&self) -> serde_json::Value {
        self.json(&["status"])
    }

    /// `wrun ARGS --json` on the cluster, which must succeed; its JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut args = args.to_vec();
        args.push("--json");
        let (done, out, err) = wrun(self.state(), &args);
        assert!(done, "wrun {args:?}: {err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("wrun {args:?}: {e}: {out}"))
    }

    /// Waits until `n` nodes are alive and each sees the other `n - 1`
    /// (peers refresh with each heartbeat), so placement can use them all.
    pub fn wait_nodes(&self, n: usize) -> serde_json::Value {
        wait_for(&format!("{n} nodes alive, each seeing the others"), || {
            let s = self.status_json();
            let alive = alive_nodes(&s);
            (alive.len() >= n
                && alive
                    .iter()
                    .all(|a| a["peers"].as_u64() >= Some(n as u64 - 1)))
            .then_some(s.clone())
            .ok_or(s)
        })
    }

    /// Waits until every alive node has reported since this call (two
    /// reports: the first may have left before it), and returns the status.
    pub fn wait_fresh(&self) -> serde_json::Value {
        let before = self.status_json();
        let reports = |s: &serde_json::Value| -> Vec<(String, u64)> {
            alive_nodes(s)
                .iter()
                .map(|n| {
                    (
                        n["id"].as_str().unwrap().to_string(),
                        n["reports"].as_u64().unwrap(),
                    )
                })
                .collect()
        };
        let then = reports(&before);
        wait_for("a fresh report from every node", || {
            let s = self.status_json();
            let now = reports(&s);
            then.iter()
                .all(|(id, r)| now.iter().any(|(i, r2)| i == id && *r2 >= r + 2))
                .then_some(s.clone())
                .ok_or(s)
        })
    }

    pub fn submit(&self, component: &Path, args: &[&str]) -> (i32, String, String) {
        submit_to(&self.address, self.state(), None, component, args)
    }

    /// `wrun submit --no-wait`: the job's id, once the head placed it.
    pub fn submit_no_wait(&self, component: &Path, args: &[&str]) -> String {
        let mut all = vec!["submit", "--no-wait", "--address", &self.address];
        all.push(component.to_str().unwrap());
        all.extend_from_slice(args);
        let (done, out, err) = wrun(self.state(), &all);
        assert!(done, "{err}");
        out.trim().to_string()
    }

    /// Submits until the driver runs on `node` (the head takes turns).
    pub fn submit_on(&self, node: &str, component: &Path, args: &[&str]) -> serde_json::Value {
        for _ in 0..6 {
            let (code, out, err) = self.submit(component, args);
            assert_eq!(code, 0, "{err}");
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            if v["driver"] == node {
                return v;
            }
        }
        panic!("the driver never ran on {node}");
    }

    /// Waits until every node reports no objects left (in a report made
    /// after the job ended).
    pub fn wait_objects_freed(&self) -> serde_json::Value {
        self.wait_fresh();
        wait_for("every object freed on every node", || {
            let s = self.status_json();
            alive_nodes(&s)
                .iter()
                .all(|n| n["objects"] == 0)
                .then_some(s.clone())
                .ok_or(s)
        })
    }

    pub fn logs(&self) -> String {
        let mut all = String::new();
        for e in std::fs::read_dir(self.state().join("logs"))
            .unwrap()
            .flatten()
        {
            all.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
        all
    }
}

/// Polls `check` until it gives a value, failing after 30 s with what it
/// last saw.
pub fn wait_for<T>(what: &str, mut check: impl FnMut() -> Result<T, serde_json::Value>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match check() {
            Ok(v) => return v,
            Err(seen) => assert!(
                Instant::now() < deadline,
                "never saw {what}; last status: {seen}"
            ),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The alive nodes of a `wrun status --json`.
pub fn alive_nodes(status: &serde_json::Value) -> Vec<serde_json::Value> {
    status["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["state"] == "alive")
        .cloned()
        .collect()
}

/// The id of the alive node that offers `count` of the custom resource `name`.
pub fn node_with(status: &serde_json::Value, name: &str, count: u64) -> String {
    alive_nodes(status)
        .iter()
        .find(|n| n["total"]["custom"][name].as_f64() == Some(count as f64))
        .and_then(|n| n["id"].as_str())
        .unwrap_or_else(|| panic!("no node with {name}={count} in {status}"))
        .to_string()
}

/// The id of the alive node without custom resources.
pub fn plain_node(status: &serde_json::Value) -> String {
    alive_nodes(status)
        .iter()
        .find(|n| {
            n["total"]["custom"]
                .as_object()
                .is_some_and(|c| c.is_empty())
        })
        .and_then(|n| n["id"].as_str())
        .unwrap_or_else(|| panic!("no node without custom resources in {status}"))
        .to_string()
}

/// Node `id`'s entry in a `wrun status --json`.
pub fn node(status: &serde_json::Value, id: &str) -> serde_json::Value {
    status["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no node {id} in {status}"))
}

/// `wrun submit --address ADDRESS [--env MANIFEST] COMPONENT ARGS`;
/// (exit code, stdout trimmed, stderr). Free of `Cluster` so threads can
/// submit while a test watches.
pub fn submit_to(
    address: &str,
    state: &Path,
    manifest: Option<&Path>,
    component: &Path,
    args: &[&str],
) -> (i32, String, String) {
    let mut cmd = Command::new(wrun_bin());
    cmd.args(["submit", "--address", address]);
    if let Some(m) = manifest {
        cmd.arg("--env").arg(m);
    }
    let out = cmd
        .arg(component)
        .args(args)
        .env("WRUN_STATE_DIR", state)
        .env("WRUN_CACHE_DIR", shared_cache_dir())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The job id an attached `wrun submit` printed first on stderr.
pub fn job_id_in(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("job ")?.split_once(" runs on node "))
        .map(|(id, _)| id.to_string())
        .unwrap_or_else(|| panic!("the job's id first: {stderr}"))
}

/// Runs `wrun ARGS` with the state directory; (success, stdout, stderr).
pub fn wrun(state: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(wrun_bin())
        .args(args)
        .env("WRUN_STATE_DIR", state)
        .env("WRUN_CACHE_DIR", shared_cache_dir())
        .env_remove("WRUN_ADDRESS")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
