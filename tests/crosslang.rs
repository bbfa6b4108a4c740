//! Jobs made of components in several languages: tasks and actor classes
//! called by name (`COMPONENT/NAME`), values and object references passed
//! between languages, and errors that name the task, language and message.

use std::ffi::OsString;
use std::path::PathBuf;

use wrun_core::{ErrorKind, TaskOptions};
use wrun_runtime::{JobSpec, Runtime};
use wrun_tests::{
    arg, config, cpp_example, decode, example, field, java_example, py_example, shared_cache_dir,
    submit_with,
};

/// A runtime whose compiled-component cache is shared between test runs
/// (the Python components take seconds to compile).
fn shared_runtime(dir: &std::path::Path) -> Runtime {
    let (mut cfg, _) = config(dir);
    cfg.cache_dir = shared_cache_dir();
    Runtime::new(cfg).unwrap()
}

/// A list of references as a value: MessagePack ext 1 indices into `refs`.
fn ref_list(refs: Vec<wrun_objects::Held>) -> wrun_objects::TaskArg {
    let items = (0..refs.len() as u32)
        .map(|i| rmpv::Value::Ext(1, i.to_be_bytes().to_vec()))
        .collect();
    wrun_objects::TaskArg::Value(wrun_objects::ObjectValue {
        data: wrun_core::values::encode(&rmpv::Value::Array(items)).into(),
        refs,
    })
}

/// Submits `name` from the host and waits for its one result.
async fn call(
    rt: &Runtime,
    job: &std::sync::Arc<wrun_sandbox::LoadedJob>,
    name: &str,
    args: Vec<wrun_objects::TaskArg>,
) -> Result<rmpv::Value, wrun_core::TaskError> {
    let r = rt.submit(job, name, args, TaskOptions::default())?;
    rt.get(&r[0], None).await.map(|v| decode(&v))
}

