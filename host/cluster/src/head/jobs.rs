//! Jobs at the head: components and environments registered by content
//! hash, the job placed on a live node, and the node's event stream relayed
//! to the submitter with the outcome recorded as it passes; and each job's
//! CPU time summed across nodes.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use tokio_stream::StreamExt;
use tonic::{Request, Response, Status};
use wrun_core::content_hash;
use wrun_proto::pb::{self as proto, job_event::Event};
use wrun_proto::PROTOCOL_VERSION;

use super::{internal, EventStream, HeadService, JobRecord, LiveNode};

/// For each job `node` reported CPU time of, what every other node reported
/// of it (a job's `limits.job_cpu_time` bounds its whole tree). Lost nodes'
/// share counts too: what a job used is used.
pub(super) fn cpu_elsewhere(
    live: &HashMap<String, LiveNode>,
    node: &str,
    reported: &[proto::JobCpu],
) -> Vec<proto::JobCpu> {
    reported
        .iter()
        .map(|j| proto::JobCpu {
            cpu_ms: live
                .iter()
                .filter(|(id, _)| id.as_str() != node)
                .filter_map(|(_, n)| n.job_cpu.get(&j.job_id))
                .sum(),
            job_id: j.job_id.clone(),
        })
        .collect()
}

impl HeadService {
    /// Registers a job's parts, places it and relays its events.
    pub(super) async fn submit(
        &self,
        r: proto::SubmitJobRequest,
    ) -> Result<Response<EventStream>, Status> {
        if r.components.is_empty() {
            return Err(Status::invalid_argument(
                "a job needs at least one component",
            ));
        }
        // Register the components by content hash; nodes fetch them by hash.
        let mut components = Vec::with_capacity(r.components.len());
        for c in r.components {
            let hash = if c.wasm.is_empty() {
                if self.store.component(&c.hash).map_err(internal)?.is_none() {
                    return Err(Status::not_found(format!(
                        "component `{}` ({}) is not registered with the head; send its bytes",
                        c.name, c.hash
                    )));
                }
                c.hash
            } else {
                let hash = content_hash(&c.wasm);
                if !c.hash.is_empty() && c.hash != hash {
                    return Err(Status::invalid_argument(format!(
                        "component `{}`: its bytes hash to {hash}, not {}",
                        c.name, c.hash
                    )));
                }
                self.store.put_component(&hash, &c.wasm).map_err(internal)?;
                hash
            };
            components.push(proto::Component {
                name: c.name,
                hash,
                wasm: Vec::new(),
            });
        }
        // The environment, like a component: stored and fetched by hash.
        let env_hash = if r.env.is_empty() {
            String::new()
        } else {
            let hash = content_hash(&r.env);
            self.store.put_component(&hash, &r.env).map_err(internal)?;
            hash
        };
        let job_id = format!(
            "{}{:016x}",
            self.id,
            self.next_job.fetch_add(1, Ordering::Relaxed)
        );
        let mut record = JobRecord {
            job_id: job_id.clone(),
            name: r.name.clone(),
            state: "pending".into(),
            node_id: String::new(),
            detail: String::new(),
            components: components.iter().map(|c| c.hash.clone()).collect(),
        };
        let Some(node) = self.place() else {
            record.state = "failed".into();
            record.detail = "no live node".into();
            self.record_job(&record);
            return Err(Status::unavailable(
                "no node of the cluster is alive; start one with `wrun start --address HEAD:PORT`",
            ));
        };
        record.state = "running".into();
        record.node_id = node.node_id.clone();
        self.record_job(&record);
        tracing::info!(job = %job_id, name = %r.name, node = %node.node_id, "job placed");
        let run = proto::RunJobRequest {
            protocol: PROTOCOL_VERSION,
            job_id: job_id.clone(),
            name: r.name,
            components,
            args: r.args,
            env_hash,
        };
        let started = async {
            let mut client = self.node_client(&node.address).await?;
            Ok::<_, Status>(
                client
                    .run_job(self.token.attach(Request::new(run))?)
                    .await?
                    .into_inner(),
            )
        };
        let events = match started.await {
            Ok(events) => events,
            Err(s) => {
                record.state = "failed".into();
                record.detail = format!("node {} did not start it: {}", node.node_id, s.message());
                self.record_job(&record);
                return Err(s);
            }
        };
        let store = self.store.clone();
        let placed = proto::JobEvent {
            event: Some(Event::PlacedOn(node.node_id.clone())),
        };
        // Relay the node's events, recording the outcome as it passes.
        let relay = events.map(move |e| {
            if let Ok(proto::JobEvent { event: Some(ev) }) = &e {
                let outcome = match ev {
                    Event::Result(_) => Some(("succeeded", String::new())),
                    Event::Error(err) => Some((
                        "failed",
                        format!("{} in {}: {}", err.kind, err.task, err.message),
                    )),
                    _ => None,
                };
                if let Some((state, detail)) = outcome {
                    record.state = state.into();
                    record.detail = detail;
                    if let Err(e) = store.put_job(&record) {
                        tracing::error!(job = %record.job_id, error = %e, "could not record a job");
                    }
                }
            }
            e
        });
        let stream = tokio_stream::once(Ok(placed)).chain(relay);
        Ok(Response::new(Box::pin(stream)))
    }
}
