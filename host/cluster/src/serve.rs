//! Starting the cluster's processes' services: a head ([`start_head`]) and
//! a node joining one ([`start_node`]), each serving on its own listener
//! until stopped. The daemons (`wrun __serve head|node`) and the in-process
//! test cluster ([`crate::harness`]) are both built from these.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::StreamExt;
use tonic::transport::{Channel, Server};
use wrun_core::IdGen;
use wrun_proto::pb::head_client::HeadClient;
use wrun_proto::pb::{head_server::HeadServer, node_server::NodeServer};
use wrun_runtime::{ClusterLinks, NodeSetup, Runtime, RuntimeConfig};

use crate::auth::{Credentials, Token};
use crate::connections::{Connections, MAX_MESSAGE, MAX_NODE_REPLY, WINDOW};
use crate::directory::HeadDirectory;
use crate::guard::{GuardLayer, MAX_JOB_BYTES};
use crate::head::HeadService;
use crate::metrics::{HeadCounts, RpcMetrics};
use crate::node::{join_and_report, JoinRefused, NodeService};
use crate::objects::{GrpcTransport, Wire};
use crate::remote::ClusterRemote;
use crate::tls::{self, Authority, Transport};
use crate::view::PeerView;

/// A server identity for node `node`: a fresh key, certified by the head.
async fn certified(
    mut head: HeadClient<Channel>,
    token: &Token,
    node: wrun_core::NodeId,
) -> anyhow::Result<tls::ServerKey> {
    let key = tls::new_key()?;
    let req = wrun_proto::pb::CertifyRequest {
        protocol: wrun_proto::PROTOCOL_VERSION,
        node_id: node.to_string(),
        public_key: key.public_key_raw().to_vec(),
    };
    let cert = head
        .certify(token.attach(tonic::Request::new(req))?)
        .await
        .map_err(|s| anyhow::anyhow!("the head would not certify this node: {}", s.message()))?
        .into_inner()
        .certificate;
    Ok(tls::ServerKey::new(&key, &cert))
}

/// What to check when the head cannot be talked to this way.
pub fn transport_hint(transport: &Transport) -> &'static str {
    if transport.is_tls() {
        " (with TLS, pinning the cluster's CA: is that the head's cluster-ca.pem, and does the head run with TLS?)"
    } else {
        " (in plain text: does the head run with --tls off?)"
    }
}

/// A client of the head at `address` (calls add the token).
pub async fn head_client(
    address: &str,
    transport: &Transport,
) -> anyhow::Result<HeadClient<Channel>> {
    let channel = transport
        .endpoint(address)
        .map_err(|e| anyhow::anyhow!(e))?
        .connect()
        .await
        .map_err(|e| {
            use std::error::Error;
            let mut why = e.to_string();
            let mut source = e.source();
            while let Some(s) = source {
                why = format!("{why}: {s}");
                source = s.source();
            }
            let hint = transport_hint(transport);
            anyhow::anyhow!("cannot reach the head at {address}: {why}{hint}")
        })?;
    Ok(HeadClient::new(channel)
        .max_decoding_message_size(1 << 30)
        .max_encoding_message_size(1 << 30))
}

/// A running head service.
pub struct HeadHandle {
    /// Where it listens.
    pub address: String,
    /// Its id.
    pub id: String,
    /// The RPCs it served.
    pub rpc: Arc<RpcMetrics>,
    /// Its jobs and nodes, for metrics.
    pub counts: Arc<dyn HeadCounts>,
    /// The key and certificate it serves with (None: plain text).
    pub key: Option<tls::ServerKey>,
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl HeadHandle {
    /// Stops serving and waits until it has.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.task.await??;
        Ok(())
    }
}

/// Starts the head's service on `host:port` (0: any free port), with the
/// control state and token in `state_dir`; with TLS when given the
/// cluster's CA (None: plain text, which the caller allowed).
pub async fn start_head(
    state_dir: PathBuf,
    host: &str,
    port: u16,
    token: Token,
    authority: Option<Arc<Authority>>,
) -> anyhow::Result<HeadHandle> {
    start_head_keeping(
        state_dir,
        host,
        port,
        token,
        authority,
        crate::head::KEEP_JOBS,
    )
    .await
}

/// [`start_head`], keeping the newest `keep_jobs` ended jobs.
pub async fn start_head_keeping(
    state_dir: PathBuf,
    host: &str,
    port: u16,
    token: Token,
    authority: Option<Arc<Authority>>,
    keep_jobs: usize,
) -> anyhow::Result<HeadHandle> {
    let identity = authority.as_ref().map(|a| a.own_identity()).transpose()?;
    let head =
        Arc::new(HeadService::new(state_dir, token.clone(), authority)?.keep_jobs(keep_jobs));
    let id = head.id().to_string();
    let addr: SocketAddr = format!("{host}:{port}").parse()?;
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!("cannot listen on {addr}: {e} (is another head running? use --port)")
    })?;
    let address = listener.local_addr()?.to_string();
    let (stop, mut stopped) = watch::channel(false);
    let mut builder = Server::builder();
    if let Some(key) = &identity {
        builder = builder.tls_config(tls::server_config(key))?;
    }
    let rpc = Arc::new(RpcMetrics::default());
    let counts: Arc<dyn HeadCounts> = head.clone();
    let server = builder
        .layer(GuardLayer::recording(rpc.clone()))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            // Each RPC's own limit is the guard's; this is the largest.
            HeadServer::from_arc(head)
                .max_decoding_message_size(MAX_JOB_BYTES)
                .max_encoding_message_size(MAX_MESSAGE),
            token.check(),
        ))
        .serve_with_incoming_shutdown(no_delay(listener), async move {
            let _ = stopped.changed().await;
        });
    tracing::info!(%address, head = %id, "head serving");
    Ok(HeadHandle {
        address,
        id,
        rpc,
        counts,
        key: identity,
        stop,
        task: tokio::spawn(server),
    })
}

