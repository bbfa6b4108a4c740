//! The Rust guest SDK of wrun: write tasks, actors and a driver as ordinary
//! Rust, build the crate as a `cdylib` for `wasm32-wasip2`, and submit the
//! component with `wrun submit`.
//!
//! ```ignore
//! use wrun::prelude::*;
//!
//! #[wrun::task]
//! fn add(a: i64, b: i64) -> i64 { a + b }
//!
//! fn main(_args: Vec<String>) -> wrun::Result<i64> {
//!     let r = add::remote(1, 2)?;
//!     add::remote(&r, 5)?.get()
//! }
//!
//! wrun::export_job!(main = main, tasks = [add]);
//! ```
//!
//! Values cross the boundary as MessagePack (structs as maps with field names);
//! object references are extension type 1 and actor handles extension type 2.
//! See `docs/rust-sdk.md` for the guide.
#![warn(missing_docs)]

extern crate self as wrun;

mod actor;
#[doc(hidden)]
pub mod bindings;
mod blob;
mod codec;
pub mod context;
mod error;
mod export;
mod handle;
mod id;
pub mod log;
mod object;
mod placement;
mod stream;
mod task;

pub use actor::{exit_actor, ActorHandle, ActorOptions};
pub use blob::{put_blob, Blob};
pub use error::{Error, ErrorKind, Result};
pub use id::Id;
pub use object::{cancel, get, get_all, get_all_timeout, put, wait, ObjectRef, Ready};
pub use placement::{Bundle, PlacementGroup, Scheduling, Strategy};
pub use stream::{yield_item, ObjectRefGenerator};
pub use task::{Arg, IntoArg, TaskOptions};
/// Marks an `impl` block as an actor class.
pub use wrun_macros::actor;
/// Marks a function as a remote task: `#[wrun::task]` or
/// `#[wrun::task(num_returns = N)]`.
pub use wrun_macros::task;

/// Re-exported so user crates need no direct serde dependency for bounds.
pub use serde;
/// Re-exported for efficient byte strings (`ByteBuf` encodes as MessagePack `bin`).
pub use serde_bytes;

/// The names most jobs use.
pub mod prelude {
    pub use crate::{
        debug, error, get, get_all, info, put, put_blob, trace, wait, warn, ActorHandle, Blob,
        Error, ErrorKind, Id, IntoArg, ObjectRef, ObjectRefGenerator, Result,
    };
    pub use serde::{Deserialize, Serialize};
}

/// Used by generated code; not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::wrun::runtime::types as wit;
    pub use crate::export::{
        app_error, arg, construct, ret, run_main, Actor, ActorState, Args, Export, Job, WitResult,
    };
    pub use crate::stream::{submit_streaming, yield_ret};
    pub use crate::task::{submit, Returns};
    pub use serde;
    pub use wit_bindgen;
}
