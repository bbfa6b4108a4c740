//! The one implementation of the exported `guest` interface, dispatching to
//! the tasks and actors a job lists in [`export_job!`](crate::export_job).
//!
//! Everything here is used by generated code; none of it is public API.

use std::cell::RefCell;
use std::fmt::Display;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::bindings::exports::wrun::runtime::guest::Guest;
use crate::bindings::wrun::runtime::types as wit;
use crate::{codec, Error, ErrorKind};

/// What a WIT export returns.
pub type WitResult<T> = std::result::Result<T, wit::Error>;

/// The registry a job declares with `export_job!`.
pub trait Job {
    /// Runs the driver.
    fn main(args: Vec<String>) -> WitResult<wit::Value>;
    /// Runs the task named `function`; `None` when there is none.
    fn run_task(function: &str, args: Vec<wit::Value>) -> Option<WitResult<Vec<wit::Value>>>;
    /// Constructs an actor of `class`; `None` when there is none.
    fn construct(class: &str, args: Vec<wit::Value>) -> Option<WitResult<Box<dyn ActorState>>>;
}

/// An actor class, implemented by `#[wrun::actor]`.
pub trait Actor: Sized + 'static {
    /// The class name the host knows the actor by.
    const CLASS: &'static str;
    /// Runs the constructor.
    fn construct(args: Vec<wit::Value>) -> WitResult<Self>;
    /// Runs one method; `None` when there is no such method.
    fn call(&mut self, method: &str, args: Vec<wit::Value>) -> Option<WitResult<Vec<wit::Value>>>;
}

/// A constructed actor, type-erased.
pub trait ActorState {
    /// Runs one method; `None` when there is no such method.
    fn call(&mut self, method: &str, args: Vec<wit::Value>) -> Option<WitResult<Vec<wit::Value>>>;
    /// The class name.
    fn class(&self) -> &'static str;
}

impl<A: Actor> ActorState for A {
    fn call(&mut self, method: &str, args: Vec<wit::Value>) -> Option<WitResult<Vec<wit::Value>>> {
        Actor::call(self, method, args)
    }

    fn class(&self) -> &'static str {
        A::CLASS
    }
}

/// Constructs `A` and erases its type.
pub fn construct<A: Actor>(args: Vec<wit::Value>) -> WitResult<Box<dyn ActorState>> {
    A::construct(args).map(|a| Box::new(a) as Box<dyn ActorState>)
}

thread_local! {
    static ACTOR: RefCell<Option<Box<dyn ActorState>>> = const { RefCell::new(None) };
}

/// The type the wit-bindgen export macro is pointed at.
pub struct Export<J>(PhantomData<J>);

fn not_found(task: &str, what: &str) -> wit::Error {
    Error::new(ErrorKind::NotFound, task, what.to_string()).into()
}

/// Once per instance: starts in the working directory the host names in
/// `PWD` (it mounts one at /work), as Ray starts its workers in theirs;
/// wasi-libc does not read WASI's initial-cwd. A directory that cannot be
/// entered leaves the instance where it was (relative paths still resolve
/// through the host's "." mount).
fn enter_working_dir() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Some(dir) = std::env::var_os("PWD") {
            let _ = std::env::set_current_dir(dir);
        }
    });
}

impl<J: Job> Guest for Export<J> {
    fn main(args: Vec<String>) -> WitResult<wit::Value> {
        enter_working_dir();
        J::main(args)
    }

    fn run_task(function: String, args: Vec<wit::Value>) -> WitResult<Vec<wit::Value>> {
        enter_working_dir();
        J::run_task(&function, args)
            .unwrap_or_else(|| Err(not_found(&function, "no such task in this component")))
    }

    fn construct(class: String, args: Vec<wit::Value>) -> WitResult<()> {
        enter_working_dir();
        let state = J::construct(&class, args)
            .unwrap_or_else(|| Err(not_found(&class, "no such actor class in this component")))?;
        ACTOR.with(|a| *a.borrow_mut() = Some(state));
        Ok(())
    }

