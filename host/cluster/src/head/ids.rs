//! Ids from the wire as the head's store keeps them (hex).

use tonic::Status;

/// A placement group id from the wire, as the store keeps it (hex).
#[allow(
    clippy::result_large_err,
    reason = "tonic's Status is what handlers return"
)]
pub(super) fn group_hex(bytes: &[u8]) -> Result<String, Status> {
    wrun_core::Id::from_bytes(bytes)
        .map(|id| id.to_string())
        .ok_or_else(|| Status::invalid_argument("a placement group id must be 16 bytes"))
}

/// An actor id from the wire, as the store keeps it (hex).
#[allow(
    clippy::result_large_err,
    reason = "tonic's Status is what handlers return"
)]
pub(super) fn actor_hex(bytes: &[u8]) -> Result<String, Status> {
    wrun_core::Id::from_bytes(bytes)
        .map(|id| id.to_string())
        .ok_or_else(|| Status::invalid_argument("an actor id must be 16 bytes"))
}

/// The node an actor lives on, from its recorded id (hex): its high half.
pub(super) fn actor_node(actor_id: &str) -> String {
    actor_id
        .parse::<wrun_core::ActorId>()
        .map(|a| a.node().to_string())
        .unwrap_or_default()
}
