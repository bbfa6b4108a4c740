//! End-to-end tests: the real `wrun` CLI and the host's Rust API, running the
//! real example components built from examples/rust.

use std::process::Command;
use std::time::{Duration, Instant};

use wrun_core::{ActorOptions, ErrorKind, JobLimits, TaskOptions};
use wrun_runtime::Runtime;
use wrun_sandbox::CacheOutcome;
use wrun_tests::{arg, config, decode, example, field, runtime, wrun_bin};

/// Runs `wrun` with a private cache; returns (exit code, stdout, stderr).
fn wrun(args: &[&str]) -> (i32, String, String) {
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(wrun_bin())
        .args(args)
        .env("WRUN_CACHE_DIR", cache.path())
        .env_remove("RUST_LOG")
        .output()
        .expect("wrun runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ex(name: &str) -> String {
    example(name).display().to_string()
}

// ---- the examples, through the CLI -------------------------------------

#[test]
fn cli_hello_prints_the_greeting_and_exits_zero() {
    let (code, out, err) = wrun(&["submit", &ex("hello")]);
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out.trim(), "Hello, world!");
    let (code, out, _) = wrun(&["submit", &ex("hello"), "wrun"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "Hello, wrun!");
}

#[test]
fn cli_pi_fans_out_a_thousand_tasks_with_a_deterministic_result() {
    let (code, out, err) = wrun(&["submit", &ex("pi")]);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(out.contains("\"tasks\": 1000"), "{out}");
    assert!(out.contains("\"total\": 10000000"), "{out}");
    let pi: f64 = out
        .split("\"pi\": ")
        .nth(1)
        .and_then(|s| s.trim_end_matches(['}', '\n']).parse().ok())
        .unwrap_or_else(|| panic!("no pi in {out}"));
    assert!((pi - std::f64::consts::PI).abs() < 0.01, "pi = {pi}");
    let (_, again, _) = wrun(&["submit", &ex("pi")]);
    assert_eq!(
        out, again,
        "seeded samples give the same estimate every run"
    );
}

#[test]
fn cli_usage_errors_and_bad_components_have_distinct_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.wasm");
    std::fs::write(&text, "hello, I am not wasm").unwrap();
    let (code, _, err) = wrun(&["submit", text.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("magic bytes"), "{err}");

    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let (code, _, err) = wrun(&["submit", core.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(
        err.contains("core WebAssembly module") && err.contains("wasm32-wasip2"),
        "{err}"
    );

    // An empty component: valid, but it exports nothing of the job world.
    let empty = dir.path().join("empty.wasm");
    std::fs::write(&empty, b"\0asm\x0d\0\x01\0").unwrap();
    let (code, _, err) = wrun(&["submit", empty.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(err.contains("wrun:runtime/job"), "{err}");

    let (code, _, err) = wrun(&["submit", "/nonexistent/job.wasm"]);
    assert_eq!(code, 3);
    assert!(err.contains("/nonexistent/job.wasm"), "{err}");

    let (code, _, _) = wrun(&["submit"]);
    assert_eq!(code, 2, "missing argument is a usage error");
    let (code, _, err) = wrun(&["submit", "--cpus=-1", &ex("hello")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--cpus must be a number >= 0"), "{err}");
}

#[test]
fn cli_a_failing_job_exits_one_and_names_the_task_and_cause() {
    let (code, _, err) = wrun(&["submit", &ex("hostile"), "fail", "no luck"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("fail") && err.contains("no luck"), "{err}");
    let (code, _, err) = wrun(&["submit", &ex("hostile"), "panic"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("trap") && err.contains("hostile panic"),
        "{err}"
    );
}

#[test]
fn cli_streams_guest_logs_prefixed_by_task() {
    let (code, _, err) = wrun(&["submit", &ex("hostile"), "panic"]);
    assert_eq!(code, 1);
    assert!(
        err.lines()
            .any(|l| l.starts_with("[panic#") && l.contains("hostile panic")),
        "{err}"
    );
    let (_, _, quiet) = wrun(&["submit", "--quiet", &ex("hostile"), "panic"]);
    assert!(!quiet.contains("[panic#"), "{quiet}");
}

// ---- the examples, through the host API ---------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wordcount_passes_references_on_and_frees_every_object() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("wordcount")))
        .unwrap();
    let v = rt.run_main(&job, vec![]).await.unwrap();
    let v = decode(&v);
    assert_eq!(field(&v, "words").as_u64(), Some(20_000), "{v}");
    assert!(field(&v, "distinct").as_u64().unwrap() > 10, "{v}");
    drop(job);
    // Every chunk, partial count and result is gone once the job is done.
    wait_until(|| rt.store_stats().objects == 0).await;
    assert_eq!(rt.store_stats().bytes_in_memory, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_actor_is_shared_by_tasks_looked_up_by_name_and_killed() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("counter")))
        .unwrap();
    let v = decode(&rt.run_main(&job, vec![]).await.unwrap());
    assert_eq!(field(&v, "value").as_u64(), Some(55), "{v}");
    assert_eq!(field(&v, "max_seen").as_u64(), Some(55), "{v}");
    let after = field(&v, "after_kill").as_str().unwrap().to_string();
    assert!(after.contains("actor") && after.contains("died"), "{after}");
    assert_eq!(rt.actor_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actor_lifetimes_follow_rays_get_if_exists_restart_and_exit_actor() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("lifetimes")))
        .unwrap();
    let v = decode(&rt.run_main(&job, vec![]).await.unwrap());
    assert_eq!(
        v.to_string(),
        r#"{"get_if_exists": [true, 2], "restart": [7, 3], "no_restarts_left": "actor-died", "exit_actor": ["actor-died", "actor-died"], "exit_from_a_task": "invalid-argument", "fate_sharing": [1, "actor-died"], "out_of_restarts": [1, "actor-died"], "restart_keeps_children": [1, 2], "group_removed": [1, "actor-died"], "exit_in_constructor": "actor-died"}"#
    );
    // The named one lived until the job ended; none is left.
    assert_eq!(rt.actor_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_tasks_and_methods_yield_items_as_they_come() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("streaming")))
        .unwrap();
    let v = decode(&rt.run_main(&job, vec![]).await.unwrap());
    // `while_running`: item 1 was read before the latch the generator waits
    // on opened (a stream readable only at its end would hang here);
    // `retried`: the retried attempt's first two items were skipped.
    assert_eq!(
        v.to_string(),
        r#"{"squares": [0, 1, 4, 9, 16], "fails_after": [0, 1, "application", "end"], "while_running": [1, 2], "method": [2, 1, 0], "retried": [0, 1, 2, 3], "cancelled": [1, "task-cancelled", "end"], "passed_on": 30, "yield_outside": "invalid-argument", "scheduled": "invalid-argument"}"#
    );
    let (avail, total) = rt.resources();
    assert_eq!(avail, total, "every grant was given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_holds_at_most_the_jobs_reference_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, _) = config(dir.path());
    cfg.job_limits = JobLimits {
        max_refs: 100,
        ..JobLimits::default()
    };
    let rt = Runtime::new(cfg).unwrap();
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("streaming")))
        .unwrap();
    let v = decode(
        &rt.run_main(&job, vec!["flood".into(), "1000".into()])
            .await
            .unwrap(),
    );
    assert_eq!(
        v.to_string(),
        r#"{"items": 100, "error": "invalid-argument"}"#,
        "a generator that yields past the limit fails there"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_tree_of_8191_tasks_completes_on_one_cpu() {
    // With one CPU, a parent that kept its CPU while waiting for its children
    // would deadlock the tree; blocked tasks lend theirs.
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, _) = config(dir.path());
    cfg.cpus = 1.0;
    let rt = Runtime::new(cfg).unwrap();
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("nested")))
        .unwrap();
    let v = decode(&rt.run_main(&job, vec!["4096".into()]).await.unwrap());
    assert_eq!(field(&v, "sum").as_u64(), Some(4096 * 4095 / 2), "{v}");
    assert_eq!(field(&v, "sum"), field(&v, "expected"));
    assert_eq!(
        rt.counters()
            .failed
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    assert!(
        rt.counters()
            .finished
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 8191
    );
    let fib = decode(
        &rt.run_main(&job, vec!["fib".into(), "12".into()])
            .await
            .unwrap(),
    );
    assert_eq!(field(&fib, "fib").as_u64(), Some(144));
    let (avail, total) = rt.resources();
    assert_eq!(avail, total, "every grant was given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_api_submits_tasks_by_value_and_by_reference() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("hello")))
        .unwrap();
    let r = rt
        .submit(&job, "hello", vec![arg("host")], TaskOptions::default())
        .unwrap();
    let v = rt.get(&r[0], Some(Duration::from_secs(30))).await.unwrap();
    assert_eq!(decode(&v).as_str(), Some("Hello, host!"));
    // The result passed on by reference is resolved before the task runs.
    let r2 = rt
        .submit(
            &job,
            "hello",
            vec![wrun_objects::TaskArg::Ref(r[0].clone())],
            TaskOptions::default(),
        )
        .unwrap();
    let v2 = rt.get(&r2[0], None).await.unwrap();
    assert_eq!(decode(&v2).as_str(), Some("Hello, Hello, host!!"));
    assert_eq!(rt.store_stats().objects, 2);
    drop((r, r2, v, v2));
    wait_until(|| rt.store_stats().objects == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_spill_to_disk_under_a_small_cap_and_come_back_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, _) = config(dir.path());
    cfg.object_memory_cap = 16 << 10;
    let rt = Runtime::new(cfg).unwrap();
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("wordcount")))
        .unwrap();
    // A whole job under the cap: exact results whatever was spilled when
    // (spilling runs on blocking threads, beside the job).
    let v = decode(&rt.run_main(&job, vec![]).await.unwrap());
    assert_eq!(field(&v, "words").as_u64(), Some(20_000), "{v}");
    wait_until(|| rt.store_stats().objects == 0).await;
    // Objects held past the cap go to disk and come back exact.
    let blobs: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 8 << 10]).collect();
    let held: Vec<_> = blobs
        .iter()
        .map(|b| rt.put(wrun_objects::ObjectValue::from_bytes(b.clone())))
        .collect();
    wait_until(|| rt.store_stats().spilled_objects > 0).await;
    for (h, b) in held.iter().zip(&blobs) {
        let v = rt.get(h, None).await.unwrap();
        assert_eq!(&v.data[..], &b[..], "restored exact");
    }
    let s = rt.store_stats();
    assert!(s.spills_total > 0 && s.restores_total > 0, "{s:?}");
    drop(held);
    wait_until(|| rt.store_stats().objects == 0).await;
    // Spill files are removed with their objects (on a blocking thread).
    wait_until(|| {
        std::fs::read_dir(dir.path().join("spill"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_is_compiled_once_then_loaded_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _) = config(dir.path());
    let first = Runtime::new(cfg.clone())
        .unwrap()
        .load(wrun_runtime::JobSpec::file(example("pi")))
        .unwrap();
    assert_eq!(first.components[0].cache, CacheOutcome::Compiled);
    let second = Runtime::new(cfg)
        .unwrap()
        .load(wrun_runtime::JobSpec::file(example("pi")))
        .unwrap();
    assert_eq!(second.components[0].cache, CacheOutcome::Hit);
    assert_eq!(first.hash(), second.hash());
    assert!(
        second.load_time < first.load_time,
        "hit {:?} vs compile {:?}",
        second.load_time,
        first.load_time
    );
}

/// Concurrent loads of one component compile it once: the others wait for
/// the first and load what it wrote (two compilers once raced on one file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_loads_of_one_component_compile_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _) = config(dir.path());
    let rt = Runtime::new(cfg).unwrap();
    let loads: Vec<_> = (0..4)
        .map(|_| {
            let rt = rt.clone();
            tokio::task::spawn_blocking(move || {
                rt.load(wrun_runtime::JobSpec::file(example("pi")))
                    .unwrap()
                    .components[0]
                    .cache
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for l in loads {
        outcomes.push(l.await.unwrap());
    }
    let compiled = outcomes
        .iter()
        .filter(|o| **o == CacheOutcome::Compiled)
        .count();
    assert_eq!(compiled, 1, "{outcomes:?}");
    let entries = std::fs::read_dir(dir.path().join("cache/components"))
        .unwrap()
        .count();
    assert_eq!(entries, 1, "one cache entry, no temporary file left");
}

// ---- failures: each gives its error and leaves the host working -------------

async fn hostile(
    rt: &Runtime,
    task: &str,
    args: Vec<wrun_objects::TaskArg>,
    opts: TaskOptions,
) -> wrun_core::TaskError {
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("hostile")))
        .unwrap();
    let r = rt.submit(&job, task, args, opts).unwrap();
    let err = rt
        .get(&r[0], Some(Duration::from_secs(60)))
        .await
        .expect_err("the hostile task fails");
    // The host carries on: the next task runs normally.
    let ok = rt
        .submit(&job, "noop", vec![], TaskOptions::default())
        .unwrap();
    rt.get(&ok[0], Some(Duration::from_secs(30)))
        .await
        .expect("the host still runs tasks");
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_is_interrupted_at_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let start = Instant::now();
    let opts = TaskOptions {
        timeout: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    let e = hostile(&rt, "spin", vec![], opts).await;
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    assert!(e.task.starts_with("spin"), "{e}");
    assert!(
        e.message.contains("its timeout of 300 ms"),
        "the error names the limit and its value: {e}"
    );
    assert!(start.elapsed() < Duration::from_secs(20));
}

/// Four tasks that spin for ever, none with a CPU-time limit of its own,
/// are stopped together once their job has used its CPU-time budget; the
/// next job is not charged for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_tree_is_bounded_by_its_cpu_time_budget() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, _) = config(dir.path());
    cfg.job_limits.job_cpu_time = Duration::from_secs(1);
    let rt = Runtime::new(cfg).unwrap();
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("hostile")))
        .unwrap();
    let start = Instant::now();
    let opts = TaskOptions {
        max_retries: 0,
        ..Default::default()
    };
    let spinning: Vec<_> = (0..4)
        .map(|_| rt.submit(&job, "spin", vec![], opts.clone()).unwrap())
        .collect();
    for r in spinning {
        let e = rt
            .get(&r[0], Some(Duration::from_secs(60)))
            .await
            .expect_err("a spinning task is stopped");
        assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
        assert!(
            e.message.contains("limits.job_cpu_time") && e.message.contains("1 s"),
            "{e}"
        );
    }
    assert!(start.elapsed() < Duration::from_secs(20));
    let used = job.cpu.used.load(std::sync::atomic::Ordering::Relaxed);
    assert!(used >= 200, "1 s of 5 ms ticks was used: {used}");
    let fresh = rt
        .load(wrun_runtime::JobSpec::file(example("hostile")))
        .unwrap();
    let ok = rt
        .submit(&fresh, "noop", vec![], TaskOptions::default())
        .unwrap();
    rt.get(&ok[0], Some(Duration::from_secs(30)))
        .await
        .expect("another job still runs");
}

/// A job's objects on a node are bounded (limits.object_bytes): a put past
/// the quota fails naming it, so does a task or an actor call whose results
/// would pass it, and a freed object gives its bytes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_objects_are_bounded_and_freed_ones_give_their_bytes_back() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, _) = config(dir.path());
    cfg.job_limits.object_bytes = 8 << 20;
    let rt = Runtime::new(cfg).unwrap();
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("hostile")))
        .unwrap();
    let once = TaskOptions {
        max_retries: 0,
        ..Default::default()
    };
    let run = |task: &str, mib: u64| {
        let r = rt.submit(&job, task, vec![arg(mib)], once.clone()).unwrap();
        let rt = &rt;
        async move {
            rt.get(&r[0], Some(Duration::from_secs(60)))
                .await
                .map(|_| r)
        }
    };
    let e = run("huge_put", 16).await.unwrap_err();
    assert!(
        e.message.contains("limits.object_bytes") && e.message.contains(&(8u64 << 20).to_string()),
        "{e}"
    );
    let e = run("big_result", 16).await.unwrap_err();
    assert!(e.message.contains("results were not kept"), "{e}");
    let e = run("actor_result", 16).await.unwrap_err();
    assert!(
        e.message.contains("results were not kept") && e.message.contains("limits.object_bytes"),
        "{e}"
    );
    let refs = run("actor_result", 4).await.unwrap();
    let got = rt.get(&refs[0], None).await.unwrap();
    assert_eq!(decode(&got).as_u64(), Some(4 << 20));
    drop(refs);
    // Within the quota, both work, and what they keep is charged while it lives.
    drop(run("huge_put", 4).await.unwrap());
    let kept = run("big_result", 4).await.unwrap();
    assert!(job.objects.used() >= 4 << 20, "{}", job.objects.used());
    drop(kept);
    let deadline = Instant::now() + Duration::from_secs(20);
    while job.objects.used() != 0 {
        assert!(
            Instant::now() < deadline,
            "{} bytes still charged",
            job.objects.used()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A job that floods its output is cut to its log rate and says so, and
/// another job's lines all arrive (it has its own budget).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_output_is_cut_to_the_jobs_log_rate_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, logs) = config(dir.path());
    cfg.job_limits.log_rate = 10_000;
    let rt = Runtime::new(cfg).unwrap();
    let run = |lines: u64| {
        let job = rt
            .load(wrun_runtime::JobSpec::file(example("hostile")))
            .unwrap();
        let r = rt
            .submit(&job, "chatter", vec![arg(lines)], TaskOptions::default())
            .unwrap();
        let rt = &rt;
        async move { rt.get(&r[0], Some(Duration::from_secs(60))).await.unwrap() }
    };
    let start = Instant::now();
    run(20_000).await;
    let elapsed = start.elapsed().as_secs_f64();
    let flood = logs.messages();
    let (notices, passed): (Vec<_>, Vec<_>) = flood.iter().partition(|m| m.starts_with("wrun:"));
    let bytes: usize = passed.iter().map(|m| m.len()).sum();
    let allowed = 4.0 * 10_000.0 + elapsed * 10_000.0 + 100.0;
    assert!(
        (bytes as f64) <= allowed && passed.len() < 20_000,
        "{} lines, {bytes} bytes passed in {elapsed:.2} s",
        passed.len()
    );
    assert!(
        notices
            .iter()
            .any(|m| m.contains("limits.log_rate") && m.contains("10000 bytes/s")),
        "{notices:?}"
    );
    run(30).await;
    let quiet: Vec<String> = logs.messages()[flood.len()..]
        .iter()
        .filter(|m| !m.starts_with("wrun:"))
        .cloned()
        .collect();
    assert_eq!(quiet.len(), 30, "another job's lines all arrive: {quiet:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bomb_hits_its_cap() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, _) = config(dir.path());
    cfg.job_limits.memory_per_instance = 64 << 20;
    let rt = Runtime::new(cfg).unwrap();
    let e = hostile(&rt, "bomb", vec![], TaskOptions::default()).await;
    assert_eq!(e.kind, ErrorKind::MemoryLimit, "{e}");
    assert!(e.message.contains(&(64u64 << 20).to_string()), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbounded_recursion_is_a_stack_overflow_trap() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let e = hostile(&rt, "recurse", vec![arg(0)], TaskOptions::default()).await;
    assert_eq!(e.kind, ErrorKind::Trap, "{e}");
    // Either the wasm call stack or the guest's in-memory shadow stack runs out first.
    assert!(e.message.contains("stack overflow"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_put_is_refused_by_the_object_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, _) = config(dir.path());
    cfg.job_limits = JobLimits {
        max_object_bytes: 8 << 20,
        ..JobLimits::default()
    };
    let rt = Runtime::new(cfg).unwrap();
    let e = hostile(&rt, "huge_put", vec![arg(16)], TaskOptions::default()).await;
    assert_eq!(e.kind, ErrorKind::InvalidArgument, "{e}");
    assert!(e.message.contains("object size limit"), "{e}");
    assert_eq!(rt.store_stats().bytes_in_memory, 0, "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_a_trap_that_quotes_the_guest_message() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, logs) = runtime(dir.path());
    let e = hostile(&rt, "panic", vec![], TaskOptions::default()).await;
    assert_eq!(e.kind, ErrorKind::Trap, "{e}");
    assert!(e.message.contains("hostile panic"), "{e}");
    assert!(logs.lines().iter().any(|l| l.contains("hostile panic")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_errors_are_retried_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let e = hostile(&rt, "fail", vec![arg("nope")], TaskOptions::default()).await;
    assert_eq!(e.kind, ErrorKind::Application, "{e}");
    assert_eq!(e.message, "nope");
    assert_eq!(
        rt.counters()
            .retried
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    let opts = TaskOptions {
        max_retries: 2,
        retry_exceptions: true,
        ..Default::default()
    };
    let e = hostile(&rt, "fail", vec![arg("nope")], opts.clone()).await;
    assert!(e.message.contains("after 2 retries"), "{e}");
    let retried = || {
        rt.counters()
            .retried
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    assert_eq!(retried(), 2);
    // Ray's retry_exceptions=[..]: only errors of the types named. A Rust
    // task's `Err(String)` carries its type's name.
    assert_eq!(&*e.types, ["alloc::string::String".to_string()], "{e:?}");
    let only_others = TaskOptions {
        retry_exception_types: vec!["app.Overdrawn".into()],
        ..opts.clone()
    };
    let e = hostile(&rt, "fail", vec![arg("nope")], only_others).await;
    assert!(!e.message.contains("retries"), "{e}");
    assert_eq!(retried(), 2, "an error of another type is not retried");
    let this_one = TaskOptions {
        retry_exception_types: vec!["alloc::string::String".into()],
        ..opts
    };
    let e = hostile(&rt, "fail", vec![arg("nope")], this_one).await;
    assert!(e.message.contains("after 2 retries"), "{e}");
    assert_eq!(retried(), 4, "an error of a named type is retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traps_are_retried_up_to_max_retries() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("hostile")))
        .unwrap();
    // Two planned failures, three retries allowed: the third attempt succeeds.
    let v = rt
        .run_main(&job, vec!["flaky".into(), "2".into(), "3".into()])
        .await
        .unwrap();
    assert_eq!(decode(&v).as_u64(), Some(3));
    // Two planned failures, one retry: the error reaches the driver.
    let e = rt
        .run_main(&job, vec!["flaky".into(), "2".into(), "1".into()])
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Trap, "{e}");
    assert!(e.message.contains("after 1 retries"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_functions_and_impossible_resources_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("hostile")))
        .unwrap();
    let r = rt
        .submit(&job, "no_such_task", vec![], TaskOptions::default())
        .unwrap();
    let e = rt.get(&r[0], None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("no_such_task"), "{e}");
    let opts = TaskOptions {
        resources: Some(wrun_core::Resources::new(1.0, 0).with_custom("tpu", 1.0)),
        ..Default::default()
    };
    let r = rt.submit(&job, "noop", vec![], opts).unwrap();
    let e = rt.get(&r[0], None).await.unwrap_err();
    assert!(e.message.contains("tpu"), "{e}");
    let e = rt
        .submit(
            &job,
            "noop",
            vec![],
            TaskOptions {
                num_returns: 100_000,
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("num_returns"), "{e}");
    // num_returns = 0 is fire and forget: no references come back.
    let none = rt
        .submit(
            &job,
            "noop",
            vec![],
            TaskOptions {
                num_returns: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resources_gate_tasks_that_need_them() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, _) = config(dir.path());
    cfg.custom = vec![("license".into(), 1.0)];
    let rt = Runtime::new(cfg).unwrap();
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("hostile")))
        .unwrap();
    let opts = TaskOptions {
        resources: Some(wrun_core::Resources::new(0.0, 0).with_custom("license", 1.0)),
        ..Default::default()
    };
    let refs: Vec<_> = (0..5)
        .map(|_| rt.submit(&job, "noop", vec![], opts.clone()).unwrap())
        .collect();
    for r in &refs {
        rt.get(&r[0], Some(Duration::from_secs(30))).await.unwrap();
    }
    let (avail, total) = rt.resources();
    assert_eq!(avail, total);
}

/// A job's actors alive on a node are bounded (limits.max_actors): the
/// creation past the limit fails naming it, and one that dies gives its
/// place back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_actors_are_bounded_and_a_dead_one_gives_its_place_back() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, _) = config(dir.path());
    cfg.job_limits.max_actors = 3;
    let rt = Runtime::new(cfg).unwrap();
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("counter")))
        .unwrap();
    let make = || rt.create_actor(&job, "Counter", vec![arg(0)], ActorOptions::default());
    let actors: Vec<_> = (0..3).map(|_| make().unwrap()).collect();
    let refused = make().unwrap_err();
    assert_eq!(refused.kind, ErrorKind::InvalidArgument, "{refused}");
    assert!(
        refused.message.contains("3 actors alive") && refused.message.contains("limits.max_actors"),
        "{refused}"
    );
    // Another job has its own quota.
    let other = rt
        .load(wrun_runtime::JobSpec::file(example("counter")))
        .unwrap();
    rt.create_actor(&other, "Counter", vec![arg(0)], ActorOptions::default())
        .unwrap();
    rt.kill_actor(actors[0]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let again = loop {
        match make() {
            Ok(a) => break a,
            Err(e) => {
                assert!(Instant::now() < deadline, "the killed actor's place: {e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let r = rt.call_actor(again, "incr", vec![arg(5)], 1).unwrap();
    assert_eq!(
        decode(&rt.get(&r[0], None).await.unwrap()).as_i64(),
        Some(5)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actors_from_the_host_api_run_calls_in_order_and_die_when_killed() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("counter")))
        .unwrap();
    let opts = ActorOptions {
        name: Some("c".into()),
        ..Default::default()
    };
    let a = rt
        .create_actor(&job, "Counter", vec![arg(100)], opts.clone())
        .unwrap();
    assert_eq!(rt.lookup_actor(&job.namespace, "c"), Some(a));
    let dup = rt
        .create_actor(&job, "Counter", vec![arg(0)], opts)
        .unwrap_err();
    assert!(dup.message.contains("already exists"), "{dup}");
    let refs: Vec<_> = (1..=20)
        .map(|i| rt.call_actor(a, "incr", vec![arg(i)], 1).unwrap())
        .collect();
    let mut seen = Vec::new();
    for r in &refs {
        seen.push(
            decode(&rt.get(&r[0], None).await.unwrap())
                .as_i64()
                .unwrap(),
        );
    }
    let expected: Vec<i64> = (1..=20)
        .scan(100, |s, i| {
            *s += i;
            Some(*s)
        })
        .collect();
    assert_eq!(seen, expected, "calls run in submission order");
    rt.kill_actor(a).unwrap();
    let e = rt.call_actor(a, "value", vec![], 1).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ActorDied);
    assert_eq!(rt.lookup_actor(&job.namespace, "c"), None);
    let bad = rt
        .create_actor(&job, "Nope", vec![], ActorOptions::default())
        .unwrap();
    let r = rt.call_actor(bad, "value", vec![], 1);
    let e = match r {
        Ok(r) => rt.get(&r[0], None).await.unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(e.kind, ErrorKind::ActorDied, "{e}");
}

async fn wait_until(cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "condition not reached in time"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_actor_restarts_with_fresh_state_until_restarts_run_out() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("hostile")))
        .unwrap();
    let opts = ActorOptions {
        max_restarts: 1,
        ..Default::default()
    };
    let a = rt.create_actor(&job, "Fragile", vec![], opts).unwrap();
    let call = |m: &str| rt.call_actor(a, m, vec![], 1);
    let value = |r: Vec<wrun_objects::Held>| {
        let rt = rt.clone();
        async move { rt.get(&r[0], Some(Duration::from_secs(30))).await }
    };
    assert_eq!(
        decode(&value(call("touch").unwrap()).await.unwrap()).as_u64(),
        Some(1)
    );
    assert_eq!(
        decode(&value(call("touch").unwrap()).await.unwrap()).as_u64(),
        Some(2)
    );
    // The instance died under the call: actor-died (as a Ray actor whose
    // process dies mid-call), with the trap as the cause.
    let e = value(call("crash").unwrap()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::ActorDied, "{e}");
    assert!(e.message.contains("crashed after 2 calls"), "{e}");
    assert!(
        e.message.contains("(trap: ") && e.message.contains("the actor restarts"),
        "{e}"
    );
    // Restarted: the constructor ran again, so the count starts over.
    assert_eq!(
        decode(&value(call("touch").unwrap()).await.unwrap()).as_u64(),
        Some(1)
    );
    let e = value(call("crash").unwrap()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::ActorDied);
    assert!(e.message.contains("no restarts left"), "{e}");
    // No restarts left: the actor is dead.
    let e = match call("touch") {
        Ok(r) => value(r).await.unwrap_err(),
        Err(e) => e,
    };
    assert_eq!(e.kind, ErrorKind::ActorDied, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actors_beyond_the_instance_pool_fail_with_the_remedy() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, _) = config(dir.path());
    cfg.engine.max_instances = 4;
    let rt = Runtime::new(cfg).unwrap();
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("counter")))
        .unwrap();
    let actors: Vec<_> = (0..5)
        .map(|_| {
            rt.create_actor(&job, "Counter", vec![arg(0)], ActorOptions::default())
                .unwrap()
        })
        .collect();
    let mut died = Vec::new();
    for a in &actors {
        let r = match rt.call_actor(*a, "value", vec![], 1) {
            Ok(r) => rt.get(&r[0], Some(Duration::from_secs(30))).await,
            Err(e) => Err(e),
        };
        if let Err(e) = r {
            died.push(e);
        }
    }
    assert_eq!(died.len(), 1, "{died:?}");
    assert_eq!(died[0].kind, ErrorKind::ActorDied);
    assert!(died[0].message.contains("--max-instances"), "{}", died[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_inside_values_survive_put_get_and_calls_even_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("objects")))
        .unwrap();
    let v = decode(&rt.run_main(&job, vec!["nested".into()]).await.unwrap());
    for k in ["local", "by_ref", "inline"] {
        assert_eq!(field(&v, k).as_u64(), Some(4), "{k} in {v}");
    }
    wait_until(|| rt.store_stats().objects == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_returns_any_k_of_n_and_honours_timeouts() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("objects")))
        .unwrap();
    let start = Instant::now();
    let v = decode(&rt.run_main(&job, vec!["wait".into()]).await.unwrap());
    assert_eq!(field(&v, "ready_first").as_u64(), Some(2), "{v}");
    assert_eq!(field(&v, "ready_after_timeout").as_u64(), Some(0), "{v}");
    assert_eq!(field(&v, "rest").to_string(), "[3, 4]");
    assert_eq!(field(&v, "get_timeout").as_str(), Some("get-timeout"));
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_move_through_the_store_intact_and_read_as_plain_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("objects")))
        .unwrap();
    let v = decode(&rt.run_main(&job, vec!["blob".into()]).await.unwrap());
    let expected = field(&v, "expected").as_u64().unwrap();
    assert!(expected > 0);
    for k in ["adopted", "decoded", "in_task"] {
        assert_eq!(field(&v, k).as_u64(), Some(expected), "{k} in {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_task_runs_in_a_fresh_instance() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("hostile")))
        .unwrap();
    for _ in 0..3 {
        let r = rt
            .submit(&job, "fresh", vec![], TaskOptions::default())
            .unwrap();
        let v = rt.get(&r[0], Some(Duration::from_secs(30))).await.unwrap();
        assert_eq!(decode(&v).as_u64(), Some(1), "no state leaks between tasks");
    }
}

#[test]
fn cli_shows_a_progress_line_on_a_terminal_for_long_jobs() {
    // `script` gives wrun a pseudo-terminal; the job spins for 1.5 s.
    let cache = tempfile::tempdir().unwrap();
    let cmd = format!(
        "{} submit {} spin 1500",
        wrun_bin().display(),
        ex("hostile")
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("WRUN_CACHE_DIR", cache.path())
        .output()
        .expect("script (util-linux) runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[wrun]") && text.contains("tasks:"), "{text}");
    assert!(
        text.contains("timeout"),
        "the job still reports its error: {text}"
    );
    assert!(
        text.contains("wrun: compiling ") && text.contains("hostile.wasm"),
        "the first run of a component says it compiles it: {text}"
    );
    let again = Command::new("script")
        .args(["-qec", &cmd.replace("1500", "10"), "/dev/null"])
        .env("WRUN_CACHE_DIR", cache.path())
        .output()
        .expect("script (util-linux) runs");
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(!text.contains("compiling"), "later runs load it: {text}");
    // Without a terminal there is no progress line.
    let (_, _, err) = wrun(&["submit", &ex("hostile"), "spin", "1500"]);
    assert!(
        !err.contains("[wrun]") && !err.contains("compiling"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_asking_for_more_returns_than_it_gives_fails_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("counter")))
        .unwrap();
    let a = rt
        .create_actor(&job, "Counter", vec![arg(1)], ActorOptions::default())
        .unwrap();
    let r = rt.call_actor(a, "value", vec![], 2).unwrap();
    for h in &r {
        let e = rt.get(h, Some(Duration::from_secs(30))).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{e}");
        assert!(e.message.contains("num_returns = 2"), "{e}");
    }
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("hello")))
        .unwrap();
    let opts = TaskOptions {
        num_returns: 3,
        ..Default::default()
    };
    let r = rt.submit(&job, "hello", vec![arg("x")], opts).unwrap();
    let e = rt
        .get(&r[2], Some(Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert!(e.message.contains("returned 1 values"), "{e}");
}

#[test]
fn objects_larger_than_wasmtimes_default_hostcall_budget_can_be_put() {
    // 160 MiB crosses from the guest in one `put`: more than wasmtime's
    // default 128 MiB per host call, within the guest's memory limit.
    let run = wrun_tests::submit_with(
        &[
            "--quiet".into(),
            "--guest-memory".into(),
            "1G".into(),
            "--resources".into(),
            "license=4".into(),
        ],
        &example("cluster"),
        &["objects", "license", "160"],
    );
    assert_eq!(run.code, 0, "{}", run.err);
    let v: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    let expected = v["expected"].as_u64().unwrap();
    assert_eq!(v["sums"], serde_json::json!([expected, expected]), "{v}");
    assert_eq!(
        v["kept"],
        serde_json::json!([160u64 << 20, expected]),
        "{v}"
    );
}

#[test]
fn a_placement_group_a_single_node_can_never_hold_is_refused_with_the_reason() {
    let run = wrun_tests::submit_with(&["--quiet".into()], &example("cluster"), &["groups"]);
    assert_eq!(run.code, 1, "{}", run.err);
    assert!(
        run.err
            .contains("STRICT_SPREAD needs 2 nodes, one per bundle, and the cluster has 1"),
        "{}",
        run.err
    );
    assert!(
        run.err.contains("infeasible in `placement group`"),
        "its own kind, not invalid-argument: {}",
        run.err
    );
}

/// A node with no CPUs (as Ray's `--num-cpus 0`) runs drivers, puts and
/// gets; a task, or an actor that asks for no resources (placed only on a
/// node with CPUs, as Ray's needs 1 CPU to be placed), is infeasible there,
/// with the remedy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_cpus_runs_drivers_and_objects_but_no_task_or_default_actor() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, _) = config(dir.path());
    cfg.cpus = 0.0;
    let rt = Runtime::new(cfg).unwrap();
    let env = rt
        .load_environment(&wrun_tests::repo().join("bench/env.toml"))
        .unwrap();
    let bench = rt
        .load(wrun_runtime::JobSpec::file(example("bench")).env(env))
        .unwrap();
    let v = decode(
        &rt.run_main(&bench, vec!["put".into(), "1".into()])
            .await
            .unwrap(),
    );
    assert!(field(&v, "seconds").as_f64().is_some(), "{v}");
    let counter = rt
        .load(wrun_runtime::JobSpec::file(example("counter")))
        .unwrap();
    let e = rt.run_main(&counter, vec![]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Infeasible, "{e}");
    assert!(e.message.contains("placed only on a node with CPUs"), "{e}");
    let hello = rt
        .load(wrun_runtime::JobSpec::file(example("hello")))
        .unwrap();
    let e = rt.run_main(&hello, vec![]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Infeasible, "{e}");
}
