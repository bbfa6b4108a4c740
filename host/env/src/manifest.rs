//! The manifest's TOML schema (docs/runtime-env.md): unknown fields are
//! refused, and every value keeps its span for errors that point into the
//! file.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use wrun_core::units;

#[derive(Deserialize, Default)]
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuntimeSection {
    pub(crate) language: Option<Spanned<String>>,
    pub(crate) reuse_instances: Option<Spanned<bool>>,
    pub(crate) packages: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilesSection {
    pub(crate) working_dir: Option<Spanned<String>>,
    pub(crate) scratch: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct Capabilities {
    pub(crate) network: Option<Vec<Spanned<String>>>,
    pub(crate) clock: Option<bool>,
    pub(crate) random: Option<bool>,
    pub(crate) read: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResourcesSection {
    pub(crate) task_cpus: Option<Spanned<f64>>,
    pub(crate) actor_cpus: Option<Spanned<f64>>,
    pub(crate) memory: Option<u64>,
    pub(crate) custom: Option<BTreeMap<String, f64>>,
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
