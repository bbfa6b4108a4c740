//! Node affinity: a hard one runs the call on its node or nowhere; a soft
//! one prefers its node while that node is live and could ever run it.

use super::{ClusterView, Placement, Request};

pub(super) fn place(view: ClusterView<'_>, req: Request<'_>) -> Option<Placement> {
    let a = req.affinity?;
    let r = req.resources;
    if a.node == view.here.node {
        return Some(match r.infeasible_in(&view.here.total) {
            Some(why) if !a.soft => Placement::Infeasible(format!(
                "it must run on node {}, which can never run it: it {why}",
                a.node
            )),
            Some(_) => return None,
            None => Placement::Here,
        });
    }
    match view.peers.iter().find(|p| p.node == a.node) {
        Some(p) if p.can_ever_run(r) => Some(Placement::Peer(p.node)),
        _ if a.soft => None,
        Some(p) => Some(Placement::Infeasible(format!(
            "it must run on node {}, which can never run it: it {}",
            p.node,
            r.infeasible_in(&p.total).unwrap_or_default()
        ))),
        None => Some(Placement::Infeasible(format!(
            "it must run on node {}, which is not a live node of the cluster; make the affinity soft to run it elsewhere",
            a.node
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::super::*;
    use wrun_core::NodeAffinity;

    fn pinned(r: &Resources, node: u64, soft: bool) -> Request<'_> {
        Request {
            affinity: Some(NodeAffinity {
                node: NodeId(node),
                soft,
            }),
            ..ask(r)
        }
    }

    #[test]
    fn hard_affinity_pins_the_call_or_says_why_it_cannot_run() {
        let r = Resources::new(1.0, 0);
        let h = here(2.0, true, 0.0);
        let peers = [peer(2, 1.0, 0.0, 5)];
        let view = ClusterView {
            here: &h,
            peers: &peers,
        };
        assert_eq!(
            place(view, pinned(&r, 2, false)),
            Placement::Peer(NodeId(2)),
            "even when busy"
        );
        assert_eq!(place(view, pinned(&r, 1, false)), Placement::Here);
        let gone = place(view, pinned(&r, 9, false));
        assert!(matches!(gone, Placement::Infeasible(m) if m.contains("not a live node")));
        let big = Resources::new(2.0, 0);
        let never = place(view, pinned(&big, 2, false));
        assert!(matches!(never, Placement::Infeasible(m) if m.contains("can never run it")));
    }

    #[test]
    fn soft_affinity_falls_back_to_the_other_rules() {
        let r = Resources::new(1.0, 0);
        let h = here(2.0, true, 0.0);
        let peers = [peer(2, 1.0, 1.0, 0)];
        let view = ClusterView {
            here: &h,
            peers: &peers,
        };
        assert_eq!(place(view, pinned(&r, 2, true)), Placement::Peer(NodeId(2)));
        assert_eq!(
            place(view, pinned(&r, 9, true)),
            Placement::Here,
            "gone: runs here"
        );
    }
}
