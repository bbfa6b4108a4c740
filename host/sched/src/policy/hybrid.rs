//! The default (Ray's hybrid policy): here while this node has room; else
//! the peer with the most free CPUs that has room; else, with no room
//! anywhere, the least loaded node (this one on a tie), where it waits.

use super::{best, by_load, ClusterView, Placement, Request};

pub(super) fn place(view: ClusterView<'_>, req: Request<'_>) -> Option<Placement> {
    if view.here.fits {
        return Some(Placement::Here);
    }
    let r = req.resources;
    let by_room =
        |a: &super::NodeView, b: &super::NodeView| a.free.cpu_millis.cmp(&b.free.cpu_millis);
    let peer = best(view.peers, |p| p.has_room_for(r), by_room).or_else(|| {
        best(view.peers, |p| p.can_ever_run(r), by_load(r)).filter(|p| p.load(r) < view.here.load)
    });
    Some(peer.map_or(Placement::Here, |p| Placement::Peer(p.node)))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::*;

    #[test]
    fn work_stays_here_while_it_fits_then_spills_to_the_roomiest_peer() {
        let r = Resources::new(1.0, 0);
        let peers = [peer(2, 4.0, 1.0, 0), peer(3, 4.0, 3.0, 0)];
        let room = here(2.0, true, 0.5);
        let view = ClusterView {
            here: &room,
            peers: &peers,
        };
        assert_eq!(place(view, ask(&r)), Placement::Here);
        let full = here(2.0, false, 1.0);
        let view = ClusterView {
            here: &full,
            peers: &peers,
        };
        assert_eq!(place(view, ask(&r)), Placement::Peer(NodeId(3)));
    }

    #[test]
    fn with_no_room_anywhere_work_waits_on_the_least_loaded_node() {
        let r = Resources::new(1.0, 0);
        let busy = [peer(2, 2.0, 0.0, 6), peer(3, 2.0, 0.0, 2)];
        let loaded = here(2.0, false, 3.0);
        let view = ClusterView {
            here: &loaded,
            peers: &busy,
        };
        assert_eq!(
            place(view, ask(&r)),
            Placement::Peer(NodeId(3)),
            "load 2.0 < 3.0"
        );
        let light = here(2.0, false, 1.5);
        let view = ClusterView {
            here: &light,
            peers: &busy,
        };
        assert_eq!(
            place(view, ask(&r)),
            Placement::Here,
            "this node is the least loaded"
        );
    }
}
