//! Remote tasks: per-call options and arguments.

use std::time::Duration;

use serde::Serialize;

use crate::bindings::wrun::runtime::{tasks, types as wit};
use crate::{codec, Error, ObjectRef, Result, Scheduling};

/// Resources and policy of one task invocation.
///
/// `#[wrun::task]` gives each task an `options()` builder with these same
/// methods; defaults: 1 CPU (or the environment's default), no memory
/// reservation, no custom resources, 3 retries after a system failure (as in
/// Ray), no timeout, the caller's environment.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskOptions {
    pub(crate) num_returns: u32,
    pub(crate) cpus: Option<f64>,
    pub(crate) memory: u64,
    pub(crate) custom: Vec<(String, f64)>,
    pub(crate) max_retries: u32,
    pub(crate) retry_exceptions: bool,
    pub(crate) retry_exception_types: Vec<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) environment: Option<String>,
    pub(crate) runtime_env: Option<String>,
    pub(crate) scheduling: Scheduling,
    pub(crate) max_calls: u32,
}

impl TaskOptions {
    /// `max_retries` without a limit (Ray's `max_retries=-1`).
    pub const UNLIMITED_RETRIES: u32 = u32::MAX;

    /// Ray's default `max_retries`: three re-runs after a system failure (a
    /// trap, a timeout, the memory limit, a lost node); an error the task
    /// returns is retried only with `retry_exceptions`.
    pub const DEFAULT_RETRIES: u32 = 3;

    /// The defaults for a task with `num_returns` return values.
    pub fn new(num_returns: u32) -> Self {
        TaskOptions {
            num_returns,
            cpus: None,
            memory: 0,
            custom: Vec::new(),
            max_retries: Self::DEFAULT_RETRIES,
            retry_exceptions: false,
            retry_exception_types: Vec::new(),
            timeout: None,
            environment: None,
            runtime_env: None,
            scheduling: Scheduling::Default,
            max_calls: 0,
        }
    }

    /// Where the task runs beyond having its resources (see [`Scheduling`]).
    pub fn scheduling(mut self, s: Scheduling) -> Self {
        self.scheduling = s;
        self
    }

    /// CPU cores reserved while the task runs (default: the environment's
    /// `resources.task_cpus`, or 1).
    pub fn cpus(mut self, cpus: f64) -> Self {
        self.cpus = Some(cpus);
        self
    }

    /// Runs the task in the named environment of the job's manifest
    /// (`[environments.NAME]`) instead of the caller's.
    pub fn environment(mut self, name: impl Into<String>) -> Self {
        self.environment = Some(name.into());
        self
    }

    /// Changes the environment the task runs in (the named one, or the
    /// caller's) as Ray's `runtime_env` option does: see [`crate::RuntimeEnv`].
    pub fn runtime_env(mut self, env: crate::RuntimeEnv) -> Self {
        self.runtime_env = Some(env.to_json());
        self
    }

    /// Bytes of memory reserved while the task runs.
    pub fn memory(mut self, bytes: u64) -> Self {
        self.memory = bytes;
        self
    }

    /// Reserves `amount` of a custom resource, e.g. `("gpu-license", 1.0)`.
    pub fn resource(mut self, name: impl Into<String>, amount: f64) -> Self {
        self.custom.push((name.into(), amount));
        self
    }

    /// Re-runs after a trap, timeout or memory-limit failure;
    /// [`TaskOptions::UNLIMITED_RETRIES`] for no limit (Ray's `-1`).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// With [`Self::retry_exceptions`]: retry only errors one of whose
    /// [`crate::Error::types`] is among `names` (Ray's
    /// `retry_exceptions=[A, B]`), e.g. `["app.Overdrawn"]` for a Python
    /// exception class or `[std::any::type_name::<MyError>()]` for a Rust
    /// error type; sets `retry_exceptions`.
    pub fn retry_exception_types<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Self {
        self.retry_exception_types = names.into_iter().map(Into::into).collect();
        self.retry_exceptions = true;
        self
    }

    /// Also retry when the task returns an error (every error, unless
    /// [`Self::retry_exception_types`] names some).
    pub fn retry_exceptions(mut self, yes: bool) -> Self {
        self.retry_exceptions = yes;
        self
    }

    /// Retires the warm instance that runs the task once it has run `n`
    /// tasks (Ray's `max_calls`; 0, the default: no limit). Instances are
    /// reused only where the environment sets `runtime.reuse_instances`.
    pub fn max_calls(mut self, n: u32) -> Self {
        self.max_calls = n;
        self
    }

    /// Wall-clock limit per attempt (millisecond resolution).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// The number of return values (set by the macro; rarely changed).
    pub fn num_returns(&self) -> u32 {
        self.num_returns
    }

