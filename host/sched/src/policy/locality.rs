//! Locality: a call goes to the peer that owns most of its by-reference
//! arguments, when those are large enough to be worth not moving and the
//! peer has room.

use super::{ClusterView, Placement, Request};

/// Arguments smaller than this in all are cheaper to move than to chase.
pub const LOCALITY_MIN_BYTES: u64 = 1 << 20;

pub(super) fn place(view: ClusterView<'_>, req: Request<'_>) -> Option<Placement> {
    let (node, bytes) = req.arg_bytes.iter().max_by_key(|(_, b)| *b)?;
    if *bytes < LOCALITY_MIN_BYTES {
        return None;
    }
    view.peers
        .iter()
        .find(|p| p.node == *node && p.has_room_for(req.resources))
        .map(|p| Placement::Peer(p.node))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::*;

    #[test]
    fn large_arguments_pull_the_call_to_their_owner_when_it_has_room() {
        let r = Resources::new(1.0, 0);
        let h = here(2.0, true, 0.0);
        let peers = [peer(2, 2.0, 2.0, 0), peer(3, 2.0, 0.0, 0)];
        let view = ClusterView {
            here: &h,
            peers: &peers,
        };
        let big = [(NodeId(2), 4 << 20), (NodeId(3), 1 << 20)];
        let req = Request {
            arg_bytes: &big,
            ..ask(&r)
        };
        assert_eq!(place(view, req), Placement::Peer(NodeId(2)));
        let small = [(NodeId(2), 1000)];
        let req = Request {
            arg_bytes: &small,
            ..ask(&r)
        };
        assert_eq!(place(view, req), Placement::Here, "small arguments move");
        let busy_owner = [(NodeId(3), 8 << 20)];
        let req = Request {
            arg_bytes: &busy_owner,
            ..ask(&r)
        };
        assert_eq!(place(view, req), Placement::Here, "its owner has no room");
    }
}
