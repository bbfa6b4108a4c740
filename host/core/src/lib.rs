//! wrun's vocabulary, shared by every host crate: ids that stay unique
//! across nodes, resources, the options of tasks and actors, the error that
//! reaches a result's reader, job limits, guest log lines, values rendered
//! for people, the units people write, and the records of work a node
//! reports for listings.
//!
//! **Architecture Invariant:** no I/O, no async runtime, no wasmtime and no
//! network types here: everything is plain data and pure functions, so every
//! other crate can depend on it.

#![warn(missing_docs)]

pub mod error;
pub mod ids;
pub mod logs;
pub mod options;
pub mod page;
pub mod resources;
pub mod state;
pub mod units;
pub mod values;

/// The content hash of some bytes (hex SHA-256): the identity of components
/// and environments on every node, and the compiled-component cache key.
pub fn content_hash(bytes: &[u8]) -> String {
    use sha2::Digest;
    use std::fmt::Write;
    let d = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in d {
        let _ = write!(out, "{b:02x}");
    }
    out
}

pub use error::{ErrorKind, TaskError};
pub use ids::{ActorId, GroupId, Id, IdGen, JobId, NodeId, ObjectId, TaskId};
pub use logs::Label;
pub use options::{
    is_private_namespace, job_namespace, ActorOptions, GroupInfo, JobLimits, NodeAffinity,
    Returning, Scheduling, Strategy, TaskOptions, MAX_RETURNS,
};
pub use resources::{Infeasible, Resources};
