//! Objects across nodes: the store's transport (pulling an object's bytes
//! from its owner in chunks, giving counted references back in batches) and
//! references on the wire ([`Wire`]: the store's [`WireRef`]s with the
//! addresses the receiver needs).
//!
//! The counting rule is the store's (wrun-objects `borrow.rs`): a node that
//! puts a reference on the wire counts one more local reference for the
//! receiver and names itself the holder; the receiver gives it back there.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;
use wrun_core::{ErrorKind, NodeId, ObjectId, TaskError};
use wrun_objects::{
    BoxFuture, Fetched, Held, ObjectStore, ObjectTransport, ObjectValue, TaskArg, WireRef,
};
use wrun_proto::{pb, PROTOCOL_VERSION};

use crate::connections::Connections;

/// The size of one chunk of an object in transit: big enough that per-chunk
/// costs vanish, small enough that a transfer holds little beyond the object.
pub const CHUNK: usize = 4 << 20;

/// Argument bytes one call carries inline at most; the arguments past it
/// travel as objects the receiver pulls in chunks, so a call stays small
/// ([`crate::guard::MAX_CALL_BYTES`]) whatever its arguments weigh.
pub const INLINE_ARGS: usize = 4 << 20;

/// Result bytes one reply carries inline at most (a call's results past it
/// stay on the node that computed them until the caller has pulled them).
pub const INLINE_RESULTS: usize = 4 << 20;

/// How many releases one `ReleaseObjects` call carries at most.
const RELEASE_BATCH: usize = 1024;

/// A wire reference or value the receiver cannot use.
#[derive(Debug, thiserror::Error)]
#[error("malformed object reference from another node: {0}")]
pub struct BadRef(String);

/// The store's transport over gRPC.
pub struct GrpcTransport {
    conns: Arc<Connections>,
    releases: mpsc::UnboundedSender<(NodeId, ObjectId, u32)>,
}

impl GrpcTransport {
    /// Starts the release sender; call inside the tokio runtime.
    pub fn new(conns: Arc<Connections>) -> Arc<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(send_releases(rx, conns.clone()));
        Arc::new(GrpcTransport {
            conns,
            releases: tx,
        })
    }

    async fn pull(
        conns: Arc<Connections>,
        owner: NodeId,
        id: ObjectId,
    ) -> Result<Fetched, TaskError> {
        let lost = |m: String| {
            TaskError::new(
                ErrorKind::ObjectLost,
                "get",
                format!("object {id} could not be read from its owner {owner}: {m}"),
            )
        };
        let started = std::time::Instant::now();
        let mut client = conns.client(owner).await.map_err(|e| lost(e.to_string()))?;
        let req = conns
            .request(pb::FetchObjectRequest {
                protocol: PROTOCOL_VERSION,
                id: wrun_proto::id_bytes(id.0),
            })
            .map_err(|s| lost(s.message().to_string()))?;
        let mut stream = match client.fetch_object(req).await {
            Ok(s) => s.into_inner(),
            Err(s) => {
                if s.code() == tonic::Code::Unavailable {
                    conns.forget(owner);
                }
                return Err(lost(s.message().to_string()));
            }
        };
        let first = stream
            .message()
            .await
            .map_err(|s| lost(s.message().to_string()))?
            .ok_or_else(|| lost("the owner sent nothing".into()))?;
        if let Some(e) = first.error {
            return Err(wrun_proto::from_error(e));
        }
        let size = usize::try_from(first.size).map_err(|_| lost("too large".into()))?;
        let data = if first.data.len() == size {
            first.data
        } else {
            let mut buf = Vec::new();
            buf.try_reserve_exact(size).map_err(|_| {
                lost(format!(
                    "{size} bytes do not fit in this node's memory; raise its memory or split the object"
                ))
            })?;
            buf.extend_from_slice(&first.data);
            while let Some(chunk) = stream
                .message()
                .await
                .map_err(|s| lost(s.message().to_string()))?
            {
                if buf.len() + chunk.data.len() > size {
                    return Err(lost(format!(
                        "the owner sent more than the {size} bytes it announced"
                    )));
                }
                buf.extend_from_slice(&chunk.data);
            }
            if buf.len() != size {
                return Err(lost(format!(
                    "the transfer stopped after {} of {size} bytes",
                    buf.len()
                )));
            }
            Bytes::from(buf)
        };
        let refs = first
            .refs
            .iter()
            .map(|r| wire_ref(&conns, r))
            .collect::<Result<_, _>>()
            .map_err(|e| lost(e.to_string()))?;
        let secs = started.elapsed().as_secs_f64();
        if size >= CHUNK {
            tracing::info!(object = %id, %owner, bytes = size, ms = secs * 1e3, mb_per_s = size as f64 / secs / 1e6, "pulled an object");
        } else {
            tracing::debug!(object = %id, %owner, bytes = size, "pulled an object");
        }
        Ok(Fetched { data, refs })
    }
}

