//! C++ guests: the examples built with the C++ SDK (clang-19, wit-bindgen c)
//! run on the same host and give exactly the results of the Rust and Python
//! ones.

use std::ffi::OsString;

use wrun_tests::{cpp_example, example, py_example, repo, submit_with};

fn same_as_rust_and_python(name: &str, args: &[&str]) -> String {
    let cpp = submit_with(&[], &cpp_example(name), args);
    assert_eq!(cpp.code, 0, "{}", cpp.err);
    let rust = submit_with(&[], &example(name), args);
    assert_eq!(cpp.out, rust.out, "C++ and Rust `{name}` differ");
    let py = submit_with(&[], &py_example(name), args);
    assert_eq!(cpp.out, py.out, "C++ and Python `{name}` differ");
    cpp.out
}

#[test]
fn cpp_pi_matches_rust_and_python_exactly() {
    let out = same_as_rust_and_python("pi", &["10"]);
    assert!(out.contains("\"inside\": 78621"), "{out}");
}

#[test]
fn cpp_wordcount_matches_rust_and_python() {
    let out = same_as_rust_and_python("wordcount", &[]);
    assert!(
        out.starts_with(r#"{"words": 20000, "distinct": 50, "top": [["and", 825]"#),
        "{out}"
    );
}

#[test]
fn cpp_counter_actor_matches_rust_and_python() {
    let out = same_as_rust_and_python("counter", &[]);
    assert_eq!(
        out,
        r#"{"value": 55, "max_seen": 55, "after_kill": "actor-died"}"#
    );
}

#[test]
fn cpp_hello_reads_its_declared_environment() {
    let plain = submit_with(&[], &cpp_example("hello"), &["Ada"]);
    assert_eq!(plain.code, 0, "{}", plain.err);
    assert_eq!(plain.out, "Hello, Ada!");
    let manifest: Vec<OsString> = vec![
        "--env".into(),
        repo().join("examples/cpp/hello/env.toml").into(),
    ];
    let env = submit_with(&manifest, &cpp_example("hello"), &["Ada"]);
    assert_eq!(env.code, 0, "{}", env.err);
    assert_eq!(env.out, "Bonjour, Ada!");
    // A task's inline runtime_env changes its variable over the job's, or
    // over none (quotes and a newline survive its JSON).
    for flags in [&manifest[..], &[]] {
        let inline = submit_with(flags, &cpp_example("hello"), &["Ada", "\"Hola\"\n"]);
        assert_eq!(inline.code, 0, "{}", inline.err);
        assert_eq!(inline.out, "\"Hola\"\n, Ada!");
    }
}

#[test]
fn cpp_bad_arguments_are_clear_errors() {
    let r = submit_with(&[], &cpp_example("pi"), &["many"]);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(r.err.contains("in `main` (cpp)"), "{}", r.err);
    assert!(r.err.contains("task count 'many'"), "{}", r.err);
}

#[test]
fn cpp_nested_tasks_match_the_rust_nested() {
    for args in [&["4096"][..], &["fib", "15"][..]] {
        let cpp = submit_with(&[], &cpp_example("nested"), args);
        assert_eq!(cpp.code, 0, "{}", cpp.err);
        let rust = submit_with(&[], &example("nested"), args);
        assert_eq!(cpp.out, rust.out);
    }
}

#[test]
fn cpp_sdk_tour_exercises_options_objects_and_actors() {
    let env = wrun_tests::repo().join("examples/cpp/features/env.toml");
    let r = submit_with(
        &["--env".into(), env.into_os_string()],
        &cpp_example("features"),
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let v = &r.out;
    for expected in [
        r#""split": ["hello", 5]"#,
        r#""cwd": ["/work", "relative paths resolve in the working directory"]"#,
        r#""timeout": "timeout""#,
        r#""cancel": ["task-cancelled", 2]"#,
        r#""missing_resource": "infeasible""#,
        r#""wait": [true, true, true]"#,
        r#""wait_pending": false"#,
        r#""wait_no_fetch": true"#,
        r#""nested_refs": ["a", "b"]"#,
        r#""bytes": [0, 255, 7]"#,
        r#""actor_in_value": 7"#,
        r#""fire_and_forget": [0, 12]"#,
        r#""actor_id_in_actor": true"#,
        r#""lookup": [true, false]"#,
        r#""same_job": true"#,
        r#""get_if_exists": true"#,
        r#""restart": [5, 1]"#,
        r#""exit_actor": ["actor-died", "actor-died"]"#,
        r#""exit_outside": "invalid-argument""#,
        r#""max_calls": [1, 2, 1, 2, 1]"#,
        r#""streaming": [0, 1, 4, 9, 16]"#,
        r#""stream_failure": [0, 1, "application"]"#,
        r#""stream_method": [3, 2, 1]"#,
        r#""yield_outside": "invalid-argument""#,
        r#""retry_exceptions": [true, false]"#,
    ] {
        assert!(v.contains(expected), "missing {expected} in {v}");
    }
    assert!(
        v.contains("wasm `unreachable` executed") && v.contains("(after 2 retries)"),
        "{v}"
    );
    assert!(r.err.contains("[main] tour done"), "{}", r.err);
}
