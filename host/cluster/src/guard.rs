//! What every cluster server checks around its handlers, in one layer:
//! each RPC's request may be at most its own size ([`request_limit`]; large
//! data moves only through the chunked object streams), and every call
//! refused as malformed, oversized or invalid is logged with the caller's
//! address and the RPC, so an operator can tell who sends what.
//!
//! The size is enforced on the bytes as they arrive: a request declaring
//! more than its RPC's limit is refused at its first frame, before any of
//! it is buffered, and one whose body runs past it is cut off there. The
//! layer also counts and times every call for the daemon's metrics.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Buf;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tonic::body::Body;
use tonic::transport::server::TcpConnectInfo;
use tonic::Status;

use crate::metrics::RpcMetrics;

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// The largest job submission (its components and environment bundle).
pub const MAX_JOB_BYTES: usize = 512 * MIB;

/// The largest call to run a task, create an actor or call one: inline
/// arguments travel up to [`crate::objects::INLINE_ARGS`] bytes and larger
/// ones as objects, so this leaves room for ~500,000 nested references.
pub const MAX_CALL_BYTES: usize = 64 * MIB;

/// The largest value a cluster job's driver may return: it travels in one
/// message to the head, which keeps it with the job's record (a larger
/// result fails the job, saying so: return a reference's summary, or write
/// it to storage).
pub const MAX_JOB_VALUE: usize = 64 * MIB;

/// The largest request `rpc` (its gRPC path, `/package.Service/Method`)
/// accepts; RPCs nobody sends large data in get 64 KiB.
pub fn request_limit(rpc: &str) -> usize {
    let method = rpc.rsplit('/').next().unwrap_or(rpc);
    match method {
        "SubmitJob" | "RunJob" => MAX_JOB_BYTES,
        "RunTask" | "CallActor" | "CreateActor" => MAX_CALL_BYTES,
        // Batches of at most 1,024 releases.
        "ReleaseObjects" => MIB,
        "Heartbeat" | "Join" | "RegisterActor" | "RegisterGroup" | "ReserveBundles" => MIB,
        // Batches of at most 512 KiB of lines.
        "JobLines" => MIB,
        _ => 64 * KIB,
    }
}

/// The layer: [`Guard`] around a server's routes, recording its calls in
/// `rpc`.
#[derive(Clone, Default)]
pub struct GuardLayer {
    rpc: Arc<RpcMetrics>,
}

impl GuardLayer {
    /// A guard that records the calls it lets through in `rpc`.
    pub fn recording(rpc: Arc<RpcMetrics>) -> Self {
        GuardLayer { rpc }
    }
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            rpc: self.rpc.clone(),
        }
    }
}

/// Caps each request's body at its RPC's limit, logs refusals and records
/// each call.
#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    rpc: Arc<RpcMetrics>,
}

type Request = http::Request<Body>;
type Response = http::Response<Body>;

impl<S> tower::Service<Request> for Guard<S>
where
    S: tower::Service<Request, Response = Response> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let rpc: Arc<str> = req.uri().path().into();
        let peer = peer_of(&req);
        let (parts, body) = req.into_parts();
        let body = Body::new(Capped::new(body, request_limit(&rpc), rpc.clone()));
        let answered = self.inner.call(http::Request::from_parts(parts, body));
        let (metrics, asked) = (self.rpc.clone(), std::time::Instant::now());
        Box::pin(async move {
            let resp = answered.await?;
            let code =
                Status::from_header_map(resp.headers()).map_or(tonic::Code::Ok, |s| s.code());
            metrics.record(&rpc, code, asked.elapsed());
            log_refusal(&resp, &rpc, peer);
            Ok(resp)
        })
    }
}

/// The caller's address, over plain TCP or TLS.
pub fn peer_of<B>(req: &http::Request<B>) -> Option<SocketAddr> {
    let ext = req.extensions();
    ext.get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| {
            ext.get::<tonic::transport::server::TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|i| i.get_ref().remote_addr())
        })
}

/// Logs a call refused for what it sent (the codes a well-behaved peer
/// never sees); refusals of the token and the protocol version are logged
/// where they are decided, with more to say.
fn log_refusal(resp: &Response, rpc: &str, peer: Option<SocketAddr>) {
    let Some(status) = Status::from_header_map(resp.headers()) else {
        return;
    };
    if matches!(
        status.code(),
        tonic::Code::InvalidArgument | tonic::Code::OutOfRange | tonic::Code::ResourceExhausted
    ) {
        let peer = peer.map_or_else(|| "an unknown peer".to_string(), |a| a.to_string());
        let (code, message) = (status.code(), status.message());
        tracing::warn!(%peer, rpc, ?code, message, "refused a call");
    }
}

