//! The daemons' main loops: the head (with a node of its own, as Ray's head
//! runs one) and a node joining a head. Both stop cleanly on SIGTERM or ^C;
//! a node the head refuses stops with [`JoinRefused`]. Given a health port,
//! each also serves the gRPC health service there ([`crate::health`]);
//! given a metrics port, `/metrics` ([`crate::web`]).

use std::path::PathBuf;
use std::sync::Arc;

use wrun_runtime::RuntimeConfig;

use crate::auth::{Credentials, Token};
use crate::daemon::{write_atomic, PidGuard};
use crate::health::{serve_health, HealthHandle};
use crate::metrics::{HeadFigures, NodeFigures};
use crate::node::JoinRefused;
use crate::serve::{start_head_keeping, start_node, HeadHandle, NodeHandle};
use crate::tls::{Authority, Transport};
use crate::web::{serve_web, Access, WebHandle};

/// The ports a daemon serves besides its gRPC one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ports {
    /// The gRPC health service (plain text, no token), for probes.
    pub health: Option<u16>,
    /// `/metrics`, and whether it is open to callers without the token.
    pub metrics: Option<(u16, bool)>,
}

/// `/metrics` of a node (and of the head beside it), when a port is given.
async fn metrics_on(
    host: &str,
    ports: Ports,
    token: &Token,
    node: &NodeHandle,
    head: Option<&HeadHandle>,
) -> anyhow::Result<Option<WebHandle>> {
    let Some((port, open)) = ports.metrics else {
        return Ok(None);
    };
    let mut registry = prometheus_client::registry::Registry::default();
    {
        let of_node = registry.sub_registry_with_label(("server".into(), "node".into()));
        node.rpc.register(of_node);
        of_node.register_collector(Box::new(NodeFigures::new(
            node.runtime.clone(),
            node.drivers.clone(),
        )));
    }
    if let Some(head) = head {
        let of_head = registry.sub_registry_with_label(("server".into(), "head".into()));
        head.rpc.register(of_head);
        of_head.register_collector(Box::new(HeadFigures(head.counts.clone())));
    }
    let access = if open {
        Access::Open
    } else {
        Access::Token(token.clone())
    };
    let key = head.map_or(node.key.as_ref(), |h| h.key.as_ref());
    Ok(Some(serve_web(host, port, key, access, registry).await?))
}

/// Resolves when the process is asked to stop.
async fn stop_requested() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| anyhow::anyhow!("installing a SIGTERM handler: {e}"))?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("stopping");
    Ok(())
}

/// The health service on `host:port`, when a port is given.
async fn health_on(host: &str, port: Option<u16>) -> anyhow::Result<Option<HealthHandle>> {
    match port {
        Some(port) => Ok(Some(serve_health(host, port).await?)),
        None => Ok(None),
    }
}

/// Runs a node until asked to stop (Ok) or refused by the head (Err
/// [`JoinRefused`]); its readiness is whether the head knows it.
async fn run_node(
    cfg: RuntimeConfig,
    state_dir: PathBuf,
    host: &str,
    head_address: &str,
    creds: Credentials,
    health: Option<HealthHandle>,
    ports: Ports,
) -> anyhow::Result<()> {
    let token = creds.token.clone();
    let mut node = start_node(cfg, state_dir.clone(), host, head_address, creds).await?;
    let _guard = PidGuard::register(&state_dir, "node", &node.address)?;
    let web = metrics_on(host, ports, &token, &node, None).await?;
    if let Some(h) = &health {
        h.follow(node.in_cluster.clone());
    }
    let refused: Option<JoinRefused> = tokio::select! {
        stop = stop_requested() => { stop?; None }
        refused = node.refused() => Some(refused),
    };
    if let Some(h) = health {
        h.stop().await?;
    }
    if let Some(w) = web {
        w.stop().await;
    }
    node.stop().await?;
    match refused {
        Some(r) => Err(r.into()),
        None => Ok(()),
    }
}

