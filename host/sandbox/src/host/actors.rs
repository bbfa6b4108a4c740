//! `wrun:runtime/actors`: creating, calling, finding and killing actors.
//! A job's own namespace is private to it; every other one is shared by
//! the jobs that name it.

use std::sync::Arc;

use wasmtime::component::Resource;
use wrun_core::{is_private_namespace, ActorId, ActorOptions, ErrorKind, Returning, Scheduling};
use wrun_objects::Held;

use super::{resources, scheduling};
use crate::bindings::wrun::runtime::actors;
use crate::bindings::{
    ActorOptions as WitActorOptions, Arg, Scheduling as WitScheduling, WitError, WitId,
};
use crate::model::HostState;

impl HostState {
    async fn create_with(
        &mut self,
        class: String,
        args: Vec<Arg>,
        options: WitActorOptions,
        scheduling: Scheduling,
    ) -> wasmtime::Result<Result<WitId, WitError>> {
        let args = self.take_args(args)?;
        let res = match resources(options.cpus, options.memory, &options.custom, 0.0) {
            Ok(r) => r,
            Err(m) => return Ok(Err(self.error(ErrorKind::InvalidArgument, m))),
        };
        if let Some(ns) = &options.namespace {
            if options.name.is_some()
                && is_private_namespace(ns)
                && *ns != self.caller.job.namespace
            {
                return Ok(Err(self.error(
                    ErrorKind::InvalidArgument,
                    format!("namespace `{ns}` is another job's private namespace; use a shared one (any name not starting with `job-`)"),
                )));
            }
        }
        let opts = ActorOptions {
            resources: res,
            name: options.name,
            namespace: options.namespace,
            max_restarts: options.max_restarts,
            environment: options.environment,
            runtime_env: options.runtime_env,
            scheduling,
            get_if_exists: options.get_if_exists,
        };
        let calls = Arc::clone(&self.calls);
        Ok(calls
            .create_actor(self.caller.clone(), class, args, opts)
            .await
            .map(|id| id.0.into())
            .map_err(Into::into))
    }
}

impl actors::Host for HostState {
    async fn create(
        &mut self,
        class: String,
        args: Vec<Arg>,
        options: WitActorOptions,
    ) -> wasmtime::Result<Result<WitId, WitError>> {
        self.create_with(class, args, options, Scheduling::Default)
            .await
    }

    async fn create_scheduled(
        &mut self,
        class: String,
        args: Vec<Arg>,
        options: WitActorOptions,
        s: WitScheduling,
    ) -> wasmtime::Result<Result<WitId, WitError>> {
        self.create_with(class, args, options, scheduling(s)).await
    }

    fn call(
        &mut self,
        actor: WitId,
        method: String,
        args: Vec<Arg>,
        num_returns: u32,
    ) -> wasmtime::Result<Result<Vec<Resource<Held>>, WitError>> {
        let args = self.take_args(args)?;
        match Arc::clone(&self.calls).call_actor(
            &self.caller,
            ActorId(actor.into()),
            method,
            args,
            Returning::Values(num_returns),
        ) {
            Ok(held) => Ok(Ok(self.push_refs(held)?)),
            Err(e) => Ok(Err(e.into())),
        }
    }

    fn call_streaming(
        &mut self,
        actor: WitId,
        method: String,
        args: Vec<Arg>,
    ) -> wasmtime::Result<Result<Resource<Held>, WitError>> {
        let args = self.take_args(args)?;
        match Arc::clone(&self.calls).call_actor(
            &self.caller,
            ActorId(actor.into()),
            method,
            args,
            Returning::Stream,
        ) {
            Ok(held) => {
                let refs = self.push_refs(held)?;
                self.one_stream(refs)
            }
            Err(e) => Ok(Err(e.into())),
        }
    }

    async fn lookup(
        &mut self,
        name: String,
        namespace: Option<String>,
    ) -> wasmtime::Result<Option<WitId>> {
        let ns = namespace.unwrap_or_else(|| self.caller.job.namespace.clone());
        // Another job's private namespace looks empty.
        if is_private_namespace(&ns) && ns != self.caller.job.namespace {
            return Ok(None);
        }
        let calls = Arc::clone(&self.calls);
        Ok(calls.lookup_actor(ns, name).await.map(|id| id.0.into()))
    }

    async fn kill(&mut self, actor: WitId) -> wasmtime::Result<Result<(), WitError>> {
        let killed = Arc::clone(&self.calls).kill_actor(&self.caller, ActorId(actor.into()), false);
        Ok(killed.await.map_err(Into::into))
    }

    async fn restart(&mut self, actor: WitId) -> wasmtime::Result<Result<(), WitError>> {
        let killed = Arc::clone(&self.calls).kill_actor(&self.caller, ActorId(actor.into()), true);
        Ok(killed.await.map_err(Into::into))
    }

    fn exit_actor(&mut self) -> wasmtime::Result<Result<(), WitError>> {
        if self.actor_id.is_none() {
            return Ok(Err(self.error(
                ErrorKind::InvalidArgument,
                "exit_actor() ends the actor whose method calls it; this instance runs a task or a driver",
            )));
        }
        // The actor's loop sees it when the call returns (`ActorInstance::exiting`).
        self.exit_requested = true;
        Ok(Ok(()))
    }
}