impl ObjectTransport for GrpcTransport {
    fn fetch(&self, owner: NodeId, id: ObjectId) -> BoxFuture<'static, Result<Fetched, TaskError>> {
        Box::pin(Self::pull(self.conns.clone(), owner, id))
    }

    fn ready(
        &self,
        owner: NodeId,
        id: ObjectId,
        wait: std::time::Duration,
    ) -> BoxFuture<'static, Result<bool, TaskError>> {
        let conns = self.conns.clone();
        Box::pin(async move {
            let lost = |m: String| {
                TaskError::new(
                    ErrorKind::ObjectLost,
                    "wait",
                    format!("object {id}: its owner {owner} could not be asked: {m}"),
                )
            };
            let mut client = conns.client(owner).await.map_err(|e| lost(e.to_string()))?;
            let req = conns
                .request(pb::ObjectReadyRequest {
                    protocol: PROTOCOL_VERSION,
                    id: wrun_proto::id_bytes(id.0),
                    wait_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                })
                .map_err(|s| lost(s.message().to_string()))?;
            match client.object_ready(req).await {
                Ok(r) => Ok(r.into_inner().ready),
                Err(s) => {
                    if s.code() == tonic::Code::Unavailable {
                        conns.forget(owner);
                    }
                    Err(lost(s.message().to_string()))
                }
            }
        })
    }

    fn release(&self, holder: NodeId, id: ObjectId, count: u32) {
        // Never blocks and needs no runtime: the sender task batches them.
        let _ = self.releases.send((holder, id, count));
    }
}

