//! A call this node can never run goes to a peer that can (one with room
//! first, the least loaded otherwise); one that no node can run fails at
//! once, with the remedy.

use super::{best, by_load, ClusterView, Placement, Request};

pub(super) fn place(view: ClusterView<'_>, req: Request<'_>) -> Option<Placement> {
    let r = req.resources;
    let why = r.infeasible_in(&view.here.total)?;
    let peer = best(
        view.peers,
        |p| p.can_ever_run(r),
        |a, b| {
            a.has_room_for(r)
                .cmp(&b.has_room_for(r))
                .then(by_load(r)(a, b))
        },
    );
    Some(match peer {
        Some(p) => Placement::Peer(p.node),
        None if view.peers.is_empty() => Placement::Infeasible(format!(
            "it can never be scheduled: it {why}; run it where these resources exist (a node started with `--resources NAME=N`) or ask for less"
        )),
        None => Placement::Infeasible(format!(
            "it can never be scheduled: it {why}, and no other node of the cluster has enough either; start a node with them (wrun start --address HEAD --resources NAME=N)"
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::*;

    #[test]
    fn a_call_this_node_cannot_run_goes_to_a_peer_that_can() {
        let r = Resources::new(2.0, 0);
        let h = here(1.0, false, 0.0);
        let peers = [
            peer(2, 2.0, 0.0, 3),
            peer(3, 2.0, 0.0, 1),
            peer(4, 1.0, 1.0, 0),
        ];
        let view = ClusterView {
            here: &h,
            peers: &peers,
        };
        assert_eq!(
            place(view, ask(&r)),
            Placement::Peer(NodeId(3)),
            "the less loaded of those able"
        );
        let peers = [peer(2, 2.0, 0.0, 3), peer(3, 2.0, 2.0, 9)];
        let view = ClusterView {
            here: &h,
            peers: &peers,
        };
        assert_eq!(
            place(view, ask(&r)),
            Placement::Peer(NodeId(3)),
            "room first"
        );
        let view = ClusterView {
            here: &h,
            peers: &peers[..0],
        };
        assert!(
            matches!(place(view, ask(&r)), Placement::Infeasible(m) if m.contains("needs 2 cpus"))
        );
    }
}
