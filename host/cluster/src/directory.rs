//! Names and placement groups every node agrees on, kept by the head:
//! actor names are claimed and looked up there, placed groups recorded
//! there so every node finds a bundle's node.

use std::sync::Arc;

use tonic::transport::Channel;
use wrun_core::{ActorId, ErrorKind, GroupId, GroupInfo, TaskError};
use wrun_objects::BoxFuture;
use wrun_proto::pb::head_client::HeadClient;
use wrun_proto::{pb, PROTOCOL_VERSION};
use wrun_runtime::cluster::Directory;

use crate::connections::Connections;

/// The head, as the directory of a node.
pub struct HeadDirectory {
    head: HeadClient<Channel>,
    conns: Arc<Connections>,
}

impl HeadDirectory {
    /// The directory at the head `head`, called with `conns`' token.
    pub fn new(head: HeadClient<Channel>, conns: Arc<Connections>) -> Arc<Self> {
        Arc::new(HeadDirectory { head, conns })
    }

    /// Sends a request that needs no answer, in the background.
    fn spawn<F>(&self, what: &'static str, call: F)
    where
        F: std::future::Future<Output = Result<(), tonic::Status>> + Send + 'static,
    {
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(s) = call.await {
                    tracing::warn!(error = %s.message(), what, "the head did not take a request");
                }
            });
        }
    }
}

fn failed(label: &str, what: &str, s: &tonic::Status) -> TaskError {
    TaskError::new(
        ErrorKind::Internal,
        label,
        format!("the head could not {what}: {}", s.message()),
    )
}

impl Directory for HeadDirectory {
    fn register_name(
        &self,
        namespace: &str,
        name: &str,
        actor: ActorId,
    ) -> BoxFuture<'static, Result<(), TaskError>> {
        let req = self.conns.request(pb::RegisterActorRequest {
            protocol: PROTOCOL_VERSION,
            namespace: namespace.to_string(),
            name: name.to_string(),
            actor_id: wrun_proto::id_bytes(actor.0),
        });
        let mut head = self.head.clone();
        let label = name.to_string();
        Box::pin(async move {
            let req = req.map_err(|s| failed(&label, "register the name", &s))?;
            match head.register_actor(req).await {
                Ok(_) => Ok(()),
                Err(s) if s.code() == tonic::Code::AlreadyExists => Err(TaskError::new(
                    ErrorKind::InvalidArgument,
                    label,
                    s.message(),
                )),
                Err(s) => Err(failed(&label, "register the name", &s)),
            }
        })
    }

    fn unregister_name(&self, namespace: &str, name: &str, actor: ActorId) {
        let Ok(req) = self.conns.request(pb::UnregisterActorRequest {
            protocol: PROTOCOL_VERSION,
            namespace: namespace.to_string(),
            name: name.to_string(),
            actor_id: wrun_proto::id_bytes(actor.0),
        }) else {
            return;
        };
        let mut head = self.head.clone();
        self.spawn("unregister an actor name", async move {
            head.unregister_actor(req).await.map(|_| ())
        });
    }

    fn lookup_name(&self, namespace: &str, name: &str) -> BoxFuture<'static, Option<ActorId>> {
        let req = self.conns.request(pb::LookupActorRequest {
            protocol: PROTOCOL_VERSION,
            namespace: namespace.to_string(),
            name: name.to_string(),
        });
        let mut head = self.head.clone();
        Box::pin(async move {
            match head.lookup_actor(req.ok()?).await {
                Ok(r) => wrun_core::Id::from_bytes(&r.into_inner().actor_id).map(ActorId),
                Err(s) => {
                    tracing::warn!(error = %s.message(), "looking up a named actor at the head failed");
                    None
                }
            }
        })
    }

    fn publish_group(&self, info: &GroupInfo) -> BoxFuture<'static, Result<(), TaskError>> {
        let req = self.conns.request(wrun_proto::to_group(info));
        let mut head = self.head.clone();
        Box::pin(async move {
            let label = "placement group";
            let req = req.map_err(|s| failed(label, "record it", &s))?;
            head.register_group(req)
                .await
                .map(|_| ())
                .map_err(|s| failed(label, "record it", &s))
        })
    }

    fn group(&self, group: GroupId) -> BoxFuture<'static, Option<GroupInfo>> {
        let req = self.conns.request(pb::GetGroupRequest {
            protocol: PROTOCOL_VERSION,
            group: wrun_proto::id_bytes(group.0),
        });
        let mut head = self.head.clone();
        Box::pin(async move {
            let reply = head.get_group(req.ok()?).await.ok()?.into_inner();
            wrun_proto::from_group(&reply.group?)
        })
    }

    fn forget_group(&self, group: GroupId) {
        let Ok(req) = self.conns.request(pb::GetGroupRequest {
            protocol: PROTOCOL_VERSION,
            group: wrun_proto::id_bytes(group.0),
        }) else {
            return;
        };
        let mut head = self.head.clone();
        self.spawn("forget a placement group", async move {
            head.remove_group(req).await.map(|_| ())
        });
    }
}
