//! SPREAD: the least loaded node with room, this one on a tie; with no room
//! anywhere, the least loaded node that could run it.

use super::{best, by_load, ClusterView, Placement, Request};

pub(super) fn place(view: ClusterView<'_>, req: Request<'_>) -> Option<Placement> {
    if !req.spread {
        return None;
    }
    let r = req.resources;
    let here = view.here;
    let with_room = best(view.peers, |p| p.has_room_for(r), by_load(r));
    let peer = match with_room {
        Some(p) if !here.fits || p.load(r) < here.load => Some(p),
        None if !here.fits => {
            best(view.peers, |p| p.can_ever_run(r), by_load(r)).filter(|p| p.load(r) < here.load)
        }
        _ => None,
    };
    Some(peer.map_or(Placement::Here, |p| Placement::Peer(p.node)))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::*;

    fn spread(r: &Resources) -> Request<'_> {
        Request {
            spread: true,
            ..ask(r)
        }
    }

    #[test]
    fn spread_goes_to_the_least_loaded_node_with_room() {
        let r = Resources::new(1.0, 0);
        let peers = [peer(2, 4.0, 2.0, 0), peer(3, 4.0, 4.0, 0)];
        let h = here(4.0, true, 0.5);
        let view = ClusterView {
            here: &h,
            peers: &peers,
        };
        assert_eq!(place(view, spread(&r)), Placement::Peer(NodeId(3)));
        let idle = here(4.0, true, 0.0);
        let view = ClusterView {
            here: &idle,
            peers: &peers,
        };
        assert_eq!(place(view, spread(&r)), Placement::Here, "a tie stays here");
        let full = here(4.0, false, 2.0);
        let busy = [peer(2, 4.0, 0.0, 4), peer(3, 4.0, 0.0, 1)];
        let view = ClusterView {
            here: &full,
            peers: &busy,
        };
        assert_eq!(
            place(view, spread(&r)),
            Placement::Peer(NodeId(3)),
            "no room: least loaded"
        );
    }
}
