//! A loaded job: its components compiled and pre-linked against the `job`
//! world, the id and namespace its guests share, and its environment.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{ComponentExportIndex, InstancePre};
use wrun_core::logs::LogSink;
use wrun_core::{ErrorKind, JobId, TaskError};
use wrun_env::Environment;

use crate::cache::CacheOutcome;
use crate::state::HostState;

/// A component compiled (or loaded from the cache) and pre-linked.
pub struct Prepared {
    pub(crate) pre: InstancePre<HostState>,
    pub(crate) exports: GuestExports,
    /// SHA-256 of the component.
    pub hash: String,
    /// Compiled now or found in the cache.
    pub cache: CacheOutcome,
}

/// Where the `guest` interface's functions are, found once per component.
#[derive(Clone, Copy)]
pub(crate) struct GuestExports {
    pub(crate) main: ComponentExportIndex,
    pub(crate) run_task: ComponentExportIndex,
    pub(crate) construct: ComponentExportIndex,
    pub(crate) call_method: ComponentExportIndex,
}

/// One component of a job.
pub struct JobComponent {
    /// What calls from other components use (`NAME/function`); the driver's
    /// is the job's name.
    pub name: String,
    /// SHA-256 of the component.
    pub hash: String,
    /// Compiled now or found in the cache.
    pub cache: CacheOutcome,
    pub(crate) pre: InstancePre<HostState>,
    pub(crate) exports: GuestExports,
}

impl JobComponent {
    /// A prepared component under the name calls use.
    pub fn new(name: String, p: Prepared) -> Self {
        JobComponent {
            name,
            hash: p.hash,
            cache: p.cache,
            pre: p.pre,
            exports: p.exports,
        }
    }
}

/// A job: its driver's component and any others it calls by name (in any
/// guest language), sharing one id, namespace and environment.
pub struct LoadedJob {
    /// The same on every node it runs on.
    pub id: JobId,
    /// The driver's name.
    pub name: String,
    /// `components[0]` is the driver's (it runs `main`).
    pub components: Vec<JobComponent>,
    /// How long loading took (compile or cache hit).
    pub load_time: Duration,
    /// Named actors are registered here unless a namespace is given.
    pub namespace: String,
    /// What its guests may see and use (and its named alternatives).
    pub env: Arc<Environment>,
    /// Where this job's guest lines go, when not to the runtime's sink (a
    /// node daemon streams each job's lines back to its submitter).
    pub log_sink: Option<LogSink>,
}

/// A task or actor class resolved to the component that exports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Index into [`LoadedJob::components`].
    pub component: usize,
    /// The name within that component.
    pub name: Arc<str>,
}

impl LoadedJob {
    /// The driver's component hash (the job's identity in logs).
    pub fn hash(&self) -> &str {
        &self.components[0].hash
    }

    /// Resolves `NAME` (in the caller's component) or `COMPONENT/NAME`.
    pub fn resolve(&self, caller: usize, name: &Arc<str>) -> Result<Target, TaskError> {
        let Some((component, bare)) = name.split_once('/') else {
            return Ok(Target {
                component: caller,
                name: name.clone(),
            });
        };
        let index = self
            .components
            .iter()
            .position(|c| c.name == component)
            .ok_or_else(|| {
                let known: Vec<&str> = self.components.iter().map(|c| c.name.as_str()).collect();
                TaskError::new(
                    ErrorKind::NotFound,
                    name.as_ref(),
                    format!(
                        "job `{}` has no component `{component}` (its components: {}); add it with `wrun submit --component {component}=FILE.wasm`",
                        self.name,
                        known.join(", ")
                    ),
                )
            })?;
        if bare.is_empty() {
            return Err(TaskError::new(
                ErrorKind::InvalidArgument,
                name.as_ref(),
                "the name after the component is empty (expected COMPONENT/NAME)",
            ));
        }
        Ok(Target {
            component: index,
            name: Arc::from(bare),
        })
    }
}
