//! Actors: untyped handles and creation options. `#[wrun::actor]` wraps these
//! in a typed `<Class>Handle` per actor class.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_bytes::ByteBuf;

use crate::bindings::wrun::runtime::{actors, types as wit};
use crate::codec::{Ext, EXT_ACTOR};
use crate::task::{Arg, Returns};
use crate::{Id, Result, Scheduling};

/// Resources and identity of an actor. Defaults: no CPU held once created
/// (`cpus(0.0)`), no memory reservation, no name, no restarts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActorOptions {
    cpus: Option<f64>,
    memory: u64,
    custom: Vec<(String, f64)>,
    name: Option<String>,
    namespace: Option<String>,
    max_restarts: u32,
    environment: Option<String>,
    runtime_env: Option<String>,
    scheduling: Scheduling,
    get_if_exists: bool,
}

impl ActorOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// CPU cores the actor holds while it lives (default: the environment's
    /// `resources.actor_cpus`, or 0).
    pub fn cpus(mut self, cpus: f64) -> Self {
        self.cpus = Some(cpus);
        self
    }

    /// Runs the actor in the named environment of the job's manifest.
    pub fn environment(mut self, name: impl Into<String>) -> Self {
        self.environment = Some(name.into());
        self
    }

    /// Changes the environment the actor lives in: see [`crate::RuntimeEnv`].
    pub fn runtime_env(mut self, env: crate::RuntimeEnv) -> Self {
        self.runtime_env = Some(env.to_json());
        self
    }

    /// Bytes of memory reserved for the actor.
    pub fn memory(mut self, bytes: u64) -> Self {
        self.memory = bytes;
        self
    }

    /// Reserves `amount` of a custom resource.
    pub fn resource(mut self, name: impl Into<String>, amount: f64) -> Self {
        self.custom.push((name.into(), amount));
        self
    }

    /// Registers the actor under `name` so others can look it up.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The namespace of the name (the job's own when unset).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// With a [`name`](Self::name): when an actor is registered under it
    /// already (or meanwhile), its handle instead of an error (Ray's
    /// `get_if_exists`); the class and options are then not checked.
    pub fn get_if_exists(mut self, yes: bool) -> Self {
        self.get_if_exists = yes;
        self
    }

    /// Restarts after the actor's instance fails (the constructor runs again).
    pub fn max_restarts(mut self, n: u32) -> Self {
        self.max_restarts = n;
        self
    }

    /// Where the actor lives beyond having its resources (see [`Scheduling`]).
    pub fn scheduling(mut self, s: Scheduling) -> Self {
        self.scheduling = s;
        self
    }

    fn to_wit(&self) -> wit::ActorOptions {
        wit::ActorOptions {
            cpus: self.cpus,
            memory: self.memory,
            custom: self.custom.clone(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            max_restarts: self.max_restarts,
            environment: self.environment.clone(),
            runtime_env: self.runtime_env.clone(),
            get_if_exists: self.get_if_exists,
        }
    }
}

/// An untyped handle to an actor: its id. Travels inside values as extension
/// type 2 with the 16-byte id (`hi` then `lo`, big-endian) as payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ActorHandle {
    id: Id,
}

impl ActorHandle {
    /// The handle of the actor with this id.
    pub fn from_id(id: Id) -> Self {
        ActorHandle { id }
    }

    /// The actor's id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// Creates an actor of `class` (as exported by this job's component).
    pub fn create(class: &str, args: Vec<Arg>, options: &ActorOptions) -> Result<Self> {
        let args = args.into_iter().map(|a| a.0).collect();
        let id = match options.scheduling {
            Scheduling::Default => actors::create(class, args, &options.to_wit())?,
            s => actors::create_scheduled(class, args, &options.to_wit(), s.to_wit())?,
        };
        Ok(ActorHandle { id: id.into() })
    }

    /// Looks up a named actor, in `namespace` or the job's own.
    pub fn lookup(name: &str, namespace: Option<&str>) -> Result<Option<Self>> {
        Ok(actors::lookup(name, namespace).map(|id| ActorHandle { id: id.into() }))
    }

    /// Kills the actor; pending and later calls fail with `actor-died`.
    pub fn kill(&self) -> Result<()> {
        Ok(actors::kill(self.id.into())?)
    }

    /// Kills the actor's instance and lets it restart (Ray's
    /// `kill(actor, no_restart=False)`): the running call fails with
    /// `actor-died`, queued calls run on the new instance; with no restarts
    /// left (`max_restarts`) it dies as with [`kill`](Self::kill).
    pub fn restart(&self) -> Result<()> {
        Ok(actors::restart(self.id.into())?)
    }

    /// Calls `method`; calls from one caller run in submission order.
    #[doc(hidden)]
    pub fn call(&self, method: &str, args: Vec<Arg>, num_returns: u32) -> Result<Returns> {
        let args = args.into_iter().map(|a| a.0).collect();
        let refs = actors::call(self.id.into(), method, args, num_returns)?;
        Returns::new(method, refs, num_returns)
    }

    /// Calls a streaming `method` (one that yields its results); its
    /// generator at once. The actor must run on the caller's node.
    #[doc(hidden)]
    pub fn call_streaming<T>(
        &self,
        method: &str,
        args: Vec<Arg>,
    ) -> Result<crate::ObjectRefGenerator<T>> {
        let args = args.into_iter().map(|a| a.0).collect();
        let stream = actors::call_streaming(self.id.into(), method, args)?;
        Ok(crate::ObjectRefGenerator::new(
            crate::ObjectRef::from_handle(stream),
        ))
    }
}

impl Serialize for ActorHandle {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        Ext((EXT_ACTOR, ByteBuf::from(self.id.to_bytes().to_vec()))).serialize(s)
    }
}

impl<'de> Deserialize<'de> for ActorHandle {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let Ext((tag, payload)) = Ext::deserialize(d)
            .map_err(|e| D::Error::custom(format!("expected an ActorHandle: {e}")))?;
        if tag != EXT_ACTOR {
            return Err(D::Error::custom(format!(
                "expected an ActorHandle (extension type 2), found extension type {tag}"
            )));
        }
        let bytes: [u8; 16] = payload
            .as_slice()
            .try_into()
            .map_err(|_| D::Error::custom("ActorHandle payload is not a 16-byte id"))?;
        Ok(ActorHandle {
            id: Id::from_bytes(bytes),
        })
    }
}

/// Ends the actor whose method is running once that method returns (Ray's
/// `exit_actor`): that call, its queued calls and later ones fail with
/// `actor-died`, and the actor does not restart. Clean up before calling it;
/// the method's own return value is discarded. An error outside an actor.
pub fn exit_actor() -> Result<()> {
    Ok(actors::exit_actor()?)
}
