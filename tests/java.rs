//! Java guests: the examples built with the Java SDK (TeaVM-WASI, hand-written
//! canonical-ABI glue) run on the same host and give exactly the results of
//! the Rust and Python ones.

use std::ffi::OsString;

use wrun_tests::{example, java_example, py_example, repo, submit_with};

fn same_as_rust_and_python(name: &str, args: &[&str]) -> String {
    let java = submit_with(&[], &java_example(name), args);
    assert_eq!(java.code, 0, "{}", java.err);
    let rust = submit_with(&[], &example(name), args);
    assert_eq!(java.out, rust.out, "Java and Rust `{name}` differ");
    let py = submit_with(&[], &py_example(name), args);
    assert_eq!(java.out, py.out, "Java and Python `{name}` differ");
    java.out
}

#[test]
fn java_pi_matches_rust_and_python_exactly() {
    let out = same_as_rust_and_python("pi", &["10"]);
    assert!(out.contains("\"inside\": 78621"), "{out}");
}

#[test]
fn java_wordcount_matches_rust_and_python() {
    let out = same_as_rust_and_python("wordcount", &[]);
    assert!(
        out.starts_with(r#"{"words": 20000, "distinct": 50, "top": [["and", 825]"#),
        "{out}"
    );
}

#[test]
fn java_counter_actor_matches_rust_and_python() {
    let out = same_as_rust_and_python("counter", &[]);
    assert_eq!(
        out,
        r#"{"value": 55, "max_seen": 55, "after_kill": "actor-died"}"#
    );
}

#[test]
fn java_hello_reads_its_declared_environment() {
    let plain = submit_with(&[], &java_example("hello"), &["Ada"]);
    assert_eq!(plain.code, 0, "{}", plain.err);
    assert_eq!(plain.out, "Hello, Ada!");
    let manifest: Vec<OsString> = vec![
        "--env".into(),
        repo().join("examples/java/hello/env.toml").into(),
    ];
    let env = submit_with(&manifest, &java_example("hello"), &["Ada"]);
    assert_eq!(env.code, 0, "{}", env.err);
    assert_eq!(env.out, "Bonjour, Ada!");
    // A task's inline runtime_env changes its variable over the job's, or
    // over none (quotes and a newline survive its JSON).
    for flags in [&manifest[..], &[]] {
        let inline = submit_with(flags, &java_example("hello"), &["Ada", "\"Hola\"\n"]);
        assert_eq!(inline.code, 0, "{}", inline.err);
        assert_eq!(inline.out, "\"Hola\"\n, Ada!");
    }
}

/// TeaVM-WASI's class library has no file system: a manifest granting
/// files to a Java job is refused with the reason, not silently useless.
#[test]
fn a_java_job_is_refused_files_it_could_not_open() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let manifest = dir.path().join("env.toml");
    std::fs::write(
        &manifest,
        "[env]\nGREETING = \"Hej\"\n[environments.files.files]\nworking_dir = \"data\"\n",
    )
    .unwrap();
    let flags: Vec<OsString> = vec!["--env".into(), manifest.into()];
    let r = submit_with(&flags, &java_example("hello"), &["Ada"]);
    assert_eq!(r.code, 3, "{}", r.err);
    assert!(
        r.err.contains("built with the java SDK")
            && r.err.contains("[environments.files]")
            && r.err.contains("files.working_dir")
            && r.err.contains("no WASI file system"),
        "{}",
        r.err
    );
}

#[test]
fn a_java_exception_names_its_task_language_and_stack() {
    let r = submit_with(&[], &java_example("pi"), &["many"]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(r.err.contains("(java)"), "{}", r.err);
}
