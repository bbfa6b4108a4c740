//! Inline runtime environments: the `runtime_env` a task or actor passes
//! with its options (Ray's `.options(runtime_env={...})`), applied on top of
//! the environment it would run in otherwise (a named one, or its caller's).
//!
//! A guest writes them, and guests are untrusted: an inline environment may
//! change only what cannot widen the sandbox the job's manifest granted
//! (variables, and limits lowered), and what it may not set is refused with
//! the reason. Each job keeps at most [`MAX_INLINE_ENVS`] distinct ones per
//! node, so a guest cannot make the host hold an environment per task.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wrun_core::units;

use crate::manifest::SizeValue;
use crate::Environment;

/// The longest inline environment, in bytes of its JSON text.
pub const MAX_INLINE_BYTES: usize = 16 * 1024;
/// Distinct inline environments one job may use on a node.
pub const MAX_INLINE_ENVS: usize = 64;

/// What an inline `runtime_env` changes, checked and in canonical form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineEnv {
    /// Variables guests see, merged over the base's (these win).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Limits lowered.
    #[serde(default, skip_serializing_if = "InlineLimits::is_empty")]
    pub limits: InlineLimits,
}

/// The limits an inline environment may lower.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct InlineLimits {
    /// `limits.memory`: linear memory per instance, in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// `limits.cpu_time`: CPU time per task, in milliseconds (written `"Nms"`).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "millis_text"
    )]
    pub cpu_time: Option<u64>,
}

/// The limits as written: sizes as bytes or `"64M"`, durations as `"2s"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsText {
    memory: Option<SizeValue>,
    cpu_time: Option<String>,
}

impl<'de> Deserialize<'de> for InlineLimits {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let text = LimitsText::deserialize(d)?;
        let memory = match text.memory {
            None => None,
            Some(SizeValue::Bytes(n)) => Some(n),
            Some(SizeValue::Text(s)) => Some(units::parse_size(&s).map_err(D::Error::custom)?),
        };
        let cpu_time = match text.cpu_time {
            None => None,
            Some(s) => Some(
                units::parse_duration(&s)
                    .map_err(D::Error::custom)?
                    .as_millis()
                    .try_into()
                    .map_err(|_| D::Error::custom(format!("`{s}` is too long")))?,
            ),
        };
        Ok(InlineLimits { memory, cpu_time })
    }
}

fn millis_text<S: serde::Serializer>(ms: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_str(&format!("{ms}ms")),
        None => s.serialize_none(),
    }
}

impl InlineLimits {
    fn is_empty(&self) -> bool {
        self.memory.is_none() && self.cpu_time.is_none()
    }
}

/// Why a top-level field of a manifest cannot be set inline.
fn refused_field(key: &str) -> Option<String> {
    let granted = "is granted by the job's manifest, and a guest may not widen its own sandbox: \
                   declare it in an [environments.NAME] table and pass environment=NAME";
    match key {
        "env_vars" => Some(
            "`env_vars` is Ray's spelling; wrun's is `env` (the Python SDK translates it)".into(),
        ),
        "files" | "working_dir" | "excludes" | "capabilities" | "runtime" | "packages" | "pip"
        | "resources" | "py_modules" | "conda" | "container" => Some(format!("`{key}` {granted}")),
        "environments" => Some("inline environments do not nest".into()),
        _ => None,
    }
}

impl InlineEnv {
    /// Reads an inline environment's JSON text (an object with `env` and
    /// `limits`), naming the field of any error and what was expected.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > MAX_INLINE_BYTES {
            return Err(format!(
                "runtime_env: {} bytes, past the limit of {MAX_INLINE_BYTES}",
                text.len()
            ));
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("runtime_env: not JSON: {e}"))?;
        let Some(object) = value.as_object() else {
            return Err(format!(
                "runtime_env: expected an object such as {{\"env\": {{\"MODE\": \"fast\"}}}}, got `{value}`"
            ));
        };
        for key in object.keys() {
            if let Some(why) = refused_field(key) {
                return Err(format!("runtime_env: {why}"));
            }
        }
        let inline: InlineEnv = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            match path.as_str() {
                "." => format!("runtime_env: {inner}"),
                _ => format!("runtime_env: {path}: {inner}"),
            }
        })?;
        for (k, v) in &inline.env {
            if k.is_empty() || k.contains('=') || k.contains('\0') || v.contains('\0') {
                return Err(format!(
                    "runtime_env: env.{k}: names must be non-empty without `=`, and values without NUL bytes"
                ));
            }
        }
        Ok(inline)
    }

    /// The canonical JSON text: what identifies it and travels to other nodes.
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).expect("an inline environment always serialises")
    }

    /// This one, then `later` over it (its variables and limits win).
    pub fn then(&self, later: &InlineEnv) -> InlineEnv {
        let mut env = self.env.clone();
        env.extend(later.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        InlineEnv {
            env,
            limits: InlineLimits {
                memory: later.limits.memory.or(self.limits.memory),
                cpu_time: later.limits.cpu_time.or(self.limits.cpu_time),
            },
        }
    }
}

