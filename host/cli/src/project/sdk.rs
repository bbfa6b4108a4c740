//! The guest SDKs, the WIT and the guest build scripts, embedded in this
//! binary (host/cli/build.rs) and installed on first use under
//! `$WRUN_HOME/sdk/<version>-<hash>` (default `~/.local/share/wrun`), so a
//! job project works from any folder on the machine and keeps working when
//! the checkout moves: a Rust job's `Cargo.toml` points there, and
//! `wrun build` runs the scripts from there.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// One embedded file, at its path relative to the installed SDK's root.
pub(crate) struct SdkFile {
    pub(crate) path: &'static str,
    pub(crate) bytes: &'static [u8],
    pub(crate) executable: bool,
}

include!(concat!(env!("OUT_DIR"), "/sdk_files.rs"));

/// Where wrun keeps what it installs for the user: `$WRUN_HOME`, else
/// `$XDG_DATA_HOME/wrun`, else `~/.local/share/wrun`.
fn wrun_home() -> anyhow::Result<PathBuf> {
    if let Some(h) = std::env::var_os("WRUN_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h));
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(x).join("wrun"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).context(
        "neither WRUN_HOME nor HOME is set: set WRUN_HOME to where wrun may install its SDKs",
    )?;
    Ok(PathBuf::from(home).join(".local/share/wrun"))
}

/// The installed SDK's root, installing it now if this build's is not
/// there yet (idempotent; concurrent installs leave one complete copy).
pub(crate) fn installed() -> anyhow::Result<PathBuf> {
    let root = wrun_home()?
        .join("sdk")
        .join(format!("{}-{SDK_HASH}", env!("CARGO_PKG_VERSION")));
    if root.join(".complete").exists() {
        return Ok(root);
    }
    let parent = root.parent().expect("the sdk folder has a parent");
    std::fs::create_dir_all(parent)
        .with_context(|| format!("creating {} for the guest SDKs", parent.display()))?;
    let tmp = tempfile::tempdir_in(parent)
        .with_context(|| format!("installing the guest SDKs into {}", parent.display()))?;
    for f in SDK_FILES {
        write_file(tmp.path(), f)?;
    }
    std::fs::write(tmp.path().join(".complete"), SDK_HASH)?;
    let tmp = tmp.keep();
    if let Err(e) = std::fs::rename(&tmp, &root) {
        let _ = std::fs::remove_dir_all(&tmp);
        if !root.join(".complete").exists() {
            return Err(e)
                .with_context(|| format!("installing the guest SDKs at {}", root.display()));
        }
    }
    tracing::info!(sdk = %root.display(), "installed the guest SDKs");
    Ok(root)
}

fn write_file(root: &Path, f: &SdkFile) -> anyhow::Result<()> {
    let dest = root.join(f.path);
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&dest, f.bytes).with_context(|| format!("writing {}", dest.display()))?;
    #[cfg(unix)]
    if f.executable {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}
