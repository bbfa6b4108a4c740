//! The object store of one node: immutable objects by counted reference, a
//! memory cap with spilling to disk and transparent restore, and borrowed
//! entries for objects other nodes own.
//!
//! Objects are held as [`Bytes`], so every reader on the host shares one
//! buffer; a value is copied once in from a guest (a large one by several
//! threads) and once out into a guest's linear memory. Every
//! reference is a [`Held`]: cloning one counts one more and dropping it gives
//! the count back, with atomics on the object's own slot, so the store's map
//! is locked only when an object is created, found by id or freed.
//!
//! A node of a cluster also holds *borrowed* entries: references to objects
//! another node owns. Their bytes are pulled from the owner on the first read
//! (one transfer however many readers wait: the entry turns pending while it
//! moves), and the references other nodes counted for this one are given back
//! when its last local reference goes. The store reaches other nodes only
//! through [`ObjectTransport`], by node id: it knows no addresses.
//!
//! **Architecture Invariant:** no wasmtime, no network types. Spill files are
//! written on blocking threads, never on the async workers.

#![warn(missing_docs)]

mod blocking;
mod borrow;
mod copy;
mod listing;
mod quota;
mod spill;
mod store;
mod stream;
mod wait;
mod waiters;

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use wrun_core::{NodeId, ObjectId, TaskError};

pub use copy::copy_to_bytes;
pub use quota::{Charge, ObjectQuota, OverQuota};
pub use store::{Held, ObjectStore, Producer, Promise, StoreConfig};
pub use stream::{item_of_value, stream_value, Refused, Stream};

/// A boxed future, for the transport's calls (a trait object's methods).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An object's contents: its serialized bytes and the references it contains.
#[derive(Clone, Debug, Default)]
pub struct ObjectValue {
    /// The bytes (MessagePack, for values guests made).
    pub data: Bytes,
    /// References nested in the value; they keep their objects alive for as
    /// long as this object lives.
    pub refs: Vec<Held>,
}

impl ObjectValue {
    /// A value of bytes without references.
    pub fn from_bytes(data: impl Into<Bytes>) -> Self {
        ObjectValue {
            data: data.into(),
            refs: Vec::new(),
        }
    }
}

/// One argument of a call.
#[derive(Clone, Debug)]
pub enum TaskArg {
    /// Passed by value.
    Value(ObjectValue),
    /// Resolved to the object's value before the callee runs.
    Ref(Held),
}

/// Figures for tests, metrics and `wrun status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Objects alive (pending, ready or failed).
    pub objects: usize,
    /// Bytes of ready objects held in memory.
    pub bytes_in_memory: usize,
    /// Objects currently spilled to disk.
    pub spilled_objects: usize,
    /// Spills since start.
    pub spills_total: u64,
    /// Restores since start.
    pub restores_total: u64,
    /// Objects pulled from other nodes since start (one per object, however
    /// many readers waited for it).
    pub fetches_total: u64,
}

/// A reference as it crosses to another node: the object (its id names its
/// owner), the node that counted it for the receiver, and its size if known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireRef {
    /// The object; `id.node()` is its owner.
    pub id: ObjectId,
    /// The node that counted this reference for the receiver, which gives
    /// it back there.
    pub holder: NodeId,
    /// Bytes (0 while pending or unknown).
    pub size: u64,
}

/// An object's value as pulled from its owner: nested references arrive as
/// wire references, which the store takes over.
#[derive(Debug, Default)]
pub struct Fetched {
    /// The bytes.
    pub data: Bytes,
    /// Its nested references, counted by the owner for this node.
    pub refs: Vec<WireRef>,
}

/// How the store reaches the other nodes of a cluster.
pub trait ObjectTransport: Send + Sync + 'static {
    /// Pulls an object's value from its owner.
    fn fetch(&self, owner: NodeId, id: ObjectId) -> BoxFuture<'static, Result<Fetched, TaskError>>;
    /// Whether an object `owner` owns is ready there (computed or failed),
    /// without pulling it; the owner waits up to `wait` before answering.
    fn ready(
        &self,
        owner: NodeId,
        id: ObjectId,
        wait: std::time::Duration,
    ) -> BoxFuture<'static, Result<bool, TaskError>>;
    /// Gives back `count` references that `holder` counted for this node.
    /// Must not block: releases are batched and sent in the background.
    fn release(&self, holder: NodeId, id: ObjectId, count: u32);
}

/// The transport of a single node: there is no other node to reach.
pub struct NoTransport;

impl ObjectTransport for NoTransport {
    fn fetch(&self, owner: NodeId, id: ObjectId) -> BoxFuture<'static, Result<Fetched, TaskError>> {
        Box::pin(async move {
            Err(TaskError::new(
                wrun_core::ErrorKind::ObjectLost,
                "get",
                format!("object {id} lives on node {owner} and this node is not in a cluster"),
            ))
        })
    }

    fn ready(
        &self,
        owner: NodeId,
        id: ObjectId,
        _wait: std::time::Duration,
    ) -> BoxFuture<'static, Result<bool, TaskError>> {
        Box::pin(async move {
            Err(TaskError::new(
                wrun_core::ErrorKind::ObjectLost,
                "wait",
                format!("object {id} lives on node {owner} and this node is not in a cluster"),
            ))
        })
    }

    fn release(&self, _holder: NodeId, _id: ObjectId, _count: u32) {}
}

#[cfg(test)]
mod tests;
