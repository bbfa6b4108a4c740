//! The manifest's TOML schema (docs/runtime-env.md): unknown fields are
//! refused, and every value keeps its span for errors that point into the
//! file.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use wrun_core::units;

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct Manifest {
    pub(crate) runtime: Option<RuntimeSection>,
    pub(crate) env: Option<BTreeMap<String, Spanned<String>>>,
    pub(crate) files: Option<FilesSection>,
    pub(crate) capabilities: Option<Capabilities>,
    pub(crate) limits: Option<LimitsSection>,
    pub(crate) resources: Option<ResourcesSection>,
    pub(crate) environments: Option<BTreeMap<String, Spanned<Manifest>>>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuntimeSection {
    pub(crate) language: Option<Spanned<String>>,
    pub(crate) reuse_instances: Option<Spanned<bool>>,
    pub(crate) packages: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilesSection {
    pub(crate) working_dir: Option<Spanned<String>>,
    pub(crate) scratch: Option<bool>,
    pub(crate) excludes: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct Capabilities {
    pub(crate) network: Option<Vec<Spanned<String>>>,
    pub(crate) clock: Option<bool>,
    pub(crate) random: Option<bool>,
    pub(crate) read: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsSection {
    pub(crate) memory: Option<Spanned<SizeValue>>,
    pub(crate) max_refs: Option<usize>,
    pub(crate) tasks_in_flight: Option<Spanned<usize>>,
    pub(crate) max_depth: Option<Spanned<u32>>,
    pub(crate) max_actors: Option<Spanned<usize>>,
    pub(crate) cpu_time: Option<Spanned<String>>,
    pub(crate) job_cpu_time: Option<Spanned<String>>,
    pub(crate) max_object: Option<Spanned<SizeValue>>,
    pub(crate) object_bytes: Option<Spanned<SizeValue>>,
    pub(crate) log_rate: Option<Spanned<SizeValue>>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourcesSection {
    pub(crate) task_cpus: Option<Spanned<f64>>,
    pub(crate) actor_cpus: Option<Spanned<f64>>,
    pub(crate) memory: Option<u64>,
    pub(crate) custom: Option<BTreeMap<String, f64>>,
}

/// Each field of `$named` that it sets, else `$base`'s.
macro_rules! inherit_fields {
    ($named:expr, $base:expr, $($field:ident),+) => {
        Self { $($field: $named.$field.or_else(|| $base.$field.clone())),+ }
    };
}

impl Manifest {
    /// A named environment as Ray merges a task's `runtime_env` into its
    /// job's: it starts from the job's manifest (`base`) and changes only
    /// what it names. Tables merge field by field; the `[env]` map merges
    /// variable by variable; a list (packages, network, read) or the
    /// `custom` resource map is replaced whole. docs/runtime-env.md has the
    /// table.
    pub(crate) fn inherit(self, base: &Manifest) -> Manifest {
        let env = match (self.env, &base.env) {
            (Some(mine), Some(theirs)) => {
                let mut merged = theirs.clone();
                merged.extend(mine);
                Some(merged)
            }
            (mine, theirs) => mine.or_else(|| theirs.clone()),
        };
        Manifest {
            runtime: merge(self.runtime, &base.runtime, RuntimeSection::inherit),
            env,
            files: merge(self.files, &base.files, FilesSection::inherit),
            capabilities: merge(self.capabilities, &base.capabilities, Capabilities::inherit),
            limits: merge(self.limits, &base.limits, LimitsSection::inherit),
            resources: merge(self.resources, &base.resources, ResourcesSection::inherit),
            environments: self.environments,
        }
    }
}

/// A table of a named environment over the job's table of that name.
fn merge<T: Clone>(mine: Option<T>, theirs: &Option<T>, inherit: fn(T, &T) -> T) -> Option<T> {
    match (mine, theirs) {
        (Some(m), Some(t)) => Some(inherit(m, t)),
        (m, t) => m.or_else(|| t.clone()),
    }
}

impl RuntimeSection {
    fn inherit(self, base: &Self) -> Self {
        inherit_fields!(self, base, language, reuse_instances, packages)
    }
}

impl FilesSection {
    fn inherit(self, base: &Self) -> Self {
        inherit_fields!(self, base, working_dir, scratch, excludes)
    }
}

impl Capabilities {
    fn inherit(self, base: &Self) -> Self {
        inherit_fields!(self, base, network, clock, random, read)
    }
}

impl LimitsSection {
    fn inherit(self, base: &Self) -> Self {
        inherit_fields!(
            self,
            base,
            memory,
            max_refs,
            tasks_in_flight,
            max_depth,
            max_actors,
            cpu_time,
            job_cpu_time,
            max_object,
            object_bytes,
            log_rate
        )
    }
}

impl ResourcesSection {
    fn inherit(self, base: &Self) -> Self {
        inherit_fields!(self, base, task_cpus, actor_cpus, memory, custom)
    }
}

/// A size: a number of bytes, or a string such as "64M".
#[derive(Deserialize, Clone)]
#[serde(untagged)]
pub(crate) enum SizeValue {
    Bytes(u64),
    Text(String),
}

/// A size field's value in bytes, or the error naming the field.
pub(crate) fn size(v: &Spanned<SizeValue>, field: &str) -> Result<usize, String> {
    match v.get_ref() {
        SizeValue::Bytes(n) => Ok(*n as usize),
        SizeValue::Text(s) => units::parse_size(s)
            .map(|n| n as usize)
            .map_err(|e| format!("{field}: {e}")),
    }
}

/// A count field's value, refused when it is 0 (`means`: what it counts).
pub(crate) fn at_least_one<T: Copy + Default + PartialEq>(
    v: &Spanned<T>,
    field: &str,
    means: &str,
) -> Result<T, String> {
    match *v.get_ref() {
        n if n == T::default() => Err(format!("{field}: expected at least 1 ({means})")),
        n => Ok(n),
    }
}

/// A duration field's value, or the error naming the field.
pub(crate) fn duration(v: &Spanned<String>, field: &str) -> Result<Duration, String> {
    units::parse_duration(v.get_ref()).map_err(|e| format!("{field}: {e}"))
}

/// The languages with a guest SDK.
pub const LANGUAGES: [&str; 4] = ["rust", "cpp", "python", "java"];

pub(crate) fn check_language(language: &str) -> Result<(), String> {
    if LANGUAGES.contains(&language) {
        return Ok(());
    }
    Err(format!(
        "runtime.language: expected one of rust, cpp, python, java; got `{language}`"
    ))
}

/// The manifest's text as its schema, or the span and the message of what
/// does not fit, naming the field (`env.X: invalid type: ...`).
pub(crate) fn read_manifest(text: &str) -> Result<Manifest, (Option<Range<usize>>, String)> {
    let de =
        toml::Deserializer::parse(text).map_err(|e| (e.span(), e.message().trim().to_string()))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        // A `Spanned` value adds a private segment of its own.
        let field = e
            .path()
            .to_string()
            .replace(".$__serde_spanned_private_value", "");
        let inner = e.into_inner();
        let message = inner.message().trim().to_string();
        let message = if field.is_empty() || field == "." || message.starts_with("unknown field") {
            message
        } else {
            format!("{field}: {message}")
        };
        (inner.span(), message)
    })
}

pub(crate) fn spanned_strings(v: &Option<Vec<Spanned<String>>>) -> Vec<String> {
    v.iter().flatten().map(|s| s.get_ref().clone()).collect()
}

/// A package is a name with optional extras and version constraints
/// (`tabulate==0.10.0`, `attrs[tests]>=23,<24`): nothing pip would read as
/// an option (`--index-url=...`) or a place to fetch from (`x @ https://...`),
/// since nodes run pip with it.
pub(crate) fn check_package(spec: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._-[],<>=!~*+".contains(c);
    if spec.starts_with(|c: char| c.is_ascii_alphanumeric()) && spec.chars().all(allowed) {
        return Ok(());
    }
    Err(format!(
        "`{spec}` is not a package requirement: expected NAME[EXTRAS] with version constraints, such as `tabulate==0.10.0` (no options, spaces or URLs)"
    ))
}
