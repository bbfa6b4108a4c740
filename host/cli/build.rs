//! Embeds the guest SDKs, the WIT and the guest build scripts into the
//! `wrun` binary, so that `wrun new` and `wrun build` work from any folder
//! on the machine, not only inside this checkout: the first use installs
//! them under `~/.local/share/wrun/sdk/<version>-<hash>` (host/cli/src/sdk.rs).
//!
//! The Rust SDK's manifests inherit from this workspace (`version.workspace
//! = true`); outside it they could not, so the copies get the workspace's
//! values written in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// What is installed, relative to the repository root.
const ROOTS: &[&str] = &[
    "wit",
    "guest-sdk/rust",
    "guest-sdk/rust-macros",
    "guest-sdk/python",
    "guest-sdk/cpp",
    "guest-sdk/java",
    "runtimes/python",
    "runtimes/cpp",
    "runtimes/java",
];

/// Folders that are not part of what a job's build needs.
const SKIPPED: &[&str] = &["tests", "test", "itest", "target", "__pycache__", "patch"];

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let repo = repo.canonicalize().expect("the repository root");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let workspace: toml::Table = toml::from_str(
        &std::fs::read_to_string(repo.join("Cargo.toml")).expect("the workspace manifest"),
    )
    .expect("the workspace manifest parses");

    let mut files = BTreeMap::new();
    for root in ROOTS {
        collect(&repo, Path::new(root), &mut files);
    }
    // File by file, not the folders: cargo would scan a folder whole, and
    // a Python build writes __pycache__ into guest-sdk/python.
    for abs in files.values() {
        println!("cargo:rerun-if-changed={}", abs.display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        repo.join("Cargo.toml").display()
    );

    let mut hash = Sha256::new();
    let mut entries = String::new();
    for (rel, abs) in &files {
        let rel_str = rel.to_string_lossy().replace('\\', "/");
        let mut source = abs.clone();
        if rel.file_name().is_some_and(|n| n == "Cargo.toml") {
            let text = std::fs::read_to_string(abs).expect("a Cargo.toml");
            let standalone = without_workspace_inheritance(&text, &workspace);
            source = out.join(format!("sdk-{}", rel_str.replace('/', "-")));
            std::fs::write(&source, standalone).expect("writing a standalone Cargo.toml");
        }
        let bytes = std::fs::read(&source).expect("an SDK file");
        hash.update(rel_str.as_bytes());
        hash.update([0]);
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
        let executable = is_executable(abs);
        entries.push_str(&format!(
            "    SdkFile {{ path: {rel_str:?}, bytes: include_bytes!({:?}), executable: {executable} }},\n",
            source.display().to_string()
        ));
    }
    let digest: String = hash
        .finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    let code = format!(
        "/// The content hash of the embedded SDK (12 hex digits).\n\
         pub(crate) const SDK_HASH: &str = {digest:?};\n\
         /// The embedded SDK's files.\n\
         pub(crate) static SDK_FILES: &[SdkFile] = &[\n{entries}];\n"
    );
    std::fs::write(out.join("sdk_files.rs"), code).expect("writing sdk_files.rs");
}

fn collect(repo: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, PathBuf>) {
    let dir = repo.join(rel);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        let Ok(ty) = entry.file_type() else { continue };
        let r = rel.join(&name);
        if ty.is_dir() {
            if !SKIPPED.contains(&name_str.as_ref()) {
                collect(repo, &r, out);
            }
        } else if ty.is_file() && !name_str.ends_with(".pyc") && name_str != "Cargo.lock" {
            out.insert(r, entry.path());
        }
    }
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    false
}

/// A member's manifest with `x.workspace = true` replaced by the
/// workspace's value (package fields and dependencies).
fn without_workspace_inheritance(text: &str, workspace: &toml::Table) -> String {
    let mut manifest: toml::Table = toml::from_str(text).expect("an SDK Cargo.toml parses");
    let ws = workspace["workspace"].as_table().expect("[workspace]");
    let inherits = |v: &toml::Value| {
        v.as_table()
            .and_then(|t| t.get("workspace"))
            .and_then(toml::Value::as_bool)
            == Some(true)
    };
    if let (Some(pkg), Some(ws_pkg)) = (
        manifest
            .get_mut("package")
            .and_then(toml::Value::as_table_mut),
        ws.get("package").and_then(toml::Value::as_table),
    ) {
        for (key, value) in pkg.iter_mut() {
            if inherits(value) {
                *value = ws_pkg[key.as_str()].clone();
            }
        }
    }
    let ws_deps = ws.get("dependencies").and_then(toml::Value::as_table);
    for section in ["dependencies", "dev-dependencies"] {
        let Some(deps) = manifest
            .get_mut(section)
            .and_then(toml::Value::as_table_mut)
        else {
            continue;
        };
        for (name, value) in deps.iter_mut() {
            if !inherits(value) {
                continue;
            }
            let mut resolved = match &ws_deps.expect("[workspace.dependencies]")[name.as_str()] {
                toml::Value::String(v) => {
                    let mut t = toml::Table::new();
                    t.insert("version".into(), toml::Value::String(v.clone()));
                    t
                }
                other => other.as_table().expect("a dependency table").clone(),
            };
            for (k, v) in value.as_table().expect("a dependency table") {
                if k != "workspace" {
                    resolved.insert(k.clone(), v.clone());
                }
            }
            *value = toml::Value::Table(resolved);
        }
    }
    // Tests of the SDK stay in the checkout.
    manifest.remove("dev-dependencies");
    toml::to_string(&manifest).expect("a manifest serializes")
}
