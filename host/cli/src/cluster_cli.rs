//! `wrun start`, `wrun stop` and `wrun submit --address`: the cluster from
//! the command line (`wrun status` is in cluster_status.rs).

use std::path::PathBuf;
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
    /// Run in the foreground until stopped (SIGTERM or ^C), logging to
    /// stderr, instead of in the background: for containers and service
    /// managers.
    #[arg(long)]
    block: bool,
    /// Serve the gRPC health service (grpc.health.v1) on this port of
    /// --host, in plain text and without the token, for probes: `""` is
    /// ready while the head knows this node, `liveness` while it runs.
    #[arg(long, env = "WRUN_HEALTH_PORT")]
    health_port: Option<u16>,
    /// Serve Prometheus metrics on /metrics of this port of --host, over
    /// the cluster's TLS (unless --tls off) and behind the cluster token
    /// (Authorization: Bearer TOKEN) unless --metrics-open.
    #[arg(long, env = "WRUN_METRICS_PORT")]
    metrics_port: Option<u16>,
    /// Serve /metrics to anyone who can reach the port, without the token.
    #[arg(long, requires = "metrics_port")]
    metrics_open: bool,
    /// Serve the dashboard (a web UI behind the cluster token, over the
    /// cluster's TLS) on this port of --host; 0: any free port (written to
    /// STATE_DIR/dashboard.addr). Ray's is 8265.
    #[arg(long, env = "WRUN_DASHBOARD_PORT", requires = "head")]
    dashboard_port: Option<u16>,
    /// Ended tasks and actor calls this node remembers for `wrun list
    /// tasks`, `summary` and `timeline` (the oldest go first).
    #[arg(long, env = "WRUN_TASK_HISTORY", default_value_t = wrun_runtime::DEFAULT_TASK_HISTORY)]
    task_history: usize,
    /// Ended jobs the head keeps (records, lines and results), the newest
    /// first; older ones are forgotten as new ones end.
    #[arg(long, env = "WRUN_KEEP_JOBS", default_value_t = cluster::KEEP_JOBS, requires = "head")]
    keep_jobs: usize,
    #[command(flatten)]
    files: ClusterFiles,
}

/// Whether connections between wrun processes use TLS.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Tls {
    /// TLS pinned to the cluster's CA (the default).
    On,
    /// Plain text: only when every address involved is a loopback one.
    Off,
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
    /// The cluster's CA certificate that servers must present a
    /// certificate of (default: cluster-ca.pem beside the token file, where
    /// the head writes it; copy it with the token).
    #[arg(long, env = "WRUN_CA_FILE")]
    ca_file: Option<PathBuf>,
    /// TLS between wrun processes; `off` is refused unless every address
    /// involved is a loopback one.
    #[arg(long, env = "WRUN_TLS", value_enum, default_value_t = Tls::On)]
    tls: Tls,
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
    pub fn ca_file(&self) -> PathBuf {
        self.ca_file
            .clone()
            .unwrap_or_else(|| cluster::tls::ca_file_beside(&self.token_file()))
    }
    /// The token and transport for calls to `address`.
    pub fn credentials(&self, address: &str) -> anyhow::Result<cluster::auth::Credentials> {
        // A missing or unreadable token or CA is the user's to fix.
        fn user(e: impl std::fmt::Display) -> anyhow::Error {
            crate::user_error(e.to_string())
        }
        let transport = match self.tls {
            Tls::On => cluster::tls::Transport::tls_from(&self.ca_file()).map_err(user)?,
            Tls::Off => cluster::tls::Transport::plain(&[address]).map_err(user)?,
        };
        Ok(cluster::auth::Credentials {
            token: cluster::auth::Token::load(&self.token_file()).map_err(user)?,
            transport,
        })
    }
}

#[derive(Args)]
pub struct StopArgs {
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
    /// The cluster's CA: a node pins it, the head signs with it (its key
    /// beside it); absent: plain text (loopback only).
    #[arg(long)]
    ca_file: Option<PathBuf>,
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
    #[arg(long)]
    health_port: Option<u16>,
    #[arg(long)]
    metrics_port: Option<u16>,
    #[arg(long)]
    metrics_open: bool,
    #[arg(long, default_value_t = cluster::KEEP_JOBS)]
    keep_jobs: usize,
    #[arg(long, default_value_t = wrun_runtime::DEFAULT_TASK_HISTORY)]
    task_history: usize,
    #[arg(long)]
    dashboard_port: Option<u16>,
}

