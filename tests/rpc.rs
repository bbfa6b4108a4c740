//! What a cluster server does with calls it must refuse (issue 16's RPC
//! hardening): raw gRPC calls, made with bytes of our choosing, against a
//! real head and node serving on loopback.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Code, Request, Status};
use wrun_cluster::auth::MAX_UNAUTHENTICATED;
use wrun_cluster::harness::InProcessCluster;
use wrun_tests::config;

/// Sends bytes as they are and reads the reply's bytes.
#[derive(Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// Calls `rpc` of the cluster's process at `address` (over the cluster's
/// TLS) with `body` as the message, the token attached if `with_token`.
async fn call(
    c: &InProcessCluster,
    address: &str,
    rpc: &str,
    body: Vec<u8>,
    with_token: bool,
) -> Status {
    let channel = c
        .transport
        .endpoint(address)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let token = with_token.then_some(&c.token);
    let mut grpc = tonic::client::Grpc::new(channel).max_encoding_message_size(1 << 30);
    grpc.ready().await.unwrap();
    let req = match token {
        Some(t) => t.attach(Request::new(body)).unwrap(),
        None => Request::new(body),
    };
    match grpc.unary(req, rpc.parse().unwrap(), Raw).await {
        Ok(_) => Status::ok(""),
        Err(s) => s,
    }
}

/// The warnings this test process logs (the servers run in it).
fn warnings() -> &'static Mutex<Vec<u8>> {
    static LOG: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || Captured(log))
            .init();
        log
    })
}

struct Captured(&'static Mutex<Vec<u8>>);

impl std::io::Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether a logged warning has all of `parts`.
fn logged(parts: &[&str]) -> bool {
    let log = String::from_utf8_lossy(&warnings().lock().unwrap()).into_owned();
    log.lines().any(|l| parts.iter().all(|p| l.contains(p)))
}

async fn cluster(dir: &std::path::Path) -> InProcessCluster {
    warnings();
    let (cfg, _) = config(&dir.join("node"));
    InProcessCluster::start(dir, vec![cfg]).await.unwrap()
}

/// Bytes that are no protobuf message (a field tag with wire type 7).
const GARBAGE: [u8; 4] = [0xff, 0xff, 0xff, 0xff];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_are_invalid_argument_on_head_and_node() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path()).await;
    let head = c.head.address.clone();
    let node = c.nodes[0].address.clone();
    for (address, rpc, message) in [
        (&head, "/wrun.cluster.v1.Head/Status", "StatusRequest"),
        (&head, "/wrun.cluster.v1.Head/Heartbeat", "HeartbeatRequest"),
        (&node, "/wrun.cluster.v1.Node/RunTask", "RunTaskRequest"),
        (&node, "/wrun.cluster.v1.Node/Cancel", "CancelRequest"),
    ] {
        let s = call(&c, address, rpc, GARBAGE.to_vec(), true).await;
        assert_eq!(s.code(), Code::InvalidArgument, "{rpc}: {s:?}");
        assert!(s.message().contains(message), "{rpc}: {}", s.message());
        let method = rpc.rsplit('/').next().unwrap();
        assert!(
            logged(&["refused a call", "peer=127.0.0.1:", method, message]),
            "the refusal of {rpc} is logged with the caller's address"
        );
    }
    // Both still serve a well-formed call.
    let ok = call(&c, &head, "/wrun.cluster.v1.Head/Status", Vec::new(), true).await;
    assert_ne!(ok.code(), Code::InvalidArgument, "{ok:?}");
    c.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rpc_refuses_requests_over_its_own_limit() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path()).await;
    // 8 MiB of a valid message: an unknown field of a status request.
    let mut big = vec![0x7a]; // field 15, length-delimited
    prost_varint(&mut big, 8 << 20);
    big.resize(big.len() + (8 << 20), 0);
    let started = Instant::now();
    let s = call(
        &c,
        &c.head.address,
        "/wrun.cluster.v1.Head/Status",
        big.clone(),
        true,
    )
    .await;
    assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}");
    assert!(
        s.message().contains("Head/Status") && s.message().contains("limit of 65536 bytes"),
        "{}",
        s.message()
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // The same bytes fit a call that carries data (and decode: the unknown
    // field is skipped), so the limit is the RPC's, not one for all.
    let s = call(
        &c,
        &c.nodes[0].address,
        "/wrun.cluster.v1.Node/RunTask",
        big,
        true,
    )
    .await;
    assert_ne!(s.code(), Code::ResourceExhausted, "{s:?}");
    // Past the call limit, a task call is refused too.
    let mut huge = vec![0x7a];
    prost_varint(&mut huge, 80 << 20);
    huge.resize(huge.len() + (80 << 20), 0);
    let s = call(
        &c,
        &c.nodes[0].address,
        "/wrun.cluster.v1.Node/RunTask",
        huge,
        true,
    )
    .await;
    assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}");
    assert!(s.message().contains("Node/RunTask"), "{}", s.message());
    c.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_calling_without_the_token_is_rate_limited_but_the_token_passes() {
    let dir = tempfile::tempdir().unwrap();
    let c = cluster(dir.path()).await;
    let rpc = "/wrun.cluster.v1.Head/Status";
    for i in 0..MAX_UNAUTHENTICATED {
        let s = call(&c, &c.head.address, rpc, Vec::new(), false).await;
        assert_eq!(s.code(), Code::Unauthenticated, "call {i}: {s:?}");
    }
    let s = call(&c, &c.head.address, rpc, Vec::new(), false).await;
    assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}");
    assert!(s.message().contains("wait a minute"), "{}", s.message());
    // A caller with the token on the same address (as the node is) still
    // gets through.
    let s = call(&c, &c.head.address, rpc, Vec::new(), true).await;
    assert!(
        !matches!(s.code(), Code::ResourceExhausted | Code::Unauthenticated),
        "{s:?}"
    );
    c.stop().await.unwrap();
}

fn prost_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}
