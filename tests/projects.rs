//! `wrun new`, `wrun build` and `wrun submit` as a new user runs them: a
//! job in each of the four languages, in a folder outside the checkout,
//! with the SDKs installed by `wrun` itself into a fresh `WRUN_HOME`.

use std::path::{Path, PathBuf};
use std::process::Command;

use wrun_tests::{repo, wrun_bin};

/// A user's machine: a project folder and a wrun home, both fresh, outside
/// the checkout.
struct User {
    projects: tempfile::TempDir,
    home: tempfile::TempDir,
    cache: tempfile::TempDir,
}

struct Run {
    code: i32,
    out: String,
    err: String,
}

impl User {
    fn new() -> Self {
        let u = User {
            projects: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        };
        assert!(!u.projects.path().starts_with(repo()));
        u
    }

    /// `wrun ARGS` in the projects folder.
    fn wrun(&self, args: &[&str]) -> Run {
        let out = Command::new(wrun_bin())
            .args(args)
            .current_dir(self.projects.path())
            .env("WRUN_HOME", self.home.path())
            .env("WRUN_CACHE_DIR", self.cache.path())
            .env_remove("RUST_LOG")
            .output()
            .expect("wrun runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&out.stdout).into_owned(),
            err: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok(&self, args: &[&str]) -> String {
        let r = self.wrun(args);
        assert_eq!(r.code, 0, "wrun {args:?}: {}{}", r.out, r.err);
        r.out
    }

    fn project(&self, name: &str) -> PathBuf {
        self.projects.path().join(name)
    }

    /// `wrun build ARGS`: the component it prints.
    fn build(&self, args: &[&str]) -> PathBuf {
        let mut all = vec!["build"];
        all.extend_from_slice(args);
        PathBuf::from(self.ok(&all).trim())
    }

    /// `wrun new NAME --lang LANG`, then `wrun build` and `wrun submit`;
    /// returns the component's path.
    fn new_build_submit(&self, name: &str, lang: &str) -> PathBuf {
        let created = self.ok(&["new", name, "--lang", lang]);
        assert!(
            created.contains(&format!("created the {lang} job")),
            "{created}"
        );
        let before = files(&self.project(name));
        let r = self.wrun(&["build", name]);
        assert_eq!(r.code, 0, "{}", r.err);
        let wasm = PathBuf::from(r.out.trim());
        assert!(wasm.is_file(), "the last line is the component: {}", r.out);
        assert!(
            r.err.contains(&format!("wrun build: {lang} job `{name}`"))
                && r.err.contains("wrun build: built "),
            "progress lines: {}",
            r.err
        );
        assert!(
            !wasm.starts_with(self.project(name)),
            "built outside the project's folder"
        );
        let mut after = files(&self.project(name));
        after.retain(|f| f != "Cargo.lock");
        assert_eq!(
            before, after,
            "the build wrote nothing into the project (no __pycache__, no target/)"
        );
        // Its manifest declares its language, which the host checks.
        let manifest = self.project(name).join("env.toml");
        let out = self.ok(&[
            "submit",
            "--env",
            manifest.to_str().unwrap(),
            wasm.to_str().unwrap(),
            "Ada",
        ]);
        assert_eq!(out.trim(), "Hello, Ada!", "{lang}");
        wasm
    }
}

/// The files under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn a_new_python_job_builds_and_runs_from_outside_the_checkout() {
    let u = User::new();
    u.new_build_submit("greeter", "python");
    assert_eq!(files(&u.project("greeter")), ["app.py", "env.toml"]);
}

#[test]
fn a_new_cpp_job_builds_and_runs_from_outside_the_checkout_in_both_profiles() {
    let u = User::new();
    let release = u.new_build_submit("greeter", "cpp");
    let dev = u.build(&["--dev", "greeter"]);
    assert_ne!(dev, release, "profiles build apart");
    assert_eq!(
        u.ok(&["submit", dev.to_str().unwrap(), "Bo"]).trim(),
        "Hello, Bo!"
    );
}

#[test]
fn a_new_java_job_builds_and_runs_from_outside_the_checkout() {
    let u = User::new();
    u.new_build_submit("my-greeter", "java");
    assert!(u.project("my-greeter/MyGreeter.java").is_file());
}

#[test]
fn a_new_rust_job_uses_the_installed_sdk_and_has_a_fast_dev_profile() {
    let u = User::new();
    // A name of its own: every Rust job shares one cargo target folder.
    let release = u.new_build_submit("rusty-greeter", "rust");
    let manifest = std::fs::read_to_string(u.project("rusty-greeter/Cargo.toml")).unwrap();
    let sdk = manifest
        .lines()
        .find(|l| l.starts_with("wrun = "))
        .and_then(|l| l.split('"').nth(1))
        .map(PathBuf::from)
        .unwrap();
    assert!(
        sdk.starts_with(u.home.path()) && !sdk.starts_with(repo()),
        "the SDK comes from the installed copy, not the checkout: {}",
        sdk.display()
    );
    // A change, rebuilt in the development profile.
    let lib = u.project("rusty-greeter/src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, text.replace("Hello, ", "Hi, ")).unwrap();
    let dev = u.build(&["--dev", "rusty-greeter"]);
    assert!(dev.is_file() && dev != release);
    assert_eq!(
        u.ok(&["submit", dev.to_str().unwrap(), "Ada"]).trim(),
        "Hi, Ada!"
    );
}

#[test]
fn build_says_what_a_folder_lacks_and_refuses_a_language_its_manifest_contradicts() {
    let u = User::new();
    std::fs::create_dir(u.project("empty")).unwrap();
    let r = u.wrun(&["build", "empty"]);
    assert_ne!(r.code, 0);
    assert!(
        r.err.contains("holds no wrun job") && r.err.contains("wrun new NAME --lang"),
        "{}",
        r.err
    );

    std::fs::create_dir(u.project("mixed")).unwrap();
    std::fs::write(u.project("mixed/app.py"), "").unwrap();
    std::fs::write(
        u.project("mixed/env.toml"),
        "[runtime]\nlanguage = \"java\"\n",
    )
    .unwrap();
    let r = u.wrun(&["build", "mixed"]);
    assert_ne!(r.code, 0);
    assert!(
        r.err.contains("declares `language = \"java\"`") && r.err.contains("python job"),
        "{}",
        r.err
    );

    let r = u.wrun(&["new", "9lives", "--lang", "python"]);
    assert_ne!(r.code, 0);
    assert!(r.err.contains("not a valid job name"), "{}", r.err);
    u.ok(&["new", "twice", "--lang", "cpp"]);
    let r = u.wrun(&["new", "twice", "--lang", "cpp"]);
    assert!(r.code != 0 && r.err.contains("already exists"), "{}", r.err);
}

#[test]
fn a_component_submitted_under_another_languages_manifest_is_refused_naming_both() {
    let u = User::new();
    let wasm = u.new_build_submit("lingo", "cpp");
    let manifest = u.project("python.toml");
    std::fs::write(&manifest, "[runtime]\nlanguage = \"python\"\n").unwrap();
    let r = u.wrun(&[
        "submit",
        "--env",
        manifest.to_str().unwrap(),
        wasm.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 3, "refused as a component: {}", r.err);
    assert!(
        r.err.contains("was built with the cpp SDK")
            && r.err.contains("declares runtime.language = \"python\""),
        "{}",
        r.err
    );
}

#[test]
fn a_python_package_with_only_native_wheels_is_refused_by_name_and_nothing_is_cached() {
    let u = User::new();
    u.ok(&["new", "natives", "--lang", "python"]);
    std::fs::write(
        u.project("natives/env.toml"),
        "[runtime]\nlanguage = \"python\"\npackages = [\"ujson==5.10.0\"]\n",
    )
    .unwrap();
    let r = u.wrun(&["build", "natives"]);
    assert_ne!(r.code, 0);
    assert!(
        r.err.contains("ujson==5.10.0 has no pure-Python wheel")
            && r.err.contains("cannot load native code"),
        "{}",
        r.err
    );
    let cached = u.cache.path().join("pypkgs");
    assert!(
        !cached.exists() || std::fs::read_dir(&cached).unwrap().next().is_none(),
        "nothing cached"
    );
}

#[test]
fn a_python_component_gets_the_packages_its_manifest_adds_at_submit() {
    let u = User::new();
    u.ok(&["new", "tables", "--lang", "python"]);
    std::fs::write(
        u.project("tables/app.py"),
        "import wrun\n\n\n@wrun.remote\ndef table(n):\n    import tabulate\n    rows = [(i, i * i) for i in range(1, n + 1)]\n    return tabulate.__version__ + \"|\" + tabulate.tabulate(rows)\n\n\n@wrun.main\ndef main(args):\n    task = table.options(resources={args[0]: 1}) if args else table\n    return wrun.get(task.remote(3))\n",
    )
    .unwrap();
    let wasm = u.build(&["tables"]);
    let submit = |manifest: Option<&str>| {
        let mut args = vec!["submit".to_string()];
        if let Some(text) = manifest {
            let path = u.project(&format!("env-{}.toml", text.len()));
            std::fs::write(&path, text).unwrap();
            args.extend(["--env".into(), path.display().to_string()]);
        }
        args.push(wasm.display().to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        u.wrun(&args)
    };
    let with = |pkg: &str| format!("[runtime]\nlanguage = \"python\"\npackages = [\"{pkg}\"]\n");
    // One built component, two environments, two versions of the package.
    for (pkg, version) in [("tabulate==0.10.0", "0.10.0"), ("tabulate==0.9.0", "0.9.0")] {
        let r = submit(Some(&with(pkg)));
        assert_eq!(r.code, 0, "{pkg}: {}", r.err);
        assert!(
            r.out.starts_with(&format!("{version}|")),
            "{pkg}: {}",
            r.out
        );
        assert!(r.out.contains("3  9"), "the table: {}", r.out);
    }
    let cached = || {
        std::fs::read_dir(u.cache.path().join("pypkgs"))
            .unwrap()
            .count()
    };
    assert_eq!(cached(), 2, "one install per list");
    let r = submit(Some(&with("tabulate==0.9.0")));
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(cached(), 2, "the second use finds it in the cache");
    // Without the manifest the component has no tabulate.
    let r = submit(None);
    assert!(
        r.code == 1 && r.err.contains("No module named 'tabulate'"),
        "{}",
        r.err
    );
    // A package with only native wheels is refused by name, nothing cached.
    let r = submit(Some(&with("ujson==5.10.0")));
    assert_eq!(r.code, 3, "{}", r.err);
    assert!(
        r.err
            .contains("runtime.packages: ujson==5.10.0 has no pure-Python wheel"),
        "{}",
        r.err
    );
    assert_eq!(cached(), 2);

    // On a cluster, the node a task is placed on resolves the list too.
    let c = wrun_tests::cluster_harness::Cluster::start("1");
    c.add_node(&["--cpus", "1", "--resources", "far=1"]);
    c.wait_nodes(2);
    let manifest = u.project("env-cluster.toml");
    std::fs::write(&manifest, with("tabulate==0.9.0")).unwrap();
    let (code, out, err) = wrun_tests::cluster_harness::submit_to(
        &c.address,
        c.state(),
        Some(&manifest),
        &wasm,
        &["far"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("0.9.0|") && out.contains("3  9"), "{out}");
}
