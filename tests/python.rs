//! Python guests: the examples built with the Python SDK (componentize-py)
//! run on the same host and give the same results as the Rust ones.

use std::path::Path;
use std::process::Command;

use wrun_tests::{example, py_example, repo, submit_with};

fn submit(component: &Path, args: &[&str]) -> (i32, String, String) {
    submit_in(None, component, args)
}

/// The same, in the environment of `manifest` (relative to the repository).
fn submit_in(manifest: Option<&str>, component: &Path, args: &[&str]) -> (i32, String, String) {
    let options = match manifest {
        Some(m) => vec!["--env".into(), repo().join(m).into_os_string()],
        None => vec![],
    };
    let r = submit_with(&options, component, args);
    (r.code, r.out, r.err)
}

#[test]
fn python_hello_greets() {
    let (code, out, err) = submit(&py_example("hello"), &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "Hello, world!");
    let (_, out, _) = submit(&py_example("hello"), &["Ada"]);
    assert_eq!(out, "Hello, Ada!");
}

#[test]
fn python_pi_matches_the_rust_pi_exactly() {
    let (code, py, err) = submit(&py_example("pi"), &["10"]);
    assert_eq!(code, 0, "{err}");
    let (_, rust, _) = submit(&example("pi"), &["10"]);
    assert_eq!(py, rust);
    assert!(py.contains("\"inside\": 78621"), "{py}");
}

#[test]
fn python_counter_actor_matches_the_rust_counter() {
    let (code, py, err) = submit(&py_example("counter"), &[]);
    assert_eq!(code, 0, "{err}");
    let (_, rust, _) = submit(&example("counter"), &[]);
    assert_eq!(py, rust);
    assert_eq!(
        py,
        r#"{"value": 55, "max_seen": 55, "after_kill": "actor-died"}"#
    );
}

