//! `wrun:runtime/tasks`: submitting tasks, and the items of streaming calls.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::Resource;
use wrun_core::{ErrorKind, Scheduling, TaskError, TaskOptions};
use wrun_objects::{item_of_value, Held, ObjectValue, Refused, Stream};

use super::{deadline_after, resources, scheduling};
use crate::bindings::wrun::runtime::tasks;
use crate::bindings::{
    Arg, Scheduling as WitScheduling, TaskOptions as WitTaskOptions, Value, WitError,
};
use crate::control::TaskControl;
use crate::failure::cancelled_error;
use crate::model::HostState;
use crate::values::from_wit_value;

impl HostState {
    fn submit_with(
        &mut self,
        function: String,
        args: Vec<Arg>,
        options: WitTaskOptions,
        scheduling: Scheduling,
        streaming: bool,
    ) -> wasmtime::Result<Result<Vec<Resource<Held>>, WitError>> {
        let args = self.take_args(args)?;
        let res = match resources(options.cpus, options.memory, &options.custom, 1.0) {
            Ok(r) => r,
            Err(m) => return Ok(Err(self.error(ErrorKind::InvalidArgument, m))),
        };
        let types = &options.retry_exception_types;
        if !TaskError::types_fit(types) {
            return Ok(Err(self.error(
                ErrorKind::InvalidArgument,
                format!(
                    "retry_exceptions names {} types; at most {} of at most {} bytes each are kept",
                    types.len(),
                    TaskError::MAX_TYPES,
                    TaskError::MAX_TYPE_NAME
                ),
            )));
        }
        let opts = TaskOptions {
            num_returns: options.num_returns,
            resources: res,
            max_retries: options.max_retries,
            retry_exceptions: options.retry_exceptions,
            retry_exception_types: options.retry_exception_types,
            max_calls: options.max_calls,
            timeout: options.timeout_ms.map(Duration::from_millis),
            environment: options.environment,
            runtime_env: options.runtime_env,
            scheduling,
            streaming,
        };
        match Arc::clone(&self.calls).submit(&self.caller, function, args, opts) {
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
        self.submit_with(function, args, options, Scheduling::Default, false)
    }

    fn submit_scheduled(
        &mut self,
        function: String,
        args: Vec<Arg>,
        options: WitTaskOptions,
        s: WitScheduling,
    ) -> wasmtime::Result<Result<Vec<Resource<Held>>, WitError>> {
        self.submit_with(function, args, options, scheduling(s), false)
    }

    fn submit_streaming(
        &mut self,
        function: String,
        args: Vec<Arg>,
        options: WitTaskOptions,
        s: WitScheduling,
    ) -> wasmtime::Result<Result<Resource<Held>, WitError>> {
        let held = match self.submit_with(function, args, options, scheduling(s), true)? {
            Ok(refs) => refs,
            Err(e) => return Ok(Err(e)),
        };
        self.one_stream(held)
    }

    fn yield_item(&mut self, item: Value) -> wasmtime::Result<Result<(), WitError>> {
        let value = from_wit_value(&mut self.table, item)?;
        let Some(stream) = self.stream.clone() else {
            return Ok(Err(self.error(
                ErrorKind::InvalidArgument,
                "yield-item outside a streaming call: submit it with num_returns=\"streaming\" (tasks.submit-streaming or actors.call-streaming)",
            )));
        };
        if let Some(e) = self.object_too_large(value.data.len()) {
            return Ok(Err(e));
        }
        let charge = match self.charge(value.data.len()) {
            Ok(c) => c,
            Err(over) => return Ok(Err(self.over_quota(over))),
        };
        // A stream holds at most as many items as an instance may hold
        // references: what one generator can make the host keep is bounded.
        let max = self.caller.env.limits.max_refs;
        Ok(match stream.push(self.objects.put_charged(value, Some(charge)), max) {
            Ok(()) => Ok(()),
            Err(Refused::Ended) => Err(self.error(
                ErrorKind::InvalidArgument,
                "the stream already ended (a yield after its call finished)",
            )),
            Err(Refused::Full) => Err(self.error(
                ErrorKind::InvalidArgument,
                format!("the stream already holds {max} items, the job's limit (limits.max_refs in its manifest): yield fewer, or raise the limit"),
            )),
        })
    }

    async fn stream_next(
        &mut self,
        generator: Resource<Held>,
        index: u32,
        timeout_ms: Option<u64>,
    ) -> wasmtime::Result<Result<Option<Resource<Held>>, WitError>> {
        let held = self.table.get(&generator)?.clone();
        let deadline = deadline_after(timeout_ms);
        let running = self
            .objects
            .producer_of(held.id())
            .and_then(|p| p.downcast::<TaskControl>().ok())
            .and_then(|c| c.stream().cloned());
        let blocking = !held.is_ready();
        if blocking {
            self.lend_cpu();
        }
        let read = read_item(running, &held, index as usize, deadline);
        // A cancel of the reading call ends the wait, as in `get`.
        let outcome = match self.caller.control.clone().filter(|_| blocking) {
            Some(control) => tokio::select! {
                outcome = read => outcome,
                () = control.cancelled_for_guest() => {
                    self.cancel_delivered = true;
                    Err(cancelled_error(&self.label.to_string()))
                }
            },
            None => read.await,
        };
        if blocking {
            self.reclaim_cpu();
        }
        Ok(match outcome {
            Ok(Some(h)) => Ok(Some(self.table.push(h)?)),
            Ok(None) => Ok(None),
            Err(e) => Err(e.in_task(&self.label.to_string()).into()),
        })
    }

    fn cancel(
        &mut self,
        target: Resource<Held>,
        force: bool,
        recursive: bool,
    ) -> wasmtime::Result<Result<(), WitError>> {
        let target = self.table.get(&target)?.clone();
        let calls = Arc::clone(&self.calls);
        Ok(calls
            .cancel(&self.caller, &target, force, recursive)
            .map_err(Into::into))
    }
}

/// Item `index` of a stream: from its running call's items, else (ended,
/// or read on another node) from the stream object's value.
async fn read_item(
    running: Option<Arc<Stream>>,
    held: &Held,
    index: usize,
    deadline: Option<std::time::Instant>,
) -> Result<Option<Held>, TaskError> {
    if let Some(stream) = running {
        return stream.item(index, deadline).await;
    }
    let value: ObjectValue = held.get(deadline).await?;
    if value.data.as_ref() != wrun_core::values::ref_list(value.refs.len()) {
        return Err(TaskError::new(
            ErrorKind::InvalidArgument,
            "stream-next",
            format!(
                "object {} is not a stream (the reference of a streaming call, num_returns=\"streaming\")",
                held.id()
            ),
        ));
    }
    Ok(item_of_value(&value, index))
}
