//! The runtime's state, shared by everything it runs, and the helpers
//! every kind of call uses.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use wrun_core::{ErrorKind, GroupId, GroupInfo, IdGen, JobId, NodeId, TaskError};
use wrun_env::{Environment, InlineEnv};
use wrun_objects::{ObjectStore, ObjectValue};
use wrun_sandbox::{LoadedJob, Sandbox};
use wrun_sched::{LocalBundles, Scheduler};

use crate::cluster::{Directory, Peers, Remote};
use crate::registry::ActorRegistry;
use crate::RuntimeConfig;

/// Task counters, for progress lines and `wrun status`.
#[derive(Default, Debug)]
pub struct Counters {
    /// Calls made (tasks and actor methods).
    pub submitted: AtomicU64,
    /// Calls that succeeded.
    pub finished: AtomicU64,
    /// Calls that failed.
    pub failed: AtomicU64,
    /// Attempts retried.
    pub retried: AtomicU64,
}

impl Counters {
    pub(crate) fn count(&self, outcome: &Result<Vec<ObjectValue>, TaskError>) {
        match outcome {
            Ok(_) => self.finished.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.failed.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// Everything the runtime of one node holds.
pub(crate) struct RuntimeInner {
    pub(crate) ids: Arc<IdGen>,
    pub(crate) objects: Arc<ObjectStore>,
    pub(crate) sandbox: Sandbox,
    pub(crate) scheduler: Arc<Scheduler>,
    pub(crate) actors: ActorRegistry,
    pub(crate) counters: Counters,
    pub(crate) config: RuntimeConfig,
    pub(crate) peers: Arc<dyn Peers>,
    pub(crate) remote: Arc<dyn Remote>,
    pub(crate) directory: Arc<dyn Directory>,
    /// Bundles of placement groups reserved on this node.
    pub(crate) bundles: LocalBundles,
    /// Groups created here (with the job that created them), and groups
    /// of other nodes this node has looked up.
    pub(crate) groups: Mutex<HashMap<GroupId, (GroupInfo, Option<JobId>)>>,
    /// Spreads calls over a group's bundles when they name none.
    pub(crate) next_bundle: AtomicU64,
    /// Placement groups waiting for room, and why.
    pub(crate) group_waits: Mutex<HashMap<GroupId, String>>,
    /// Groups removed lately.
    pub(crate) removed_groups: Mutex<crate::removed_groups::RemovedGroups>,
    /// Tasks run here for other nodes, for the cancels they forward.
    pub(crate) for_peers: crate::for_peers::ForPeers,
    /// The jobs loaded here, for their CPU time across the cluster.
    pub(crate) loaded: crate::job_on_node::LoadedJobs,
    /// Every call's state, and the recent ended ones.
    pub(crate) ledger: Arc<crate::ledger::Ledger>,
}

impl RuntimeInner {
    pub(crate) fn node(&self) -> NodeId {
        self.ids.node_id()
    }
}

/// The environment a call runs in: a named one of the job's manifest, or
/// the caller's, changed by an inline one (`runtime_env`) when given.
pub(crate) fn resolve_environment(
    job: &LoadedJob,
    caller_env: &Arc<Environment>,
    name: Option<&str>,
    inline: Option<&str>,
    what: &str,
) -> Result<Arc<Environment>, TaskError> {
    let base = match name {
        None => caller_env.clone(),
        Some(n) => job.env.named.get(n).cloned().ok_or_else(|| {
            let known: Vec<&str> = job.env.named.keys().map(String::as_str).collect();
            TaskError::new(
                ErrorKind::NotFound,
                what,
                format!(
                    "no environment `{n}` in {} (declared: {})",
                    job.env.source,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            )
        })?,
    };
    let Some(text) = inline else {
        return Ok(base);
    };
    InlineEnv::parse(text)
        .and_then(|inline| job.inline_envs.resolve(&job.env, &base, &inline))
        .map_err(|message| TaskError::new(ErrorKind::InvalidArgument, what, message))
}

/// What identifies `env` on every node of the job: `(environment,
/// runtime_env)` options that resolve to it from the job's own.
pub(crate) fn environment_identity(env: &Environment) -> (Option<String>, Option<String>) {
    (env.name.clone(), env.inline.as_ref().map(|i| i.canonical()))
}
