//! `wrun start`, `wrun stop`, `wrun status` and `wrun submit --address`: the
//! cluster from the command line (host/src/cluster).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use wrun_cluster::{self as cluster, daemon, DEFAULT_HEAD_PORT};
use wrun_runtime::RuntimeConfig;

/// A custom resource, NAME=AMOUNT.
pub fn parse_resource(s: &str) -> Result<(String, f64), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=AMOUNT, got `{s}`"))?;
    let v: f64 = v
        .trim()
        .parse()
        .map_err(|_| format!("`{v}` in `{s}` is not a number"))?;
    if !(v.is_finite() && v >= 0.0) || k.trim().is_empty() {
        return Err(format!(
            "`{s}`: the name must not be empty and the amount must be >= 0"
        ));
    }
    Ok((k.trim().to_string(), v))
}

#[derive(Args)]
pub struct StartArgs {
    /// Start the head (control state, job API) and a node beside it.
    #[arg(long, conflicts_with = "address")]
    head: bool,
    /// Join the cluster whose head is at HOST:PORT as a node.
    #[arg(long, env = "WRUN_ADDRESS", required_unless_present = "head")]
    address: Option<String>,
    /// The head's port.
    #[arg(long, default_value_t = DEFAULT_HEAD_PORT)]
    port: u16,
    /// The interface to listen on, also the address other processes use.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// CPUs this node offers (default: the machine's cores).
    #[arg(long)]
    cpus: Option<f64>,
    /// Custom resources this node offers, e.g. `--resources license=2,fpga=1`.
    #[arg(long, value_delimiter = ',', value_parser = parse_resource)]
    resources: Vec<(String, f64)>,
    /// Bytes of objects this node holds in memory before spilling to disk
    /// (e.g. 512M, 2G).
    #[arg(long, value_parser = crate::parse_size)]
    object_memory: Option<u64>,
    /// Linear-memory limit of each guest instance on this node (e.g. 2G).
    #[arg(long, value_parser = crate::parse_size)]
    guest_memory: Option<u64>,
    /// The largest object a guest on this node may put (default 1G).
    #[arg(long, value_parser = crate::parse_size)]
    max_object: Option<u64>,
    #[command(flatten)]
    files: ClusterFiles,
}

/// Where a machine keeps its cluster files, and the token to present.
#[derive(Args, Clone)]
pub struct ClusterFiles {
    /// Token file, pid files, logs and the head's control state.
    #[arg(long, env = "WRUN_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// The cluster token (default: STATE_DIR/cluster.token, where the head
    /// writes it; copy it to the other machines).
    #[arg(long, env = "WRUN_TOKEN_FILE")]
    token_file: Option<PathBuf>,
}

impl ClusterFiles {
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(daemon::default_state_dir)
    }
    pub fn token_file(&self) -> PathBuf {
        self.token_file
            .clone()
            .unwrap_or_else(|| cluster::auth::Token::path_in(&self.state_dir()))
    }
}

#[derive(Args)]
pub struct StopArgs {
    #[command(flatten)]
    files: ClusterFiles,
}

#[derive(Args)]
pub struct StatusArgs {
    /// The head (default: the one this machine started).
    #[arg(long, env = "WRUN_ADDRESS")]
    address: Option<String>,
    /// Print the status as one JSON object (for scripts and tests) instead
    /// of text for people.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    files: ClusterFiles,
}

#[derive(Args)]
pub struct ServeArgs {
    role: String,
    #[arg(long)]
    state_dir: PathBuf,
    #[arg(long)]
    address: Option<String>,
    #[arg(long)]
    token_file: Option<PathBuf>,
    #[arg(long, default_value_t = DEFAULT_HEAD_PORT)]
    port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long)]
    cpus: Option<f64>,
    #[arg(long, value_delimiter = ',', value_parser = parse_resource)]
    resources: Vec<(String, f64)>,
    #[arg(long)]
    object_memory: Option<u64>,
    #[arg(long)]
    guest_memory: Option<u64>,
    #[arg(long)]
    max_object: Option<u64>,
}

