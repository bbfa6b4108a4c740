//! What a caller asks of one task or actor: returns, resources, retries,
//! timeout, environment and where it may run.

use std::time::Duration;

use crate::ids::{GroupId, JobId, NodeId};
use crate::resources::Resources;

/// The most return values one call may declare.
pub const MAX_RETURNS: u32 = 1024;

/// What an actor call returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returning {
    /// This many result objects (0: fire and forget).
    Values(u32),
    /// One: the stream of the items it yields (Ray's
    /// `num_returns="streaming"`).
    Stream,
}

/// Per-call options of a task (host side of the WIT `task-options`).
#[derive(Clone, Debug)]
pub struct TaskOptions {
    /// Result objects of the call (0: fire and forget).
    pub num_returns: u32,
    /// `None`: the environment's default for tasks, or 1 CPU.
    pub resources: Option<Resources>,
    /// Re-runs after system failures (and application errors with
    /// `retry_exceptions`); `u32::MAX`: no limit (Ray's `-1`).
    pub max_retries: u32,
    /// Also retry application errors (only those of
    /// `retry_exception_types`, when it is not empty).
    pub retry_exceptions: bool,
    /// With `retry_exceptions`: the error type names retried (Ray's
    /// `retry_exceptions=[A, B]`); empty: every application error.
    pub retry_exception_types: Vec<String>,
    /// Wall-clock limit per attempt.
    pub timeout: Option<Duration>,
    /// A named environment of the job's manifest; the caller's when `None`.
    pub environment: Option<String>,
    /// An inline environment (JSON, as Ray's `runtime_env` option) changing
    /// the one it would run in; docs/runtime-env.md says what it may change.
    pub runtime_env: Option<String>,
    /// Where it runs beyond having its resources.
    pub scheduling: Scheduling,
    /// A warm instance that runs it retires once it has run this many tasks
    /// (Ray's `max_calls`); 0: no limit.
    pub max_calls: u32,
    /// A streaming call (Ray's `num_returns="streaming"`): its one result is
    /// the stream of the items it yields (`num_returns` is 1).
    pub streaming: bool,
}

impl Default for TaskOptions {
    fn default() -> Self {
        TaskOptions {
            num_returns: 1,
            resources: None,
            max_retries: 0,
            retry_exceptions: false,
            retry_exception_types: Vec::new(),
            timeout: None,
            environment: None,
            runtime_env: None,
            scheduling: Scheduling::Default,
            max_calls: 0,
            streaming: false,
        }
    }
}

/// Options of an actor created from the host API or a guest.
#[derive(Clone, Debug, Default)]
pub struct ActorOptions {
    /// `None`: the environment's default for actors, or nothing.
    pub resources: Option<Resources>,
    /// A name to find it by (in `namespace`, else the job's own).
    pub name: Option<String>,
    /// The namespace of its name.
    pub namespace: Option<String>,
    /// Restarts after a trap (the constructor runs again).
    pub max_restarts: u32,
    /// A named environment of the job's manifest.
    pub environment: Option<String>,
    /// An inline environment (JSON) changing the one it would live in.
    pub runtime_env: Option<String>,
    /// Where it lives beyond having its resources.
    pub scheduling: Scheduling,
    /// With a name: return the actor already registered under it (or
    /// registered meanwhile) instead of failing (Ray's `get_if_exists`).
    pub get_if_exists: bool,
}

/// Where a task or actor runs, beyond having its resources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scheduling {
    /// On the submitting node while it has room, else spilled over.
    #[default]
    Default,
    /// On the least loaded node with room.
    Spread,
    /// On one node (or near it, when soft).
    NodeAffinity(NodeAffinity),
    /// In a bundle of a placement group (any bundle when `None`).
    PlacementGroup {
        /// The group.
        group: GroupId,
        /// The bundle's index.
        bundle: Option<u32>,
    },
}

impl Scheduling {
    /// The node affinity, if this is one.
    pub fn affinity(self) -> Option<NodeAffinity> {
        match self {
            Scheduling::NodeAffinity(a) => Some(a),
            _ => None,
        }
    }
}