/// The dashboard's address, once the head has written it (it starts just
/// after the head's gRPC server).
fn dashboard_address(state: &std::path::Path) -> Option<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Ok(a) = std::fs::read_to_string(state.join("dashboard.addr")) {
            return Some(a.trim().to_string());
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
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
    if let Some(p) = a.health_port {
        args.extend(["--health-port".into(), p.to_string()]);
    }
    if let Some(p) = a.metrics_port {
        args.extend(["--metrics-port".into(), p.to_string()]);
    }
    if a.metrics_open {
        args.push("--metrics-open".into());
    }
    args.extend(["--task-history".into(), a.task_history.to_string()]);
    let token_file = a.files.token_file();
    args.extend(["--token-file".into(), token_file.display().to_string()]);
    if a.head {
        match a.files.tls {
            Tls::On => args.extend(["--ca-file".into(), a.files.ca_file().display().to_string()]),
            Tls::Off => {
                cluster::tls::Transport::plain(&[&a.host])?;
            }
        }
        args.extend(["--port".into(), a.port.to_string()]);
        args.extend(["--keep-jobs".into(), a.keep_jobs.to_string()]);
        if let Some(p) = a.dashboard_port {
            args.extend(["--dashboard-port".into(), p.to_string()]);
        }
        if a.block {
            return Err(daemon::exec(&state, "head", &args));
        }
        let (pid, address) = daemon::spawn(&state, "head", &args)?;
        println!("wrun head started (pid {pid}) at {address}");
        println!(
            "cluster token: {} (readable by its owner only; copy it to join from other machines)",
            token_file.display()
        );
        if a.files.tls == Tls::On {
            println!(
                "cluster CA:    {} (copy it beside the token; nodes and clients pin it)",
                a.files.ca_file().display()
            );
        }
        if a.dashboard_port.is_some() {
            let scheme = if a.files.tls == Tls::On {
                "https"
            } else {
                "http"
            };
            match dashboard_address(&state) {
                Some(d) => {
                    println!("dashboard:     {scheme}://{d} (log in with the cluster token)")
                }
                None => println!(
                    "dashboard:     not serving yet; see the head's log in {}",
                    state.join("logs").display()
                ),
            }
        }
        println!("join a node:   wrun start --address {address}");
        println!("submit a job:  wrun submit --address {address} JOB.wasm");
        println!("stop:          wrun stop");
    } else {
        let address = a.address.expect("clap requires --address without --head");
        args.extend(["--address".into(), address.clone()]);
        match a.files.tls {
            Tls::On => {
                let ca = a.files.ca_file();
                cluster::tls::Transport::tls_from(&ca)?;
                args.extend(["--ca-file".into(), ca.display().to_string()]);
            }
            Tls::Off => {
                cluster::tls::Transport::plain(&[&a.host, &address])?;
            }
        }
        if a.block {
            return Err(daemon::exec(&state, "node", &args));
        }
        let (pid, node_addr) = daemon::spawn(&state, "node", &args)?;
        println!("wrun node started (pid {pid}) at {node_addr}, joined the head at {address}");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct CredentialsArgs {
    /// The directory to write cluster.token, cluster-ca.pem and
    /// cluster-ca.key in (it must not hold them yet).
    #[arg(long)]
    out: PathBuf,
}

/// `wrun credentials`: a new cluster's token and CA, made ahead of its
/// head, for deployments that hand them to every process (a Kubernetes
/// Secret).
pub fn credentials(a: CredentialsArgs) -> anyhow::Result<ExitCode> {
    let token = cluster::auth::Token::path_in(&a.out);
    let ca = cluster::tls::ca_file_beside(&token);
    for p in [&token, &ca, &cluster::tls::ca_key_beside(&ca)] {
        anyhow::ensure!(
            !p.exists(),
            "{} already exists: this directory holds a cluster's credentials; pick another --out",
            p.display()
        );
    }
    cluster::auth::Token::load_or_create(&token)?;
    cluster::tls::Authority::load_or_create(&ca)?;
    println!("wrote {}, {} and its key", token.display(), ca.display());
    println!(
        "for Kubernetes: kubectl -n wrun create secret generic wrun-cluster --from-file={}",
        a.out.display()
    );
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

pub fn serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = RuntimeConfig::default();
    if let Some(c) = a.cpus {
        cfg.cpus = c;
    }
    cfg.custom = a.resources;
    cfg.task_history = a.task_history;
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
    let token = a
        .token_file
        .clone()
        .unwrap_or_else(|| cluster::auth::Token::path_in(&a.state_dir));
    let ports = cluster::daemons::Ports {
        health: a.health_port,
        metrics: a.metrics_port.map(|p| (p, a.metrics_open)),
    };
    let served = rt.block_on(async move {
        match a.role.as_str() {
            "head" => {
                let (host, ca) = (a.host, a.ca_file);
                let head = cluster::daemons::HeadOptions {
                    port: a.port,
                    keep_jobs: a.keep_jobs,
                    dashboard: a.dashboard_port,
                };
                cluster::daemons::serve_head(cfg, a.state_dir, host, head, token, ca, ports).await
            }
            "node" => {
                let address = a
                    .address
                    .ok_or_else(|| anyhow::anyhow!("a node needs --address"))?;
                let ca = a.ca_file;
                cluster::daemons::serve_node(cfg, a.state_dir, a.host, address, token, ca, ports)
                    .await
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
