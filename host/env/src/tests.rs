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
    assert!(e.message.contains("runtime.language = \"python\""), "{e}");
    for hostile in [
        "--index-url=http://evil/",
        "-r/etc/passwd",
        "x @ https://evil/x.whl",
        "a b",
    ] {
        let text = format!("[runtime]\nlanguage = \"python\"\npackages = [\"{hostile}\"]\n");
        let e = parse(&text).unwrap_err();
        assert!(
            e.message.contains("is not a package requirement"),
            "{hostile}: {e}"
        );
    }
    parse("[runtime]\nlanguage = \"python\"\npackages = [\"attrs[tests]>=23,<24\"]\n").unwrap();
    let e = parse("[runtime]\nlanguage = \"cpp\"\npackages = [\"fmt\"]\n").unwrap_err();
    assert!(e.message.contains("packages are for python"), "{e}");
    let e = parse(
        "[runtime]\nlanguage = \"java\"\npackages = [\"com.google.guava:guava:33.0.0-jre\"]\n",
    )
    .unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("Java packages are not supported"), "{e}");

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

#[test]
fn a_value_of_the_wrong_type_names_its_field_and_a_missing_file_names_no_line() {
    let e = parse("[env]\nMODE = 1\n").unwrap_err();
    assert_eq!((e.line, e.column), (2, 8), "{e}");
    assert!(
        e.message
            .starts_with("env.MODE: invalid type: integer `1`, expected a string"),
        "{e}"
    );
    let e = parse("[limits]\ncpu_time = 5\n").unwrap_err();
    assert!(e.message.starts_with("limits.cpu_time: "), "{e}");
    let e = Environment::load(
        Path::new("/nonexistent/env.toml"),
        Path::new("/tmp"),
        JobLimits::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "/nonexistent/env.toml: cannot read the manifest: No such file or directory (os error 2)"
    );
}

/// A manifest with a working directory `data/` holding `keep.txt`,
/// `skip.log` and `build/out.bin`, parsed.
fn with_working_dir(text: &str) -> Result<Environment, ManifestError> {
    let src = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(src.path().join("data/build")).unwrap();
    std::fs::write(src.path().join("data/keep.txt"), "kept").unwrap();
    std::fs::write(src.path().join("data/skip.log"), "noise").unwrap();
    std::fs::write(src.path().join("data/build/out.bin"), "big").unwrap();
    let env = Environment::parse(
        text,
        "env.toml",
        src.path(),
        cache.path(),
        JobLimits::default(),
    )?;
    // Keep the cache: the packed copy lives there.
    std::mem::forget(cache);
    Ok(env)
}

#[test]
fn excludes_leave_files_out_of_the_working_directory_as_gitignore_would() {
    let e =
        with_working_dir("[files]\nworking_dir = \"data\"\nexcludes = [\"*.log\", \"build/\"]\n")
            .unwrap();
    let packed = e.working_dir.unwrap();
    let files = working_dir_files(&packed, &Excludes::none()).unwrap();
    assert_eq!(files, vec![PathBuf::from("keep.txt")]);

    let e = with_working_dir("[files]\nexcludes = [\"*.log\"]\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(
        e.message.contains("files.excludes") && e.message.contains("no files.working_dir"),
        "{e}"
    );
    let e =
        with_working_dir("[files]\nworking_dir = \"data\"\nexcludes = [\"x[z-a]\"]\n").unwrap_err();
    assert!(
        e.message
            .contains("`x[z-a]` is not a gitignore-style pattern"),
        "{e}"
    );
}

#[test]
fn a_named_environment_starts_from_the_jobs_and_changes_only_what_it_names() {
    let e = with_working_dir(
        "[env]\nA = \"job\"\nB = \"job\"\n[files]\nworking_dir = \"data\"\n\
         [limits]\nmemory = \"64M\"\ncpu_time = \"1s\"\n[capabilities]\nclock = true\n\
         [environments.fast]\nlimits = { cpu_time = \"9s\" }\nenv = { B = \"fast\", C = \"fast\" }\n\
         [environments.bare]\nfiles = { scratch = true }\ncapabilities = { clock = false }\n",
    )
    .unwrap();
    let fast = &e.named["fast"];
    let vars: BTreeMap<_, _> = fast.env_vars.iter().cloned().collect();
    assert_eq!(
        vars,
        BTreeMap::from([
            ("A".to_string(), "job".to_string()),
            ("B".to_string(), "fast".to_string()),
            ("C".to_string(), "fast".to_string()),
        ]),
        "[env] merges variable by variable"
    );
    assert_eq!(fast.working_dir, e.working_dir, "working_dir is inherited");
    assert_eq!(fast.cpu_time, Some(Duration::from_secs(9)), "what it names");
    assert_eq!(
        fast.limits.memory_per_instance,
        64 << 20,
        "what it does not"
    );
    assert!(fast.real_clock);
    let bare = &e.named["bare"];
    assert!(bare.scratch && !bare.real_clock);
    assert_eq!(
        bare.working_dir, e.working_dir,
        "a table merges field by field"
    );
    assert_eq!(bare.env_vars.len(), 2);
}