/// Ties a task to one node of the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeAffinity {
    /// The node.
    pub node: NodeId,
    /// Run elsewhere when that node is gone or can never run the task.
    pub soft: bool,
}

/// How a placement group's bundles are spread over nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// As few nodes as possible.
    Pack,
    /// As many nodes as possible.
    Spread,
    /// All on one node, or not at all.
    StrictPack,
    /// Each on a different node, or not at all.
    StrictSpread,
}

impl Strategy {
    /// Ray's name of the strategy.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Pack => "PACK",
            Strategy::Spread => "SPREAD",
            Strategy::StrictPack => "STRICT_PACK",
            Strategy::StrictSpread => "STRICT_SPREAD",
        }
    }

    /// The strategy of a Ray name.
    pub fn from_name(s: &str) -> Option<Strategy> {
        Some(match s {
            "PACK" => Strategy::Pack,
            "SPREAD" => Strategy::Spread,
            "STRICT_PACK" => Strategy::StrictPack,
            "STRICT_SPREAD" => Strategy::StrictSpread,
            _ => return None,
        })
    }
}

/// A placed group: where each bundle is.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupInfo {
    /// The group.
    pub id: GroupId,
    /// The job it belongs to: no other job can see, use or remove it.
    pub job: JobId,
    /// How it was placed.
    pub strategy: Strategy,
    /// Per bundle: the node holding it, and what it reserves.
    pub bundles: Vec<(NodeId, Resources)>,
}

/// Limits of one job's guests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobLimits {
    /// Linear memory per instance, in bytes.
    pub memory_per_instance: usize,
    /// The largest object a guest may put, in bytes.
    pub max_object_bytes: usize,
    /// Object references (and other handles) one instance may hold at once.
    pub max_refs: usize,
    /// Tasks of the job submitted on one node and not yet finished there:
    /// each holds about 1.5 KiB of the node's memory while it waits, so this
    /// bounds what one job can make a daemon hold.
    pub max_tasks_in_flight: usize,
    /// How deep tasks may nest (the driver's tasks are at depth 1): each
    /// level blocked on the next holds an instance, so a runaway recursion
    /// is refused before it holds the node's whole instance pool.
    pub max_depth: u32,
    /// CPU time all of the job's guests (driver, tasks, actors) may use
    /// together on one node: a tree of tasks, each under its own
    /// `cpu_time`, cannot spin the node for ever. The default also bounds
    /// jobs without a manifest.
    pub job_cpu_time: Duration,
    /// The job's actors alive on one node at once: each holds an instance
    /// of the node's pool for its whole life, so one job cannot take the
    /// pool from the others.
    pub max_actors: usize,
    /// Bytes of the objects the job makes on one node (puts, stream items,
    /// task results; in memory or spilled) kept at once.
    pub object_bytes: usize,
    /// Bytes of guest output (stdout, stderr, `logging`) a second the job
    /// may send on one node, with bursts of four seconds' worth; past it
    /// lines are dropped and counted.
    pub log_rate: usize,
}

impl Default for JobLimits {
    fn default() -> Self {
        JobLimits {
            memory_per_instance: 512 << 20,
            max_object_bytes: 1 << 30,
            max_refs: 1_000_000,
            // A flood of no-op tasks never read held ~3 KiB of a node's
            // memory per waiting task (305 MiB over the daemon's own at
            // this limit): room left, on a machine of a few GiB, for the
            // job's objects and the other jobs.
            max_tasks_in_flight: 100_000,
            // Half the default pool of 1,000 instances.
            max_depth: 500,
            // An hour of one core: far past any example or benchmark.
            job_cpu_time: Duration::from_secs(3600),
            // Half the default pool of 1,000 instances, as max_depth.
            max_actors: 500,
            // A sixth of this machine class's 24 GiB.
            object_bytes: 4 << 30,
            // Far more than people read; a flood is cut before it costs.
            log_rate: 1 << 20,
        }
    }
}

/// Each job's own namespace (`job-<id>`) is private to it; every other
/// namespace is shared by the jobs that know its name.
pub fn is_private_namespace(ns: &str) -> bool {
    ns.starts_with("job-")
}

/// The private namespace of a job.
pub fn job_namespace(job: JobId) -> String {
    format!("job-{job}")
}
