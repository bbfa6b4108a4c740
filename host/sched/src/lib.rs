//! Scheduling: the resource accounting of one node ([`Scheduler`], whose
//! [`Grant`]s give resources back however their holder ends), placement
//! groups (which node takes each bundle, [`groups::plan`]; the bundles
//! reserved here, [`LocalBundles`]), and the placement policy
//! ([`policy::place`]: where a call runs in a cluster).
//!
//! **Architecture Invariant:** no wasmtime, no network, no I/O: the policy is
//! pure functions of plain data, unit-tested rule by rule, and the scheduler
//! is a lock and a queue.

#![warn(missing_docs)]

pub mod bundles;
pub mod groups;
pub mod policy;
pub mod scheduler;

pub use bundles::LocalBundles;
pub use groups::{plan, NodeRoom, PlanError};
pub use policy::{place, ClusterView, HereView, NodeView, Placement, Request};
pub use scheduler::{Acquire, Grant, Refused, Scheduler};
