//! Jobs at the head: components and environments registered by content
//! hash, the job placed on a live node and kept as it runs (`feed.rs`), the
//! submitter following it like any follower, stopping a job on every node,
//! the jobs' records as `wrun job list` shows them; and each job's CPU time
//! summed across nodes.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio_stream::StreamExt;
use tonic::{Request, Response, Status};
use wrun_core::content_hash;
use wrun_proto::pb::{self as proto, job_event::Event};
use wrun_proto::PROTOCOL_VERSION;

use super::feed::{self, now_ms};
use super::store::MAX_LISTED_VALUE;
use super::{internal, EventStream, HeadService, JobRecord, LiveNode};

/// How long the head waits for each node to stop a job's work there.
const STOP_WAIT: Duration = Duration::from_secs(10);

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
            submitted_ms: now_ms(),
            ended_ms: 0,
            args: r.args.clone(),
            env_hash: env_hash.clone(),
            stop_requested: false,
            log_lines: 0,
            value_bytes: 0,
        };
        let Some(node) = self.place() else {
            record.state = "failed".into();
            record.detail = "no live node".into();
            record.ended_ms = now_ms();
            self.record_job(&record);
            return Err(Status::unavailable(
                "no node of the cluster is alive; start one with `wrun start --address HEAD:PORT`",
            ));
        };
        record.state = "running".into();
        record.node_id = node.node_id.clone();
        self.record_job(&record);
        tracing::info!(job = %job_id, name = %r.name, node = %node.node_id, "job placed");
        // Open before it starts: its tasks on other nodes send lines at once.
        let feed = self.feeds.open(&job_id);
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
                record.ended_ms = now_ms();
                self.record_job(&record);
                self.feeds.close(&job_id);
                return Err(s);
            }
        };
        // Kept from here on whether or not the submitter stays.
        feed::keep(
            self.store.clone(),
            self.feeds.clone(),
            feed,
            record,
            events,
            self.keep_jobs,
        );
        let first = [Event::JobId(job_id.clone()), Event::PlacedOn(node.node_id)]
            .map(|e| Ok(proto::JobEvent { event: Some(e) }));
        let rest = feed::follow(self.store.clone(), &self.feeds, job_id, 0, true)?;
        Ok(Response::new(Box::pin(
            tokio_stream::iter(first).chain(rest),
        )))
    }

    /// Stops a running job on every live node (its driver's node ends it,
    /// and its end is recorded as `stopped`).
    pub(super) async fn stop(&self, job_id: &str) -> Result<proto::StopJobReply, Status> {
        let Some(mut record) = self.store.job(job_id).map_err(internal)? else {
            return Err(Status::not_found(format!(
                "no job {job_id} at this head (`wrun job list` lists those it keeps)"
            )));
        };
        if record.ended() {
            return Err(Status::failed_precondition(format!(
                "job {job_id} has already ended: {}",
                record.state
            )));
        }
        record.stop_requested = true;
        self.store.put_job(&record).map_err(internal)?;
        tracing::info!(job = %job_id, "stopping a job on every node");
        let addresses = self.live_addresses();
        let mut telling = tokio::task::JoinSet::new();
        for (node, address) in addresses {
            let (transport, token) = (self.transport.clone(), self.token.clone());
            let job_id = job_id.to_string();
            telling.spawn(async move {
                let told = async {
                    let mut client = super::node_client(&transport, &address).await?;
                    let req = proto::StopJobRequest {
                        protocol: PROTOCOL_VERSION,
                        job_id: job_id.clone(),
                    };
                    client.stop_job(token.attach(Request::new(req))?).await
                };
                match tokio::time::timeout(STOP_WAIT, told).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(s)) => {
                        tracing::warn!(job = %job_id, %node, error = %s.message(), "a node did not stop a job");
                    }
                    Err(_) => {
                        tracing::warn!(job = %job_id, %node, "a node did not answer a job's stop");
                    }
                }
            });
        }
        telling.join_all().await;
        Ok(proto::StopJobReply {})
    }

    /// Every job the head keeps, as `wrun job list` shows them.
    pub(super) fn job_statuses(&self) -> Result<Vec<proto::JobStatus>, Status> {
        let mut jobs = self.store.jobs().map_err(internal)?;
        jobs.sort_by_key(|j| j.submitted_ms);
        Ok(jobs
            .into_iter()
            .map(|j| {
                let log_lines = self.feeds.lines(&j.job_id).unwrap_or(j.log_lines);
                let listed = j.value_bytes > 0 && j.value_bytes <= MAX_LISTED_VALUE;
                let outcome = || self.store.outcome(&j.job_id);
                let result = match listed.then(outcome) {
                    Some(Ok(Some(bytes))) => {
                        use prost::Message;
                        match proto::JobEvent::decode(&bytes[..]) {
                            Ok(proto::JobEvent {
                                event: Some(Event::Result(r)),
                            }) => r.value,
                            _ => Vec::new(),
                        }
                    }
                    _ => Vec::new(),
                };
                proto::JobStatus {
                    job_id: j.job_id,
                    name: j.name,
                    state: j.state,
                    node_id: j.node_id,
                    detail: j.detail,
                    submitted_ms: j.submitted_ms,
                    ended_ms: j.ended_ms,
                    args: j.args,
                    components: j.components,
                    env_hash: j.env_hash,
                    result,
                    log_lines,
                }
            })
            .collect())
    }
}
