//! A daemon's web endpoints (axum on hyper, as tonic runs): `serve_router`
//! serves any router over the cluster's TLS when the cluster has it (the
//! same certificate as the daemon's gRPC server), telling handlers the
//! caller's address ([`Peer`]); `serve_web` serves `/metrics` in
//! Prometheus' format with it, behind the cluster token (`Authorization:
//! Bearer TOKEN`) unless the operator opened it. Every refused call is
//! logged with the caller's address. The dashboard (`crate::dashboard`) is
//! served the same way.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::auth::Token;
use crate::tls::ServerKey;

/// Who may read the endpoints.
#[derive(Clone)]
pub enum Access {
    /// Callers presenting the cluster token.
    Token(Token),
    /// Anyone who can reach the port (`--metrics-open`).
    Open,
}

struct Shared {
    registry: Registry,
    access: Access,
}

/// The caller's address, for the log of refusals.
#[derive(Clone, Copy)]
pub(crate) struct Peer(pub(crate) SocketAddr);

/// A running web server.
pub struct WebHandle {
    /// Where it listens.
    pub address: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl WebHandle {
    /// Stops serving.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Serves `registry` on `host:port` (0: any free port), with TLS when
/// given the daemon's `key`.
pub async fn serve_web(
    host: &str,
    port: u16,
    key: Option<&ServerKey>,
    access: Access,
    registry: Registry,
) -> anyhow::Result<WebHandle> {
    let router = Router::new()
        .route("/metrics", get(metrics))
        .with_state(Arc::new(Shared { registry, access }));
    serve_router(host, port, key, router, "metrics").await
}

/// Serves `router` on `host:port` (0: any free port), with TLS when given
/// the daemon's `key`; `what` names it in logs and errors.
pub(crate) async fn serve_router(
    host: &str,
    port: u16,
    key: Option<&ServerKey>,
    router: Router,
    what: &'static str,
) -> anyhow::Result<WebHandle> {
    let listener = TcpListener::bind((host, port))
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {host}:{port} for {what}: {e}"))?;
    let address = listener.local_addr()?.to_string();
    let tls = key
        .map(ServerKey::rustls)
        .transpose()?
        .map(TlsAcceptor::from);
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, what, "a web port could not accept a connection");
                        continue;
                    }
                },
                _ = stopped.changed() => return,
            };
            // Replies go out whole at once: with Nagle's algorithm a small
            // reply waits for the client's delayed ACK (40 ms a call).
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(%peer, error = %e, "TCP_NODELAY not set");
            }
            let service = TowerToHyperService::new(router.clone().layer(Extension(Peer(peer))));
            let tls = tls.clone();
            tokio::spawn(async move {
                let server = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let served = match tls {
                    Some(tls) => match tls.accept(stream).await {
                        Ok(stream) => server.serve_connection(TokioIo::new(stream), service).await,
                        Err(e) => {
                            tracing::warn!(%peer, error = %e, what, "refused a web connection without the cluster's TLS");
                            return;
                        }
                    },
                    None => server.serve_connection(TokioIo::new(stream), service).await,
                };
                if let Err(e) = served {
                    tracing::debug!(%peer, error = %e, what, "a web connection ended");
                }
            });
        }
    });
    tracing::info!(%address, tls = key.is_some(), what, "web serving");
    Ok(WebHandle {
        address,
        stop,
        task,
    })
}

async fn metrics(
    State(shared): State<Arc<Shared>>,
    Extension(Peer(peer)): Extension<Peer>,
    headers: HeaderMap,
) -> Response {
    if let Access::Token(token) = &shared.access {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !presented.is_some_and(|t| token.matches(t.as_bytes())) {
            tracing::warn!(%peer, "refused a metrics scrape without the cluster token");
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "the cluster token is required: Authorization: Bearer TOKEN\n",
            )
                .into_response();
        }
    }
    let mut text = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &shared.registry) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding the metrics: {e}\n"),
        )
            .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
