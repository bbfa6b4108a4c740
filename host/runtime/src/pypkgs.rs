//! Python packages a job's manifest lists that its component was not built
//! with, as Ray's `runtime_env` pip: resolved on this node once per list
//! (pure-Python wheels only, into `pypkgs/<hash>` of the cache, the folder
//! `runtimes/python/build.sh` fills too) and mounted for the guest with the
//! guests' standard library, which a package may import beyond what the
//! build snapshotted.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};
use wrun_env::PythonMounts;

/// The CPython that componentize-py 0.25.1 bundles.
const GUEST_PYTHON: &str = "3.14";
/// The componentize-py whose standard library runtimes/python/setup.sh keeps.
const COMPONENTIZE_PY: &str = "0.25.1";

/// The mounts for `packages` (the manifest's whole list), installing them
/// now unless this node has them; an error says what to change.
pub(crate) fn provide(packages: &[String], cache_dir: &Path) -> Result<PythonMounts, String> {
    let stdlib = stdlib_dir();
    if !stdlib.join(".complete").is_file() {
        return Err(format!(
            "the packages are added at submit, which needs the Python guests' standard library on this node at {}: run runtimes/python/setup.sh (any wrun build of a Python job does) once here",
            stdlib.display()
        ));
    }
    let mut sorted = packages.to_vec();
    sorted.sort();
    let mut h = Sha256::new();
    for p in &sorted {
        h.update(p.as_bytes());
        h.update(b"\n");
    }
    let key: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = cache_dir.join("pypkgs").join(&key);
    if !dir.is_dir() {
        install(&sorted, &dir)?;
    }
    Ok(PythonMounts {
        packages: dir,
        stdlib,
    })
}

/// `$WRUN_PY_STDLIB`, else `~/.cache/wrun/py-stdlib/<version>`.
fn stdlib_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("WRUN_PY_STDLIB").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    home().join(".cache/wrun/py-stdlib").join(COMPONENTIZE_PY)
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from)
}

/// The toolchain's venv python (it has pip), else the machine's python3.
fn python() -> PathBuf {
    let venv = std::env::var_os("WRUN_PY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cache/wrun/py-venv"));
    let p = venv.join("bin/python");
    if p.is_file() {
        p
    } else {
        PathBuf::from("python3")
    }
}

/// Installs pure-Python wheels only into a temporary folder, renamed into
/// place when complete: a failed install leaves nothing cached.
fn install(packages: &[String], dir: &Path) -> Result<(), String> {
    let parent = dir.parent().expect("pypkgs/<hash>");
    std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    let tmp = parent.join(format!(
        ".{}.tmp{}",
        dir.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&tmp);
    tracing::info!(?packages, dir = %dir.display(), "installing a job's Python packages");
    let out = Command::new(python())
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args([
            "--only-binary=:all:",
            "--platform",
            "any",
            "--implementation",
            "py",
        ])
        .args([
            "--abi",
            "none",
            "--python-version",
            GUEST_PYTHON,
            "--target",
        ])
        .arg(&tmp)
        .args(packages)
        .output()
        .map_err(|e| {
            format!(
                "running pip to install {}: {e} (is Python 3 installed?)",
                packages.join(", ")
            )
        })?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        let log = String::from_utf8_lossy(&out.stderr);
        let missing = log
            .lines()
            .find_map(|l| l.split("No matching distribution found for ").nth(1));
        return Err(match missing {
            Some(p) => format!(
                "{} has no pure-Python wheel (py3-none-any) for Python {GUEST_PYTHON}; a Wasm guest cannot load native code: use a pure-Python alternative, or drop it",
                p.trim()
            ),
            None => format!("{} did not install: {}", packages.join(", "), log.trim()),
        });
    }
    match std::fs::rename(&tmp, dir) {
        Ok(()) => Ok(()),
        // Installed by another node of this machine meanwhile.
        Err(_) if dir.is_dir() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(())
        }
        Err(e) => Err(format!("installing into {}: {e}", dir.display())),
    }
}
