//! The wire contract between wrun processes: `cluster.proto` (services
//! `Head` and `Node`, generated at build time with protoc) and every
//! conversion between its messages and wrun-core's types, so nothing else
//! spells out a field mapping.
//!
//! **Architecture Invariant:** depends on wrun-core only; the runtime and
//! the cluster meet the wire here. Rules for changing the messages: add
//! fields, never reuse a number for another meaning, and bump
//! [`PROTOCOL_VERSION`] with any change an older peer would misread.

#![warn(missing_docs)]

use std::net::SocketAddr;

use wrun_core::{ErrorKind, GroupId, GroupInfo, Id, NodeId, Resources, Strategy, TaskError};

pub mod codec;
pub mod state;

/// The generated messages and services.
#[allow(missing_docs, reason = "generated; documented in cluster.proto")]
#[allow(
    clippy::all,
    clippy::allow_attributes_without_reason,
    reason = "generated"
)]
#[allow(unused_qualifications, reason = "generated")]
pub mod pb {
    tonic::include_proto!("wrun.cluster.v1");
}

/// The version of the messages between wrun processes. Bump it with any
/// change to cluster.proto that an older peer would misread.
pub const PROTOCOL_VERSION: u32 = 11;

/// Refuses a peer that speaks another protocol version, logging who.
#[allow(
    clippy::result_large_err,
    reason = "tonic's Status is what handlers return"
)]
pub fn check_protocol(
    theirs: u32,
    what: &str,
    peer: Option<SocketAddr>,
) -> Result<(), tonic::Status> {
    if theirs == PROTOCOL_VERSION {
        return Ok(());
    }
    let peer = peer.map_or_else(|| "an unknown peer".to_string(), |a| a.to_string());
    tracing::warn!(
        theirs,
        ours = PROTOCOL_VERSION,
        what,
        %peer,
        "refused a peer of another protocol version"
    );
    Err(tonic::Status::failed_precondition(format!(
        "{what}: the peer speaks wrun protocol {theirs}, this process speaks {PROTOCOL_VERSION}; run the same wrun version on every machine of the cluster"
    )))
}

/// Resources as the wire carries them.
pub fn to_resources(r: &Resources) -> pb::Resources {
    pb::Resources {
        cpus: r.cpus().max(0.0),
        memory: r.memory.max(0) as u64,
        custom: r
            .custom_amounts()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

/// Resources as the runtime counts them.
pub fn from_resources(r: &pb::Resources) -> Resources {
    let mut out = Resources::new(r.cpus, r.memory);
    for (k, v) in &r.custom {
        out = out.with_custom(k, *v);
    }
    out
}

/// A guest's line as the wire carries it, written on `node`.
pub fn to_log_line(l: wrun_core::logs::LogLine, node: NodeId) -> pb::LogLine {
    pb::LogLine {
        task: l.task.to_string(),
        message: l.message,
        stderr: l.level >= wrun_core::logs::Level::Warn,
        actor: l.actor.map(|a| a.to_string()).unwrap_or_default(),
        node: node.to_string(),
    }
}

/// A task error as it crosses the network.
pub fn to_error(e: TaskError) -> pb::JobError {
    pb::JobError {
        kind: e.kind.wit_name().into(),
        task: e.task,
        language: e.language,
        message: e.message,
        refused: false,
        native: e.native,
        types: e.types.into_vec(),
    }
}

/// A task error as it crossed the network (an unknown kind is `internal`).
pub fn from_error(e: pb::JobError) -> TaskError {
    let native = if e.native.len() <= TaskError::MAX_NATIVE {
        e.native
    } else {
        Vec::new()
    };
    TaskError {
        kind: ErrorKind::from_wit_name(&e.kind),
        task: e.task,
        language: e.language,
        message: e.message,
        native,
        types: TaskError::bounded_types(e.types),
    }
}

/// An id as the wire carries it.
pub fn id_bytes(id: Id) -> Vec<u8> {
    id.to_bytes().to_vec()
}

/// An id from the wire (16 bytes); `what` names it in the refusal.
#[allow(
    clippy::result_large_err,
    reason = "tonic's Status is what handlers return"
)]
pub fn parse_id(bytes: &[u8], what: &str) -> Result<Id, tonic::Status> {
    Id::from_bytes(bytes).ok_or_else(|| {
        tonic::Status::invalid_argument(format!("{what} id of {} bytes (expected 16)", bytes.len()))
    })
}

/// A node id from the wire (16 hex digits).
#[allow(
    clippy::result_large_err,
    reason = "tonic's Status is what handlers return"
)]
pub fn parse_node(s: &str) -> Result<NodeId, tonic::Status> {
    s.parse()
        .map_err(|e: wrun_core::ids::BadId| tonic::Status::invalid_argument(e.to_string()))
}

/// A placement group as the wire and the head's records carry it.
pub fn to_group(info: &GroupInfo) -> pb::GroupRecord {
    pb::GroupRecord {
        protocol: PROTOCOL_VERSION,
        group: id_bytes(info.id.0),
        strategy: info.strategy.name().to_string(),
        job_id: info.job.to_string(),
        bundles: info
            .bundles
            .iter()
            .enumerate()
            .map(|(i, (node, r))| pb::Bundle {
                index: i as u32,
                resources: Some(to_resources(r)),
                node_id: node.to_string(),
            })
            .collect(),
    }
}

/// A placement group from its record; `None` if the record is malformed.
pub fn from_group(r: &pb::GroupRecord) -> Option<GroupInfo> {
    Some(GroupInfo {
        id: GroupId(Id::from_bytes(&r.group)?),
        job: r.job_id.parse().ok()?,
        strategy: Strategy::from_name(&r.strategy)?,
        bundles: r
            .bundles
            .iter()
            .map(|b| {
                Some((
                    b.node_id.parse().ok()?,
                    from_resources(&b.resources.clone().unwrap_or_default()),
                ))
            })
            .collect::<Option<_>>()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wrun_core::JobId;

    #[test]
    fn core_types_round_trip_through_their_messages() {
        let r = Resources::new(1.5, 1024).with_custom("gpu", 2.0);
        assert_eq!(from_resources(&to_resources(&r)), r);
        let e = TaskError {
            kind: ErrorKind::ActorDied,
            task: "A.f".into(),
            language: "python".into(),
            message: "gone".into(),
            native: vec![0x80, 4],
            types: ["app.Gone".into(), "builtins.Exception".into()].into(),
        };
        assert_eq!(from_error(to_error(e.clone())), e);
        // A native encoding past the bound is dropped, the rest kept.
        let big = TaskError {
            native: vec![0; TaskError::MAX_NATIVE + 1],
            ..e.clone()
        };
        assert_eq!(from_error(to_error(big)).native, Vec::<u8>::new());
        let g = GroupInfo {
            id: GroupId(Id::new(7, 9)),
            job: JobId(Id::new(3, 5)),
            strategy: Strategy::StrictSpread,
            bundles: vec![(NodeId(3), r.clone()), (NodeId(4), r)],
        };
        assert_eq!(from_group(&to_group(&g)), Some(g));
        assert!(parse_id(&[1, 2], "an actor").is_err());
        assert_eq!(parse_node("00000000000000ff").unwrap(), NodeId(255));
        let refused = check_protocol(PROTOCOL_VERSION + 1, "join", None).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    }
}
