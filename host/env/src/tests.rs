//! Manifests parsed into environments, and their errors.

use super::*;

fn parse(text: &str) -> Result<Environment, ManifestError> {
    let dir = tempfile::tempdir().unwrap();
    Environment::parse(
        text,
        "env.toml",
        dir.path(),
        dir.path(),
        JobLimits::default(),
    )
}

#[test]
fn an_empty_manifest_denies_everything() {
    let e = parse("").unwrap();
    assert!(e.env_vars.is_empty() && e.network.is_empty() && e.read_paths.is_empty());
    assert!(!e.real_clock && !e.real_random && !e.scratch && e.working_dir.is_none());
}

#[test]
fn errors_name_the_line_the_field_and_what_was_expected() {
    let e = parse("[limits]\nmemory = \"12Q\"\n").unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("env.toml", 2), "{e}");
    assert!(
        e.message.contains("limits.memory") && e.message.contains("64M"),
        "{e}"
    );

    let e = parse("[capabilities]\nclock = true\nnetwork = [\"localhost\"]\n").unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("HOST:PORT"), "{e}");

    let e = parse("[files]\nworkdir = \"x\"\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(
        e.message.contains("unknown field `workdir`") && e.message.contains("working_dir"),
        "{e}"
    );

    let e = parse("[runtime]\nlanguage = \"cobol\"\n").unwrap_err();
    assert!(e.message.contains("rust, cpp, python, java"), "{e}");

    let e = parse("[runtime]\npackages = [\"serde\"]\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("python and java"), "{e}");

    let e = parse("[runtime]\nreuse_instances = true\n[files]\nscratch = true\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("files.scratch"), "{e}");

    let e = parse("[limits]\ncpu_time = \"soon\"\n").unwrap_err();
    assert!(e.message.contains("250ms"), "{e}");

    let e = parse("[limits]\njob_cpu_time = 10\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn sizes_durations_and_addresses_parse() {
    let e = parse(
        "[limits]\nmemory = \"64M\"\nmax_object = 1024\ncpu_time = \"1.5s\"\n[capabilities]\nnetwork = [\"127.0.0.1:8080\"]\n",
    )
    .unwrap();
    assert_eq!(e.limits.memory_per_instance, 64 << 20);
    assert_eq!(e.limits.max_object_bytes, 1024);
    assert_eq!(e.cpu_time, Some(Duration::from_millis(1500)));
    assert_eq!(
        e.limits.job_cpu_time,
        Duration::from_secs(3600),
        "the default"
    );
    let e = parse("[limits]\nlog_rate = \"64K\"\nobject_bytes = \"1G\"\n").unwrap();
    assert_eq!(
        (e.limits.log_rate, e.limits.object_bytes),
        (64 << 10, 1 << 30)
    );
    let e = parse("[limits]\nmax_actors = 0\n").unwrap_err();
    assert!(e.message.contains("limits.max_actors"), "{e}");
    let e = parse("[limits]\nmax_actors = 7\n").unwrap();
    assert_eq!(e.limits.max_actors, 7);
    let e = parse("[limits]\njob_cpu_time = \"2m\"\n").unwrap();
    assert_eq!(e.limits.job_cpu_time, Duration::from_secs(120));
    let e = parse(
        "[limits]\nmemory = \"64M\"\nmax_object = 1024\ncpu_time = \"1.5s\"\n[capabilities]\nnetwork = [\"127.0.0.1:8080\"]\n",
    )
    .unwrap();
    assert_eq!(&*e.network, &["127.0.0.1:8080".parse().unwrap()][..]);
}

#[test]
fn working_dirs_are_packed_once_by_content() {
    let src = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::create_dir(src.path().join("data")).unwrap();
    std::fs::write(src.path().join("data/a.txt"), "alpha").unwrap();
    let text = "[files]\nworking_dir = \"data\"\n";
    let load = || {
        Environment::parse(
            text,
            "env.toml",
            src.path(),
            cache.path(),
            JobLimits::default(),
        )
        .unwrap()
    };
    let first = load();
    assert!(first.packed_now);
    let wd = first.working_dir.clone().unwrap();
    assert_eq!(std::fs::read_to_string(wd.join("a.txt")).unwrap(), "alpha");
    let second = load();
    assert!(!second.packed_now, "the second use finds the packed copy");
    assert_eq!(second.working_dir, first.working_dir);
    std::fs::write(src.path().join("data/a.txt"), "beta").unwrap();
    let third = load();
    assert!(third.packed_now && third.working_dir != first.working_dir);
    assert_ne!(third.hash, first.hash);
}
