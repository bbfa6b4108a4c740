//! Placement groups: planned here (by [`wrun_sched::plan`]), reserved all
//! or nothing node by node, recorded in the directory so every node finds a
//! bundle's node, released with their job.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wrun_core::{ErrorKind, GroupId, GroupInfo, JobId, NodeId, Resources, Strategy, TaskError};
use wrun_sched::{plan, NodeRoom, PlanError};

use crate::inner::RuntimeInner;

impl RuntimeInner {
    /// A placement group of `job`: created here, or looked up at the head.
    /// Another job's group is `None`, as one that does not exist (no job
    /// learns that another's id is real).
    pub(crate) async fn group_info(&self, job: JobId, group: GroupId) -> Option<GroupInfo> {
        let cached = self.groups.lock().get(&group).map(|(info, _)| info.clone());
        let info = match cached {
            Some(info) => info,
            None => {
                let info = self.directory.group(group).await?;
                self.groups.lock().insert(group, (info.clone(), None));
                info
            }
        };
        (info.job == job).then_some(info)
    }

    /// Refuses a bundle index past the end of `job`'s group `group` at the
    /// call, as Ray does, when this node knows the group (it made it, or
    /// looked it up before); otherwise placing the call refuses it.
    pub(crate) fn check_bundle_index(
        &self,
        job: JobId,
        group: GroupId,
        index: u32,
        what: &str,
    ) -> Result<(), TaskError> {
        let bundles = self
            .groups
            .lock()
            .get(&group)
            .filter(|(info, _)| info.job == job)
            .map(|(info, _)| info.bundles.len());
        match bundles {
            Some(n) if index as usize >= n => Err(TaskError::new(
                ErrorKind::InvalidArgument,
                what,
                format!(
                    "placement group {group} has {n} bundle(s), numbered from 0; there is no bundle {index}"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Reserves `bundles` as `strategy` says, all or nothing, waiting for
    /// room until `timeout`.
    pub(crate) async fn create_group(
        self: &Arc<Self>,
        job: JobId,
        bundles: Vec<Resources>,
        strategy: Strategy,
        timeout: Option<Duration>,
    ) -> Result<GroupId, TaskError> {
        let label = "placement group";
        if bundles.is_empty() {
            return Err(TaskError::new(
                ErrorKind::InvalidArgument,
                label,
                "a placement group needs at least one bundle",
            ));
        }
        let here = self.node();
        let id = GroupId(self.ids.next());
        let deadline = timeout.map(|t| Instant::now() + t);
        // While it waits, `wrun status` says why; the note goes with this
        // call however it ends.
        struct WaitNote<'a>(&'a parking_lot::Mutex<HashMap<GroupId, String>>, GroupId);
        impl Drop for WaitNote<'_> {
            fn drop(&mut self) {
                self.0.lock().remove(&self.1);
            }
        }
        let _note = WaitNote(&self.group_waits, id);
        loop {
            let mut nodes = vec![NodeRoom {
                node: here,
                free: self.scheduler.available(),
                total: self.scheduler.total().clone(),
            }];
            nodes.extend(self.peers.rooms());
            let why = match plan(strategy, &bundles, &nodes) {
                Ok(assignment) => match self.reserve_all(id, &bundles, &assignment, &nodes).await {
                    Ok(()) => {
                        let info = GroupInfo {
                            id,
                            job,
                            strategy,
                            bundles: assignment
                                .iter()
                                .zip(&bundles)
                                .map(|(&n, r)| (nodes[n].node, r.clone()))
                                .collect(),
                        };
                        self.groups.lock().insert(id, (info.clone(), Some(job)));
                        if let Err(e) = self.directory.publish_group(&info).await {
                            self.release_group(&info);
                            return Err(e);
                        }
                        tracing::debug!(group = %id, strategy = strategy.name(), bundles = bundles.len(), "placement group created");
                        return Ok(id);
                    }
                    Err(why) => why,
                },
                Err(PlanError::Never(why)) => {
                    return Err(TaskError::new(
                        ErrorKind::Infeasible,
                        label,
                        format!("it can never be placed: {why}"),
                    ))
                }
                Err(PlanError::Wait(why)) => why,
            };
            self.group_waits.lock().insert(
                id,
                format!("placement group {id} ({}) waits: {why}", strategy.name()),
            );
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(TaskError::new(
                    ErrorKind::GetTimeout,
                    label,
                    format!(
                        "{} bundles ({}) could not be reserved within {:?}: {why}",
                        bundles.len(),
                        strategy.name(),
                        timeout.unwrap_or_default()
                    ),
                ));
            }
            // Peers' free resources refresh every heartbeat.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Reserves each node's share of a plan; on any refusal, gives back
    /// what was reserved and says why.
    async fn reserve_all(
        &self,
        id: GroupId,
        bundles: &[Resources],
        assignment: &[usize],
        nodes: &[NodeRoom],
    ) -> Result<(), String> {
        let here = self.node();
        let mut done: Vec<NodeId> = Vec::new();
        for (n, room) in nodes.iter().enumerate() {
            let share: Vec<(u32, Resources)> = assignment
                .iter()
                .enumerate()
                .filter(|(_, &a)| a == n)
                .map(|(i, _)| (i as u32, bundles[i].clone()))
                .collect();
            if share.is_empty() {
                continue;
            }
            let reserved = if room.node == here {
                self.bundles.reserve(&self.scheduler, id, &share)
            } else {
                self.remote
                    .reserve_bundles(room.node, id, share)
                    .await
                    .map_err(|e| e.message)
            };
            match reserved {
                Ok(()) => done.push(room.node),
                Err(why) => {
                    for node in done {
                        self.release_on(node, id);
                    }
                    return Err(format!("node {}: {why}", room.node));
                }
            }
        }
        Ok(())
    }

    fn release_on(&self, node: NodeId, group: GroupId) {
        if node == self.node() {
            self.bundles.release(group);
        } else {
            self.remote.release_bundles(node, group);
        }
    }

    fn release_group(&self, info: &GroupInfo) {
        let mut nodes: Vec<NodeId> = info.bundles.iter().map(|(n, _)| *n).collect();
        nodes.sort();
        nodes.dedup();
        for node in nodes {
            self.release_on(node, info.id);
        }
    }

    /// Gives a group of `job` back on every node that holds a bundle.
    pub(crate) async fn remove_group(&self, job: JobId, group: GroupId) -> Result<(), TaskError> {
        let info = self.group_info(job, group).await.ok_or_else(|| {
            TaskError::new(
                ErrorKind::NotFound,
                "remove placement group",
                format!("placement group {group} does not exist (removed already?)"),
            )
        })?;
        self.groups.lock().remove(&group);
        self.removed_groups.lock().insert(group, job);
        self.release_group(&info);
        self.directory.forget_group(group);
        tracing::debug!(%group, "placement group removed");
        Ok(())
    }

    /// Removes the groups a job created (its driver finished).
    pub(crate) fn remove_job_groups(&self, job: JobId) {
        let gone: Vec<GroupInfo> = {
            let mut groups = self.groups.lock();
            let ids: Vec<GroupId> = groups
                .iter()
                .filter(|(_, (_, j))| *j == Some(job))
                .map(|(id, _)| *id)
                .collect();
            ids.iter()
                .filter_map(|id| groups.remove(id))
                .map(|(i, _)| i)
                .collect()
        };
        for info in gone {
            self.removed_groups.lock().insert(info.id, info.job);
            self.release_group(&info);
            self.directory.forget_group(info.id);
        }
    }
}
