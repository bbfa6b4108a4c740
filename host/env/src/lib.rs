//! Runtime environments as plain data: the per-job manifest (`wrun submit --env env.toml`)
//! and what it grants a job's guests. The schema is documented in
//! docs/runtime-env.md.
//!
//! Everything is denied unless the manifest grants it: no host environment
//! variables, no files, no network, and deterministic stand-ins for the wall
//! clock, the monotonic clock and randomness. A working directory is copied
//! into the cache under the hash of its contents, so the second use of an
//! environment costs a hash check, not a copy.
//!
//! **Architecture Invariant:** this crate turns manifests into data and
//! nothing more; what the sandbox makes of an [`Environment`] (a WASI
//! context) lives in wrun-sandbox, which is the only crate that knows
//! wasmtime.

#![warn(missing_docs)]

mod error;
mod inline;
mod manifest;
mod python;
mod workdir;

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};
use toml::Spanned;
use wrun_core::{JobLimits, Resources};

use error::read_text;
pub use error::ManifestError;
pub use inline::{InlineEnv, InlineEnvs, MAX_INLINE_BYTES, MAX_INLINE_ENVS};
pub use manifest::LANGUAGES;
use manifest::{
    at_least_one, check_language, check_package, duration, read_manifest, size, spanned_strings,
    Manifest,
};
pub use python::{PythonMounts, PYTHON_PACKAGES_GUEST_PATH, PYTHON_STDLIB_GUEST_PATH};
use workdir::pack_working_dir;
pub use workdir::{working_dir_files, Excludes};

/// Where a guest sees the working directory.
pub const WORK_DIR_GUEST_PATH: &str = "/work";
/// Where a guest sees its per-task scratch directory.
pub const SCRATCH_GUEST_PATH: &str = "/scratch";
/// The wall clock a guest without the `clock` capability sees (2000-01-01T00:00:00Z),
/// advancing one millisecond per read.
pub const DETERMINISTIC_EPOCH_SECS: u64 = 946_684_800;

/// A working directory a manifest names, as written, and the patterns of
/// what it leaves out.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WorkingDir {
    /// `files.working_dir`, relative to the manifest.
    pub path: String,
    /// `files.excludes`: gitignore-style patterns of files left out.
    pub excludes: Vec<String>,
}

/// What a job's guests may see and use.
#[derive(Clone, Debug)]
pub struct Environment {
    /// The manifest it came from (`default` without one).
    pub source: String,
    /// Hash of the manifest and the working directory's contents.
    pub hash: String,
    /// The guest language it declares (None: it declares none); a
    /// component built by another language's SDK is refused.
    pub language: Option<String>,
    /// Packages of the language runtime (Python, Java).
    pub packages: Vec<String>,
    /// Variables guests see.
    pub env_vars: Vec<(String, String)>,
    /// The packed working directory in the cache, mounted read-only at `/work`.
    pub working_dir: Option<PathBuf>,
    /// A fresh writable `/scratch` per task, removed when the task ends.
    pub scratch: bool,
    /// Addresses guests may connect to (TCP) or send to (UDP).
    pub network: std::sync::Arc<[SocketAddr]>,
    /// Real wall and monotonic clocks (else deterministic ones).
    pub real_clock: bool,
    /// Real randomness (else a fixed stream).
    pub real_random: bool,
    /// Host directories readable by guests, mounted at the same path.
    pub read_paths: Vec<PathBuf>,
    /// Memory, object and reference limits.
    pub limits: JobLimits,
    /// CPU time a task may run (time blocked in `get` does not count).
    pub cpu_time: Option<Duration>,
    /// Resources of tasks and actors that do not say.
    pub task_resources: Option<Resources>,
    /// Resources of actors that do not say.
    pub actor_resources: Option<Resources>,
    /// Whether the working directory was packed now (false: found in the cache).
    pub packed_now: bool,
    /// Tasks may run in a warm instance that ran earlier tasks of the same
    /// job and environment (one at a time), as Ray reuses worker processes:
    /// module-level state persists between them. Off by default.
    pub reuse_instances: bool,
    /// The manifest's `[environments.NAME]` tables, for tasks and actors that
    /// ask for one.
    pub named: BTreeMap<String, std::sync::Arc<Environment>>,
    /// For a Python guest whose component lacks packages the manifest
    /// lists: where the node resolved them, mounted for the guest (set when
    /// the job loads, not by the manifest).
    pub python: Option<PythonMounts>,
    /// Which `[environments.NAME]` table it is (None: the job's own).
    pub name: Option<String>,
    /// The inline `runtime_env` it was changed by, if any (canonical):
    /// with `name`, what identifies it on every node.
    pub inline: Option<std::sync::Arc<InlineEnv>>,
}

