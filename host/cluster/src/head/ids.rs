//! Ids from the wire as the head's store keeps them (hex).

use tonic::Status;

/// An id from the wire (`what` it names, for the error), as the store
/// keeps it (hex).
#[allow(
    clippy::result_large_err,
    reason = "tonic's Status is what handlers return"
)]
pub(super) fn id_hex(bytes: &[u8], what: &str) -> Result<String, Status> {
    wrun_core::Id::from_bytes(bytes)
        .map(|id| id.to_string())
        .ok_or_else(|| Status::invalid_argument(format!("{what} id must be 16 bytes")))
}

/// The node an actor lives on, from its recorded id (hex): its high half.
pub(super) fn actor_node(actor_id: &str) -> String {
    actor_id
        .parse::<wrun_core::ActorId>()
        .map(|a| a.node().to_string())
        .unwrap_or_default()
}
