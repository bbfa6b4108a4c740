//! Objects other nodes read from this one (the owner streams the stored
//! bytes in chunks, slices of the stored `Bytes`: no copy) and the counted
//! references they give back.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tonic::Status;
use wrun_core::ObjectId;
use wrun_proto::{check_protocol, parse_id, pb};

use super::{ChunkStream, NodeService};
use crate::objects::CHUNK;

/// The longest an owner holds an object-ready call open (the reader asks
/// again while its own wait lasts).
const MAX_READY_WAIT: Duration = Duration::from_secs(10);

impl NodeService {
    #[allow(
        clippy::result_large_err,
        reason = "tonic's Status is what handlers return"
    )]
    pub(super) fn serve_object(
        &self,
        r: pb::FetchObjectRequest,
        peer: Option<SocketAddr>,
    ) -> Result<ChunkStream, Status> {
        check_protocol(r.protocol, "fetch object", peer)?;
        let id = ObjectId(parse_id(&r.id, "an object")?);
        let (tx, rx) = mpsc::channel(4);
        let wire = self.wire.clone();
        tokio::spawn(async move {
            // Waits while the object is still being computed.
            let value = match wire.store().held(id) {
                Some(h) => h.get(None).await,
                None => Err(wrun_core::TaskError::new(
                    wrun_core::ErrorKind::ObjectLost,
                    "get",
                    format!("object {id} does not exist on its owner (freed)"),
                )),
            };
            let value = match value {
                Ok(v) => v,
                Err(e) => {
                    let _ = tx
                        .send(Ok(pb::ObjectChunk {
                            error: Some(wrun_proto::to_error(e)),
                            ..Default::default()
                        }))
                        .await;
                    return;
                }
            };
            let refs = value.refs.iter().map(|h| wire.export_ref(h)).collect();
            let data = value.data;
            let size = data.len();
            let mut first = Some(refs);
            let mut offset = 0;
            loop {
                let end = (offset + CHUNK).min(size);
                let chunk = pb::ObjectChunk {
                    size: if first.is_some() { size as u64 } else { 0 },
                    // A slice of the stored bytes, not a copy; at most a few
                    // chunks wait in the channel, so memory stays bounded.
                    data: data.slice(offset..end),
                    refs: first.take().unwrap_or_default(),
                    error: None,
                };
                if tx.send(Ok(chunk)).await.is_err() {
                    tracing::debug!(object = %id, "the reader went away mid-transfer");
                    return;
                }
                offset = end;
                if offset >= size {
                    return;
                }
            }
        });
        Ok(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx)))
    }

    /// Whether an object this node owns is ready, waiting for it up to the
    /// reader's `wait_ms` (at most [`MAX_READY_WAIT`]). A freed object
    /// counts as ready: reading it would fail at once, not wait.
    pub(super) async fn object_ready_here(
        &self,
        r: pb::ObjectReadyRequest,
        peer: Option<SocketAddr>,
    ) -> Result<pb::ObjectReadyReply, Status> {
        check_protocol(r.protocol, "object ready", peer)?;
        let id = ObjectId(parse_id(&r.id, "an object")?);
        let Some(held) = self.wire.store().held(id) else {
            return Ok(pb::ObjectReadyReply { ready: true });
        };
        let wait = Duration::from_millis(r.wait_ms).min(MAX_READY_WAIT);
        let ready = self
            .wire
            .store()
            .wait(&[&held], 1, Some(Instant::now() + wait))
            .await[0];
        Ok(pb::ObjectReadyReply { ready })
    }

    #[allow(
        clippy::result_large_err,
        reason = "tonic's Status is what handlers return"
    )]
    pub(super) fn take_releases(
        &self,
        r: pb::ReleaseObjectsRequest,
        peer: Option<SocketAddr>,
    ) -> Result<pb::ReleaseObjectsReply, Status> {
        check_protocol(r.protocol, "release objects", peer)?;
        let store = self.wire.store();
        for rel in r.releases {
            store.release(ObjectId(parse_id(&rel.id, "an object")?), rel.count);
        }
        Ok(pb::ReleaseObjectsReply {})
    }
}