impl Environment {
    /// This environment (the job's own or a named one, never an inline
    /// one: `InlineEnvs` merges those first) changed by `inline`: variables
    /// merged, limits lowered (a limit raised is refused, naming it and
    /// both values).
    fn with_inline(&self, inline: &InlineEnv) -> Result<Environment, String> {
        let mut e = self.clone();
        e.named = BTreeMap::new();
        for (k, v) in &inline.env {
            match e.env_vars.iter_mut().find(|(name, _)| name == k) {
                Some(slot) => slot.1 = v.clone(),
                None => e.env_vars.push((k.clone(), v.clone())),
            }
        }
        let raise = |field: &str, asked: String, granted: String| {
            format!(
                "runtime_env: limits.{field}: {asked} is above the {granted} this environment \
                 grants; an inline runtime_env may only lower a limit (raise it in the manifest)"
            )
        };
        if let Some(bytes) = inline.limits.memory {
            let granted = e.limits.memory_per_instance as u64;
            if bytes > granted {
                return Err(raise(
                    "memory",
                    format!("{bytes} bytes"),
                    format!("{granted} bytes"),
                ));
            }
            e.limits.memory_per_instance = bytes as usize;
        }
        if let Some(ms) = inline.limits.cpu_time {
            let asked = Duration::from_millis(ms);
            if let Some(granted) = e.cpu_time.filter(|g| asked > *g) {
                return Err(raise(
                    "cpu_time",
                    format!("{asked:?}"),
                    format!("{granted:?}"),
                ));
            }
            e.cpu_time = Some(asked);
        }
        e.source = format!("{} with runtime_env {}", self.source, inline.canonical());
        e.inline = Some(Arc::new(inline.clone()));
        Ok(e)
    }
}

/// A job's inline environments on one node, by the environment they start
/// from and what they change: each distinct one is built once, so warm
/// instances (keyed by the environment's `Arc`) are reused across tasks.
#[derive(Debug, Default)]
pub struct InlineEnvs {
    built: Mutex<HashMap<InlineKey, Arc<Environment>>>,
}

/// The named environment an inline one starts from (None: the job's own),
/// and what it changes.
type InlineKey = (Option<String>, InlineEnv);

