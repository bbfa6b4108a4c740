"""Where calls run, from Python: scheduling strategies and placement groups
(the names Ray uses). On one node:

    wrun submit placement.wasm
    # -> {"bundle_nodes_are_here": true, "in_bundle": "<node>", "spread": "<node>",
    #     "pinned": "<node>", "actor_in_bundle": "<node>", "strict_spread": "<why not>"}

On a cluster every call lands where its strategy says (docs/cluster.md).
"""

import wrun


def node():
    return str(wrun.get_runtime_context().node_id.hi)


@wrun.remote
def where():
    return node()


@wrun.remote
class Spot:
    def where(self):
        return node()


@wrun.main
def main(args):
    here = wrun.get_runtime_context().node_id
    # Small: calls outside the group need CPUs the group does not hold.
    pg = wrun.placement_group([{"CPU": 0.5}, {"CPU": 0.25}], strategy="PACK")
    in_bundle = where.options(
        scheduling_strategy=wrun.PlacementGroupSchedulingStrategy(pg, 1), cpus=0.25
    ).remote()
    spread = where.options(scheduling_strategy="SPREAD", cpus=0.25).remote()
    pinned = where.options(
        scheduling_strategy=wrun.NodeAffinitySchedulingStrategy(here, soft=False), cpus=0.25
    ).remote()
    spot = Spot.options(scheduling_strategy=wrun.PlacementGroupSchedulingStrategy(pg)).remote()
    out = {
        "bundle_nodes_are_here": all(n.hi == here.hi for n in pg.bundle_nodes()),
        "in_bundle": wrun.get(in_bundle),
        "spread": wrun.get(spread),
        "pinned": wrun.get(pinned),
        "actor_in_bundle": wrun.get(spot.where.remote()),
    }
    # Bundle indexes past the end, or below -1 (any bundle), fail at the
    # call, as in Ray: the SDK's check, and the host's behind it.
    out["bad_bundle_index"] = []
    for index in (2, -2):
        try:
            where.options(
                scheduling_strategy=wrun.PlacementGroupSchedulingStrategy(pg, index), cpus=0.25
            ).remote()
            out["bad_bundle_index"].append("accepted")
        except (ValueError, wrun.TaskError) as e:
            out["bad_bundle_index"].append(type(e).__name__)
    forged = wrun.PlacementGroup(pg.id)  # the id alone: only the host knows its size
    try:
        where.options(scheduling_strategy=wrun.PlacementGroupSchedulingStrategy(forged, 2)).remote()
        out["bad_bundle_index"].append("accepted")
    except wrun.TaskError as e:
        out["bad_bundle_index"].append(e.kind)
    wrun.remove_placement_group(pg)
    try:
        wrun.placement_group([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_SPREAD", timeout=1)
        out["strict_spread"] = "placed"
    except wrun.TaskError as e:
        out["strict_spread"] = str(e)
    return out