    pub(crate) fn to_wit(&self) -> wit::TaskOptions {
        wit::TaskOptions {
            num_returns: self.num_returns,
            cpus: self.cpus,
            memory: self.memory,
            custom: self.custom.clone(),
            max_retries: self.max_retries,
            retry_exceptions: self.retry_exceptions,
            retry_exception_types: self.retry_exception_types.clone(),
            timeout_ms: self
                .timeout
                .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
            environment: self.environment.clone(),
            runtime_env: self.runtime_env.clone(),
            max_calls: self.max_calls,
        }
    }
}

/// One argument of a task or actor call, ready to submit.
pub struct Arg(pub(crate) wit::Arg);

impl Arg {
    /// An argument passed by value.
    pub fn value<T: Serialize + ?Sized>(v: &T) -> Result<Arg> {
        codec::encode(v)
            .map(|v| Arg(wit::Arg::Inline(v)))
            .map_err(|m| Error::invalid("", m))
    }

    /// An argument passed by reference: the host resolves it to the object's
    /// value before the callee runs.
    pub fn by_ref<T>(r: &ObjectRef<T>) -> Arg {
        Arg(wit::Arg::ByRef(r.new_handle()))
    }
}

/// What may be passed for a parameter of type `T`: a `T` (or `&T`), or a
/// reference to an object holding a `T` (`&ObjectRef<T>` or `ObjectRef<T>`),
/// which the host resolves before the callee runs.
///
/// A parameter typed `ObjectRef<T>` takes the reference itself, unresolved.
pub trait IntoArg<T> {
    /// Converts into an argument.
    fn into_arg(self) -> Result<Arg>;
}

impl<T: Serialize> IntoArg<T> for T {
    fn into_arg(self) -> Result<Arg> {
        Arg::value(&self)
    }
}

impl<T: Serialize> IntoArg<T> for &T {
    fn into_arg(self) -> Result<Arg> {
        Arg::value(self)
    }
}

impl<T> IntoArg<T> for &ObjectRef<T> {
    fn into_arg(self) -> Result<Arg> {
        Ok(Arg::by_ref(self))
    }
}

impl<T> IntoArg<T> for ObjectRef<T> {
    fn into_arg(self) -> Result<Arg> {
        Ok(Arg::by_ref(&self))
    }
}

impl IntoArg<String> for &str {
    fn into_arg(self) -> Result<Arg> {
        Arg::value(self)
    }
}

impl<T: Serialize> IntoArg<Vec<T>> for &[T] {
    fn into_arg(self) -> Result<Arg> {
        Arg::value(self)
    }
}

/// The references a call returned, handed out one typed reference at a time.
#[doc(hidden)]
pub struct Returns(std::vec::IntoIter<wit::ObjectRef>);

impl Returns {
    pub(crate) fn new(task: &str, refs: Vec<wit::ObjectRef>, expected: u32) -> Result<Self> {
        if refs.len() != expected as usize {
            return Err(Error::new(
                crate::ErrorKind::Internal,
                task,
                format!("expected {expected} return references, got {}", refs.len()),
            ));
        }
        Ok(Returns(refs.into_iter()))
    }

    /// The next reference (the count was checked on creation).
    #[allow(clippy::should_implement_trait)]
    pub fn next<T>(&mut self) -> ObjectRef<T> {
        ObjectRef::from_handle(self.0.next().expect("return count checked"))
    }
}

/// Submits a task by name: `NAME` of this component, or `COMPONENT/NAME` of
/// another component of the job, in any language; one reference per return
/// value (`options.num_returns()`), each read as a `T`.
///
/// ```ignore
/// let refs: Vec<ObjectRef<Stats>> =
///     wrun::submit("cpp/shard_stats", vec![Arg::value(&xs)?], &TaskOptions::new(1))?;
/// ```
pub fn submit<T>(
    function: &str,
    args: Vec<Arg>,
    options: &TaskOptions,
) -> Result<Vec<ObjectRef<T>>> {
    let mut returns = submit_returns(function, args, options)?;
    Ok((0..options.num_returns).map(|_| returns.next()).collect())
}

/// Submits `function`; its references as the generated code takes them.
#[doc(hidden)]
pub fn submit_returns(function: &str, args: Vec<Arg>, options: &TaskOptions) -> Result<Returns> {
    let args = args.into_iter().map(|a| a.0).collect();
    let refs = match options.scheduling {
        Scheduling::Default => tasks::submit(function, args, &options.to_wit())?,
        s => tasks::submit_scheduled(function, args, &options.to_wit(), s.to_wit())?,
    };
    Returns::new(function, refs, options.num_returns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_retry_system_failures_three_times_by_default_as_in_ray() {
        let o = TaskOptions::new(1);
        assert_eq!(o.max_retries, 3);
        assert!(!o.retry_exceptions);
        assert_eq!(o.max_retries(0).max_retries, 0);
    }
}