impl InlineEnvs {
    /// `base` changed by `inline` (base: a named environment of the job's,
    /// the job's own, or one an earlier inline environment changed).
    pub fn resolve(
        &self,
        job_env: &Environment,
        base: &Arc<Environment>,
        inline: &InlineEnv,
    ) -> Result<Arc<Environment>, String> {
        if *inline == InlineEnv::default() {
            return Ok(base.clone());
        }
        let merged = match &base.inline {
            Some(earlier) => earlier.then(inline),
            None => inline.clone(),
        };
        let key = (base.name.clone(), merged);
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = built.get(&key) {
            return Ok(e.clone());
        }
        if built.len() >= MAX_INLINE_ENVS {
            return Err(format!(
                "runtime_env: the job already uses {MAX_INLINE_ENVS} distinct inline environments on \
                 this node, the limit; declare the recurring ones as [environments.NAME] in the manifest"
            ));
        }
        // Built from the named base (or the job's), never from a chain of
        // earlier ones: every node builds the same one from the same key.
        let named_base = match &key.0 {
            Some(name) => job_env
                .named
                .get(name)
                .ok_or_else(|| {
                    format!("runtime_env: no environment `{name}` in {}", job_env.source)
                })?
                .as_ref(),
            None => job_env,
        };
        let env = Arc::new(named_base.with_inline(&key.1)?);
        built.insert(key, env.clone());
        Ok(env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wrun_core::JobLimits;

    fn job() -> Environment {
        let mut e = Environment::deny_all(JobLimits::default());
        e.env_vars = vec![("A".into(), "1".into()), ("B".into(), "2".into())];
        e.cpu_time = Some(Duration::from_secs(10));
        e
    }

    #[test]
    fn variables_merge_and_limits_lower() {
        let job = job();
        let envs = InlineEnvs::default();
        let inline = InlineEnv::parse(
            r#"{"env": {"B": "two", "C": "3"}, "limits": {"cpu_time": "2s", "memory": "16M"}}"#,
        )
        .unwrap();
        let e = envs.resolve(&job, &Arc::new(job.clone()), &inline).unwrap();
        let vars: BTreeMap<_, _> = e.env_vars.iter().cloned().collect();
        assert_eq!(vars["A"], "1");
        assert_eq!(vars["B"], "two");
        assert_eq!(vars["C"], "3");
        assert_eq!(e.cpu_time, Some(Duration::from_secs(2)));
        assert_eq!(e.limits.memory_per_instance, 16 << 20);
        let again = envs.resolve(&job, &Arc::new(job.clone()), &inline).unwrap();
        assert!(
            Arc::ptr_eq(&e, &again),
            "one environment per distinct inline one"
        );
        let base = Arc::new(job.clone());
        let nothing = envs.resolve(&job, &base, &InlineEnv::parse("{}").unwrap());
        assert!(
            Arc::ptr_eq(&nothing.unwrap(), &base),
            "an empty one changes nothing"
        );
    }

    #[test]
    fn a_chain_equals_its_merge() {
        let job = job();
        let envs = InlineEnvs::default();
        let first =
            InlineEnv::parse(r#"{"env": {"B": "x"}, "limits": {"cpu_time": "5s"}}"#).unwrap();
        let second = InlineEnv::parse(r#"{"env": {"C": "y"}}"#).unwrap();
        let a = envs.resolve(&job, &Arc::new(job.clone()), &first).unwrap();
        let ab = envs.resolve(&job, &a, &second).unwrap();
        assert_eq!(ab.cpu_time, Some(Duration::from_secs(5)));
        let text = ab.inline.as_ref().unwrap().canonical();
        assert_eq!(
            text,
            r#"{"env":{"B":"x","C":"y"},"limits":{"cpu_time":"5000ms"}}"#
        );
        // What another node gets: the canonical text, from the job's environment.
        let there = InlineEnvs::default();
        let rebuilt = there
            .resolve(
                &job,
                &Arc::new(job.clone()),
                &InlineEnv::parse(&text).unwrap(),
            )
            .unwrap();
        assert_eq!(rebuilt.env_vars, ab.env_vars);
        assert_eq!(rebuilt.cpu_time, ab.cpu_time);
    }

    #[test]
    fn what_would_widen_the_sandbox_is_refused_with_the_reason() {
        for (text, says) in [
            (r#"{"files": {"working_dir": "/"}}"#, "`files` is granted by the job's manifest"),
            (r#"{"capabilities": {"network": ["1.2.3.4:80"]}}"#, "may not widen"),
            (r#"{"pip": ["requests"]}"#, "`pip` is granted"),
            (r#"{"env_vars": {"A": "b"}}"#, "wrun's is `env`"),
            (r#"{"limits": {"job_cpu_time": "1h"}}"#, "limits.job_cpu_time: unknown field `job_cpu_time`, expected `memory` or `cpu_time`"),
            (r#"{"env": {"A": 1}}"#, "runtime_env: env.A: invalid type: integer `1`, expected a string"),
            (r#"{"limits": {"cpu_time": "soon"}}"#, "runtime_env: limits: "),
            (r#"{"colour": 1}"#, "unknown field `colour`, expected `env` or `limits`"),
            (r#"["env"]"#, "expected an object"),
            ("{", "not JSON"),
        ] {
            let e = InlineEnv::parse(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
        let big = format!(r#"{{"env": {{"A": "{}"}}}}"#, "x".repeat(MAX_INLINE_BYTES));
        assert!(InlineEnv::parse(&big)
            .unwrap_err()
            .contains("past the limit"));
        let job = job();
        let raise = InlineEnv::parse(r#"{"limits": {"cpu_time": "1m"}}"#).unwrap();
        let e = InlineEnvs::default()
            .resolve(&job, &Arc::new(job.clone()), &raise)
            .unwrap_err();
        assert!(e.contains("limits.cpu_time: 60s is above the 10s"), "{e}");
    }

    #[test]
    fn a_job_holds_a_bounded_number() {
        let job = job();
        let envs = InlineEnvs::default();
        let base = Arc::new(job.clone());
        for i in 0..MAX_INLINE_ENVS {
            let inline = InlineEnv::parse(&format!(r#"{{"env": {{"I": "{i}"}}}}"#)).unwrap();
            envs.resolve(&job, &base, &inline).unwrap();
        }
        let one_more = InlineEnv::parse(r#"{"env": {"I": "x"}}"#).unwrap();
        let e = envs.resolve(&job, &base, &one_more).unwrap_err();
        assert!(e.contains("64 distinct inline environments"), "{e}");
    }
}
