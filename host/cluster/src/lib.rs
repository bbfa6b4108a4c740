//! The cluster: a head (control state in sled, the cluster's view of nodes,
//! the job API, names and placement groups every node agrees on) and node
//! daemons (each a [`wrun_runtime::Runtime`] with the cluster's links), all
//! talking gRPC (tonic) with the cluster token on every call.
//!
//! Nodes join and report their resources; a job submitted to the head runs
//! on the node with the most free CPUs, and its logs and result stream back;
//! components travel by content hash and are compiled once per node; the
//! head's control state survives a restart. Each node places the tasks its
//! guests submit (the policy is wrun-sched's; `view.rs` is what it knows of
//! the peers), runs them there (`remote.rs`), moves objects on demand
//! (`objects.rs`), and reaches actors on any node by id or by a name the
//! head keeps (`directory.rs`).
//!
//! **Architecture Invariant:** this is the only crate that knows sled, and
//! with `wrun-proto` (the messages) the only one that knows tonic or prost;
//! the runtime sees the cluster only through the traits of
//! `wrun_runtime::cluster`.

#![warn(missing_docs)]

pub mod auth;
mod cancel;
pub mod client;
pub mod connections;
pub mod daemon;
pub mod daemons;
pub mod dashboard;
mod directory;
pub mod guard;
pub mod harness;
mod head;
pub mod health;
mod kill;
pub mod metrics;
mod node;
mod objects;
mod remote;
pub mod serve;
pub mod tls;
pub mod view;
pub mod views;
pub mod web;

pub use head::KEEP_JOBS;
pub use node::{JoinRefused, HEARTBEAT};

pub use wrun_proto::{pb as proto, PROTOCOL_VERSION};

/// The port the head listens on unless told otherwise (`--port`).
pub const DEFAULT_HEAD_PORT: u16 = 6390;