#[test]
fn python_wordcount_matches_the_rust_wordcount() {
    let (code, py, err) = submit(&py_example("wordcount"), &[]);
    assert_eq!(code, 0, "{err}");
    let (_, rust, _) = submit(&example("wordcount"), &[]);
    assert_eq!(py, rust);
    assert!(py.starts_with(r#"{"words": 20000, "distinct": 50"#), "{py}");
}

#[test]
fn python_jobs_run_in_their_declared_environment() {
    let (code, out, err) = submit_in(
        Some("examples/python/hello/env.toml"),
        &py_example("hello"),
        &["Ada"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "Bonjour, Ada!");
    // Without the manifest the variable is not there.
    let (_, plain, _) = submit(&py_example("hello"), &["Ada"]);
    assert_eq!(plain, "Hello, Ada!");
    // A task's inline runtime_env (Ray's `env_vars`) changes it over the
    // job's, or over none.
    for manifest in [Some("examples/python/hello/env.toml"), None] {
        let (code, out, err) = submit_in(manifest, &py_example("hello"), &["Ada", "\"Hola\"\n"]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, "\"Hola\"\n, Ada!");
    }
}

#[test]
fn python_packages_declared_by_the_environment_are_bundled_once() {
    let (code, table, err) = submit_in(
        Some("examples/python/report/env.toml"),
        &py_example("report"),
        &["3"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        table.contains("|   3 |     9 |    27 |"),
        "tabulate formatted it: {table}"
    );
    let root = repo();
    let manifest = root.join("examples/python/report/env.toml");
    // Building again finds the packages in the cache instead of installing them.
    let dir = tempfile::tempdir().unwrap();
    let rebuild = Command::new("bash")
        .arg(root.join("runtimes/python/build.sh"))
        .arg("--env")
        .arg(&manifest)
        .arg(root.join("examples/python/report"))
        .arg(dir.path().join("report.wasm"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&rebuild.stderr);
    assert!(rebuild.status.success(), "{err}");
    assert!(err.contains("from the cache"), "{err}");
}

#[test]
fn python_tasks_run_in_warm_instances_when_the_environment_allows() {
    let (code, text, err) = submit_in(
        Some("examples/python/bench/env.toml"),
        &py_example("bench"),
        &["tasks", "300"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("\"ops\": 300"), "{text}");
}

#[test]
fn python_scheduling_strategies_and_placement_groups_use_rays_names() {
    let (code, out, err) = submit(&py_example("placement"), &[]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["bundle_nodes_are_here"], true, "{out}");
    let node = v["in_bundle"].as_str().unwrap();
    for k in ["spread", "pinned", "actor_in_bundle"] {
        assert_eq!(v[k], node, "{k} on the only node: {out}");
    }
    assert!(
        v["strict_spread"]
            .as_str()
            .unwrap()
            .contains("STRICT_SPREAD needs 2 nodes"),
        "{out}"
    );
    assert_eq!(
        v["bad_bundle_index"],
        serde_json::json!(["ValueError", "ValueError", "invalid-argument"]),
        "bad bundle indexes fail at the call: {out}"
    );
}

#[test]
fn python_cancel_uses_rays_names_and_reaches_running_blocked_and_queued_calls() {
    let (code, out, err) = submit(&py_example("cancel"), &[]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in ["running", "blocked", "chain", "queued_method"] {
        assert_eq!(v[k], "TaskCancelledError", "{k}: {out}");
    }
    assert_eq!(
        v["blocked_saw"],
        serde_json::json!(["TaskCancelledError"]),
        "the task saw the cancel in its wrun.get: {out}"
    );
    assert_eq!(v["finished"], 7, "a finished task is left alone: {out}");
    assert_eq!(v["force_on_method"], "ValueError", "as Ray: {out}");
}

#[test]
fn python_calls_that_cannot_succeed_fail_at_the_call_with_rays_types() {
    let (code, out, err) = submit_in(
        Some("examples/python/edges/env.toml"),
        &py_example("edges"),
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["wait_empty"], serde_json::json!([[], []]), "{out}");
    assert_eq!(
        v["cwd"],
        serde_json::json!(["/work", "relative paths resolve in the working directory"]),
        "a task starts in its working directory: {out}"
    );
    assert_eq!(
        v["wait_fetch_local_false"], 1,
        "on one node an object is ready where it is: {out}"
    );
    assert_eq!(v["wait_fetch_local_not_a_bool"], "TypeError", "{out}");
    assert_eq!(v["wait_fetch_local_true"], 1, "{out}");
    for k in ["wait_duplicates", "wait_zero", "wait_too_many"] {
        assert_eq!(v[k], "ValueError", "{k}: {out}");
    }
    for k in ["wait_one_ref", "wait_not_a_ref", "put_ref"] {
        assert_eq!(v[k], "TypeError", "{k}: {out}");
    }
    assert_eq!(v["detached"], "ValueError", "refused, not ignored: {out}");
    assert_eq!(v["max_calls_negative"], "ValueError", "{out}");
    for k in [
        "task_too_many_args",
        "task_unknown_keyword",
        "method_missing_arg",
    ] {
        assert_eq!(v[k], "TypeError", "fails at the call: {k}: {out}");
    }
    assert_eq!(v["method_unknown"], "AttributeError", "{out}");
    for k in ["task_skipping_a_default", "method_skipping_a_default"] {
        assert_eq!(v[k], serde_json::json!([1, 20, 3]), "{k}: {out}");
    }
    // A warm instance retires after max_calls tasks; without it, one serves on.
    assert_eq!(
        v["max_calls_2"],
        serde_json::json!([1, 2, 1, 2, 1]),
        "{out}"
    );
    assert_eq!(v["no_max_calls"], serde_json::json!([2, 3, 4]), "{out}");
    assert_eq!(v["non_detached"], "accepted", "the default is fine: {out}");
    assert_eq!(v["wait_both"], serde_json::json!([2, 0]), "{out}");
    assert_eq!(
        v["unlimited_retries_attempts"], 6,
        "-1 retries without limit: {out}"
    );
    assert_eq!(v["max_retries_minus_2"], "ValueError", "{out}");
    assert_eq!(
        v["default_retries_attempts"], 4,
        "three retries by default: {out}"
    );
    assert_eq!(v["default_retries_exhausted"], "TaskTimeoutError", "{out}");
    // retry_exceptions=[Overdrawn]: Overdrawn and its subclass are retried
    // (two failures, the third attempt returns 3); a ValueError is raised at
    // once, after one attempt.
    assert_eq!(v["retry_listed"], serde_json::json!([3, 3]), "{out}");
    assert_eq!(v["retry_subclass"], serde_json::json!([3, 3]), "{out}");
    assert_eq!(
        v["retry_other"],
        serde_json::json!(["ValueError", 1]),
        "{out}"
    );
    assert_eq!(v["retry_exceptions_not_classes"], "ValueError", "{out}");
}

#[test]
fn python_guests_free_the_bytes_they_hand_the_host() {
    // Ten times the guest's 128 MiB limit through puts, an actor's results
    // and warm tasks' results, 8 MiB at a time: componentize-py alone leaks
    // each (MemoryError after about 12); runtimes/python/patch frees them.
    let (code, out, err) = submit_in(
        Some("examples/python/churn/env.toml"),
        &py_example("churn"),
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["mib_limit"], 128, "{out}");
    for path in ["put_mib", "actor_mib", "task_mib"] {
        assert_eq!(v[path], 1280, "{path}: {out}");
    }
}

#[test]
fn python_values_round_trip_between_python_tasks_and_keep_the_shared_codec_across_languages() {
    let options: Vec<std::ffi::OsString> = vec![
        "--component".into(),
        format!("cpp={}", wrun_tests::cpp_example("shards").display()).into(),
        "--component".into(),
        format!("rust={}", example("cancel").display()).into(),
        "--component".into(),
        format!("tally={}", example("tally").display()).into(),
        "--component".into(),
        format!("java={}", wrun_tests::java_example("report").display()).into(),
    ];
    let r = submit_with(&options, &py_example("values"), &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    // Tuples, sets, frozensets, 2**999, dataclasses, the job's own classes,
    // bytearrays: the same type and value back, from a task and an actor.
    for path in ["task", "actor"] {
        let checks = v[path].as_object().unwrap();
        assert_eq!(checks.len(), 10, "{path}: {}", r.out);
        assert!(checks.values().all(|ok| ok == true), "{path}: {}", r.out);
    }
    assert_eq!(
        v["callee_sees"],
        serde_json::json!({"tuple": "tuple", "set": "set", "dataclass": "Point", "object": "Money"})
    );
    assert_eq!(v["actor_state"], true);
    assert_eq!(
        v["put"],
        serde_json::json!({"set": true, "big": true, "tuple_as_list": true})
    );
    assert_eq!(v["ref_in_tuple"], true, "{}", r.out);
    // A user exception crosses as its own class (and a TaskError), its
    // attributes read through; through a chain of tasks too.
    assert_eq!(
        v["exceptions"],
        serde_json::json!({
            "direct": {"as": "Overdrawn", "task_error": true, "amount": 5, "cause": "Overdrawn", "task": "withdraw"},
            "chained": {"as": "Overdrawn", "task_error": true, "amount": 7, "cause": "Overdrawn", "task": "withdraw"},
            "builtin": {"as": "ZeroDivisionError", "task_error": true},
            "via_rust": {"as": "Overdrawn", "task_error": true, "amount": 9, "cause": "Overdrawn", "task": "withdraw"},
            "via_cpp": {"as": "Overdrawn", "task_error": true, "amount": 11, "cause": "Overdrawn", "task": "withdraw"},
            "via_java": {"as": "Overdrawn", "task_error": true, "amount": 13, "cause": "Overdrawn", "task": "withdraw"},
        }),
        "{}",
        r.out
    );
    // Across languages: a tuple is a list to C++; what only Python can read
    // is refused by C++ and Rust, saying so.
    assert_eq!(v["cpp_tuple"], 3);
    let refused = serde_json::json!({"kind": "invalid-argument", "python_only": true});
    assert_eq!(v["cpp_set"], refused, "{}", r.out);
    assert_eq!(v["rust_big"], refused, "{}", r.out);
}

#[test]
fn python_actor_lifetimes_follow_rays_get_if_exists_kill_and_exit_actor() {
    let (code, out, err) = submit(&py_example("lifetimes"), &[]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let g = &v["get_if_exists"];
    assert_eq!(
        (&g["same_actor"], &g["state_shared"], &g["constructed_once"]),
        (&true.into(), &true.into(), &true.into()),
        "{out}"
    );
    let duplicate = g["duplicate_name"].as_str().unwrap_or_default();
    assert!(
        duplicate
            .starts_with("ValueError: an actor named `shared` already exists in namespace `job-"),
        "as in Ray, a name already taken is a ValueError: {out}"
    );
    let restart = &v["restart"];
    assert_eq!(restart["spin_started"], true, "{out}");
    let running = restart["running_call"].as_str().unwrap();
    assert!(
        running.starts_with("ActorDiedError: ")
            && running.contains("no_restart=False")
            && running.contains("restarts"),
        "{out}"
    );
    assert_eq!(
        restart["after_restart"], 1,
        "the constructor ran again: {out}"
    );
    assert!(
        restart["no_restarts_left"]
            .as_str()
            .unwrap()
            .contains("no restarts were left"),
        "{out}"
    );
    let exit = &v["exit"];
    for call in ["leaving_call", "queued_call", "later_call"] {
        let text = exit[call].as_str().unwrap();
        assert!(
            text.starts_with("ActorDiedError: ")
                && text.contains("exit_actor() was called in Counter.leave"),
            "{call}: {out}"
        );
    }
    assert_eq!(exit["shutdown_hook_ran"], true, "{out}");
    assert!(
        exit["from_a_task"]
            .as_str()
            .unwrap()
            .starts_with("TypeError: exit_actor()"),
        "{out}"
    );
    for how in ["kill", "exit"] {
        let fate = &v["fate_sharing"][how];
        assert_eq!(fate["child_ran_before"], true, "{how}: {out}");
        let after = fate["child_after"].as_str().unwrap();
        assert!(
            after.starts_with("ActorDiedError: ") && after.contains("the actor that created it"),
            "an actor's child dies with it ({how}): {out}"
        );
    }
}

#[test]
fn python_generators_stream_their_items_as_rays_do() {
    let (code, out, err) = submit(&py_example("streaming"), &[]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // `while_running`: item 1 was read before the latch the generator waits
    // on opened; `retried`: the second attempt's first two items were
    // skipped; `fails_after`: the user's own exception class on item 2.
    assert_eq!(
        v,
        serde_json::json!({
            "squares": [0, 1, 4, 9, 16],
            "fails_after": [0, 1, "Overdrawn: no item after 2", "end"],
            "while_running": [1, 2, "end"],
            "method": [2, 1, 0],
            "retried": [0, 1, 2, 3],
            "cancelled": [1, "task-cancelled", "end"],
            "finished": true,
            "passed_on": 14,
            "next_timeout": "get-timeout",
            "pair": ["a", "b"],
            "mismatch": ["invalid-argument", "invalid-argument"],
            "options": "ValueError",
            "scheduled": "invalid-argument",
            "items": 4
        }),
        "{out}"
    );
}
