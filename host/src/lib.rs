//! wrun's host: runs WebAssembly-component tasks and actors with a scheduler
//! and a shared object store. See ARCHITECTURE.md for the map.

pub mod actors;
mod bindings;
pub mod cluster;
pub mod engine;
pub mod environment;
pub mod error;
mod guest_io;
mod host_api;
pub mod ids;
pub mod logs;
pub mod object_store;
pub mod placement;
pub mod runtime;
pub mod scheduler;
pub mod values;
mod warm;

pub use environment::{Environment, ManifestError};
pub use error::{ErrorKind, LoadError, TaskError};
pub use ids::ActorId;
pub use object_store::{Held, ObjectValue, StoreStats};
pub use runtime::{
    ActorOptions, JobLimits, LoadedJob, Runtime, RuntimeConfig, TaskArg, TaskOptions,
};
