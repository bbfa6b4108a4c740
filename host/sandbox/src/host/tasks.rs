//! `wrun:runtime/tasks`: submitting tasks.

use std::time::Duration;

use wasmtime::component::Resource;
use wrun_core::{ErrorKind, Scheduling, TaskOptions};
use wrun_objects::Held;

use super::{resources, scheduling};
use crate::bindings::wrun::runtime::tasks;
use crate::bindings::{Arg, Scheduling as WitScheduling, TaskOptions as WitTaskOptions, WitError};
use crate::model::HostState;

impl HostState {
    fn submit_with(
        &mut self,
        function: String,
        args: Vec<Arg>,
        options: WitTaskOptions,
        scheduling: Scheduling,
    ) -> wasmtime::Result<Result<Vec<Resource<Held>>, WitError>> {
        let args = self.take_args(args)?;
        let res = match resources(options.cpus, options.memory, &options.custom, 1.0) {
            Ok(r) => r,
            Err(m) => return Ok(Err(self.error(ErrorKind::InvalidArgument, m))),
        };
        let opts = TaskOptions {
            num_returns: options.num_returns,
            resources: res,
            max_retries: options.max_retries,
            retry_exceptions: options.retry_exceptions,
            max_calls: options.max_calls,
            timeout: options.timeout_ms.map(Duration::from_millis),
            environment: options.environment,
            scheduling,
        };
        match std::sync::Arc::clone(&self.calls).submit(&self.caller, function, args, opts) {
            Ok(held) => Ok(Ok(self.push_refs(held)?)),
            Err(e) => Ok(Err(e.into())),
        }
    }
}

impl tasks::Host for HostState {
    fn submit(
        &mut self,
        function: String,
        args: Vec<Arg>,
        options: WitTaskOptions,
    ) -> wasmtime::Result<Result<Vec<Resource<Held>>, WitError>> {
        self.submit_with(function, args, options, Scheduling::Default)
    }

    fn submit_scheduled(
        &mut self,
        function: String,
        args: Vec<Arg>,
        options: WitTaskOptions,
        s: WitScheduling,
    ) -> wasmtime::Result<Result<Vec<Resource<Held>>, WitError>> {
        self.submit_with(function, args, options, scheduling(s))
    }

    fn cancel(
        &mut self,
        target: Resource<Held>,
        force: bool,
        recursive: bool,
    ) -> wasmtime::Result<Result<(), WitError>> {
        let target = self.table.get(&target)?.clone();
        let calls = std::sync::Arc::clone(&self.calls);
        Ok(calls
            .cancel(&self.caller, &target, force, recursive)
            .map_err(Into::into))
    }
}