pub fn start(a: StartArgs) -> anyhow::Result<ExitCode> {
    let state = a.files.state_dir();
    let mut args = vec!["--host".to_string(), a.host.clone()];
    if let Some(c) = a.cpus {
        if !(c.is_finite() && c >= 0.0) {
            eprintln!("error: --cpus must be a number >= 0, got {c}");
            return Ok(ExitCode::from(2));
        }
        args.extend(["--cpus".into(), c.to_string()]);
    }
    if !a.resources.is_empty() {
        let r: Vec<String> = a
            .resources
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        args.extend(["--resources".into(), r.join(",")]);
    }
    if let Some(m) = a.object_memory {
        args.extend(["--object-memory".into(), m.to_string()]);
    }
    if let Some(m) = a.guest_memory {
        args.extend(["--guest-memory".into(), m.to_string()]);
    }
    if let Some(m) = a.max_object {
        args.extend(["--max-object".into(), m.to_string()]);
    }
    if a.head {
        args.extend(["--port".into(), a.port.to_string()]);
        let (pid, address) = daemon::spawn(&state, "head", &args)?;
        println!("wrun head started (pid {pid}) at {address}");
        println!(
            "cluster token: {} (readable by its owner only; copy it to join from other machines)",
            cluster::auth::Token::path_in(&state).display()
        );
        println!("join a node:   wrun start --address {address}");
        println!("submit a job:  wrun submit --address {address} JOB.wasm");
        println!("stop:          wrun stop");
    } else {
        let address = a.address.expect("clap requires --address without --head");
        args.extend(["--address".into(), address.clone()]);
        args.extend([
            "--token-file".into(),
            a.files.token_file().display().to_string(),
        ]);
        let (pid, node_addr) = daemon::spawn(&state, "node", &args)?;
        println!("wrun node started (pid {pid}) at {node_addr}, joined the head at {address}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn stop(a: StopArgs) -> anyhow::Result<ExitCode> {
    let stopped = daemon::stop_all(&a.files.state_dir());
    if stopped.is_empty() {
        println!(
            "no wrun daemon of {} is running",
            a.files.state_dir().display()
        );
    }
    for s in stopped {
        println!("stopped {s}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The head's address: given, or the one this machine's head wrote.
fn head_address(given: Option<String>, state: &Path) -> anyhow::Result<String> {
    match given {
        Some(a) => Ok(a),
        None => std::fs::read_to_string(state.join("head.addr"))
            .map(|s| s.trim().to_string())
            .map_err(|_| {
                anyhow::anyhow!(
                    "no head address: pass --address HOST:PORT (or WRUN_ADDRESS), or start a head here with `wrun start --head`"
                )
            }),
    }
}

pub fn status(a: StatusArgs) -> anyhow::Result<ExitCode> {
    let state = a.files.state_dir();
    let address = head_address(a.address, &state)?;
    let rt = tokio::runtime::Runtime::new()?;
    let s = rt.block_on(cluster::client::status(&address, &a.files.token_file()))?;
    if a.json {
        println!("{}", status_json(&s, &address));
        return Ok(ExitCode::SUCCESS);
    }
    println!("head {} at {address}", s.head_id);
    println!("nodes:");
    for n in &s.nodes {
        let t = n.total.clone().unwrap_or_default();
        let f = n.available.clone().unwrap_or_default();
        let mut custom: Vec<String> = t.custom.iter().map(|(k, v)| format!("{k}={v}")).collect();
        custom.sort();
        let o = n.objects.unwrap_or_default();
        println!(
            "  {} {:<8} {:<21} cpus {}/{} free, {} jobs running, {} tasks queued, {} objects ({} bytes in memory, {} pulled){}",
            n.node_id,
            n.state,
            n.address,
            f.cpus,
            t.cpus,
            n.running_jobs,
            n.queued,
            o.objects,
            o.bytes_in_memory,
            o.fetches,
            if custom.is_empty() {
                String::new()
            } else {
                format!(", resources {}", custom.join(","))
            }
        );
        for w in &n.waiting {
            println!("      waiting: {w}");
        }
    }
    println!("jobs:");
    for j in &s.jobs {
        println!(
            "  {} {:<10} {:<9} on {}{}",
            j.job_id,
            j.name,
            j.state,
            j.node_id,
            if j.detail.is_empty() {
                String::new()
            } else {
                format!(": {}", j.detail)
            }
        );
    }
    if !s.groups.is_empty() {
        println!("placement groups:");
    }
    for g in &s.groups {
        let Some(info) = wrun_proto::from_group(g) else {
            continue;
        };
        let bundles: Vec<String> = info
            .bundles
            .iter()
            .enumerate()
            .map(|(i, (node, r))| format!("{i}: {r} on {node}"))
            .collect();
        println!(
            "  {} {:<13} {}",
            info.id,
            info.strategy.name(),
            bundles.join("; ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn resources_json(r: &Option<wrun_proto::pb::Resources>) -> serde_json::Value {
    let r = r.clone().unwrap_or_default();
    let custom: serde_json::Map<String, serde_json::Value> = r
        .custom
        .into_iter()
        .map(|(k, v)| (k, serde_json::json!(v)))
        .collect();
    serde_json::json!({ "cpus": r.cpus, "memory": r.memory, "custom": custom })
}

/// `wrun status --json`: the head's view as one object. A node's fields are
/// as of its last report; `reports` counts those reports, so a reader can
/// wait for a report newer than something it did.
fn status_json(s: &wrun_proto::pb::StatusReply, address: &str) -> serde_json::Value {
    let nodes: Vec<serde_json::Value> = s
        .nodes
        .iter()
        .map(|n| {
            let o = n.objects.unwrap_or_default();
            serde_json::json!({
                "id": n.node_id,
                "address": n.address,
                "state": n.state,
                "total": resources_json(&n.total),
                "available": resources_json(&n.available),
                "running_jobs": n.running_jobs,
                "queued": n.queued,
                "waiting": n.waiting,
                "objects": o.objects,
                "bytes_in_memory": o.bytes_in_memory,
                "fetches": o.fetches,
                "peers": n.peers,
                "reports": n.reports,
            })
        })
        .collect();
    let jobs: Vec<serde_json::Value> = s
        .jobs
        .iter()
        .map(|j| {
            serde_json::json!({
                "id": j.job_id,
                "name": j.name,
                "state": j.state,
                "node": j.node_id,
                "detail": j.detail,
            })
        })
        .collect();
    let groups: Vec<serde_json::Value> = s
        .groups
        .iter()
        .filter_map(wrun_proto::from_group)
        .map(|g| {
            let bundles: Vec<serde_json::Value> = g
                .bundles
                .iter()
                .map(|(node, r)| serde_json::json!({ "node": node.to_string(), "resources": r.to_string() }))
                .collect();
            serde_json::json!({ "id": g.id.to_string(), "strategy": g.strategy.name(), "bundles": bundles })
        })
        .collect();
    serde_json::json!({
        "head": s.head_id,
        "address": address,
        "nodes": nodes,
        "jobs": jobs,
        "placement_groups": groups,
    })
}

/// `wrun submit --address`: the job runs on the cluster; logs stream here.
pub fn submit(
    address: String,
    files: &ClusterFiles,
    driver: &Path,
    others: &[(String, PathBuf)],
    args: Vec<String>,
    env: Vec<u8>,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new()?;
    let outcome = rt.block_on(cluster::client::submit(
        &address,
        &files.token_file(),
        driver,
        others,
        args,
        env,
        |l| {
            if !quiet {
                eprintln!("[{}] {}", l.task, l.message);
            }
        },
    ))?;
    match outcome {
        cluster::client::Outcome::Value(v) => {
            println!("{}", crate::render_result(&v));
            Ok(ExitCode::SUCCESS)
        }
        cluster::client::Outcome::Failed { text, refused } => {
            eprintln!("error: {text}");
            Ok(ExitCode::from(if refused { 3 } else { 1 }))
        }
    }
}

pub fn serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = RuntimeConfig::default();
    if let Some(c) = a.cpus {
        cfg.cpus = c;
    }
    cfg.custom = a.resources;
    if let Some(m) = a.object_memory {
        cfg.object_memory_cap = m as usize;
    }
    if let Some(m) = a.guest_memory {
        cfg.job_limits.memory_per_instance = m as usize;
        // Pool slots must be at least as large as the limit.
        cfg.engine.max_memory_bytes = cfg.engine.max_memory_bytes.max(m as usize);
    }
    if let Some(m) = a.max_object {
        cfg.job_limits.max_object_bytes = m as usize;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let served = rt.block_on(async move {
        match a.role.as_str() {
            "head" => cluster::daemons::serve_head(cfg, a.state_dir, a.host, a.port).await,
            "node" => {
                let address = a
                    .address
                    .ok_or_else(|| anyhow::anyhow!("a node needs --address"))?;
                let token = a
                    .token_file
                    .unwrap_or_else(|| cluster::auth::Token::path_in(&a.state_dir));
                cluster::daemons::serve_node(cfg, a.state_dir, a.host, address, token).await
            }
            other => anyhow::bail!("unknown daemon role `{other}`"),
        }
    });
    match served {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // Refused by the head: like a refused component, not a crash.
        Err(e) if e.is::<cluster::JoinRefused>() => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(3))
        }
        Err(e) => Err(e),
    }
}