    fn call_method(method: String, args: Vec<wit::Value>) -> WitResult<Vec<wit::Value>> {
        ACTOR.with(|a| {
            let mut a = a.borrow_mut();
            let Some(state) = a.as_mut() else {
                return Err(Error::new(
                    ErrorKind::Internal,
                    method.as_str(),
                    "no actor constructed in this instance",
                )
                .into());
            };
            let class = state.class();
            // Accept both `incr` and `Counter.incr`.
            let name = method
                .strip_prefix(class)
                .and_then(|m| m.strip_prefix('.'))
                .unwrap_or(&method);
            state.call(name, args).unwrap_or_else(|| {
                Err(not_found(
                    &format!("{class}.{name}"),
                    "no such method on this actor",
                ))
            })
        })
    }
}

/// The incoming arguments of one invocation, decoded one at a time.
pub struct Args {
    task: &'static str,
    args: std::vec::IntoIter<wit::Value>,
    index: usize,
}

impl Args {
    /// Checks the count: `task` takes `expected` arguments.
    pub fn new(task: &'static str, args: Vec<wit::Value>, expected: usize) -> WitResult<Self> {
        if args.len() != expected {
            return Err(Error::invalid(
                task,
                format!("{task} takes {expected} arguments, got {}", args.len()),
            )
            .into());
        }
        Ok(Args {
            task,
            args: args.into_iter(),
            index: 0,
        })
    }

    /// Decodes the next argument.
    #[allow(clippy::should_implement_trait)]
    pub fn next<T: DeserializeOwned>(&mut self) -> WitResult<T> {
        let i = self.index;
        self.index += 1;
        let v = self.args.next().expect("argument count checked");
        codec::decode(v).map_err(|m| {
            Error::invalid(self.task, format!("argument {i} of {}: {m}", self.task)).into()
        })
    }
}

/// Encodes one return value of `task`.
pub fn ret<T: Serialize>(task: &str, v: &T) -> WitResult<wit::Value> {
    codec::encode(v)
        .map_err(|m| Error::invalid(task, format!("return value of {task}: {m}")).into())
}

/// Turns a user error into an application error of `task`. A
/// [`wrun::Error`](Error) passes through unchanged, so a task that propagates
/// a failure with `?` (a child's trap, a refused `put`) reports its real kind
/// and origin, as Ray chains the cause of a failed task.
pub fn app_error<E: Display + 'static>(task: &str, e: E) -> wit::Error {
    match (&e as &dyn std::any::Any).downcast_ref::<Error>() {
        Some(inner) => inner.clone().into(),
        None => Error {
            // What `retry_exception_types` matches.
            types: vec![std::any::type_name::<E>().to_string()],
            ..Error::new(ErrorKind::Application, task, e.to_string())
        }
        .into(),
    }
}

/// Converts one outgoing argument of `task`, naming it in errors.
pub fn arg<T, A: crate::IntoArg<T>>(task: &str, index: usize, a: A) -> crate::Result<crate::Arg> {
    a.into_arg().map_err(|mut e| {
        e.task = task.to_string();
        e.message = format!("argument {index} of {task}: {}", e.message);
        e
    })
}

/// Runs the driver and encodes its result. A [`wrun::Error`](Error) from the
/// driver passes through unchanged (so `wrun submit` reports the kind of the
/// failure that ended the job); any other error becomes an application error.
pub fn run_main<T, E, F>(f: F, args: Vec<String>) -> WitResult<wit::Value>
where
    T: Serialize,
    E: Display + 'static,
    F: FnOnce(Vec<String>) -> std::result::Result<T, E>,
{
    let out = f(args).map_err(|e| app_error("main", e))?;
    ret("main", &out)
}