impl Environment {
    /// The environment of a job submitted without a manifest: everything denied.
    pub fn deny_all(limits: JobLimits) -> Self {
        Environment {
            source: "default".into(),
            hash: String::new(),
            language: None,
            packages: Vec::new(),
            env_vars: Vec::new(),
            working_dir: None,
            scratch: false,
            network: Vec::new().into(),
            real_clock: false,
            real_random: false,
            read_paths: Vec::new(),
            limits,
            cpu_time: None,
            task_resources: None,
            actor_resources: None,
            packed_now: false,
            reuse_instances: false,
            named: BTreeMap::new(),
            python: None,
            name: None,
            inline: None,
        }
    }

    /// The `files.working_dir` values a manifest names (its own and its
    /// named environments'), as written: what must travel with it to run
    /// it on another machine.
    pub fn working_dirs_named(text: &str) -> Vec<WorkingDir> {
        fn of(m: &Manifest) -> Option<WorkingDir> {
            let files = m.files.as_ref()?;
            Some(WorkingDir {
                path: files.working_dir.as_ref()?.get_ref().clone(),
                excludes: spanned_strings(&files.excludes),
            })
        }
        let mut out = Vec::new();
        if let Ok(mut m) = read_manifest(text) {
            let named = m.environments.take().unwrap_or_default();
            out.extend(of(&m));
            for sub in named.into_values() {
                out.extend(of(&sub.into_inner().inherit(&m)));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The `runtime.language` a manifest declares, checked (None: it
    /// declares none), without packing anything.
    pub fn declared_language(path: &Path) -> Result<Option<String>, ManifestError> {
        let (file, text) = (path.display().to_string(), read_text(path)?);
        let error = |span, message| ManifestError::at(&file, &text, span, message);
        let m = read_manifest(&text).map_err(|(span, message)| error(span, message))?;
        let Some(lang) = m.runtime.and_then(|r| r.language) else {
            return Ok(None);
        };
        check_language(lang.get_ref()).map_err(|message| error(Some(lang.span()), message))?;
        Ok(Some(lang.into_inner()))
    }

    /// Reads and checks a manifest; packs its working directory into
    /// `cache_dir` unless an identical one is there.
    pub fn load(path: &Path, cache_dir: &Path, base: JobLimits) -> Result<Self, ManifestError> {
        let text = read_text(path)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, &path.display().to_string(), dir, cache_dir, base)
    }

    /// Checks a manifest's text; relative paths are relative to `dir`.
    pub fn parse(
        text: &str,
        file: &str,
        dir: &Path,
        cache_dir: &Path,
        base: JobLimits,
    ) -> Result<Self, ManifestError> {
        let at = |span, message| ManifestError::at(file, text, span, message);
        let mut m = read_manifest(text).map_err(|(span, message)| at(span, message))?;
        let named = m.environments.take().unwrap_or_default();
        let job = m.clone();
        let mut env = Self::build(m, text, file, dir, cache_dir, base, &at)?;
        for (name, sub) in named {
            let span = sub.span();
            let sub = sub.into_inner();
            if sub.environments.is_some() {
                return Err(at(
                    Some(span),
                    format!("environments.{name}: environments do not nest; declare every one under [environments.NAME]"),
                ));
            }
            let sub = sub.inherit(&job);
            let mut e = Self::build(sub, text, file, dir, cache_dir, base, &at)?;
            e.source = format!("{file} [environments.{name}]");
            e.name = Some(name.clone());
            env.named.insert(name, std::sync::Arc::new(e));
        }
        Ok(env)
    }

    /// One environment: the manifest's top level or one of its named tables.
    fn build(
        m: Manifest,
        text: &str,
        file: &str,
        dir: &Path,
        cache_dir: &Path,
        base: JobLimits,
        at: &dyn Fn(Option<Range<usize>>, String) -> ManifestError,
    ) -> Result<Self, ManifestError> {
        let runtime = m.runtime.unwrap_or_default();
        if let Some(l) = &runtime.language {
            check_language(l.get_ref()).map_err(|message| at(Some(l.span()), message))?;
        }
        let language = runtime.language.map(Spanned::into_inner);

        let packages = runtime.packages.unwrap_or_default();
        if let Some(first) = packages.first() {
            let why = match language.as_deref() {
                Some("python") => None,
                None => Some("packages are Python packages from PyPI; declare runtime.language = \"python\"".to_string()),
                Some("java") => Some("Java packages are not supported: TeaVM compiles a job's sources together with the SDK and no Maven jar is resolved; copy a library's sources into the job's folder".to_string()),
                Some(other) => Some(format!("{other} guests link their libraries when the component is built; packages are for python runtimes")),
            };
            if let Some(why) = why {
                return Err(at(Some(first.span()), format!("runtime.packages: {why}")));
            }
        }
        for p in &packages {
            check_package(p.get_ref())
                .map_err(|why| at(Some(p.span()), format!("runtime.packages: {why}")))?;
        }
        let packages: Vec<String> = packages.into_iter().map(Spanned::into_inner).collect();

        let mut env_vars = Vec::new();
        for (k, v) in m.env.unwrap_or_default() {
            if k.is_empty() || k.contains('=') || k.contains('\0') || v.get_ref().contains('\0') {
                return Err(at(
                    Some(v.span()),
                    format!("env.{k}: names must be non-empty without `=`, and values without NUL bytes"),
                ));
            }
            env_vars.push((k, v.into_inner()));
        }

        let files = m.files.unwrap_or_default();
        if let (Some(first), None) = (
            files.excludes.as_ref().and_then(|e| e.first()),
            &files.working_dir,
        ) {
            return Err(at(
                Some(first.span()),
                "files.excludes: there is no files.working_dir for these patterns to leave files out of".into(),
            ));
        }
        let reuse_instances = match runtime.reuse_instances {
            Some(r) if *r.get_ref() && files.scratch == Some(true) => {
                return Err(at(
                    Some(r.span()),
                    "runtime.reuse_instances: cannot be combined with files.scratch (a reused instance keeps its mounts); drop one of them".into(),
                ))
            }
            Some(r) => r.into_inner(),
            None => false,
        };
        let mut hasher = Sha256::new();
        hasher.update(text.as_bytes());
        let mut working_dir = None;
        let mut packed_now = false;
        if let Some(wd) = files.working_dir {
            let span = wd.span();
            let src = dir.join(wd.get_ref());
            if !src.is_dir() {
                return Err(at(
                    Some(span),
                    format!(
                        "files.working_dir: expected a directory, but {} is not one",
                        src.display()
                    ),
                ));
            }
            let excludes = Excludes::new(&src, &files.excludes)
                .map_err(|(span, e)| at(Some(span), format!("files.excludes: {e}")))?;
            let (packed, fresh) = pack_working_dir(&src, &excludes, cache_dir, &mut hasher)
                .map_err(|e| at(Some(span), format!("files.working_dir: {e}")))?;
            working_dir = Some(packed);
            packed_now = fresh;
        }

        let caps = m.capabilities.unwrap_or_default();
        let mut network = Vec::new();
        for entry in caps.network.unwrap_or_default() {
            let span = entry.span();
            let s = entry.into_inner();
            let addrs = resolve_host_port(&s).map_err(|why| {
                at(
                    Some(span),
                    format!("capabilities.network: `{s}`: {why} (expected HOST:PORT, e.g. 127.0.0.1:8080)"),
                )
            })?;
            network.extend(addrs);
        }
        let mut read_paths = Vec::new();
        for p in caps.read.unwrap_or_default() {
            let span = p.span();
            let path = PathBuf::from(p.get_ref());
            if !path.is_absolute() || !path.is_dir() {
                return Err(at(
                    Some(span),
                    format!(
                        "capabilities.read: expected an absolute path of an existing directory, got `{}`",
                        p.get_ref()
                    ),
                ));
            }
            read_paths.push(path);
        }

        let mut limits = base;
        let mut cpu_time = None;
        if let Some(l) = m.limits {
            if let Some(v) = l.memory {
                limits.memory_per_instance =
                    size(&v, "limits.memory").map_err(|e| at(Some(v.span()), e))?;
            }
            if let Some(v) = l.log_rate {
                limits.log_rate = size(&v, "limits.log_rate").map_err(|e| at(Some(v.span()), e))?;
            }
            if let Some(v) = l.object_bytes {
                limits.object_bytes =
                    size(&v, "limits.object_bytes").map_err(|e| at(Some(v.span()), e))?;
            }
            if let Some(v) = l.max_object {
                limits.max_object_bytes =
                    size(&v, "limits.max_object").map_err(|e| at(Some(v.span()), e))?;
            }
            if let Some(n) = l.max_refs {
                limits.max_refs = n;
            }
            if let Some(n) = l.tasks_in_flight {
                let means = "tasks a job may have in flight on a node";
                limits.max_tasks_in_flight = at_least_one(&n, "limits.tasks_in_flight", means)
                    .map_err(|e| at(Some(n.span()), e))?;
            }
            if let Some(n) = l.max_depth {
                let means = "how deep tasks may nest";
                limits.max_depth = at_least_one(&n, "limits.max_depth", means)
                    .map_err(|e| at(Some(n.span()), e))?;
            }
            if let Some(n) = l.max_actors {
                let means = "actors a job may have alive on a node";
                limits.max_actors = at_least_one(&n, "limits.max_actors", means)
                    .map_err(|e| at(Some(n.span()), e))?;
            }
            if let Some(v) = l.job_cpu_time {
                limits.job_cpu_time =
                    duration(&v, "limits.job_cpu_time").map_err(|e| at(Some(v.span()), e))?;
            }
            if let Some(v) = l.cpu_time {
                cpu_time =
                    Some(duration(&v, "limits.cpu_time").map_err(|e| at(Some(v.span()), e))?);
            }
        }

        let (mut task_resources, mut actor_resources) = (None, None);
        if let Some(r) = m.resources {
            let custom = r.custom.unwrap_or_default();
            let mk = |cpus: f64, span: Range<usize>| -> Result<Resources, ManifestError> {
                if !cpus.is_finite() || cpus < 0.0 {
                    return Err(at(
                        Some(span),
                        format!("resources: cpus must be a number >= 0, got {cpus}"),
                    ));
                }
                let mut res = Resources::new(cpus, r.memory.unwrap_or(0));
                for (k, v) in &custom {
                    res = res.with_custom(k, *v);
                }
                Ok(res)
            };
            if let Some(c) = r.task_cpus {
                task_resources = Some(mk(*c.get_ref(), c.span())?);
            }
            if let Some(c) = r.actor_cpus {
                actor_resources = Some(mk(*c.get_ref(), c.span())?);
            }
        }

        let hash = hex(&hasher.finalize());
        Ok(Environment {
            source: file.to_string(),
            hash,
            language,
            packages,
            env_vars,
            working_dir,
            scratch: files.scratch.unwrap_or(false),
            network: network.into(),
            real_clock: caps.clock.unwrap_or(false),
            real_random: caps.random.unwrap_or(false),
            read_paths,
            limits,
            cpu_time,
            task_resources,
            actor_resources,
            packed_now,
            reuse_instances,
            named: BTreeMap::new(),
            python: None,
            name: None,
            inline: None,
        })
    }
}

fn resolve_host_port(s: &str) -> Result<Vec<SocketAddr>, String> {
    let (host, port) = s.rsplit_once(':').ok_or("no port")?;
    port.parse::<u16>()
        .map_err(|_| format!("`{port}` is not a port number"))?;
    if host.is_empty() {
        return Err("no host".into());
    }
    let addrs: Vec<SocketAddr> = s
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve it: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err("it resolves to no address".into());
    }
    Ok(addrs)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
