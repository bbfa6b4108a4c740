//! Cancelling calls (`tasks.cancel`, Ray's `ray.cancel`) and the order of
//! actor calls waiting for their arguments, on one node, with
//! the real `cancel` example: each mode prints what its driver saw.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use wrun_runtime::{JobSpec, Runtime};
use wrun_tests::{config, decode, example};

/// Runs the example's `args` on a runtime with `cpus`; its report as JSON,
/// and the runtime (to read its counters and resources afterwards).
async fn run(cpus: f64, args: &[&str]) -> (serde_json::Value, Runtime, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, _) = config(dir.path());
    cfg.cpus = cpus;
    let rt = Runtime::new(cfg).unwrap();
    let job = rt.load(JobSpec::file(example("cancel"))).unwrap();
    let args = args.iter().map(|a| a.to_string()).collect();
    let out = tokio::time::timeout(Duration::from_secs(120), rt.run_main(&job, args))
        .await
        .expect("the job ended (a cancel that does not reach its task hangs it)")
        .unwrap();
    (rmpv_to_json(&decode(&out)), rt, dir)
}

/// The report as JSON, for assertions that read like the CLI's output.
fn rmpv_to_json(v: &rmpv::Value) -> serde_json::Value {
    match v {
        rmpv::Value::Map(m) => serde_json::Value::Object(
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), rmpv_to_json(v)))
                .collect(),
        ),
        rmpv::Value::Array(a) => a.iter().map(rmpv_to_json).collect(),
        rmpv::Value::String(s) => s.as_str().unwrap_or_default().into(),
        rmpv::Value::Integer(i) => i.as_u64().map_or(serde_json::Value::Null, Into::into),
        rmpv::Value::Boolean(b) => (*b).into(),
        _ => serde_json::Value::Null,
    }
}

/// Waits until every CPU of `rt` is free again (what a cancelled task held).
async fn wait_cpus_back(rt: &Runtime) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (free, total) = rt.resources();
        if free == total {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "CPUs held after the job: {free} of {total}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_task_is_interrupted_and_never_retried() {
    let (v, rt, _d) = run(2.0, &["running"]).await;
    assert_eq!(v["kinds"]["spinner"], "task-cancelled", "{v}");
    let (v, rt2, _d2) = run(2.0, &["retried"]).await;
    assert_eq!(v["kinds"]["spinner"], "task-cancelled", "{v}");
    assert_eq!(
        rt2.counters().retried.load(Ordering::Relaxed),
        0,
        "a cancelled task is not retried"
    );
    wait_cpus_back(&rt).await;
    wait_cpus_back(&rt2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_blocked_in_get_sees_an_unforced_cancel_and_a_forced_one_drops_it() {
    let (v, rt, _d) = run(2.0, &["blocked"]).await;
    assert_eq!(v["kinds"]["waiter"], "task-cancelled", "{v}");
    assert_eq!(v["kinds"]["never"], "task-cancelled", "{v}");
    assert_eq!(
        v["notes"],
        serde_json::json!(["task-cancelled"]),
        "the guest saw the cancel in its get: {v}"
    );
    wait_cpus_back(&rt).await;
    let (v, rt, _d) = run(2.0, &["blocked", "force"]).await;
    assert_eq!(v["kinds"]["waiter"], "task-cancelled", "{v}");
    assert_eq!(
        v["notes"],
        serde_json::json!([]),
        "a forced cancel leaves the guest no say: {v}"
    );
    wait_cpus_back(&rt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recursive_cancel_reaches_the_tasks_a_task_submitted_and_only_then() {
    let (v, rt, _d) = run(2.0, &["recursive"]).await;
    assert_eq!(v["kinds"]["parent"], "task-cancelled", "{v}");
    assert_eq!(v["kinds"]["child"], "task-cancelled", "{v}");
    wait_cpus_back(&rt).await;
    let (v, rt, _d) = run(2.0, &["recursive", "false"]).await;
    assert_eq!(v["kinds"]["parent"], "task-cancelled", "{v}");
    assert_eq!(
        v["kinds"]["child_after_300ms"], "get-timeout",
        "the child ran on: {v}"
    );
    assert_eq!(v["kinds"]["child"], "task-cancelled", "{v}");
    wait_cpus_back(&rt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_waiting_on_a_cancelled_one_fail_with_it_and_a_finished_one_is_left_alone() {
    let (v, _rt, _d) = run(2.0, &["chain"]).await;
    for k in ["head", "next", "last"] {
        assert_eq!(v["kinds"][k], "task-cancelled", "{k}: {v}");
    }
    let (v, _rt, _d) = run(2.0, &["finished"]).await;
    assert_eq!(v["counts"]["before"], 7, "{v}");
    assert_eq!(v["counts"]["after"], 7, "{v}");
}

/// 5,000 tasks parked behind a task holding the only CPU, every 20th
/// cancelled: every get returns a value or the cancel, none hangs, and no
/// cancelled task ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_stress_every_get_returns_a_value_or_the_cancel() {
    let (v, rt, _d) = run(1.0, &["pending", "5000"]).await;
    let c = &v["counts"];
    assert_eq!(c["cancelled"], 250, "{v}");
    assert_eq!(c["ok"], 4750, "{v}");
    assert_eq!(c["other"], 0, "{v}");
    assert_eq!(c["ran"], 4750, "{v}");
    assert_eq!(c["cancelled_ran"], 0, "a cancelled task never runs: {v}");
    assert_eq!(v["kinds"]["blocker"], "task-cancelled", "{v}");
    wait_cpus_back(&rt).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_call_is_cancelled_while_queued_and_force_on_one_is_refused() {
    let (v, _rt, _d) = run(2.0, &["actor"]).await;
    assert_eq!(v["kinds"]["first"], "ok", "a running method finishes: {v}");
    assert_eq!(v["kinds"]["second"], "task-cancelled", "{v}");
    assert_eq!(v["kinds"]["force_on_method"], "invalid-argument", "{v}");
    assert_eq!(
        v["kinds"]["third"], "ok",
        "a refused cancel changes nothing: {v}"
    );
}

/// A method waiting for its argument holds back its own caller's later
/// calls (they run in order) but not another caller's (it once held every
/// caller back until its argument came).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_call_waiting_for_its_argument_holds_back_only_its_callers_later_calls() {
    let (v, rt, _d) = run(2.0, &["actor_args"]).await;
    assert_eq!(v["kinds"]["other_caller"], "ok", "{v}");
    assert_eq!(
        v["counts"]["later_call_ran_first"], 0,
        "one caller's calls keep their order: {v}"
    );
    assert_eq!(
        v["kinds"]["waiting"], "task-cancelled",
        "its argument was cancelled: {v}"
    );
    assert_eq!(v["kinds"]["after"], "ok", "{v}");
    assert_eq!(v["notes"], serde_json::json!(["after"]), "{v}");
    assert_eq!(
        v["kinds"]["stuck"], "task-cancelled",
        "a call waiting for its argument is cancellable: {v}"
    );
    wait_cpus_back(&rt).await;
}
