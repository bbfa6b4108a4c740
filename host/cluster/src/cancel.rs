//! Cancels sent to other nodes (`Cancel`): to the node running a task for
//! this one, or to the node that owns an object.

use std::sync::Arc;

use wrun_core::{JobId, NodeId};
use wrun_proto::{pb, PROTOCOL_VERSION};
use wrun_runtime::cluster::CancelTarget;

use crate::connections::Connections;

/// Sends a cancel to `node` in the background; a failure is logged (the
/// caller's own results say cancelled either way).
pub(crate) fn send(
    conns: Arc<Connections>,
    node: NodeId,
    job: JobId,
    target: CancelTarget,
    force: bool,
    recursive: bool,
) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    rt.spawn(async move {
        let target = match target {
            CancelTarget::Object(o) => {
                pb::cancel_request::Target::ObjectId(wrun_proto::id_bytes(o.0))
            }
            CancelTarget::Task(t) => pb::cancel_request::Target::TaskId(wrun_proto::id_bytes(t.0)),
        };
        let sent = async {
            let mut client = conns.client(node).await.map_err(|e| e.to_string())?;
            let req = conns
                .request(pb::CancelRequest {
                    protocol: PROTOCOL_VERSION,
                    job_id: job.to_string(),
                    target: Some(target),
                    force,
                    recursive,
                })
                .map_err(|s| s.message().to_string())?;
            let reply = client
                .cancel(req)
                .await
                .map_err(|s| s.message().to_string())?;
            match reply.into_inner().error {
                Some(e) => Err(wrun_proto::from_error(e).to_string()),
                None => Ok(()),
            }
        };
        if let Err(e) = sent.await {
            tracing::warn!(%node, %job, error = %e, "a cancel could not be delivered");
        }
    });
}
