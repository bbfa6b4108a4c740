//! Loading a job: one function, [`Runtime::load`](crate::Runtime::load), and
//! what to load as a [`JobSpec`]: the driver's component and any others the
//! job calls by name, its environment, and (in a cluster) its id and where
//! its lines go.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use wrun_core::logs::LogSink;
use wrun_core::{job_namespace, JobId};
use wrun_env::Environment;
use wrun_sandbox::{JobComponent, LoadError, LoadedJob, Sandbox};

/// Where a component's bytes come from.
enum Source {
    File(PathBuf),
    Bytes { bytes: Vec<u8>, what: String },
}

/// What to load: build it with [`JobSpec::file`] or [`JobSpec::bytes`].
pub struct JobSpec {
    name: String,
    driver: Source,
    others: Vec<(String, Source)>,
    env: Option<Arc<Environment>>,
    id: Option<JobId>,
    log_sink: Option<LogSink>,
    on_compile: Option<wrun_sandbox::CompileNotice>,
}

impl JobSpec {
    /// A job whose driver is the component in `path` (named after the file).
    pub fn file(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_path_buf();
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "job".into());
        Self::of(name, Source::File(path))
    }

    /// A job whose driver is `bytes`, described as `what` in errors.
    pub fn bytes(name: impl Into<String>, bytes: Vec<u8>, what: impl Into<String>) -> Self {
        Self::of(
            name.into(),
            Source::Bytes {
                bytes,
                what: what.into(),
            },
        )
    }

    fn of(name: String, driver: Source) -> Self {
        JobSpec {
            name,
            driver,
            others: Vec::new(),
            env: None,
            id: None,
            log_sink: None,
            on_compile: None,
        }
    }

    /// Another component of the job from a file, called as `NAME/function`.
    pub fn component(mut self, name: impl Into<String>, path: impl AsRef<Path>) -> Self {
        self.others
            .push((name.into(), Source::File(path.as_ref().to_path_buf())));
        self
    }

    /// Another component of the job from bytes.
    pub fn component_bytes(
        mut self,
        name: impl Into<String>,
        bytes: Vec<u8>,
        what: impl Into<String>,
    ) -> Self {
        self.others.push((
            name.into(),
            Source::Bytes {
                bytes,
                what: what.into(),
            },
        ));
        self
    }

    /// Other components from files, as `wrun submit --component` gives them.
    pub fn components(mut self, others: &[(String, PathBuf)]) -> Self {
        for (n, p) in others {
            self = self.component(n.clone(), p.clone());
        }
        self
    }

    /// The job's environment (deny-all without one).
    pub fn env(mut self, env: Arc<Environment>) -> Self {
        self.env = Some(env);
        self
    }

    /// Its id, when another node gave it one (a cluster job has the same id,
    /// and so the same private namespace, on every node).
    pub fn id(mut self, id: JobId) -> Self {
        self.id = Some(id);
        self
    }

    /// Where its guest lines go instead of the runtime's sink.
    pub fn log_sink(mut self, sink: LogSink) -> Self {
        self.log_sink = Some(sink);
        self
    }

    /// Told `(what, bytes)` before one of its components is compiled (not
    /// in the cache), instead of the runtime's notice: a node tells the
    /// job's submitter.
    pub fn on_compile(mut self, notice: wrun_sandbox::CompileNotice) -> Self {
        self.on_compile = Some(notice);
        self
    }
}

fn read(source: Source) -> Result<(Vec<u8>, String), LoadError> {
    match source {
        Source::File(path) => std::fs::read(&path)
            .map(|b| (b, path.display().to_string()))
            .map_err(|e| LoadError::Read {
                path: path.display().to_string(),
                source: e,
            }),
        Source::Bytes { bytes, what } => Ok((bytes, what)),
    }
}

/// Component names appear in calls (`NAME/function`): short, plain words.
fn check_component_name(name: &str, what: &str) -> Result<(), LoadError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(LoadError::ComponentName {
            what: what.to_string(),
            reason: format!(
                "`{name}` is not a valid component name: use 1 to 64 letters, digits, `-`, `_` or `.`"
            ),
        })
    }
}

