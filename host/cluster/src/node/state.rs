//! `ListState` on a node: its tasks, actors or objects, or their counts, as
//! the head asks (`wrun list`, `summary`, `memory`, `timeline`).

use std::collections::BTreeMap;

use tonic::Status;
use wrun_proto::pb;
use wrun_proto::state::{check_request, to_actor, to_object, to_task, MAX_LISTED};
use wrun_runtime::Runtime;

/// This node's answer to `r`.
pub(crate) fn list_state(
    rt: &Runtime,
    r: &pb::ListStateRequest,
) -> Result<pb::ListStateReply, Status> {
    let asked = check_request(r).map_err(Status::invalid_argument)?;
    let (kind, filters, after) = (asked.kind, asked.filters, asked.after);
    let limit = r.limit.min(MAX_LISTED) as usize;
    let node = rt.node_id().to_string();
    let mut reply = pb::ListStateReply::default();
    // Counts by (name, state): bytes summed for objects.
    let mut counts: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    match kind {
        pb::StateKind::StateTasks if r.counts => {
            for (name, state, n) in rt.task_counts(&filters) {
                counts.insert((name.to_string(), state.as_str().into()), (n, 0));
            }
        }
        pb::StateKind::StateTasks => {
            let (records, total) = rt.tasks(&filters, after, limit);
            reply.tasks = records.iter().map(to_task).collect();
            reply.total = total as u64;
        }
        pb::StateKind::StateActors => {
            let (records, total) =
                rt.actors(&filters, after, if r.counts { usize::MAX } else { limit });
            if r.counts {
                for a in &records {
                    counts
                        .entry((a.class.to_string(), a.state.into()))
                        .or_default()
                        .0 += 1;
                }
            } else {
                reply.actors = records.iter().map(to_actor).collect();
                reply.total = total as u64;
            }
        }
        pb::StateKind::StateObjects => {
            let (records, total) =
                rt.objects(&filters, after, if r.counts { usize::MAX } else { limit });
            if r.counts {
                // Memory by job: where the bytes are.
                for o in &records {
                    let job = o.job.map(|j| j.to_string()).unwrap_or_default();
                    let state = match o.state {
                        "ready" if o.spilled => "spilled",
                        "ready" => "in-memory",
                        other => other,
                    };
                    let c = counts.entry((job, state.into())).or_default();
                    c.0 += 1;
                    c.1 += o.size;
                }
            } else {
                reply.objects = records.iter().map(to_object).collect();
                reply.total = total as u64;
            }
        }
    }
    reply.counts = counts
        .into_iter()
        .map(|((name, state), (count, bytes))| pb::StateCount {
            name,
            state,
            node: node.clone(),
            count,
            bytes,
        })
        .collect();
    Ok(reply)
}