/// A running node.
pub struct NodeHandle {
    /// Its runtime.
    pub runtime: Runtime,
    /// Where it listens.
    pub address: String,
    /// The other nodes as it sees them.
    pub view: Arc<PeerView>,
    /// Notify it to report to the head now (tests: no waiting for a period).
    pub beat: Arc<Notify>,
    /// Whether the head knows this node now (its readiness).
    pub in_cluster: watch::Receiver<bool>,
    /// The RPCs it served.
    pub rpc: Arc<RpcMetrics>,
    /// Drivers running on it now.
    pub drivers: Arc<std::sync::atomic::AtomicU32>,
    /// The key and certificate it serves with (None: plain text).
    pub key: Option<tls::ServerKey>,
    stop: watch::Sender<bool>,
    server: JoinHandle<Result<(), tonic::transport::Error>>,
    reporter: JoinHandle<JoinRefused>,
}

impl NodeHandle {
    /// Resolves when the head refuses this node (the node must stop).
    pub async fn refused(&mut self) -> JoinRefused {
        match (&mut self.reporter).await {
            Ok(r) => r,
            Err(e) => JoinRefused(format!("the heartbeat loop failed: {e}")),
        }
    }

    /// Stops serving and waits until it has.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.reporter.abort();
        let _ = self.stop.send(true);
        self.server.await??;
        Ok(())
    }
}

/// Starts a node on `host:0` that joins the head at `head_address`; with
/// TLS, its server presents a certificate the head signed for it.
pub async fn start_node(
    cfg: RuntimeConfig,
    state_dir: PathBuf,
    host: &str,
    head_address: &str,
    creds: Credentials,
) -> anyhow::Result<NodeHandle> {
    let listener = TcpListener::bind((host, 0)).await?;
    let address = listener.local_addr()?.to_string();
    let head = head_client(head_address, &creds.transport).await?;
    let ids = Arc::new(IdGen::new());
    let identity = match creds.transport {
        Transport::Tls(_) => Some(certified(head.clone(), &creds.token, ids.node_id()).await?),
        Transport::Plain => None,
    };
    let token = creds.token.clone();
    let conns = Connections::new(ids.node_id(), address.clone(), creds);
    let objects = cfg.store(ids.clone(), GrpcTransport::new(conns.clone()));
    let wire = Wire::new(objects.clone(), conns.clone());
    let view = PeerView::new(conns.clone());
    let remote = ClusterRemote::new(conns.clone(), wire.clone(), view.clone());
    let links = ClusterLinks {
        peers: view.clone(),
        remote: remote.clone(),
        directory: HeadDirectory::new(head.clone(), conns.clone()),
    };
    let node_dir = state_dir.join(format!("node-{}", ids.node_id()));
    let rt = Runtime::with_node(
        cfg,
        NodeSetup {
            ids,
            objects,
            links,
        },
    )?;
    let service = NodeService::new(rt.clone(), head.clone(), node_dir, remote, wire);
    let beat = Arc::new(Notify::new());
    let (known, in_cluster) = watch::channel(false);
    let reporter = tokio::spawn(join_and_report(
        rt.clone(),
        head,
        conns,
        service.running(),
        view.clone(),
        beat.clone(),
        known,
    ));
    let (stop, mut stopped) = watch::channel(false);
    let drivers = service.running();
    let mut builder = Server::builder();
    if let Some(key) = &identity {
        builder = builder.tls_config(tls::server_config(key))?;
    }
    let rpc = Arc::new(RpcMetrics::default());
    let server = builder
        .initial_stream_window_size(WINDOW)
        .initial_connection_window_size(2 * WINDOW)
        .layer(GuardLayer::recording(rpc.clone()))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            NodeServer::new(service)
                .max_decoding_message_size(MAX_JOB_BYTES)
                .max_encoding_message_size(MAX_NODE_REPLY),
            token.check(),
        ))
        .serve_with_incoming_shutdown(no_delay(listener), async move {
            let _ = stopped.changed().await;
        });
    tracing::info!(%address, head = %head_address, "node serving");
    Ok(NodeHandle {
        runtime: rt,
        address,
        view,
        beat,
        in_cluster,
        rpc,
        drivers,
        key: identity,
        stop,
        server: tokio::spawn(server),
        reporter,
    })
}

/// The connections `listener` accepts, each with `TCP_NODELAY` (tonic sets
/// it only on listeners it binds itself): without it a small reply waits
/// for the peer's delayed ACK, 40 ms a call.
fn no_delay(
    listener: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    TcpListenerStream::new(listener).map(|accepted| {
        if let Ok(stream) = &accepted {
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY not set");
            }
        }
        accepted
    })
}
