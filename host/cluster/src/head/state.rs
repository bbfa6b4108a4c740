//! `ListState` at the head: every live node's tasks, actors or objects (or
//! their counts), merged. A node that does not answer in time is named in
//! the reply, not waited for.

use std::time::Duration;

use tonic::{Request, Status};
use wrun_proto::pb as proto;
use wrun_proto::state::{check_request, MAX_LISTED};
use wrun_proto::PROTOCOL_VERSION;

use super::HeadService;

/// How long a node has to answer a listing.
const LIST_WAIT: Duration = Duration::from_secs(10);

impl HeadService {
    /// Every live node's records for `r`, newest calls first, at most
    /// `r.limit` in all.
    pub(super) async fn list_state(
        &self,
        r: proto::ListStateRequest,
    ) -> Result<proto::ListStateReply, Status> {
        check_request(&r).map_err(Status::invalid_argument)?;
        let limit = r.limit.min(MAX_LISTED);
        let mut asking = tokio::task::JoinSet::new();
        for (node, address) in self.live_addresses() {
            let (transport, token) = (self.transport.clone(), self.token.clone());
            let req = proto::ListStateRequest {
                protocol: PROTOCOL_VERSION,
                limit,
                ..r.clone()
            };
            asking.spawn(async move {
                let asked = async {
                    let mut client = super::node_client(&transport, &address).await?;
                    client.list_state(token.attach(Request::new(req))?).await
                };
                let answer = match tokio::time::timeout(LIST_WAIT, asked).await {
                    Ok(Ok(reply)) => Ok(reply.into_inner()),
                    Ok(Err(s)) if s.code() == tonic::Code::InvalidArgument => return Err(s),
                    Ok(Err(s)) => Err(format!("node {node}: {}", s.message())),
                    Err(_) => Err(format!(
                        "node {node}: no answer in {} s",
                        LIST_WAIT.as_secs()
                    )),
                };
                Ok(answer)
            });
        }
        let mut merged = proto::ListStateReply::default();
        while let Some(done) = asking.join_next().await {
            match done.map_err(super::internal)?? {
                Ok(reply) => {
                    merged.tasks.extend(reply.tasks);
                    merged.actors.extend(reply.actors);
                    merged.objects.extend(reply.objects);
                    merged.counts.extend(reply.counts);
                    merged.total += reply.total;
                }
                Err(why) => {
                    tracing::warn!(%why, "a node's records are missing from a listing");
                    merged.unreachable.push(why);
                }
            }
        }
        // Newest calls first; actors and objects by id, so pages are stable.
        merged
            .tasks
            .sort_by(|a, b| b.submitted_us.cmp(&a.submitted_us).then(a.id.cmp(&b.id)));
        merged.actors.sort_by(|a, b| a.id.cmp(&b.id));
        merged.objects.sort_by(|a, b| a.id.cmp(&b.id));
        merged.tasks.truncate(limit as usize);
        merged.actors.truncate(limit as usize);
        merged.objects.truncate(limit as usize);
        merged.unreachable.sort();
        Ok(merged)
    }
}
