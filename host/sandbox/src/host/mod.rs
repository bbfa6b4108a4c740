//! The host side of the WIT imports, one file per interface: what a guest
//! can ask of wrun. References a guest holds are entries of its resource
//! table ([`Held`](wrun_objects::Held)s), so a guest can only name objects it
//! was handed, and everything it still holds is released when its instance
//! is dropped.

mod actors;
mod context;
mod logging;
pub(crate) mod objects;
mod placement_groups;
mod tasks;
mod types;

use std::time::{Duration, Instant};

use wrun_core::{GroupId, NodeAffinity, NodeId, Resources, Scheduling};

use crate::bindings::Scheduling as WitScheduling;

fn deadline_after(timeout_ms: Option<u64>) -> Option<Instant> {
    timeout_ms.map(|ms| Instant::now() + Duration::from_millis(ms))
}

/// The resources a call asked for; `None` when it asked for nothing (the
/// environment's default applies), with `default_cpus` when it named only
/// memory or custom resources.
fn resources(
    cpus: Option<f64>,
    memory: u64,
    custom: &[(String, f64)],
    default_cpus: f64,
) -> Result<Option<Resources>, String> {
    if cpus.is_none() && memory == 0 && custom.is_empty() {
        return Ok(None);
    }
    let cpus = cpus.unwrap_or(default_cpus);
    if !cpus.is_finite() || cpus < 0.0 {
        return Err(format!("cpus must be a finite number >= 0, got {cpus}"));
    }
    let mut r = Resources::new(cpus, memory);
    for (name, amount) in custom {
        if name.is_empty() || !amount.is_finite() || *amount < 0.0 {
            return Err(format!(
                "custom resource `{name}` = {amount}: names must be non-empty and amounts finite and >= 0"
            ));
        }
        r = r.with_custom(name, *amount);
    }
    Ok(Some(r))
}

/// A guest's scheduling choice as the runtime takes it.
fn scheduling(s: WitScheduling) -> Scheduling {
    match s {
        WitScheduling::Default => Scheduling::Default,
        WitScheduling::Spread => Scheduling::Spread,
        WitScheduling::NodeAffinity(a) => Scheduling::NodeAffinity(NodeAffinity {
            node: NodeId(a.node.hi),
            soft: a.soft,
        }),
        WitScheduling::PlacementGroup(t) => Scheduling::PlacementGroup {
            group: GroupId(t.group.into()),
            bundle: t.bundle,
        },
    }
}
