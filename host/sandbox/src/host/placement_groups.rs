//! `wrun:runtime/placement-groups`: bundles of resources reserved together.

use std::sync::Arc;
use std::time::Duration;

use wrun_core::{ErrorKind, GroupId, Strategy};

use super::resources;
use crate::bindings::wrun::runtime::placement_groups;
use crate::bindings::{Bundle, PlacementStrategy, WitError, WitId};
use crate::model::HostState;

impl placement_groups::Host for HostState {
    async fn create(
        &mut self,
        bundles: Vec<Bundle>,
        strategy: PlacementStrategy,
        timeout_ms: Option<u64>,
    ) -> wasmtime::Result<Result<WitId, WitError>> {
        let mut wanted = Vec::with_capacity(bundles.len());
        for (i, b) in bundles.iter().enumerate() {
            match resources(Some(b.cpus), b.memory, &b.custom, 0.0) {
                Ok(r) => wanted.push(r.unwrap_or_default()),
                Err(m) => {
                    return Ok(Err(
                        self.error(ErrorKind::InvalidArgument, format!("bundle {i}: {m}"))
                    ))
                }
            }
        }
        let strategy = match strategy {
            PlacementStrategy::Pack => Strategy::Pack,
            PlacementStrategy::Spread => Strategy::Spread,
            PlacementStrategy::StrictPack => Strategy::StrictPack,
            PlacementStrategy::StrictSpread => Strategy::StrictSpread,
        };
        // Waiting for room is blocking: the CPU goes back meanwhile.
        self.lend_cpu();
        let calls = Arc::clone(&self.calls);
        let created = calls
            .create_group(
                self.caller.clone(),
                wanted,
                strategy,
                timeout_ms.map(Duration::from_millis),
            )
            .await;
        self.reclaim_cpu();
        Ok(created.map(|g| g.0.into()).map_err(Into::into))
    }

    async fn bundle_nodes(
        &mut self,
        group: WitId,
    ) -> wasmtime::Result<Result<Vec<WitId>, WitError>> {
        let group = GroupId(group.into());
        let calls = Arc::clone(&self.calls);
        Ok(match calls.group_nodes(&self.caller, group).await {
            Some(nodes) => Ok(nodes.into_iter().map(|n| n.as_id().into()).collect()),
            None => Err(self.error(
                ErrorKind::NotFound,
                format!(
                    "placement group {group} does not exist (it was removed, or never created)"
                ),
            )),
        })
    }

    async fn remove(&mut self, group: WitId) -> wasmtime::Result<Result<(), WitError>> {
        let group = GroupId(group.into());
        let calls = Arc::clone(&self.calls);
        Ok(calls
            .remove_group(self.caller.clone(), group)
            .await
            .map_err(Into::into))
    }
}