/// Reads, compiles (or loads from the cache) and pre-links every component;
/// the job's CPU time on this node is `cpu_of(id)`'s.
pub(crate) fn load(
    sandbox: &Sandbox,
    spec: JobSpec,
    default_env: impl FnOnce() -> Arc<Environment>,
    new_id: impl FnOnce() -> JobId,
    cpu_of: impl FnOnce(JobId) -> Arc<wrun_sandbox::JobOnNode>,
) -> Result<Arc<LoadedJob>, LoadError> {
    let start = Instant::now();
    let mut parts = vec![(spec.name.clone(), spec.driver)];
    parts.extend(spec.others);
    let mut env = spec.env.unwrap_or_else(default_env);
    let mut components: Vec<JobComponent> = Vec::with_capacity(parts.len());
    for (cname, source) in parts {
        let (bytes, what) = read(source)?;
        check_component_name(&cname, &what)?;
        if components.iter().any(|c| c.name == cname) {
            return Err(LoadError::ComponentName {
                what,
                reason: format!("the job already has a component named `{cname}`"),
            });
        }
        // The manifest speaks for the driver; other components may be of
        // any language (one job, four languages).
        if components.is_empty() {
            env = fit_environment(&bytes, &what, env, sandbox.cache_dir())?;
        }
        let prepared = sandbox.prepare(&bytes, &what, spec.on_compile.as_ref())?;
        components.push(JobComponent::new(cname, prepared));
    }
    let id = spec.id.unwrap_or_else(new_id);
    Ok(Arc::new(LoadedJob {
        id,
        name: spec.name,
        components,
        load_time: start.elapsed(),
        namespace: job_namespace(id),
        objects: wrun_objects::ObjectQuota::new(Some(id), env.limits.object_bytes),
        logs: Arc::new(wrun_sandbox::LogBudget::new(env.limits.log_rate)),
        env,
        log_sink: spec.log_sink,
        tasks_in_flight: Default::default(),
        cpu: cpu_of(id),
        actors_alive: Default::default(),
        inline_envs: Default::default(),
    }))
}

/// Fits a driver's environment to it: refuses a component built by
/// another language's SDK than `runtime.language` declares, and for a
/// Python one provides the packages the environment (or a named one) lists
/// that the component was not built with (`pypkgs.rs`). A component built
/// without the SDK's marks is not checked.
fn fit_environment(
    bytes: &[u8],
    what: &str,
    env: Arc<Environment>,
    cache_dir: &Path,
) -> Result<Arc<Environment>, LoadError> {
    let marks = wrun_sandbox::build_marks(bytes);
    let Some(found) = marks.language else {
        return Ok(env);
    };
    if let Some(declared) = env.language.as_ref().filter(|d| **d != found) {
        return Err(LoadError::Language {
            what: what.to_string(),
            manifest: env.source.clone(),
            declared: declared.clone(),
            found,
        });
    }
    if found == "java" {
        let every = std::iter::once(&env).chain(env.named.values());
        if let Some(e) = every.into_iter().find(|e| grants_files(e)) {
            return Err(LoadError::Unusable {
                what: what.to_string(),
                language: found,
                manifest: e.source.clone(),
                reason: JAVA_FILES.into(),
            });
        }
    }
    if env.packages.is_empty() && env.named.values().all(|e| e.packages.is_empty()) {
        return Ok(env);
    }
    let provide = |e: &Environment| -> Result<Option<wrun_env::PythonMounts>, LoadError> {
        if e.packages.iter().all(|p| marks.packages.contains(p)) {
            return Ok(None);
        }
        crate::pypkgs::provide(&e.packages, cache_dir)
            .map(Some)
            .map_err(|reason| LoadError::Packages {
                manifest: e.source.clone(),
                reason,
            })
    };
    let mut fitted = (*env).clone();
    fitted.python = provide(&env)?;
    for named in fitted.named.values_mut() {
        if let Some(mounts) = provide(named)? {
            let mut n = (**named).clone();
            n.python = Some(mounts);
            *named = Arc::new(n);
        }
    }
    Ok(Arc::new(fitted))
}

/// Why a Java component is refused files (measured with TeaVM-WASI 0.2.7:
/// `FileInputStream`, `FileReader` and `File.exists` fail for every path,
/// mounted or not, and `File.list` traps).
const JAVA_FILES: &str = "files.working_dir, files.scratch and capabilities.read \
    (TeaVM-WASI's class library has no WASI file system: every file a Java guest opens is \
    not found); drop them from the manifest, or do the file work in a Rust, C++ or Python \
    task of the job";

/// Whether an environment grants files: a working directory, scratch
/// space or host paths.
fn grants_files(e: &Environment) -> bool {
    e.working_dir.is_some() || e.scratch || !e.read_paths.is_empty()
}

/// The component name a driver file gets.
pub fn driver_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "job".into())
}