fn components(list: &[(&str, PathBuf)]) -> Vec<(String, PathBuf)> {
    list.iter()
        .map(|(n, p)| (n.to_string(), p.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cpp_task_and_a_rust_actor_are_called_by_name_with_references_between_them() {
    let dir = tempfile::tempdir().unwrap();
    let rt = shared_runtime(dir.path());
    let job = rt
        .load(JobSpec::file(example("hello")).components(&components(&[
            ("cpp", cpp_example("shards")),
            ("rust", example("tally")),
        ])))
        .unwrap();
    assert_eq!(job.components.len(), 3);
    // C++ summarises two shards…
    let shards = [vec![3i64, -1, 4], vec![1i64, 5, -9, 2]];
    let mut stats = Vec::new();
    for s in &shards {
        let list: Vec<rmpv::Value> = s.iter().map(|&v| v.into()).collect();
        let r = rt
            .submit(
                &job,
                "cpp/shard_stats",
                vec![arg(list)],
                TaskOptions::default(),
            )
            .unwrap();
        stats.push(r.into_iter().next().unwrap());
    }
    // …and a Rust actor receives references to the C++ results, gets them
    // itself and merges them.
    let tally = rt
        .create_actor(&job, "rust/Tally", vec![], Default::default())
        .unwrap();
    let added = rt
        .call_actor(tally, "add_all", vec![ref_list(stats)], 1)
        .unwrap();
    let added = decode(&rt.get(&added[0], None).await.unwrap());
    assert_eq!(added.as_u64(), Some(2));
    let total = rt.call_actor(tally, "total", vec![], 1).unwrap();
    let total = decode(&rt.get(&total[0], None).await.unwrap());
    assert_eq!(field(&total, "count").as_u64(), Some(7));
    assert_eq!(field(&total, "sum").as_i64(), Some(5));
    assert_eq!(
        field(&total, "sum_sq").as_i64(),
        Some(9 + 1 + 16 + 1 + 25 + 81 + 4)
    );
    assert_eq!(field(&total, "min").as_i64(), Some(-9));
    assert_eq!(field(&total, "max").as_i64(), Some(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cpp_error_names_its_task_and_language() {
    let dir = tempfile::tempdir().unwrap();
    let rt = shared_runtime(dir.path());
    let job = rt
        .load(
            JobSpec::file(example("hello"))
                .components(&components(&[("cpp", cpp_example("shards"))])),
        )
        .unwrap();
    let empty: Vec<rmpv::Value> = vec![];
    let r = rt
        .submit(
            &job,
            "cpp/shard_stats",
            vec![arg(empty)],
            TaskOptions::default(),
        )
        .unwrap();
    let e = rt.get(&r[0], None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Application);
    assert_eq!(e.task, "shard_stats");
    assert_eq!(e.language, "cpp");
    assert!(e.message.contains("empty shard"), "{e}");
    // A value of the wrong type is refused by the C++ side, not misread.
    let r = rt
        .submit(
            &job,
            "cpp/shard_stats",
            vec![arg("text")],
            TaskOptions::default(),
        )
        .unwrap();
    let e = rt.get(&r[0], None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument, "{e}");
    assert!(e.message.contains("expected list, got string"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_exception_reaches_cpp_with_its_type_and_traceback() {
    let dir = tempfile::tempdir().unwrap();
    let rt = shared_runtime(dir.path());
    let job = rt
        .load(
            JobSpec::file(py_example("pipeline"))
                .components(&components(&[("cpp", cpp_example("shards"))])),
        )
        .unwrap();
    // C++ calls the Python task `explode` by name and reports what it got.
    let v = call(
        &rt,
        &job,
        "cpp/relay",
        vec![arg("pipeline/explode"), arg("bad shard")],
    )
    .await
    .unwrap();
    assert_eq!(field(&v, "kind").as_str(), Some("application"), "{v}");
    assert_eq!(field(&v, "task").as_str(), Some("explode"), "{v}");
    assert_eq!(field(&v, "language").as_str(), Some("python"), "{v}");
    let message = field(&v, "message").as_str().unwrap();
    assert!(message.contains("ValueError: bad shard"), "{message}");
    assert!(message.contains("Traceback"), "{message}");
    // And a call that succeeds comes back as its value.
    let job2 = rt
        .load(
            JobSpec::file(py_example("hello"))
                .components(&components(&[("cpp", cpp_example("shards"))])),
        )
        .unwrap();
    let v = call(
        &rt,
        &job2,
        "cpp/relay",
        vec![arg("hello/hello"), arg("Ada")],
    )
    .await
    .unwrap();
    assert_eq!(field(&v, "ok").as_str(), Some("Hello, Ada!"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_components_and_names_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let rt = shared_runtime(dir.path());
    let job = rt
        .load(
            JobSpec::file(example("hello"))
                .components(&components(&[("cpp", cpp_example("shards"))])),
        )
        .unwrap();
    let e = rt
        .submit(&job, "java/report", vec![], TaskOptions::default())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(
        e.message.contains("no component `java`") && e.message.contains("hello, cpp"),
        "{e}"
    );
    // The component exists, the task does not: the component says so.
    let e = call(&rt, &job, "cpp/nonesuch", vec![]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(e.message.contains("shard_stats"), "lists what exists: {e}");
    let e = rt
        .create_actor(&job, "cpp/", vec![], Default::default())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument, "{e}");
}

#[test]
fn the_cli_refuses_bad_component_arguments_before_running_anything() {
    let bad_name: Vec<OsString> = vec![
        "--component".into(),
        format!("c++={}", cpp_example("shards").display()).into(),
    ];
    let r = submit_with(&bad_name, &example("hello"), &[]);
    assert_eq!(r.code, 3, "{}", r.err);
    assert!(
        r.err.contains("`c++` is not a valid component name"),
        "{}",
        r.err
    );
    let dup: Vec<OsString> = vec![
        "--component".into(),
        format!("hello={}", cpp_example("shards").display()).into(),
    ];
    let r = submit_with(&dup, &example("hello"), &[]);
    assert_eq!(r.code, 3, "{}", r.err);
    assert!(
        r.err.contains("already has a component named `hello`"),
        "{}",
        r.err
    );
    let missing: Vec<OsString> = vec!["--component".into(), "cpp=/nonexistent.wasm".into()];
    let r = submit_with(&missing, &example("hello"), &[]);
    assert_eq!(r.code, 3, "{}", r.err);
    assert!(r.err.contains("/nonexistent.wasm"), "{}", r.err);
    let no_eq: Vec<OsString> = vec!["--component".into(), "shards.wasm".into()];
    let r = submit_with(&no_eq, &example("hello"), &[]);
    assert_eq!(r.code, 2, "{}", r.err);
    assert!(r.err.contains("is not NAME=FILE.wasm"), "{}", r.err);
}

/// The pipeline's components, as `wrun submit` options.
fn pipeline_components() -> Vec<OsString> {
    let mut o: Vec<OsString> = Vec::new();
    for (name, path) in [
        ("cpp", cpp_example("shards")),
        ("rust", example("tally")),
        ("java", java_example("report")),
    ] {
        o.push("--component".into());
        o.push(format!("{name}={}", path.display()).into());
    }
    o
}

/// The statistics of the pipeline's shards, computed here: the same LCG as
/// examples/python/pipeline.
fn expected_stats(shards: u64) -> (i64, i128, i64, i64) {
    let (mut sum, mut sum_sq, mut min, mut max) = (0i64, 0i128, i64::MAX, i64::MIN);
    for index in 0..shards {
        let mut x = index;
        for _ in 0..1000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let v = ((x >> 33) % 1_000_001) as i64 - 500_000;
            sum += v;
            sum_sq += (v as i128) * (v as i128);
            min = min.min(v);
            max = max.max(v);
        }
    }
    (sum, sum_sq, min, max)
}

#[test]
fn the_pipeline_runs_python_cpp_rust_and_java_and_is_exact() {
    let r = submit_with(&pipeline_components(), &py_example("pipeline"), &["8"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let (sum, sum_sq, min, max) = expected_stats(8);
    let total = format!(
        r#""total": {{"count": 8000, "sum": {sum}, "sum_sq": {sum_sq}, "min": {min}, "max": {max}}}"#
    );
    assert!(
        r.out.starts_with(r#"{"shards": 8, "added": 8, "#),
        "{}",
        r.out
    );
    assert!(r.out.contains(&total), "want {total} in {}", r.out);
    let mean = sum as f64 / 8000.0;
    let sd = (sum_sq as f64 / 8000.0 - mean * mean).sqrt();
    let report = format!(
        r#""report": "8 shards, 8000 values, mean {mean:.3}, sd {sd:.3}, min {min}, max {max}""#
    );
    assert!(r.out.contains(&report), "want {report} in {}", r.out);
}

#[test]
fn errors_cross_every_language_with_task_language_and_message() {
    let r = submit_with(&pipeline_components(), &py_example("pipeline"), &["errors"]);
    assert_eq!(r.code, 0, "{}", r.err);
    // The CLI prints the job's result as JSON.
    let v: serde_json::Value = serde_json::from_str(&r.out).expect("the result is JSON");
    let check = |k: &str, kind: &str, task: &str, language: &str, message: &str| {
        let e = &v[k];
        assert_eq!(e["kind"], kind, "{k}: {e}");
        assert_eq!(e["task"], task, "{k}: {e}");
        assert_eq!(e["language"], language, "{k}: {e}");
        let m = e["message"].as_str().unwrap_or_default();
        assert!(m.contains(message), "{k}: {m}");
    };
    check(
        "cpp_to_python",
        "application",
        "shard_stats",
        "cpp",
        "empty shard",
    );
    check(
        "python_to_cpp",
        "application",
        "explode",
        "python",
        "ValueError: bad shard",
    );
    check(
        "python_to_java",
        "application",
        "explode",
        "python",
        "ValueError: bad total",
    );
    check(
        "cpp_to_java",
        "invalid-argument",
        "shard_stats",
        "cpp",
        "expected list, got string",
    );
    check(
        "java_to_python",
        "invalid-argument",
        "report",
        "java",
        "actor handle",
    );
    check(
        "missing_in_rust",
        "not-found",
        "nonesuch",
        "rust",
        "no such task",
    );
    let tb = v["python_to_java"]["message"].as_str().unwrap_or_default();
    assert!(
        tb.contains("Traceback") && tb.contains("in explode"),
        "{tb}"
    );
}
