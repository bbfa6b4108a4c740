//! The standard gRPC health service (`grpc.health.v1.Health`, served by
//! tonic-health) on a port of its own, for probes. Kubernetes' gRPC probes
//! and load balancers speak neither the cluster's TLS (pinned to its own
//! CA) nor its token, so this port serves nothing but health, in plain
//! text, behind the same request-size guard as every other server.
//!
//! Two statuses: [`READINESS`] (the empty name, the whole server) is
//! `SERVING` while the head knows this daemon's node, and [`LIVENESS`] is
//! `SERVING` while the process serves at all, so a liveness probe does not
//! restart every node while their head is away. Both turn `NOT_SERVING` as
//! the daemon stops.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;
use tonic_health::server::HealthReporter;
use tonic_health::ServingStatus;

use crate::guard::GuardLayer;

/// The status readiness probes ask for: the server as a whole.
pub const READINESS: &str = "";

/// The status liveness probes ask for.
pub const LIVENESS: &str = "liveness";

/// A running health service.
pub struct HealthHandle {
    /// Where it listens.
    pub address: String,
    reporter: HealthReporter,
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
}

/// Serves health on `host:port` (0: any free port): live, not yet ready.
pub async fn serve_health(host: &str, port: u16) -> anyhow::Result<HealthHandle> {
    let (reporter, service) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(READINESS, ServingStatus::NotServing)
        .await;
    reporter
        .set_service_status(LIVENESS, ServingStatus::Serving)
        .await;
    let addr: SocketAddr = format!("{host}:{port}").parse().map_err(|e| {
        anyhow::anyhow!(
            "the health service's address {host}:{port} is not an IP address and port: {e}"
        )
    })?;
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!("cannot serve health on {addr}: {e} (choose another --health-port)")
    })?;
    let address = listener.local_addr()?.to_string();
    let (stop, mut stopped) = watch::channel(false);
    let server = Server::builder()
        .layer(GuardLayer::default())
        .add_service(service)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async move {
            let _ = stopped.changed().await;
        });
    tracing::info!(%address, "health serving");
    Ok(HealthHandle {
        address,
        reporter,
        stop,
        task: tokio::spawn(server),
    })
}

impl HealthHandle {
    /// Reports readiness as `in_cluster` says, until it closes (the node
    /// stopped).
    pub fn follow(&self, mut in_cluster: watch::Receiver<bool>) {
        let reporter = self.reporter.clone();
        tokio::spawn(async move {
            loop {
                let ready = *in_cluster.borrow_and_update();
                let status = if ready {
                    ServingStatus::Serving
                } else {
                    ServingStatus::NotServing
                };
                reporter.set_service_status(READINESS, status).await;
                if in_cluster.changed().await.is_err() {
                    break;
                }
            }
        });
    }

    /// Reports not serving (either status), then stops serving.
    pub async fn stop(self) -> anyhow::Result<()> {
        for name in [READINESS, LIVENESS] {
            self.reporter
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
        let _ = self.stop.send(true);
        self.task.await??;
        Ok(())
    }
}
