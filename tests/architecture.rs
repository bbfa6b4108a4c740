//! The host's architecture invariants (ARCHITECTURE.md, "Code map: the host
//! crates"), checked against each crate's Cargo.toml and sources: a crate
//! that starts to depend on what its layer forbids fails here, in the
//! commit that does it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The host crates from the bottom up; a crate may depend only on crates
/// before it.
const LAYERS: &[&str] = &[
    "core", "sched", "objects", "env", "proto", "sandbox", "runtime", "cluster", "cli",
];

/// What each crate must not list, with the invariant that forbids it.
const FORBIDDEN: &[(&str, &[&str], &str)] = &[
    (
        "core",
        &[
            "tokio",
            "wasmtime",
            "wasmtime-wasi",
            "tonic",
            "prost",
            "sled",
        ],
        "wrun-core is plain data",
    ),
    (
        "sched",
        &["wasmtime", "wasmtime-wasi", "tonic", "prost", "sled"],
        "wrun-sched is policy without I/O",
    ),
    (
        "objects",
        &["wasmtime", "wasmtime-wasi", "tonic", "prost", "sled"],
        "wrun-objects reaches other nodes only through ObjectTransport",
    ),
    (
        "env",
        &[
            "wasmtime",
            "wasmtime-wasi",
            "tokio",
            "tonic",
            "prost",
            "sled",
        ],
        "wrun-env turns manifests into data",
    ),
    (
        "proto",
        &["wasmtime", "wasmtime-wasi", "sled"],
        "wrun-proto holds the messages only",
    ),
    (
        "sandbox",
        &["tonic", "prost", "sled"],
        "the sandbox knows no network and no head store",
    ),
    (
        "runtime",
        &[
            "wasmtime",
            "wasmtime-wasi",
            "tonic",
            "prost",
            "sled",
            "wrun-proto",
        ],
        "the runtime sees the cluster only through its traits",
    ),
    (
        "cli",
        &["wasmtime", "wasmtime-wasi", "tonic", "prost", "sled"],
        "the CLI works through Runtime and wrun_cluster",
    ),
];

fn host_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../host")
}

/// The names under `[dependencies]` of `host/<krate>/Cargo.toml`.
fn dependencies(krate: &str) -> Vec<String> {
    let path = host_dir().join(krate).join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let manifest: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    manifest
        .get("dependencies")
        .and_then(|d| d.as_table())
        .map(|d| d.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn every_host_crate_is_listed_in_a_layer() {
    let on_disk: Vec<String> = std::fs::read_dir(host_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for name in &on_disk {
        assert!(
            LAYERS.contains(&name.as_str()),
            "host/{name} is a crate this test does not place in a layer: add it to LAYERS and FORBIDDEN, and to ARCHITECTURE.md"
        );
    }
    assert_eq!(on_disk.len(), LAYERS.len(), "crates on disk: {on_disk:?}");
}

#[test]
fn host_crates_depend_only_downwards() {
    let position: BTreeMap<String, usize> = LAYERS
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("wrun-{c}"), i))
        .collect();
    for (i, krate) in LAYERS.iter().enumerate() {
        for dep in dependencies(krate) {
            if let Some(&j) = position.get(&dep) {
                assert!(
                    j < i,
                    "host/{krate} depends on {dep}, which sits above it (or beside it): dependencies point down, see ARCHITECTURE.md"
                );
            }
        }
    }
}

#[test]
fn no_host_crate_lists_what_its_invariant_forbids() {
    for (krate, forbidden, why) in FORBIDDEN {
        let deps = dependencies(krate);
        for f in *forbidden {
            assert!(
                !deps.iter().any(|d| d == f),
                "host/{krate} lists {f}, but {why} (ARCHITECTURE.md)"
            );
        }
    }
}

/// Sources of `host/<krate>/src`, recursively.
fn sources(krate: &str) -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&host_dir().join(krate).join("src"), &mut out);
    out
}

#[test]
fn only_the_sandbox_names_wasmtime_in_code() {
    for krate in LAYERS.iter().filter(|k| **k != "sandbox") {
        for (path, text) in sources(krate) {
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                assert!(
                    !code.contains("wasmtime"),
                    "{}:{}: names wasmtime outside wrun-sandbox: {line}",
                    path.display(),
                    n + 1
                );
            }
        }
    }
}
