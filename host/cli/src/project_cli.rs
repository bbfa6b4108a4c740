//! `wrun new` and `wrun build`: a Rust job crate from the SDK's template,
//! and its build into a component ready to submit.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// The template shipped with the Rust guest SDK.
fn sdk_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-sdk/rust")
}

pub(crate) fn new_job(name: &str, parent: &Path) -> anyhow::Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        bail!("`{name}` is not a valid crate name: use letters, digits, `-` and `_`, not starting with a digit");
    }
    let dest = parent.join(name);
    if dest.exists() {
        bail!(
            "{} already exists; pick another name or directory",
            dest.display()
        );
    }
    let sdk = sdk_dir()
        .canonicalize()
        .context("locating the Rust guest SDK of this wrun build")?;
    let template = sdk.join("template");
    let manifest = std::fs::read_to_string(template.join("Cargo.toml.tmpl"))
        .with_context(|| format!("reading the template in {}", template.display()))?;
    let lib = std::fs::read_to_string(template.join("src/lib.rs"))?;
    std::fs::create_dir_all(dest.join("src"))?;
    std::fs::write(
        dest.join("Cargo.toml"),
        manifest
            .replace("{{name}}", name)
            .replace("{{sdk_path}}", &sdk.display().to_string()),
    )?;
    std::fs::write(dest.join("src/lib.rs"), lib)?;
    println!(
        "created {}\nnext: wrun build {} && wrun submit {}",
        dest.display(),
        dest.display(),
        dest.join(format!(
            "target/wasm32-wasip2/release/{}.wasm",
            name.replace('-', "_")
        ))
        .display()
    );
    Ok(())
}

pub(crate) fn build_job(dir: &Path) -> anyhow::Result<()> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.exists() {
        bail!(
            "{} has no Cargo.toml; run `wrun new NAME` first",
            dir.display()
        );
    }
    let status = std::process::Command::new("cargo")
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(&manifest)
        .status()
        .context("running cargo (is Rust installed? see README.md)")?;
    if !status.success() {
        bail!("cargo build failed (if the target is missing: rustup target add wasm32-wasip2)");
    }
    let text = std::fs::read_to_string(&manifest)?;
    let name = text
        .lines()
        .find_map(|l| {
            l.trim().strip_prefix("name").map(|r| {
                r.trim_start_matches([' ', '='])
                    .trim()
                    .trim_matches('"')
                    .to_string()
            })
        })
        .unwrap_or_default()
        .replace('-', "_");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("target"));
    let out = target.join(format!("wasm32-wasip2/release/{name}.wasm"));
    if !out.exists() {
        bail!(
            "cargo succeeded but {} is missing; is the crate a cdylib?",
            out.display()
        );
    }
    println!("{}", out.display());
    Ok(())
}
