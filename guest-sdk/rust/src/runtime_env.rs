//! Inline runtime environments: Ray's `.options(runtime_env={...})`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// What one task or actor changes of the environment it would run in
/// otherwise (a named one, or its caller's), given with
/// [`crate::TaskOptions::runtime_env`] or [`crate::ActorOptions::runtime_env`].
/// Variables merge over the base's; limits may only be lowered. What the
/// job's manifest grants (files, network, packages) cannot be set here: a
/// named environment of the manifest can (docs/runtime-env.md).
///
/// ```ignore
/// let env = RuntimeEnv::new().env("MODE", "fast").cpu_time(Duration::from_secs(2));
/// let r = work::options().runtime_env(env).remote(7)?;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RuntimeEnv {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    env: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Limits::is_empty")]
    limits: Limits,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
struct Limits {
    #[serde(skip_serializing_if = "Option::is_none")]
    memory: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu_time: Option<String>,
}

impl Limits {
    fn is_empty(&self) -> bool {
        self.memory.is_none() && self.cpu_time.is_none()
    }
}

impl RuntimeEnv {
    /// Changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the variable `name` (over the base environment's value).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Lowers `limits.cpu_time`, the CPU time per task (millisecond resolution).
    pub fn cpu_time(mut self, limit: Duration) -> Self {
        self.limits.cpu_time = Some(format!("{}ms", limit.as_millis()));
        self
    }

    /// Lowers `limits.memory`, the linear memory per instance, in bytes.
    pub fn memory(mut self, bytes: u64) -> Self {
        self.limits.memory = Some(bytes);
        self
    }

    /// The JSON the host reads.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a map of strings always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_hosts_schema() {
        let env = RuntimeEnv::new()
            .env("B", "2")
            .env("A", "1")
            .cpu_time(Duration::from_millis(2500))
            .memory(1 << 20);
        assert_eq!(
            env.to_json(),
            r#"{"env":{"A":"1","B":"2"},"limits":{"memory":1048576,"cpu_time":"2500ms"}}"#
        );
        assert_eq!(RuntimeEnv::new().to_json(), "{}");
    }
}