/// Sends releases in batches, one call per holder.
async fn send_releases(
    mut rx: mpsc::UnboundedReceiver<(NodeId, ObjectId, u32)>,
    conns: Arc<Connections>,
) {
    while let Some(first) = rx.recv().await {
        let mut by_holder: HashMap<NodeId, Vec<pb::Release>> = HashMap::new();
        let mut next = Some(first);
        let mut n = 0;
        while let Some((holder, id, count)) = next {
            by_holder.entry(holder).or_default().push(pb::Release {
                id: wrun_proto::id_bytes(id.0),
                count,
            });
            n += 1;
            next = if n < RELEASE_BATCH {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        for (holder, releases) in by_holder {
            let sent = async {
                let mut client = conns.client(holder).await.map_err(|e| e.to_string())?;
                let req = conns
                    .request(pb::ReleaseObjectsRequest {
                        protocol: PROTOCOL_VERSION,
                        releases,
                    })
                    .map_err(|s| s.message().to_string())?;
                client
                    .release_objects(req)
                    .await
                    .map_err(|s| s.message().to_string())
            };
            if let Err(e) = sent.await {
                // The holder is gone: its objects went with it.
                tracing::debug!(%holder, error = %e, "could not give references back");
                conns.forget(holder);
            }
        }
    }
}

/// A wire reference as the store takes it, learning the addresses it names.
fn wire_ref(conns: &Connections, r: &pb::ObjectRef) -> Result<WireRef, BadRef> {
    let id = wrun_core::Id::from_bytes(&r.id)
        .map(ObjectId)
        .ok_or_else(|| {
            BadRef(format!(
                "an object id of {} bytes (expected 16)",
                r.id.len()
            ))
        })?;
    let holder: NodeId = r
        .holder
        .parse()
        .map_err(|e: wrun_core::ids::BadId| BadRef(e.to_string()))?;
    if r.owner_address.is_empty() || r.holder_address.is_empty() {
        return Err(BadRef(format!("object {id} comes without an address")));
    }
    conns.learn(id.node(), &r.owner_address);
    conns.learn(holder, &r.holder_address);
    Ok(WireRef {
        id,
        holder,
        size: r.size,
    })
}

/// References and values on the wire, for one node's store.
#[derive(Clone)]
pub struct Wire {
    store: Arc<ObjectStore>,
    conns: Arc<Connections>,
}

impl Wire {
    /// The wire side of `store`.
    pub fn new(store: Arc<ObjectStore>, conns: Arc<Connections>) -> Self {
        Wire { store, conns }
    }

    /// The store.
    pub fn store(&self) -> &Arc<ObjectStore> {
        &self.store
    }

    /// The connections.
    pub fn conns(&self) -> &Arc<Connections> {
        &self.conns
    }

    /// Describes `held` for another node, counting the reference it will hold.
    pub fn export_ref(&self, held: &Held) -> pb::ObjectRef {
        let w = self.store.export(held);
        pb::ObjectRef {
            id: wrun_proto::id_bytes(w.id.0),
            owner_address: self.conns.address_of(w.id.node()).unwrap_or_default(),
            holder: w.holder.to_string(),
            holder_address: self.conns.my_address().to_string(),
            size: w.size,
        }
    }

    /// A value for another node, its references counted.
    pub fn export_value(&self, v: &ObjectValue) -> pb::Value {
        pb::Value {
            data: v.data.clone(),
            refs: v.refs.iter().map(|h| self.export_ref(h)).collect(),
            held: None,
        }
    }

    /// A call's result `v` (the value of `held`) for the caller's node:
    /// inline while the reply's results stay within [`INLINE_RESULTS`]
    /// bytes (`inline` counts them), else by reference, for the caller to
    /// pull in chunks, so no reply carries a large value in one message.
    pub fn export_result(&self, held: &Held, v: &ObjectValue, inline: &mut usize) -> pb::Value {
        if *inline + v.data.len() <= INLINE_RESULTS {
            *inline += v.data.len();
            return self.export_value(v);
        }
        pb::Value {
            held: Some(self.export_ref(held)),
            ..pb::Value::default()
        }
    }

    /// Gives back what a value from another node counted for this one,
    /// unread.
    pub fn let_go(&self, v: pb::Value) {
        if let Some(r) = &v.held {
            drop(self.import_ref(r));
        }
        drop(self.import_value(v));
    }

    /// A call's result from another node: inline, or pulled from the object
    /// the sender kept it in (which is let go of once read).
    pub async fn import_result(&self, v: pb::Value, label: &str) -> Result<ObjectValue, TaskError> {
        let bad = |e: BadRef| {
            TaskError::new(
                ErrorKind::Internal,
                label,
                format!("its result from another node: {e}"),
            )
        };
        match &v.held {
            Some(r) => self.import_ref(r).map_err(bad)?.get(None).await,
            None => self.import_value(v).map_err(bad),
        }
    }

    /// Arguments for another node: values inline up to [`INLINE_ARGS`]
    /// bytes in all, the rest stored here and sent by reference (the
    /// receiver resolves a reference argument to its value, so the callee
    /// cannot tell).
    pub fn export_args(&self, args: &[TaskArg]) -> Vec<pb::TaskArgument> {
        let mut inline = 0usize;
        args.iter()
            .map(|a| pb::TaskArgument {
                arg: Some(match a {
                    TaskArg::Value(v) if inline + v.data.len() <= INLINE_ARGS => {
                        inline += v.data.len();
                        pb::task_argument::Arg::Value(self.export_value(v))
                    }
                    TaskArg::Value(v) => {
                        pb::task_argument::Arg::ByRef(self.export_ref(&self.store.put(v.clone())))
                    }
                    TaskArg::Ref(h) => pb::task_argument::Arg::ByRef(self.export_ref(h)),
                }),
            })
            .collect()
    }

    /// Gives back the references `args` counted for a receiver that never
    /// got them (the call could not be sent).
    pub fn unexport(&self, args: &[pb::TaskArgument]) {
        let refs = args.iter().flat_map(|a| match &a.arg {
            Some(pb::task_argument::Arg::Value(v)) => v.refs.iter().collect::<Vec<_>>(),
            Some(pb::task_argument::Arg::ByRef(r)) => vec![r],
            None => Vec::new(),
        });
        for r in refs {
            if let Ok(w) = wire_ref(&self.conns, r) {
                self.store.unexport(&w);
            }
        }
    }

    /// Takes over a reference another node counted for this one.
    pub fn import_ref(&self, r: &pb::ObjectRef) -> Result<Held, BadRef> {
        Ok(self.store.import(wire_ref(&self.conns, r)?))
    }

    /// A value from another node, its references taken over.
    pub fn import_value(&self, v: pb::Value) -> Result<ObjectValue, BadRef> {
        let refs = v
            .refs
            .iter()
            .map(|r| self.import_ref(r))
            .collect::<Result<_, _>>()?;
        Ok(ObjectValue { data: v.data, refs })
    }

    /// Arguments from the wire, their references counted for this node.
    #[allow(
        clippy::result_large_err,
        reason = "tonic's Status is what handlers return"
    )]
    pub fn import_args(&self, args: Vec<pb::TaskArgument>) -> Result<Vec<TaskArg>, tonic::Status> {
        let mut out = Vec::with_capacity(args.len());
        for (i, a) in args.into_iter().enumerate() {
            let arg = match a.arg {
                Some(pb::task_argument::Arg::Value(v)) => self.import_value(v).map(TaskArg::Value),
                Some(pb::task_argument::Arg::ByRef(h)) => self.import_ref(&h).map(TaskArg::Ref),
                None => {
                    return Err(tonic::Status::invalid_argument(format!(
                        "argument {i} is empty"
                    )))
                }
            };
            out.push(
                arg.map_err(|e| tonic::Status::invalid_argument(format!("argument {i}: {e}")))?,
            );
        }
        Ok(out)
    }
}
