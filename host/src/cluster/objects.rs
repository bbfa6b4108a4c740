//! Objects across nodes: references on the wire, pulling an object's bytes
//! from its owner in chunks, and giving counted references back.
//!
//! The counting rule: a node that puts a reference on the wire first counts
//! one more local reference to it (for the receiver) and names itself the
//! `holder`; the receiver gives that reference back to the holder when its
//! own last reference goes. The owner always has the bytes (it created the
//! object, or received a remote task's result by value), so readers fetch
//! from the owner whoever handed them the reference; a borrower that hands a
//! reference on keeps its own entry alive until the next node releases it,
//! so the owner's count never drops to zero while any node holds one.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::node::task_error;
use super::peers::Peers;
use super::proto;
use super::PROTOCOL_VERSION;
use crate::error::{ErrorKind, TaskError};
use crate::ids::{Id, NodeId, ObjectId};
use crate::object_store::{BoxFuture, Held, ObjectStore, ObjectValue, RemoteObjects};

/// The size of one chunk of an object in transit: big enough that per-chunk
/// costs vanish, small enough that a transfer holds little beyond the object.
pub const CHUNK: usize = 4 << 20;

/// How many releases one `ReleaseObjects` call carries at most.
const RELEASE_BATCH: usize = 1024;

/// This node's side of the distributed object store.
#[derive(Clone)]
pub struct ClusterObjects {
    store: Arc<dyn ObjectStore>,
    /// This node's address (the holder of references it sends).
    me: Arc<str>,
    peers: Arc<Peers>,
    releases: mpsc::UnboundedSender<(Arc<str>, ObjectId, u32)>,
}

/// A wire reference or value the receiver cannot use.
#[derive(Debug, thiserror::Error)]
#[error("malformed object reference from another node: {0}")]
pub struct BadRef(String);

impl ClusterObjects {
    /// Starts the release sender; call inside the tokio runtime.
    pub fn new(store: Arc<dyn ObjectStore>, me: String, peers: Arc<Peers>) -> ClusterObjects {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(send_releases(rx, peers.clone()));
        ClusterObjects {
            store,
            me: Arc::from(me),
            peers,
            releases: tx,
        }
    }

    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Describes `held` for another node, counting the reference it will hold.
    pub fn export_ref(&self, held: &Held) -> proto::ObjectRef {
        let id = held.id();
        let location = self.store.locate(id);
        self.store.incref(id);
        proto::ObjectRef {
            id: id.0.to_bytes().to_vec(),
            owner: format!("{:016x}", held.owner().0.hi),
            fetch_from: location
                .as_ref()
                .and_then(|l| l.fetch_from.as_deref())
                .unwrap_or(&self.me)
                .to_string(),
            holder: self.me.to_string(),
            size: location.map_or(0, |l| l.size),
        }
    }

    pub fn export_value(&self, v: &ObjectValue) -> proto::Value {
        proto::Value {
            data: v.data.clone(),
            refs: v.refs.iter().map(|h| self.export_ref(h)).collect(),
        }
    }

    /// Gives back the references `args` counted for a receiver that never
    /// got them (the call could not be sent).
    pub fn unexport(&self, args: &[proto::TaskArgument]) {
        let refs = args.iter().flat_map(|a| match &a.arg {
            Some(proto::task_argument::Arg::Value(v)) => v.refs.iter().collect::<Vec<_>>(),
            Some(proto::task_argument::Arg::ByRef(r)) => vec![r],
            None => Vec::new(),
        });
        for r in refs {
            if r.holder == *self.me {
                if let Some(id) = Id::from_bytes(&r.id) {
                    self.store.decref(ObjectId(id));
                }
            }
        }
    }

    /// Takes over a reference another node counted for this one.
    pub fn import_ref(&self, r: &proto::ObjectRef) -> Result<Held, BadRef> {
        let id = Id::from_bytes(&r.id).map(ObjectId).ok_or_else(|| {
            BadRef(format!(
                "an object id of {} bytes (expected 16)",
                r.id.len()
            ))
        })?;
        let owner = u64::from_str_radix(&r.owner, 16)
            .map_err(|_| BadRef(format!("owner `{}` is not a node id", r.owner)))?;
        if r.fetch_from.is_empty() || r.holder.is_empty() {
            return Err(BadRef(format!("object {id} comes without an address")));
        }
        let owner = NodeId(Id::new(owner, 0));
        self.store
            .insert_borrowed(id, owner, &r.fetch_from, &r.holder, r.size);
        Ok(Held::adopt(self.store.clone(), id, owner))
    }

    pub fn import_value(&self, v: proto::Value) -> Result<ObjectValue, BadRef> {
        let refs = v
            .refs
            .iter()
            .map(|r| self.import_ref(r))
            .collect::<Result<_, _>>()?;
        Ok(ObjectValue { data: v.data, refs })
    }

    async fn pull(&self, from: &str, id: ObjectId) -> Result<ObjectValue, TaskError> {
        let lost = |m: String| {
            TaskError::new(
                ErrorKind::ObjectLost,
                "get",
                format!("object {id} could not be read from its owner {from}: {m}"),
            )
        };
        let started = std::time::Instant::now();
        let mut client = self.peers.client(from).await.map_err(lost)?;
        let req = self
            .peers
            .request(proto::FetchObjectRequest {
                protocol: PROTOCOL_VERSION,
                id: id.0.to_bytes().to_vec(),
            })
            .map_err(|s| lost(s.message().to_string()))?;
        let mut stream = match client.fetch_object(req).await {
            Ok(s) => s.into_inner(),
            Err(s) => {
                if s.code() == tonic::Code::Unavailable {
                    self.peers.forget(from);
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
            return Err(task_error(e));
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
            .map(|r| self.import_ref(r))
            .collect::<Result<_, _>>()
            .map_err(|e| lost(e.to_string()))?;
        let secs = started.elapsed().as_secs_f64();
        if size >= CHUNK {
            tracing::info!(object = %id, from, bytes = size, ms = secs * 1e3, mb_per_s = size as f64 / secs / 1e6, "pulled an object");
        } else {
            tracing::debug!(object = %id, from, bytes = size, "pulled an object");
        }
        Ok(ObjectValue { data, refs })
    }
}

impl RemoteObjects for ClusterObjects {
    fn fetch(
        &self,
        from: &str,
        id: ObjectId,
    ) -> BoxFuture<'static, Result<ObjectValue, TaskError>> {
        let this = self.clone();
        let from = from.to_string();
        Box::pin(async move { this.pull(&from, id).await })
    }

    fn release(&self, holder: &str, id: ObjectId, count: u32) {
        // Never blocks and needs no runtime: the sender task batches them.
        let _ = self.releases.send((Arc::from(holder), id, count));
    }
}

/// Sends releases in batches, one call per holder.
async fn send_releases(
    mut rx: mpsc::UnboundedReceiver<(Arc<str>, ObjectId, u32)>,
    peers: Arc<Peers>,
) {
    while let Some(first) = rx.recv().await {
        let mut by_holder: HashMap<Arc<str>, Vec<proto::Release>> = HashMap::new();
        let mut next = Some(first);
        let mut n = 0;
        while let Some((holder, id, count)) = next {
            by_holder.entry(holder).or_default().push(proto::Release {
                id: id.0.to_bytes().to_vec(),
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
                let mut client = peers.client(&holder).await?;
                let req = peers
                    .request(proto::ReleaseObjectsRequest {
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
                peers.forget(&holder);
            }
        }
    }
}
