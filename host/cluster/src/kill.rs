//! Kills sent to the node of an actor (`KillActor`), answered: the caller
//! hears whether the actor's node did it, or why not.

use wrun_core::{ActorId, ErrorKind, JobId, TaskError};
use wrun_proto::{pb, PROTOCOL_VERSION};

use crate::connections::Connections;

/// Kills `actor` on its node for `caller` (with `restart`, only its
/// instance); that node's answer. Another job's actor is not found there,
/// in the words an id nobody minted gets.
pub(crate) async fn send(
    conns: &Connections,
    actor: ActorId,
    caller: Option<JobId>,
    restart: bool,
) -> Result<(), TaskError> {
    let node = actor.node();
    let unreachable = |why: &str| {
        TaskError::new(
            ErrorKind::ActorDied,
            "kill",
            format!("node {node} (where actor {actor} lives) cannot be reached: {why}"),
        )
    };
    let mut client = conns
        .client(node)
        .await
        .map_err(|e| unreachable(&e.to_string()))?;
    let req = conns
        .request(pb::KillActorRequest {
            protocol: PROTOCOL_VERSION,
            actor_id: wrun_proto::id_bytes(actor.0),
            job_id: caller.map(|j| j.to_string()).unwrap_or_default(),
            restart,
        })
        .map_err(|s| TaskError::internal("kill", s.message()))?;
    let reply = client.kill_actor(req).await.map_err(|s| {
        tracing::debug!(%actor, %node, error = %s.message(), "a kill could not be delivered");
        unreachable(s.message())
    })?;
    match reply.into_inner().error {
        Some(e) => Err(wrun_proto::from_error(e)),
        None => Ok(()),
    }
}