/// Declares a job's driver, tasks and actors, and exports them as the
/// component's `wrun:runtime/guest` interface. Use it once per crate:
///
/// ```ignore
/// wrun::export_job!(main = main, tasks = [add, fib], actors = [Counter]);
/// ```
///
/// `main` is a `fn(Vec<String>) -> Result<T, E>` with `T: Serialize` and
/// `E: Display`; `tasks` lists `#[wrun::task]` functions and `actors` lists
/// types with a `#[wrun::actor]` impl. Both lists are optional.
#[macro_export]
macro_rules! export_job {
    (main = $main:path
        $(, tasks = [$($task:path),* $(,)?])?
        $(, actors = [$($actor:path),* $(,)?])?
        $(,)?) => {
        #[doc(hidden)]
        struct __WrunJob;

        impl $crate::__private::Job for __WrunJob {
            fn main(
                args: ::std::vec::Vec<::std::string::String>,
            ) -> $crate::__private::WitResult<$crate::__private::wit::Value> {
                $crate::__private::run_main($main, args)
            }

            #[allow(unused_variables)]
            fn run_task(
                function: &str,
                args: ::std::vec::Vec<$crate::__private::wit::Value>,
            ) -> ::std::option::Option<
                $crate::__private::WitResult<::std::vec::Vec<$crate::__private::wit::Value>>,
            > {
                $($(
                    if function == <$task>::NAME {
                        return ::std::option::Option::Some(<$task>::__run(args));
                    }
                )*)?
                ::std::option::Option::None
            }

            #[allow(unused_variables)]
            fn construct(
                class: &str,
                args: ::std::vec::Vec<$crate::__private::wit::Value>,
            ) -> ::std::option::Option<
                $crate::__private::WitResult<
                    ::std::boxed::Box<dyn $crate::__private::ActorState>,
                >,
            > {
                $($(
                    if class == <$actor as $crate::__private::Actor>::CLASS {
                        return ::std::option::Option::Some(
                            $crate::__private::construct::<$actor>(args),
                        );
                    }
                )*)?
                ::std::option::Option::None
            }
        }

        #[doc(hidden)]
        type __WrunExport = $crate::__private::Export<__WrunJob>;

        $crate::bindings::__wrun_export_guest!(__WrunExport with_types_in $crate::bindings);
    };
}

/// Builder methods shared by every task's `options()` type.
#[doc(hidden)]
#[macro_export]
macro_rules! __task_option_methods {
    () => {
        /// CPU cores reserved while the task runs.
        pub fn cpus(mut self, cpus: f64) -> Self {
            self.opts = self.opts.cpus(cpus);
            self
        }
        /// Bytes of memory reserved while the task runs.
        pub fn memory(mut self, bytes: u64) -> Self {
            self.opts = self.opts.memory(bytes);
            self
        }
        /// Reserves `amount` of a custom resource.
        pub fn resource(
            mut self,
            name: impl ::std::convert::Into<::std::string::String>,
            amount: f64,
        ) -> Self {
            self.opts = self.opts.resource(name, amount);
            self
        }
        /// Retries only the errors of these type names (see
        /// `TaskOptions::retry_exception_types`).
        pub fn retry_exception_types<S: ::std::convert::Into<::std::string::String>>(
            mut self,
            names: impl ::std::iter::IntoIterator<Item = S>,
        ) -> Self {
            self.opts = self.opts.retry_exception_types(names);
            self
        }
        /// Re-runs after a trap, timeout or memory-limit failure.
        pub fn max_retries(mut self, n: u32) -> Self {
            self.opts = self.opts.max_retries(n);
            self
        }
        /// Retires a warm instance after `n` tasks (Ray's `max_calls`).
        pub fn max_calls(mut self, n: u32) -> Self {
            self.opts = self.opts.max_calls(n);
            self
        }
        /// Also retries when the task returns an application error.
        pub fn retry_exceptions(mut self, yes: bool) -> Self {
            self.opts = self.opts.retry_exceptions(yes);
            self
        }
        /// Wall-clock limit per attempt.
        pub fn timeout(mut self, t: ::std::time::Duration) -> Self {
            self.opts = self.opts.timeout(t);
            self
        }
        /// Runs in the named environment of the job's manifest.
        pub fn environment(
            mut self,
            name: impl ::std::convert::Into<::std::string::String>,
        ) -> Self {
            self.opts = self.opts.environment(name);
            self
        }
        /// Changes the environment it runs in (Ray's `runtime_env`).
        pub fn runtime_env(mut self, env: $crate::RuntimeEnv) -> Self {
            self.opts = self.opts.runtime_env(env);
            self
        }
        $crate::__scheduling_option_methods!();
    };
}