/// `wrun __serve node`: a node daemon, reaching the others over TLS pinned
/// to the CA in `ca_file` (None: plain text, loopback only), serving health
/// and metrics on their `ports` when given.
pub async fn serve_node(
    cfg: RuntimeConfig,
    state_dir: PathBuf,
    host: String,
    head_address: String,
    token_file: PathBuf,
    ca_file: Option<PathBuf>,
    ports: Ports,
) -> anyhow::Result<()> {
    let transport = match ca_file {
        Some(ca) => Transport::tls_from(&ca)?,
        None => Transport::plain(&[&host, &head_address])?,
    };
    let creds = Credentials {
        token: Token::load(&token_file)?,
        transport,
    };
    let health = health_on(&host, ports.health).await?;
    run_node(cfg, state_dir, &host, &head_address, creds, health, ports).await
}

/// How a head serves: its port (0: any free one) and how many ended jobs
/// it keeps.
#[derive(Clone, Copy, Debug)]
pub struct HeadOptions {
    /// The port to listen on (0: any free one).
    pub port: u16,
    /// Ended jobs kept (records, lines, results), the newest.
    pub keep_jobs: usize,
    /// Serve the dashboard on this port (0: any free one; its address is
    /// written to `STATE_DIR/dashboard.addr`).
    pub dashboard: Option<u16>,
}

/// `wrun __serve head`: the head, and a node of its own. The token is read
/// from `token_file`, or made there on the first start; so is the
/// cluster's CA at `ca_file` (its key beside it). No `ca_file`: plain
/// text, which only loopback allows. Health on `health_port` when given:
/// ready while the head serves and its node is in the cluster.
pub async fn serve_head(
    cfg: RuntimeConfig,
    state_dir: PathBuf,
    host: String,
    head_options: HeadOptions,
    token_file: PathBuf,
    ca_file: Option<PathBuf>,
    ports: Ports,
) -> anyhow::Result<()> {
    let token = Token::load_or_create(&token_file)?;
    let authority = if let Some(ca) = ca_file {
        Some(Arc::new(Authority::load_or_create(&ca)?))
    } else {
        Transport::plain(&[&host])?;
        None
    };
    let transport = authority
        .as_ref()
        .map_or(Transport::Plain, |a| a.transport());
    let health = health_on(&host, ports.health).await?;
    let head = start_head_keeping(
        state_dir.clone(),
        &host,
        head_options.port,
        token.clone(),
        authority,
        head_options.keep_jobs,
    )
    .await?;
    let guard = PidGuard::register(&state_dir, "head", &head.address)?;
    write_atomic(&state_dir.join("head.addr"), &head.address)?;
    let creds = Credentials {
        token: token.clone(),
        transport,
    };
    let dashboard = match head_options.dashboard {
        Some(port) => {
            let web = crate::dashboard::serve_dashboard(
                &host,
                port,
                head.key.as_ref(),
                head.address.clone(),
                creds.clone(),
            )
            .await?;
            write_atomic(&state_dir.join("dashboard.addr"), &web.address)?;
            Some(web)
        }
        None => None,
    };
    let node = start_node(cfg, state_dir.clone(), &host, &head.address, creds).await;
    let outcome = match node {
        Ok(node) => {
            if let Some(h) = &health {
                h.follow(node.in_cluster.clone());
            }
            let web = metrics_on(&host, ports, &token, &node, Some(&head)).await?;
            let stopped = stop_requested().await;
            if let Some(h) = health {
                h.stop().await?;
            }
            if let Some(w) = web {
                w.stop().await;
            }
            node.stop().await?;
            stopped
        }
        Err(e) => Err(e.context("the head's node failed to start")),
    };
    if let Some(d) = dashboard {
        d.stop().await;
    }
    head.stop().await?;
    let _ = std::fs::remove_file(state_dir.join("head.addr"));
    let _ = std::fs::remove_file(state_dir.join("dashboard.addr"));
    drop(guard);
    outcome
}
