//! Where calls run: scheduling strategies and placement groups.
//!
//! ```ignore
//! // Two bundles of 1 CPU on two different nodes, reserved together.
//! let pg = PlacementGroup::create(&[Bundle::cpus(1.0), Bundle::cpus(1.0)],
//!                                 Strategy::StrictSpread, None)?;
//! let r = work::options().placement_group(&pg, Some(1)).remote(7)?;
//! pg.remove()?;
//! ```

use std::time::Duration;

use crate::bindings::wrun::runtime::{placement_groups, types as wit};
use crate::{Id, Result};

/// Where a task or actor runs, beyond having its resources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scheduling {
    /// On the caller's node while it has room, else where there is room.
    #[default]
    Default,
    /// On the least loaded node with room.
    Spread,
    /// On one node.
    NodeAffinity {
        /// The node, as [`crate::context::node_id`] returns it.
        node: Id,
        /// Run elsewhere when that node is gone or can never run it.
        soft: bool,
    },
    /// In a bundle of a placement group.
    PlacementGroup {
        /// The group's id ([`PlacementGroup::id`]).
        group: Id,
        /// Which bundle; any when `None`.
        bundle: Option<u32>,
    },
}

impl Scheduling {
    pub(crate) fn to_wit(self) -> wit::Scheduling {
        match self {
            Scheduling::Default => wit::Scheduling::Default,
            Scheduling::Spread => wit::Scheduling::Spread,
            Scheduling::NodeAffinity { node, soft } => {
                wit::Scheduling::NodeAffinity(wit::NodeAffinity {
                    node: node.into(),
                    soft,
                })
            }
            Scheduling::PlacementGroup { group, bundle } => {
                wit::Scheduling::PlacementGroup(wit::BundleTarget {
                    group: group.into(),
                    bundle,
                })
            }
        }
    }
}

/// How a placement group's bundles are spread over nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// As few nodes as possible.
    Pack,
    /// As many nodes as possible.
    Spread,
    /// All on one node, or not at all.
    StrictPack,
    /// Each on a different node, or not at all.
    StrictSpread,
}

/// Resources one bundle reserves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bundle {
    cpus: f64,
    memory: u64,
    custom: Vec<(String, f64)>,
}

impl Bundle {
    /// A bundle of `cpus` CPU cores.
    pub fn cpus(cpus: f64) -> Self {
        Bundle {
            cpus,
            ..Default::default()
        }
    }

    /// Also reserves `bytes` of memory.
    pub fn memory(mut self, bytes: u64) -> Self {
        self.memory = bytes;
        self
    }

    /// Also reserves `amount` of a custom resource.
    pub fn resource(mut self, name: impl Into<String>, amount: f64) -> Self {
        self.custom.push((name.into(), amount));
        self
    }
}

/// Resources reserved together, all or nothing, for the calls scheduled
/// into them. Removed when the job's driver ends, or by [`PlacementGroup::remove`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlacementGroup {
    id: Id,
}

impl PlacementGroup {
    /// Reserves `bundles` as `strategy` says, waiting up to `timeout` (or
    /// until it can) for room; fails at once if the cluster can never hold it.
    pub fn create(
        bundles: &[Bundle],
        strategy: Strategy,
        timeout: Option<Duration>,
    ) -> Result<Self> {
        let bundles: Vec<wit::Bundle> = bundles
            .iter()
            .map(|b| wit::Bundle {
                cpus: b.cpus,
                memory: b.memory,
                custom: b.custom.clone(),
            })
            .collect();
        let strategy = match strategy {
            Strategy::Pack => wit::PlacementStrategy::Pack,
            Strategy::Spread => wit::PlacementStrategy::Spread,
            Strategy::StrictPack => wit::PlacementStrategy::StrictPack,
            Strategy::StrictSpread => wit::PlacementStrategy::StrictSpread,
        };
        let timeout_ms = timeout.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX));
        let id = placement_groups::create(&bundles, strategy, timeout_ms)?;
        Ok(PlacementGroup { id: id.into() })
    }

    /// A group created elsewhere (its id travelled in a value).
    pub fn from_id(id: Id) -> Self {
        PlacementGroup { id }
    }

    /// The group's id (other calls of its job can use it via `from_id`;
    /// to other jobs it is an id that does not exist).
    pub fn id(&self) -> Id {
        self.id
    }

    /// The node each bundle is on, in bundle order.
    pub fn bundle_nodes(&self) -> Result<Vec<Id>> {
        Ok(placement_groups::bundle_nodes(self.id.into())?
            .into_iter()
            .map(Id::from)
            .collect())
    }

    /// Gives the group's resources back.
    pub fn remove(&self) -> Result<()> {
        Ok(placement_groups::remove(self.id.into())?)
    }

    /// Scheduling into bundle `bundle` (any when `None`).
    pub fn bundle(&self, bundle: Option<u32>) -> Scheduling {
        Scheduling::PlacementGroup {
            group: self.id,
            bundle,
        }
    }
}