/// Builder methods shared by every actor's `options()` type.
#[doc(hidden)]
#[macro_export]
macro_rules! __actor_option_methods {
    () => {
        /// CPU cores the actor holds while it lives.
        pub fn cpus(mut self, cpus: f64) -> Self {
            self.opts = self.opts.cpus(cpus);
            self
        }
        /// Bytes of memory reserved for the actor.
        pub fn memory(mut self, bytes: u64) -> Self {
            self.opts = self.opts.memory(bytes);
            self
        }
        /// Reserves `amount` of a custom resource.
        pub fn resource(
            mut self,
            name: impl ::std::convert::Into<::std::string::String>,
            amount: f64,
        ) -> Self {
            self.opts = self.opts.resource(name, amount);
            self
        }
        /// Runs in the named environment of the job's manifest.
        pub fn environment(
            mut self,
            name: impl ::std::convert::Into<::std::string::String>,
        ) -> Self {
            self.opts = self.opts.environment(name);
            self
        }
        /// Changes the environment it runs in (Ray's `runtime_env`).
        pub fn runtime_env(mut self, env: $crate::RuntimeEnv) -> Self {
            self.opts = self.opts.runtime_env(env);
            self
        }
        /// Registers the actor under `name`.
        pub fn name(mut self, name: impl ::std::convert::Into<::std::string::String>) -> Self {
            self.opts = self.opts.name(name);
            self
        }
        /// With a name: the actor already registered under it, if any
        /// (Ray's `get_if_exists`).
        pub fn get_if_exists(mut self, yes: bool) -> Self {
            self.opts = self.opts.get_if_exists(yes);
            self
        }
        /// The namespace of the name.
        pub fn namespace(
            mut self,
            namespace: impl ::std::convert::Into<::std::string::String>,
        ) -> Self {
            self.opts = self.opts.namespace(namespace);
            self
        }
        /// Restarts after the actor's instance fails.
        pub fn max_restarts(mut self, n: u32) -> Self {
            self.opts = self.opts.max_restarts(n);
            self
        }
        $crate::__scheduling_option_methods!();
    };
}

/// Scheduling builder methods shared by task and actor `options()` types.
#[doc(hidden)]
#[macro_export]
macro_rules! __scheduling_option_methods {
    () => {
        /// Where it runs beyond having its resources ([`$crate::Scheduling`]).
        pub fn scheduling(mut self, s: $crate::Scheduling) -> Self {
            self.opts = self.opts.scheduling(s);
            self
        }
        /// On the least loaded node with room.
        pub fn spread(self) -> Self {
            self.scheduling($crate::Scheduling::Spread)
        }
        /// On `node` (hard), or preferably there (`soft`).
        pub fn node_affinity(self, node: $crate::Id, soft: bool) -> Self {
            self.scheduling($crate::Scheduling::NodeAffinity { node, soft })
        }
        /// In bundle `bundle` of `group` (any bundle when `None`).
        pub fn placement_group(
            self,
            group: &$crate::PlacementGroup,
            bundle: ::std::option::Option<u32>,
        ) -> Self {
            self.scheduling(group.bundle(bundle))
        }
    };
}
