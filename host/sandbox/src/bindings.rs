//! Host bindings of the `wrun:runtime/job` world, generated from wit/: the
//! one `bindgen!` of the workspace, and conversions between WIT and
//! wrun-core types.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "job",
    imports: {
        "wrun:runtime/objects.get": async | trappable,
        "wrun:runtime/objects.wait": async | trappable,
        "wrun:runtime/tasks.stream-next": async | trappable,
        // In a cluster these may ask other nodes (placement, names).
        "wrun:runtime/actors.create": async | trappable,
        "wrun:runtime/actors.lookup": async | trappable,
        "wrun:runtime/actors.create-scheduled": async | trappable,
        "wrun:runtime/actors.kill": async | trappable,
        "wrun:runtime/actors.restart": async | trappable,
        "wrun:runtime/placement-groups.create": async | trappable,
        "wrun:runtime/placement-groups.bundle-nodes": async | trappable,
        "wrun:runtime/placement-groups.remove": async | trappable,
        default: trappable,
    },
    exports: { default: async },
    with: {
        "wrun:runtime/types.object-ref": wrun_objects::Held,
    },
});

pub use wrun::runtime::types::{
    ActorOptions, Arg, Bundle, Error as WitError, ErrorKind as WitErrorKind, Id as WitId,
    PlacementStrategy, Scheduling, TaskOptions, Value,
};

use wrun_core::{ErrorKind, Id, TaskError};

impl From<Id> for WitId {
    fn from(id: Id) -> Self {
        WitId {
            hi: id.hi,
            lo: id.lo,
        }
    }
}

impl From<WitId> for Id {
    fn from(id: WitId) -> Self {
        Id::new(id.hi, id.lo)
    }
}

impl From<WitErrorKind> for ErrorKind {
    fn from(k: WitErrorKind) -> Self {
        match k {
            WitErrorKind::Application => ErrorKind::Application,
            WitErrorKind::Trap => ErrorKind::Trap,
            WitErrorKind::Timeout => ErrorKind::Timeout,
            WitErrorKind::MemoryLimit => ErrorKind::MemoryLimit,
            WitErrorKind::ActorDied => ErrorKind::ActorDied,
            WitErrorKind::NotFound => ErrorKind::NotFound,
            WitErrorKind::InvalidArgument => ErrorKind::InvalidArgument,
            WitErrorKind::GetTimeout => ErrorKind::GetTimeout,
            WitErrorKind::ObjectLost => ErrorKind::ObjectLost,
            WitErrorKind::Infeasible => ErrorKind::Infeasible,
            WitErrorKind::PlacementGroupRemoved => ErrorKind::PlacementGroupRemoved,
            WitErrorKind::TaskCancelled => ErrorKind::TaskCancelled,
            WitErrorKind::Internal => ErrorKind::Internal,
        }
    }
}

impl From<ErrorKind> for WitErrorKind {
    fn from(k: ErrorKind) -> Self {
        match k {
            ErrorKind::Application => WitErrorKind::Application,
            ErrorKind::Trap => WitErrorKind::Trap,
            ErrorKind::Timeout => WitErrorKind::Timeout,
            ErrorKind::MemoryLimit => WitErrorKind::MemoryLimit,
            ErrorKind::ActorDied => WitErrorKind::ActorDied,
            ErrorKind::NotFound => WitErrorKind::NotFound,
            ErrorKind::InvalidArgument => WitErrorKind::InvalidArgument,
            ErrorKind::GetTimeout => WitErrorKind::GetTimeout,
            ErrorKind::ObjectLost => WitErrorKind::ObjectLost,
            ErrorKind::Infeasible => WitErrorKind::Infeasible,
            ErrorKind::PlacementGroupRemoved => WitErrorKind::PlacementGroupRemoved,
            ErrorKind::TaskCancelled => WitErrorKind::TaskCancelled,
            ErrorKind::Internal => WitErrorKind::Internal,
        }
    }
}

impl From<WitError> for TaskError {
    fn from(e: WitError) -> Self {
        let native = if e.native.len() <= TaskError::MAX_NATIVE {
            e.native
        } else {
            Vec::new()
        };
        TaskError {
            kind: e.kind.into(),
            task: e.task,
            language: e.language,
            message: e.message,
            native,
            types: TaskError::bounded_types(e.types),
        }
    }
}

impl From<TaskError> for WitError {
    fn from(e: TaskError) -> Self {
        WitError {
            kind: e.kind.into(),
            task: e.task,
            language: e.language,
            message: e.message,
            native: e.native,
            types: e.types.into_vec(),
        }
    }
}
