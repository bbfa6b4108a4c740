//! The cluster: a head (control state in sled, the cluster's view of nodes,
//! the job API) and node daemons (each a `Runtime` running the jobs placed on
//! it), talking gRPC (tonic) with a cluster token on every call.
//!
//! Nodes join and report their resources; a job submitted to the head runs
//! on the node with the most free CPUs, and its logs and result stream back;
//! components travel by content hash and are compiled once per node; the
//! head's control state survives a restart. Each node places the tasks its
//! guests submit (`remote.rs`: here, spilled over, where the data is, where
//! the resources are), objects move between nodes on demand
//! (`objects.rs`), and actors live where they were placed, reached from
//! any node by id or by a name the head keeps.

pub mod auth;
pub mod client;
pub mod daemon;
pub mod head;
pub mod node;
pub mod objects;
pub mod peers;
pub mod remote;
pub mod serve;
pub mod store;

/// The generated messages and services (host/proto/cluster.proto).
pub mod proto {
    tonic::include_proto!("wrun.cluster.v1");
}

/// The version of the messages between wrun processes. Bump it with any
/// change to cluster.proto that an older peer would misread.
pub const PROTOCOL_VERSION: u32 = 2;

/// The port the head listens on unless told otherwise (`--port`).
pub const DEFAULT_HEAD_PORT: u16 = 6390;

/// Refuses a peer that speaks another protocol version.
#[allow(clippy::result_large_err)]
pub fn check_protocol(theirs: u32, what: &str) -> Result<(), tonic::Status> {
    if theirs == PROTOCOL_VERSION {
        return Ok(());
    }
    tracing::warn!(
        theirs,
        ours = PROTOCOL_VERSION,
        what,
        "refused a peer of another protocol version"
    );
    Err(tonic::Status::failed_precondition(format!(
        "{what}: the peer speaks wrun protocol {theirs}, this process speaks {PROTOCOL_VERSION}; run the same wrun version on every machine of the cluster"
    )))
}

/// Resources as the proto carries them.
pub fn to_proto_resources(r: &crate::scheduler::Resources) -> proto::Resources {
    proto::Resources {
        cpus: r.cpu_millis.max(0) as f64 / 1000.0,
        memory: r.memory.max(0) as u64,
        custom: r
            .custom
            .iter()
            .map(|(k, v)| (k.clone(), *v as f64 / 1000.0))
            .collect(),
    }
}

/// Resources as the runtime counts them.
pub fn from_proto_resources(r: &proto::Resources) -> crate::scheduler::Resources {
    let mut out = crate::scheduler::Resources::new(r.cpus, r.memory);
    for (k, v) in &r.custom {
        out = out.with_custom(k, *v);
    }
    out
}

/// A placement group as the wire and the head's records carry it.
pub fn group_record(info: &crate::placement::GroupInfo) -> proto::GroupRecord {
    proto::GroupRecord {
        protocol: PROTOCOL_VERSION,
        group: info.id.0.to_bytes().to_vec(),
        strategy: info.strategy.name().to_string(),
        bundles: info
            .bundles
            .iter()
            .enumerate()
            .map(|(i, (node, r))| proto::Bundle {
                index: i as u32,
                resources: Some(to_proto_resources(r)),
                node_id: format!("{:016x}", node.0.hi),
            })
            .collect(),
    }
}

/// A placement group from its record; `None` if the record is malformed.
pub fn group_info(r: &proto::GroupRecord) -> Option<crate::placement::GroupInfo> {
    use crate::ids::{GroupId, Id, NodeId};
    Some(crate::placement::GroupInfo {
        id: GroupId(Id::from_bytes(&r.group)?),
        strategy: crate::placement::Strategy::from_name(&r.strategy)?,
        bundles: r
            .bundles
            .iter()
            .map(|b| {
                let node = u64::from_str_radix(&b.node_id, 16).ok()?;
                Some((
                    NodeId(Id::new(node, 0)),
                    from_proto_resources(&b.resources.clone().unwrap_or_default()),
                ))
            })
            .collect::<Option<_>>()?,
    })
}

/// The hex SHA-256 of component bytes (their identity across the cluster,
/// the same key as the compiled-component cache's).
pub fn content_hash(bytes: &[u8]) -> String {
    crate::engine::ComponentCache::content_hash(bytes)
}
