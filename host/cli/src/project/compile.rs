//! One project's build, per language, outside the project's folder: Rust
//! through cargo, the others through the installed SDK's
//! `runtimes/LANG/build.sh`, each of which installs its toolchain on first
//! use (idempotently) under `~/.cache/wrun`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context};

use super::{sdk, Lang};

/// Builds the project in `dir` and returns where its component is.
pub(super) fn build(
    dir: &Path,
    lang: Lang,
    dev: bool,
    out: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    let started = Instant::now();
    let sdk = sdk::installed()?;
    let name = project_name(dir, lang)?;
    let profile = if dev { "dev" } else { "release" };
    let work = wrun_sandbox::ComponentCache::default_dir()
        .join("builds")
        .join(format!(
            "{name}-{}",
            &wrun_core::content_hash(dir.as_os_str().as_encoded_bytes())[..12]
        ))
        .join(profile);
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let out = match out {
        Some(o) => std::path::absolute(o)?,
        None => work.join(format!("{name}.wasm")),
    };
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let step = |what: &str| eprintln!("wrun build: {what}");
    step(&format!(
        "{} job `{name}` from {} ({profile})",
        lang.name(),
        dir.display()
    ));
    match lang {
        Lang::Rust => rust(dir, &name, dev, &work, &out, &step)?,
        Lang::Python => {
            if dev {
                step("python has one profile: --dev builds the release component");
            }
            // The script builds a copy of the folder (no __pycache__ in it).
            let mut cmd = script(&sdk, "python");
            if dir.join("env.toml").is_file() {
                cmd.arg("--env").arg(dir.join("env.toml"));
            }
            cmd.arg(dir).arg(&out);
            if let Ok(patch) =
                std::env::current_exe().map(|e| e.with_file_name("wrun-python-patch"))
            {
                if patch.is_file() {
                    cmd.env("WRUN_PYTHON_PATCH", patch);
                }
            }
            step("componentize-py: bundling CPython, the SDK and the job (~15 s; the first build installs the toolchain)");
            run(cmd, "runtimes/python/build.sh")?;
        }
        Lang::Cpp => {
            let mut cmd = script(&sdk, "cpp");
            cmd.env("WRUN_CPP_OPT", if dev { "-O0" } else { "-O2" });
            cmd.arg(dir).arg(&out);
            step(
                "clang-19: compiling the job and the SDK (the first build installs the toolchain)",
            );
            run(cmd, "runtimes/cpp/build.sh")?;
        }
        Lang::Java => {
            if dev {
                step("java has one profile: --dev builds the release component");
            }
            let mut cmd = script(&sdk, "java");
            cmd.arg(dir).arg(&out);
            step("javac and TeaVM: compiling the job and the SDK (~20 s; the first build installs the toolchain)");
            run(cmd, "runtimes/java/build.sh")?;
        }
    }
    if !out.is_file() {
        bail!(
            "the build said it succeeded but {} is missing",
            out.display()
        );
    }
    let size = std::fs::metadata(&out)?.len();
    step(&format!(
        "built {} ({}) in {:.1} s",
        out.display(),
        bytesize::ByteSize::b(size),
        started.elapsed().as_secs_f64()
    ));
    Ok(out)
}

/// The job's name: the crate's for Rust, the folder's otherwise.
fn project_name(dir: &Path, lang: Lang) -> anyhow::Result<String> {
    if lang == Lang::Rust {
        let manifest = dir.join("Cargo.toml");
        let table: toml::Table = std::fs::read_to_string(&manifest)?
            .parse()
            .with_context(|| format!("reading {}", manifest.display()))?;
        let name = table
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(toml::Value::as_str)
            .with_context(|| format!("{}: no [package] name", manifest.display()))?;
        return Ok(name.to_string());
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "job".into());
    Ok(name)
}

/// Builds the Rust crate `name` in `dir` with cargo and copies its component to `out`.
fn rust(
    dir: &Path,
    name: &str,
    dev: bool,
    work: &Path,
    out: &Path,
    step: &dyn Fn(&str),
) -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("running rustup (install Rust with rustup: https://rustup.rs)")?;
    if !String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == "wasm32-wasip2")
    {
        step("adding the wasm32-wasip2 target (first use)");
        run(
            {
                let mut c = Command::new("rustup");
                c.args(["target", "add", "wasm32-wasip2"]);
                c
            },
            "rustup target add wasm32-wasip2",
        )?;
    }
    // One target folder for every job of this user: the SDK and its
    // dependencies compile once.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| work.join("../../cargo-target"));
    let mut cmd = Command::new("cargo");
    cmd.arg("build");
    if !dev {
        cmd.arg("--release");
    }
    cmd.args(["--target", "wasm32-wasip2", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target);
    step("cargo: compiling the job (the first build also compiles the SDK and its dependencies)");
    run(cmd, "cargo build")?;
    let crate_name = name.replace('-', "_");
    let built = target
        .join("wasm32-wasip2")
        .join(if dev { "debug" } else { "release" })
        .join(format!("{crate_name}.wasm"));
    if !built.is_file() {
        bail!(
            "cargo succeeded but {} is missing; is the crate a cdylib ([lib] crate-type = [\"cdylib\"])?",
            built.display()
        );
    }
    std::fs::copy(&built, out)
        .with_context(|| format!("copying {} to {}", built.display(), out.display()))?;
    Ok(())
}

/// The installed SDK's build script of `lang`.
fn script(sdk: &Path, lang: &str) -> Command {
    Command::new(sdk.join("runtimes").join(lang).join("build.sh"))
}

/// Runs a build step, its output on stderr (stdout is the component's path).
fn run(mut cmd: Command, what: &str) -> anyhow::Result<()> {
    let status = cmd
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .with_context(|| format!("running {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status}); its output is above");
    }
    Ok(())
}