/// A request body cut off past its RPC's limit: gRPC frames are a 5-byte
/// header (a flag and the message's length) and the message, so a message
/// declaring more than the limit is refused at its header.
struct Capped {
    inner: Body,
    limit: usize,
    rpc: Arc<str>,
    /// Bytes of the current frame still to come (0: a header is next).
    frame_left: usize,
    /// A header split across data frames, as far as it came.
    header: Vec<u8>,
}

impl Capped {
    fn new(inner: Body, limit: usize, rpc: Arc<str>) -> Capped {
        Capped {
            inner,
            limit,
            rpc,
            frame_left: 0,
            header: Vec::with_capacity(5),
        }
    }

    fn too_large(&self, declared: usize) -> Status {
        Status::resource_exhausted(format!(
            "{}: a request of {declared} bytes is over this call's limit of {} bytes; \
             large data moves as objects, not in calls",
            self.rpc.trim_start_matches('/'),
            self.limit
        ))
    }

    /// Follows the frames in `data`; an error when one declares too much.
    fn check(&mut self, mut data: &[u8]) -> Result<(), Status> {
        while !data.is_empty() {
            if self.frame_left > 0 {
                let n = self.frame_left.min(data.len());
                self.frame_left -= n;
                data = &data[n..];
                continue;
            }
            let n = (5 - self.header.len()).min(data.len());
            self.header.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.header.len() == 5 {
                let declared = u32::from_be_bytes([
                    self.header[1],
                    self.header[2],
                    self.header[3],
                    self.header[4],
                ]) as usize;
                self.header.clear();
                if declared > self.limit {
                    return Err(self.too_large(declared));
                }
                self.frame_left = declared;
            }
        }
        Ok(())
    }
}

impl HttpBody for Capped {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<bytes::Bytes>, Status>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    if let Err(refused) = this.check(data.chunk()) {
                        return Poll::Ready(Some(Err(refused)));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(len: u32) -> Vec<u8> {
        let mut f = vec![0u8];
        f.extend_from_slice(&len.to_be_bytes());
        f
    }

    #[test]
    fn limits_follow_the_rpc() {
        assert_eq!(request_limit("/wrun.cluster.v1.Head/Status"), 64 * KIB);
        assert_eq!(
            request_limit("/wrun.cluster.v1.Head/SubmitJob"),
            MAX_JOB_BYTES
        );
        assert_eq!(
            request_limit("/wrun.cluster.v1.Node/RunTask"),
            MAX_CALL_BYTES
        );
    }

    /// Every RPC of cluster.proto is named in the table or meant to get
    /// the small default: a new large RPC must be added on purpose.
    #[test]
    fn every_rpc_has_a_deliberate_limit() {
        let proto = include_str!("../../proto/cluster.proto");
        let small = [
            "GetComponent",
            "Status",
            "LookupActor",
            "UnregisterActor",
            "GetGroup",
            "RemoveGroup",
            "FetchObject",
            "ObjectReady",
            "KillActor",
            "Cancel",
            "EndJob",
            "StopJob",
            "FollowJob",
            "ReleaseBundles",
            "Certify",
            "ListState",
        ];
        for line in proto.lines().map(str::trim) {
            let Some(rest) = line.strip_prefix("rpc ") else {
                continue;
            };
            let name = rest.split('(').next().unwrap_or_default().trim();
            assert!(
                request_limit(name) > 64 * KIB || small.contains(&name),
                "{name} has no limit of its own and is not listed as small"
            );
        }
    }

    #[test]
    fn a_frame_declaring_too_much_is_refused_at_its_header() {
        let mut c = Capped::new(Body::empty(), 100, "/x/Y".into());
        // Split across data frames, as HTTP/2 may deliver it.
        let mut first = framed(50);
        first.extend_from_slice(&[7; 50]);
        first.extend_from_slice(&framed(101)[..2]);
        c.check(&first).unwrap();
        let err = c.check(&framed(101)[2..]).unwrap_err();
        assert_eq!(err.code(), tonic::Code::ResourceExhausted);
        assert!(err.message().contains("101 bytes"), "{}", err.message());
        assert!(err.message().contains("limit of 100"), "{}", err.message());
    }

    #[test]
    fn frames_within_the_limit_pass() {
        let mut c = Capped::new(Body::empty(), 100, "/x/Y".into());
        for _ in 0..3 {
            let mut f = framed(100);
            f.extend_from_slice(&[1; 100]);
            c.check(&f).unwrap();
        }
    }
}
