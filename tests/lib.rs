//! Helpers of the end-to-end tests: where the real example components and the
//! `wrun` binary are, and runtimes that collect guest logs.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use wrun_core::logs::LogLine;
use wrun_objects::ObjectValue;
use wrun_runtime::{Runtime, RuntimeConfig};

pub mod cdp;
pub mod cluster_harness;
pub mod scrape;

/// The cargo target directory the project scripts build into.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
    }
}

/// The repository's root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the repository")
        .to_path_buf()
}

/// The component of a Rust example, built by `scripts/build.sh`.
pub fn example(name: &str) -> PathBuf {
    let dir = std::env::var_os("WRUN_EXAMPLES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("wasm32-wasip2/release"));
    let p = dir.join(format!("{name}.wasm"));
    assert!(
        p.exists(),
        "{} is missing: build the examples first (scripts/build.sh)",
        p.display()
    );
    p
}

/// The component of a guest example in `lang` (python, cpp, java), built
/// by `scripts/build.sh` into the directory `dir_var` names.
fn guest_example(dir_var: &str, default_dir: &str, name: &str) -> PathBuf {
    let dir = std::env::var_os(dir_var)
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join(default_dir));
    let p = dir.join(format!("{name}.wasm"));
    assert!(
        p.exists(),
        "{} is missing: build the examples first (scripts/build.sh)",
        p.display()
    );
    p
}

/// The component of a Python example, built by `scripts/build.sh`.
pub fn py_example(name: &str) -> PathBuf {
    guest_example("WRUN_PY_EXAMPLES_DIR", "python", name)
}

/// The component of a C++ example, built by `scripts/build.sh`.
pub fn cpp_example(name: &str) -> PathBuf {
    guest_example("WRUN_CPP_EXAMPLES_DIR", "cpp", name)
}

/// The component of a Java example, built by `scripts/build.sh`.
pub fn java_example(name: &str) -> PathBuf {
    guest_example("WRUN_JAVA_EXAMPLES_DIR", "java", name)
}

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// What one `wrun` command printed.
pub struct Run {
    pub code: i32,
    /// Standard output, trimmed.
    pub out: String,
    pub err: String,
}

/// Runs `wrun submit OPTIONS COMPONENT ARGS` with the shared component cache
/// (a Python component compiles in seconds, once).
pub fn submit_with(options: &[std::ffi::OsString], component: &Path, args: &[&str]) -> Run {
    let out = std::process::Command::new(wrun_bin())
        .arg("submit")
        .args(options)
        .arg(component)
        .args(args)
        .env("WRUN_CACHE_DIR", shared_cache_dir())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A compiled-component cache shared by test runs, for components that take
/// seconds to compile (the ~19 MB Python ones).
pub fn shared_cache_dir() -> PathBuf {
    target_dir().join("wrun-test-cache")
}

/// The `wrun` binary, built by `scripts/build.sh`.
pub fn wrun_bin() -> PathBuf {
    let p = std::env::var_os("WRUN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("release/wrun"));
    assert!(
        p.exists(),
        "{} is missing: run scripts/build.sh",
        p.display()
    );
    p
}

/// Guest log lines a runtime produced.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<LogLine>>>);

impl Logs {
    /// The guest lines' messages, in the order they came.
    pub fn messages(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|l| l.message.clone())
            .collect()
    }

    pub fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|l| format!("[{}] {}", l.task, l.message))
            .collect()
    }
}

/// A test configuration: its own cache and spill directories, logs collected.
pub fn config(dir: &std::path::Path) -> (RuntimeConfig, Logs) {
    let logs = Logs::default();
    let sink = logs.clone();
    let cfg = RuntimeConfig {
        cache_dir: dir.join("cache"),
        spill_dir: dir.join("spill"),
        log_sink: Arc::new(move |l| sink.0.lock().unwrap().push(l)),
        ..RuntimeConfig::default()
    };
    (cfg, logs)
}

pub fn runtime(dir: &std::path::Path) -> (Runtime, Logs) {
    let (cfg, logs) = config(dir);
    (Runtime::new(cfg).expect("runtime starts"), logs)
}

/// Decodes a result value.
pub fn decode(v: &ObjectValue) -> rmpv::Value {
    wrun_core::values::decode(&v.data).expect("a MessagePack value")
}

/// An argument passed by value.
pub fn arg(v: impl Into<rmpv::Value>) -> wrun_objects::TaskArg {
    wrun_objects::TaskArg::Value(ObjectValue::from_bytes(wrun_core::values::encode(
        &v.into(),
    )))
}

/// Looks a key up in a MessagePack map.
pub fn field<'a>(v: &'a rmpv::Value, key: &str) -> &'a rmpv::Value {
    v.as_map()
        .unwrap_or_else(|| panic!("expected a map, got {v}"))
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no `{key}` in {v}"))
}

/// A port free on loopback now (for a daemon's health or metrics port).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
