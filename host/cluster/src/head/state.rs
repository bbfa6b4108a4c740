//! `ListState` at the head: every live node's tasks, actors or objects (or
//! their counts), merged. A node that does not answer in time is named in
//! the reply, not waited for.

use std::time::Duration;

use tonic::{Request, Status};
use wrun_proto::pb as proto;
use wrun_proto::state::{check_request, id_place, task_place, MAX_LISTED};
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
        // Each node sent its first `limit` after `after` in the listing's
        // order (calls newest first, actors and objects by id, descending):
        // the page is the first `limit` of them all.
        merged
            .tasks
            .sort_by(|a, b| task_place(a).cmp(&task_place(b)));
        merged
            .actors
            .sort_by(|a, b| id_place(&a.id).cmp(&id_place(&b.id)));
        merged
            .objects
            .sort_by(|a, b| id_place(&a.id).cmp(&id_place(&b.id)));
        let limit = limit as usize;
        merged.tasks.truncate(limit);
        merged.actors.truncate(limit);
        merged.objects.truncate(limit);
        let listed = merged.tasks.len() + merged.actors.len() + merged.objects.len();
        if merged.total > listed as u64 && !r.counts {
            merged.next = match (
                merged.tasks.last(),
                merged.actors.last(),
                merged.objects.last(),
            ) {
                (Some(t), _, _) => format!("{}:{}", t.submitted_us, t.id),
                (_, Some(a), _) => a.id.clone(),
                (_, _, Some(o)) => o.id.clone(),
                _ => String::new(),
            };
        }
        merged.unreachable.sort();
        Ok(merged)
    }
}
