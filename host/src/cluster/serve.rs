//! The daemons' main loops: the head (with a node of its own, as Ray's head
//! runs one) and a node joining a head. Both stop cleanly on SIGTERM or ^C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Channel, Server};

use super::auth::Token;
use super::daemon::{write_atomic, PidGuard};
use super::head::HeadService;
use super::node::{join_and_report, NodeService};
use super::objects::ClusterObjects;
use super::peers::{Peers, MAX_MESSAGE, WINDOW};
use super::proto::{head_client::HeadClient, head_server::HeadServer, node_server::NodeServer};
use super::remote::ClusterTasks;
use crate::runtime::{Runtime, RuntimeConfig};

/// Resolves when the process is asked to stop.
async fn stop_requested() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("stopping");
}

/// A client of the head at `address`, presenting `token` on every call.
pub async fn head_client(address: &str) -> anyhow::Result<HeadClient<Channel>> {
    let channel = Channel::from_shared(format!("http://{address}"))?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach the head at {address}: {e}"))?;
    Ok(HeadClient::new(channel).max_decoding_message_size(1 << 30))
}

/// Serves `Node` on `host:0`, joins the head at `head_address`; returns
/// when asked to stop.
async fn run_node(
    cfg: RuntimeConfig,
    state_dir: PathBuf,
    host: String,
    head_address: String,
    token: Token,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let rt = Runtime::new(cfg)?;
    let listener = TcpListener::bind((host.as_str(), 0)).await?;
    let address = listener.local_addr()?.to_string();
    let head = head_client(&head_address).await?;
    let node_id = format!("{:016x}", rt.node_id());
    let node_dir = state_dir.join(format!("node-{node_id}"));
    let peers = Peers::new(token.clone());
    let objects = ClusterObjects::new(rt.object_store(), address.clone(), peers.clone());
    rt.set_remote_objects(Arc::new(objects.clone()));
    let cluster = ClusterTasks::new(node_id, head.clone(), peers, objects.clone());
    rt.set_remote_tasks(cluster.clone());
    let service = NodeService::new(
        rt.clone(),
        head.clone(),
        token.clone(),
        node_dir,
        cluster.clone(),
        objects,
    );
    let running = service.running();
    let reporter = tokio::spawn(join_and_report(
        rt,
        head,
        token.clone(),
        address.clone(),
        running,
        cluster,
    ));
    let guard = PidGuard::register(&state_dir, "node", &address)?;
    tracing::info!(%address, head = %head_address, "node serving");
    Server::builder()
        .initial_stream_window_size(WINDOW)
        .initial_connection_window_size(2 * WINDOW)
        .add_service(tonic::service::interceptor::InterceptedService::new(
            NodeServer::new(service)
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
            token.check(),
        ))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), stop)
        .await?;
    reporter.abort();
    drop(guard);
    Ok(())
}

/// `wrun __serve node`: a node daemon.
pub async fn serve_node(
    cfg: RuntimeConfig,
    state_dir: PathBuf,
    host: String,
    head_address: String,
    token_file: PathBuf,
) -> anyhow::Result<()> {
    let token = Token::load(&token_file)?;
    run_node(cfg, state_dir, host, head_address, token, stop_requested()).await
}

/// `wrun __serve head`: the head, and a node of its own.
pub async fn serve_head(
    cfg: RuntimeConfig,
    state_dir: PathBuf,
    host: String,
    port: u16,
) -> anyhow::Result<()> {
    let token = Token::load_or_create(&Token::path_in(&state_dir))?;
    let head = HeadService::new(state_dir.clone(), token.clone())?;
    let addr: SocketAddr = format!("{host}:{port}").parse()?;
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!("cannot listen on {addr}: {e} (is another head running? use --port)")
    })?;
    let address = listener.local_addr()?.to_string();
    tracing::info!(%address, head = %head.id(), "head serving");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let head_server = Server::builder()
        .add_service(tonic::service::interceptor::InterceptedService::new(
            HeadServer::new(head)
                .max_decoding_message_size(1 << 30)
                .max_encoding_message_size(1 << 30),
            token.check(),
        ))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.changed().await;
            }
        });
    let head_task = tokio::spawn(head_server);
    let guard = PidGuard::register(&state_dir, "head", &address)?;
    write_atomic(&state_dir.join("head.addr"), &address)?;
    let node = run_node(cfg, state_dir.clone(), host, address, token, {
        let mut rx = stop_rx;
        async move {
            let _ = rx.changed().await;
        }
    });
    let node_task = tokio::spawn(async move {
        if let Err(e) = node.await {
            tracing::error!(error = %e, "the head's node failed");
        }
    });
    stop_requested().await;
    let _ = stop_tx.send(true);
    let _ = node_task.await;
    head_task.await??;
    let _ = std::fs::remove_file(state_dir.join("head.addr"));
    drop(guard);
    Ok(())
}
