//! Where a task or actor runs: here (its resources reserved at once when
//! they are free), on a peer (by the placement policy), or in the bundle of
//! a placement group.

use std::fmt::Display;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use wrun_core::{ErrorKind, GroupId, JobId, NodeId, Resources, Scheduling, TaskError};
use wrun_objects::TaskArg;
use wrun_sched::{Grant, HereView, Placement, Request, Scheduler};

use crate::inner::RuntimeInner;

/// Where a call goes.
pub(crate) enum Where {
    /// Here: with its resources reserved already (`grant`), or out of a
    /// placement group bundle's `scheduler`.
    Here {
        grant: Option<Grant>,
        scheduler: Option<Arc<Scheduler>>,
    },
    /// On another node; in this bundle of a group.
    Peer {
        node: NodeId,
        bundle: Option<(GroupId, u32)>,
    },
}

impl RuntimeInner {
    /// Where a task (`reserve_at`: its queue priority, to reserve its
    /// resources here if they are free) or an actor (`None`) goes. `label`
    /// is formatted only into an error (not once per task).
    pub(crate) async fn place(
        self: &Arc<Self>,
        job: JobId,
        label: &(dyn Display + Sync),
        resources: &Resources,
        scheduling: Scheduling,
        args: &[TaskArg],
        reserve_at: Option<u32>,
    ) -> Result<Where, TaskError> {
        if let Scheduling::PlacementGroup { group, bundle } = scheduling {
            return self.bundle_for(job, label, group, bundle, resources).await;
        }
        let total = self.scheduler.total();
        let feasible = resources.infeasible_in(total).is_none();
        let (grant, fits) = match reserve_at {
            Some(priority) if feasible => {
                let g = self.scheduler.try_acquire(resources, priority);
                let fits = g.is_some();
                (g, fits)
            }
            None if feasible => (None, resources.fits_in(&self.scheduler.available())),
            _ => (None, false),
        };
        let here = HereView {
            node: self.node(),
            total: total.clone(),
            fits,
            load: self.scheduler.load(resources),
        };
        let arg_bytes = self.remote_arg_bytes(args);
        let req = Request {
            resources,
            arg_bytes: &arg_bytes,
            affinity: scheduling.affinity(),
            spread: scheduling == Scheduling::Spread,
        };
        match self.peers.place(&here, req) {
            Placement::Here => Ok(Where::Here {
                grant,
                scheduler: None,
            }),
            Placement::Peer(node) => Ok(Where::Peer { node, bundle: None }),
            Placement::Infeasible(why) => Err(TaskError::new(
                ErrorKind::Infeasible,
                label.to_string(),
                why,
            )),
        }
    }

    /// Bytes of the by-reference arguments that other nodes own, per node
    /// (for placing a task where its data is).
    fn remote_arg_bytes(&self, args: &[TaskArg]) -> Vec<(NodeId, u64)> {
        let here = self.node();
        let mut out: Vec<(NodeId, u64)> = Vec::new();
        for a in args {
            let TaskArg::Ref(h) = a else { continue };
            if h.owner() == here {
                continue;
            }
            let size = self.objects.size_of(h);
            match out.iter_mut().find(|(n, _)| *n == h.owner()) {
                Some((_, total)) => *total += size,
                None => out.push((h.owner(), size)),
            }
        }
        out
    }

    /// The bundle of `group` (a group of `job`) a call runs in, and where
    /// that bundle is.
    async fn bundle_for(
        self: &Arc<Self>,
        job: JobId,
        label: &(dyn Display + Sync),
        group: GroupId,
        bundle: Option<u32>,
        resources: &Resources,
    ) -> Result<Where, TaskError> {
        let here = self.node();
        let invalid = |m: String| TaskError::new(ErrorKind::InvalidArgument, label.to_string(), m);
        // Another job's group is refused as one that does not exist.
        let Some(info) = self.group_info(job, group).await else {
            if self.removed_groups.lock().was_removed(job, group) {
                return Err(TaskError::new(
                    ErrorKind::PlacementGroupRemoved,
                    label.to_string(),
                    format!("its placement group {group} was removed before it was placed"),
                ));
            }
            return Err(TaskError::new(
                ErrorKind::NotFound,
                label.to_string(),
                format!(
                    "placement group {group} does not exist (it was removed, or never created)"
                ),
            ));
        };
        if let Some((i, s)) = bundle.and_then(|i| Some((i, self.bundles.scheduler(group, i)?))) {
            if let Some(why) = resources.infeasible_in(s.total()) {
                return Err(invalid(format!(
                    "it {why}: more than bundle {i} of placement group {group} reserves"
                )));
            }
            return Ok(Where::Here {
                grant: None,
                scheduler: Some(s),
            });
        }
        let fits = |i: usize| resources.infeasible_in(&info.bundles[i].1).is_none();
        let index = match bundle {
            Some(i) if i as usize >= info.bundles.len() => {
                return Err(invalid(format!(
                    "placement group {group} has {} bundle(s), numbered from 0; there is no bundle {i}",
                    info.bundles.len()
                )))
            }
            Some(i) if !fits(i as usize) => {
                return Err(invalid(format!(
                    "it needs {resources}, more than bundle {i} of placement group {group} reserves ({})",
                    info.bundles[i as usize].1
                )))
            }
            Some(i) => i as usize,
            None => {
                let candidates: Vec<usize> = (0..info.bundles.len()).filter(|&i| fits(i)).collect();
                if candidates.is_empty() {
                    return Err(invalid(format!(
                        "it needs {resources}, more than any bundle of placement group {group} reserves"
                    )));
                }
                // A bundle on this node with room first; else take turns.
                candidates
                    .iter()
                    .copied()
                    .find(|&i| {
                        info.bundles[i].0 == here
                            && self
                                .bundles
                                .scheduler(group, i as u32)
                                .is_some_and(|s| resources.fits_in(&s.available()))
                    })
                    .unwrap_or_else(|| {
                        let n = self.next_bundle.fetch_add(1, Ordering::Relaxed) as usize;
                        candidates[n % candidates.len()]
                    })
            }
        };
        let node = info.bundles[index].0;
        if node != here {
            return Ok(Where::Peer {
                node,
                bundle: Some((group, index as u32)),
            });
        }
        match self.bundles.scheduler(group, index as u32) {
            Some(s) => Ok(Where::Here {
                grant: None,
                scheduler: Some(s),
            }),
            None => Err(TaskError::new(
                ErrorKind::NotFound,
                label.to_string(),
                format!("bundle {index} of placement group {group} is no longer reserved (the group was removed)"),
            )),
        }
    }
}
