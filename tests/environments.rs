//! Runtime environments and isolation, with hostile guests: what a manifest
//! grants is all a guest gets, and jobs do not see each other.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use wrun_core::{ActorOptions, ErrorKind, TaskError, TaskOptions};
use wrun_env::Environment;
use wrun_runtime::Runtime;
use wrun_sandbox::LoadedJob;
use wrun_tests::{arg, decode, example, runtime, wrun_bin};

/// Loads `envprobe` in the environment of `manifest` (written to `dir`).
fn probe_job(rt: &Runtime, dir: &Path, manifest: &str) -> Arc<LoadedJob> {
    let path = dir.join("env.toml");
    std::fs::write(&path, manifest).unwrap();
    let env = rt.load_environment(&path).unwrap_or_else(|e| panic!("{e}"));
    rt.load(wrun_runtime::JobSpec::file(example("envprobe")).env(env))
        .unwrap()
}

/// Runs one probe task and returns its value or its error.
async fn probe(
    rt: &Runtime,
    job: &Arc<LoadedJob>,
    task: &str,
    args: Vec<rmpv::Value>,
) -> Result<rmpv::Value, TaskError> {
    probe_with(rt, job, task, args, TaskOptions::default()).await
}

async fn probe_with(
    rt: &Runtime,
    job: &Arc<LoadedJob>,
    task: &str,
    args: Vec<rmpv::Value>,
    opts: TaskOptions,
) -> Result<rmpv::Value, TaskError> {
    let r = rt
        .submit(job, task, args.into_iter().map(arg).collect(), opts)
        .unwrap();
    rt.get(&r[0], Some(Duration::from_secs(30)))
        .await
        .map(|v| decode(&v))
}

/// Runs the job's driver with `args`; the text it returned.
async fn main_text(rt: &Runtime, job: &Arc<LoadedJob>, args: &[&str]) -> String {
    let args = args.iter().map(|a| a.to_string()).collect();
    let out = rt
        .run_main(job, args)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    decode(&out).as_str().unwrap().to_string()
}

fn s(v: &str) -> rmpv::Value {
    v.into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variables_are_only_those_the_manifest_declares() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    std::env::set_var("WRUN_TEST_SECRET", "host-only");
    let job = probe_job(&rt, dir.path(), "[env]\nGREETING = \"hi\"\n");
    assert_eq!(
        probe(&rt, &job, "env_var", vec![s("GREETING")])
            .await
            .unwrap()
            .as_str(),
        Some("hi")
    );
    for host_var in ["WRUN_TEST_SECRET", "HOME", "PATH"] {
        let v = probe(&rt, &job, "env_var", vec![s(host_var)])
            .await
            .unwrap();
        assert!(v.is_nil(), "{host_var} leaked: {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_working_directory_is_read_only_and_host_paths_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    std::fs::create_dir_all(dir.path().join("data/sub")).unwrap();
    std::fs::write(dir.path().join("data/sub/a.txt"), "alpha").unwrap();
    let granted = tempfile::tempdir().unwrap();
    std::fs::write(granted.path().join("g.txt"), "granted").unwrap();
    let manifest = format!(
        "[files]\nworking_dir = \"data\"\n[capabilities]\nread = [\"{}\"]\n",
        granted.path().display()
    );
    let job = probe_job(&rt, dir.path(), &manifest);
    let read = |p: String| probe(&rt, &job, "read_file", vec![p.as_str().into()]);
    assert_eq!(
        read("/work/sub/a.txt".into()).await.unwrap().as_str(),
        Some("alpha")
    );
    assert_eq!(
        read("sub/a.txt".into()).await.unwrap().as_str(),
        Some("alpha"),
        "a relative path resolves in the working directory, as in Ray"
    );
    let cwd = probe(&rt, &job, "cwd", vec![]).await.unwrap();
    assert_eq!(cwd.as_str(), Some("/work"), "a task starts in it");
    assert_eq!(
        read(format!("{}/g.txt", granted.path().display()))
            .await
            .unwrap()
            .as_str(),
        Some("granted")
    );
    // Writing the working directory, or reading anything not granted, fails.
    let e = probe(&rt, &job, "write_file", vec![s("/work/sub/a.txt"), s("x")])
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Application);
    for secret in ["/etc/passwd", "/work/../env.toml", "/proc/self/environ"] {
        let e = read(secret.into()).await.unwrap_err();
        assert!(e.message.contains("cannot read"), "{secret}: {e}");
    }
    let host_file = dir.path().join("env.toml");
    let e = read(host_file.display().to_string()).await.unwrap_err();
    assert!(e.message.contains("cannot read"), "{e}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("data/sub/a.txt")).unwrap(),
        "alpha"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scratch_space_is_private_to_a_task_and_wiped_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, _) = wrun_tests::config(dir.path());
    cfg.scratch_dir = dir.path().join("scratch-root");
    let rt = Runtime::new(cfg).unwrap();
    let job = probe_job(&rt, dir.path(), "[files]\nscratch = true\n");
    let first = probe(&rt, &job, "use_scratch", vec![s("one")])
        .await
        .unwrap();
    assert_eq!(first.to_string(), r#"["one"]"#);
    let second = probe(&rt, &job, "use_scratch", vec![s("two")])
        .await
        .unwrap();
    assert_eq!(
        second.to_string(),
        r#"["two"]"#,
        "the first task's file is gone"
    );
    let left = std::fs::read_dir(dir.path().join("scratch-root"))
        .unwrap()
        .count();
    assert_eq!(left, 0, "scratch directories are removed with their tasks");
    // Without `scratch = true` there is no /scratch.
    let plain = probe_job(&rt, dir.path(), "");
    assert!(probe(&rt, &plain, "use_scratch", vec![s("x")])
        .await
        .is_err());
}

/// A one-shot TCP server on loopback answering "pong".
fn pong_server() -> (std::net::SocketAddr, std::thread::JoinHandle<bool>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok((mut c, _)) = l.accept() {
                c.set_nonblocking(false).unwrap();
                let mut buf = [0u8; 4];
                let _ = c.read_exact(&mut buf);
                let _ = c.write_all(b"pong");
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    });
    (addr, h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_allow_listed_destinations_can_be_reached() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let (allowed, server) = pong_server();
    let (other, other_server) = pong_server();
    let job = probe_job(
        &rt,
        dir.path(),
        &format!("[capabilities]\nnetwork = [\"{allowed}\"]\n"),
    );
    let reply = probe(
        &rt,
        &job,
        "connect",
        vec![allowed.to_string().as_str().into()],
    )
    .await;
    assert_eq!(reply.unwrap().as_str(), Some("pong"));
    assert!(server.join().unwrap());
    let e = probe(
        &rt,
        &job,
        "connect",
        vec![other.to_string().as_str().into()],
    )
    .await
    .unwrap_err();
    assert!(e.message.contains("connect"), "{e}");
    let closed = probe_job(&rt, dir.path(), "");
    assert!(probe(
        &rt,
        &closed,
        "connect",
        vec![other.to_string().as_str().into()]
    )
    .await
    .is_err());
    assert!(
        !other_server.join().unwrap(),
        "nothing reached the unlisted server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clocks_and_randomness_are_deterministic_unless_granted() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = probe_job(&rt, dir.path(), "");
    let t = probe(&rt, &job, "now", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap();
    assert_eq!(t, wrun_env::DETERMINISTIC_EPOCH_SECS);
    let r1 = probe(&rt, &job, "random", vec![]).await.unwrap();
    let r2 = probe(&rt, &job, "random", vec![]).await.unwrap();
    assert_eq!(r1, r2, "the same stand-in randomness every time");
    let real = probe_job(
        &rt,
        dir.path(),
        "[capabilities]\nclock = true\nrandom = true\n",
    );
    let t = probe(&rt, &real, "now", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap();
    assert!(t > 1_700_000_000, "{t}");
    let r3 = probe(&rt, &real, "random", vec![]).await.unwrap();
    let r4 = probe(&rt, &real, "random", vec![]).await.unwrap();
    assert_ne!(r3, r4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_time_counts_running_not_waiting_and_memory_is_capped() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = probe_job(
        &rt,
        dir.path(),
        "[limits]\ncpu_time = \"200ms\"\nmemory = \"32M\"\n",
    );
    let e = probe(&rt, &job, "burn", vec![]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    assert!(e.message.contains("CPU-time limit of 200 ms"), "{e}");
    // Sleeping three times the limit uses almost no CPU.
    assert_eq!(
        probe(&rt, &job, "nap", vec![600.into()])
            .await
            .unwrap()
            .as_u64(),
        Some(600)
    );
    let hostile_env = rt.load_environment(&dir.path().join("env.toml")).unwrap();
    let hostile = rt
        .load(wrun_runtime::JobSpec::file(example("hostile")).env(hostile_env))
        .unwrap();
    let r = rt
        .submit(&hostile, "bomb", vec![], TaskOptions::default())
        .unwrap();
    let e = rt
        .get(&r[0], Some(Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::MemoryLimit, "{e}");
    assert!(e.message.contains(&(32u64 << 20).to_string()), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_jobs_in_different_environments_run_at_once_without_seeing_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let a_dir = dir.path().join("a");
    let b_dir = dir.path().join("b");
    for (d, word) in [(&a_dir, "apple"), (&b_dir, "banana")] {
        std::fs::create_dir_all(d.join("wd")).unwrap();
        std::fs::write(d.join("wd/word.txt"), word).unwrap();
    }
    let a = probe_job(
        &rt,
        &a_dir,
        "[env]\nWHO = \"a\"\n[files]\nworking_dir = \"wd\"\n",
    );
    let b = probe_job(
        &rt,
        &b_dir,
        "[env]\nWHO = \"b\"\n[files]\nworking_dir = \"wd\"\n",
    );
    let (ra, rb) = tokio::join!(
        async {
            (
                probe(&rt, &a, "env_var", vec![s("WHO")]).await,
                probe(&rt, &a, "read_file", vec![s("/work/word.txt")]).await,
            )
        },
        async {
            (
                probe(&rt, &b, "env_var", vec![s("WHO")]).await,
                probe(&rt, &b, "read_file", vec![s("/work/word.txt")]).await,
            )
        }
    );
    assert_eq!(ra.0.unwrap().as_str(), Some("a"));
    assert_eq!(ra.1.unwrap().as_str(), Some("apple"));
    assert_eq!(rb.0.unwrap().as_str(), Some("b"));
    assert_eq!(rb.1.unwrap().as_str(), Some("banana"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_can_ask_for_a_named_environment_of_its_job() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = probe_job(
        &rt,
        dir.path(),
        "[env]\nMODE = \"default\"\n[environments.other.env]\nMODE = \"other\"\n",
    );
    let v = decode(
        &rt.run_main(&job, vec!["env_of".into(), "MODE".into(), "other".into()])
            .await
            .unwrap(),
    );
    assert_eq!(v.as_str(), Some("other"));
    assert_eq!(
        probe(&rt, &job, "env_var", vec![s("MODE")])
            .await
            .unwrap()
            .as_str(),
        Some("default")
    );
    // Actors too.
    let actor_in = |env: Option<&str>| {
        let opts = ActorOptions {
            environment: env.map(Into::into),
            ..Default::default()
        };
        rt.create_actor(&job, "Cell", vec![arg(1)], opts).unwrap()
    };
    for (env, expected) in [(Some("other"), "other"), (None, "default")] {
        let r = rt
            .call_actor(actor_in(env), "var", vec![arg("MODE")], 1)
            .unwrap();
        let v = decode(&rt.get(&r[0], Some(Duration::from_secs(30))).await.unwrap());
        assert_eq!(v.as_str(), Some(expected));
    }
    let e = rt
        .run_main(&job, vec!["env_of".into(), "MODE".into(), "nope".into()])
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(
        e.message.contains("no environment `nope`") && e.message.contains("other"),
        "{e}"
    );
}

/// Ray's `runtime_env` task and actor option: an inline environment starts
/// from the one the call would run in (its caller's, or a named one) and
/// changes only what it names; it may lower a limit but not raise one, nor
/// grant what the manifest grants.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inline_runtime_env_changes_variables_and_lowers_limits_only() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = probe_job(
        &rt,
        dir.path(),
        "[env]\nMODE = \"default\"\nKEPT = \"yes\"\n[limits]\ncpu_time = \"5s\"\n\
         [environments.other.env]\nMODE = \"other\"\n",
    );
    let inline = |json: &str, environment: Option<&str>| TaskOptions {
        runtime_env: Some(json.to_string()),
        environment: environment.map(Into::into),
        ..Default::default()
    };
    let var = |name: &str, opts: TaskOptions| probe_with(&rt, &job, "env_var", vec![s(name)], opts);
    let mode = r#"{"env": {"MODE": "inline"}}"#;
    assert_eq!(
        var("MODE", inline(mode, None)).await.unwrap().as_str(),
        Some("inline")
    );
    assert_eq!(
        var("KEPT", inline(mode, None)).await.unwrap().as_str(),
        Some("yes")
    );
    let over_named = inline(r#"{"env": {"EXTRA": "x"}}"#, Some("other"));
    assert_eq!(
        var("MODE", over_named.clone()).await.unwrap().as_str(),
        Some("other")
    );
    assert_eq!(var("EXTRA", over_named).await.unwrap().as_str(), Some("x"));
    // An actor too.
    let opts = ActorOptions {
        runtime_env: Some(mode.into()),
        ..Default::default()
    };
    let cell = rt.create_actor(&job, "Cell", vec![arg(1)], opts).unwrap();
    let r = rt.call_actor(cell, "var", vec![arg("MODE")], 1).unwrap();
    let v = decode(&rt.get(&r[0], Some(Duration::from_secs(30))).await.unwrap());
    assert_eq!(v.as_str(), Some("inline"));

    // A lower CPU-time limit fires, naming its value; a higher one is refused.
    let e = probe_with(
        &rt,
        &job,
        "burn",
        vec![],
        inline(r#"{"limits": {"cpu_time": "300ms"}}"#, None),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    assert!(e.message.contains("CPU-time limit of 300 ms"), "{e}");
    for (json, says) in [
        (
            r#"{"limits": {"cpu_time": "1m"}}"#,
            "may only lower a limit",
        ),
        (
            r#"{"capabilities": {"read": ["/"]}}"#,
            "may not widen its own sandbox",
        ),
        (
            r#"{"env": {"A": 1}}"#,
            "env.A: invalid type: integer `1`, expected a string",
        ),
    ] {
        let e = rt
            .submit(&job, "env_var", vec![arg("MODE")], inline(json, None))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{json}: {e}");
        assert!(e.message.contains(says), "{json}: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_cannot_reach_each_others_actors_unless_shared() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let owner = probe_job(&rt, dir.path(), "");
    let intruder = probe_job(&rt, dir.path(), "");
    let private = rt
        .create_actor(
            &owner,
            "Cell",
            vec![arg(7)],
            ActorOptions {
                name: Some("cell".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let shared = rt
        .create_actor(
            &owner,
            "Cell",
            vec![arg(9)],
            ActorOptions {
                name: Some("cell".into()),
                namespace: Some("team".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let main = |args: Vec<String>| {
        let (rt, job) = (rt.clone(), intruder.clone());
        async move {
            decode(&rt.run_main(&job, args).await.unwrap())
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let ns = owner.namespace.clone();
    assert_eq!(
        main(vec!["lookup".into(), "cell".into(), ns]).await,
        "absent"
    );
    let forged = |id: wrun_core::ActorId, mode: &str| {
        vec![mode.to_string(), id.0.hi.to_string(), id.0.lo.to_string()]
    };
    // Another job's actor reads, word for word, as an id nobody minted.
    let unknown = wrun_core::ActorId(wrun_core::Id {
        hi: private.0.hi,
        lo: private.0.lo + 1_000,
    });
    for mode in ["call_id", "kill_id"] {
        let out = main(forged(private, mode)).await;
        let none = main(forged(unknown, mode)).await;
        assert!(out.starts_with("refused"), "{mode}: {out}");
        assert_eq!(
            out.replace(&private.to_string(), "ID"),
            none.replace(&unknown.to_string(), "ID"),
            "{mode}: another job's actor reads as one that does not exist"
        );
    }
    assert_eq!(rt.actor_count(), 2, "the private actor survived");
    // A shared namespace is reachable by name and by id.
    let found = main(vec!["lookup".into(), "cell".into(), "team".into()]).await;
    assert_eq!(found, format!("found {}", shared.0));
    assert_eq!(main(forged(shared, "call_id")).await, "got 9");
}

/// A placement group belongs to its job: another job that knows (or
/// guesses) its id can neither read its bundles, run in it nor remove it,
/// and is told exactly what it would be told of an id that does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_cannot_see_use_or_remove_each_others_placement_groups() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let owner = probe_job(&rt, dir.path(), "");
    let intruder = probe_job(&rt, dir.path(), "");
    let call = |actor, method: &'static str| {
        let rt = rt.clone();
        async move {
            let r = rt.call_actor(actor, method, vec![], 1).unwrap();
            let v = rt.get(&r[0], Some(Duration::from_secs(30))).await;
            decode(&v.unwrap_or_else(|e| panic!("{method}: {e}")))
        }
    };
    let keeper = rt
        .create_actor(&owner, "Keeper", vec![], ActorOptions::default())
        .unwrap();
    let id = call(keeper, "reserve").await;
    let id: Vec<String> = id
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap().to_string())
        .collect();
    let intrude = |mode: &str, id: &[String]| {
        let (rt, job) = (rt.clone(), intruder.clone());
        let args = [mode.to_string(), id[0].clone(), id[1].clone()];
        async move { main_text(&rt, &job, &args.each_ref().map(String::as_str)).await }
    };
    // How an id reads in a message.
    let shown = |id: &[String]| {
        let n = |i: usize| id[i].parse::<u64>().unwrap();
        format!("{:016x}{:016x}", n(0), n(1))
    };
    // An id nobody minted, for what a job is told of a group that is not.
    let unknown = vec![
        id[0].clone(),
        (id[1].parse::<u64>().unwrap() + 1_000).to_string(),
    ];
    for mode in ["group_nodes", "group_task", "group_remove"] {
        let out = intrude(mode, &id).await;
        let none = intrude(mode, &unknown).await;
        assert!(
            out.starts_with("refused") && out.contains("not-found"),
            "{mode}: {out}"
        );
        // The same words (the task's label aside: each task has its own).
        let words = |m: &str, id: &[String]| {
            let m = m.replace(&shown(id), "ID");
            m[m.find("placement group").unwrap_or(0)..].to_string()
        };
        assert_eq!(
            words(&out, &id),
            words(&none, &unknown),
            "{mode}: another job's group reads as one that does not exist"
        );
    }
    // The owner still has its group, whole.
    let used = call(keeper, "use_group").await;
    assert_eq!(used.as_str(), Some("ran in a group of 1 bundle(s)"));
    assert_eq!(rt.groups().len(), 1);
}

/// A job's tasks in flight on a node are bounded (`limits.tasks_in_flight`):
/// the submit past the quota is refused at the call, naming the quota, and
/// submits go in again once results come back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_cannot_have_more_tasks_in_flight_than_its_quota() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = probe_job(&rt, dir.path(), "[limits]\ntasks_in_flight = 100\n");
    let out = main_text(&rt, &job, &["flood", "500"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0], "99", "the slow task and 99 waiting on it: {out}");
    assert!(
        lines[1].starts_with("invalid-argument:")
            && lines[1].contains("100 tasks in flight")
            && lines[1].contains("limits.tasks_in_flight"),
        "{out}"
    );
    assert_eq!(lines[2], "ok", "{out}");
    // The default bounds a job without a manifest too.
    assert_eq!(
        probe_job(&rt, dir.path(), "")
            .env
            .limits
            .max_tasks_in_flight,
        100_000
    );
    let zero = dir.path().join("zero.toml");
    std::fs::write(&zero, "[limits]\ntasks_in_flight = 0\n").unwrap();
    let e = rt.load_environment(&zero).unwrap_err().to_string();
    assert!(
        e.contains("limits.tasks_in_flight: expected at least 1"),
        "{e}"
    );
}

/// Tasks nest only as deep as the job's `limits.max_depth`: the submit one
/// level deeper is refused, naming the limit, and the error reaches the
/// driver through every level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_nest_only_as_deep_as_the_jobs_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = probe_job(&rt, dir.path(), "[limits]\nmax_depth = 10\n");
    // The driver's task is at depth 1: nine more levels fit, ten do not.
    assert_eq!(main_text(&rt, &job, &["dive", "9"]).await, "9 deep");
    let out = main_text(&rt, &job, &["dive", "10"]).await;
    assert!(
        out.starts_with("invalid-argument:")
            && out.contains("it would nest 11 deep, past the job's limit of 10 (limits.max_depth"),
        "{out}"
    );
    assert_eq!(probe_job(&rt, dir.path(), "").env.limits.max_depth, 500);
}

/// A bundle index past a group's end is refused at the call, for a task and
/// for an actor, as Ray does (not later, at `get`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_index_past_the_groups_end_is_refused_at_the_call() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = probe_job(&rt, dir.path(), "");
    let out = main_text(&rt, &job, &["bad_bundle"]).await;
    let calls: Vec<&str> = out.lines().collect();
    assert_eq!(calls.len(), 2, "{out}");
    for c in calls {
        assert!(
            c.starts_with("refused: invalid-argument:")
                && c.contains("has 1 bundle(s), numbered from 0; there is no bundle 1"),
            "{out}"
        );
    }
}

/// Removing a placement group ends what uses it, as in Ray: a task running
/// in it is stopped and one waiting for it is refused, both with
/// `placement-group-removed` (not retried), and its actor dies; its
/// resources come back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_placement_group_ends_the_work_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let job = probe_job(&rt, dir.path(), "");
    let run = main_text(&rt, &job, &["remove_busy_group"]);
    let out = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("nothing in the removed group hangs");
    let ended: Vec<&str> = out.lines().collect();
    assert_eq!(ended.len(), 3, "{out}");
    assert!(
        ended[0].starts_with("placement-group-removed:") && ended[0].contains("while it ran"),
        "the running task: {out}"
    );
    assert!(
        ended[1].starts_with("placement-group-removed:") && ended[1].contains("before it"),
        "the waiting task: {out}"
    );
    assert!(
        ended[2].starts_with("actor-died:") && ended[2].contains("placement group was removed"),
        "the actor in the group: {out}"
    );
    assert!(rt.groups().is_empty());
    assert_eq!(rt.queued(), 0, "nothing waits for the group's resources");
}

#[test]
fn a_broken_manifest_is_refused_with_file_line_and_field_and_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("env.toml");
    std::fs::write(
        &manifest,
        "[env]\nA = \"1\"\n\n[limits]\nmemory = \"lots\"\n",
    )
    .unwrap();
    let out = Command::new(wrun_bin())
        .args(["submit", "--env"])
        .arg(&manifest)
        .arg(example("hello"))
        .env("WRUN_CACHE_DIR", dir.path().join("cache"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:5:", manifest.display())), "{err}");
    assert!(
        err.contains("limits.memory") && err.contains("64M"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing ran");
}

#[test]
fn the_second_submit_of_an_environment_reuses_every_cached_step() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("wd")).unwrap();
    std::fs::write(dir.path().join("wd/f.txt"), "x").unwrap();
    let manifest = dir.path().join("env.toml");
    std::fs::write(&manifest, "[files]\nworking_dir = \"wd\"\n").unwrap();
    let run = || {
        let out = Command::new(wrun_bin())
            .args(["submit", "--timing", "--env"])
            .arg(&manifest)
            .arg(example("hello"))
            .env("WRUN_CACHE_DIR", dir.path().join("cache"))
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let cold = run();
    assert!(
        cold.contains("working directory packed now") && cold.contains("compiled"),
        "{cold}"
    );
    let warm = run();
    assert!(
        warm.contains("from the cache") && warm.contains("cache hit"),
        "{warm}"
    );
}

#[test]
fn an_environment_without_a_manifest_denies_everything() {
    let env = Environment::deny_all(wrun_core::JobLimits::default());
    assert!(
        env.env_vars.is_empty() && env.network.is_empty() && !env.real_clock && !env.real_random
    );
}

#[test]
fn the_example_manifest_runs_its_job_in_a_named_environment() {
    let cache = tempfile::tempdir().unwrap();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rust/envprobe/env.toml");
    let run = |mode: &str| {
        let out = Command::new(wrun_bin())
            .args(["submit", "--env"])
            .arg(&manifest)
            .arg(example("envprobe"))
            .args(["env_of", "GREETING", mode])
            .env("WRUN_CACHE_DIR", cache.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(run("loud"), "HELLO");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_object_handle_reaches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    // Another job's objects exist on this node...
    let victim = probe_job(&rt, dir.path(), "");
    let secret = rt.put(wrun_objects::ObjectValue::from_bytes(
        wrun_core::values::encode(&"secret".into()),
    ));
    let r = rt
        .submit(&victim, "env_var", vec![arg("X")], TaskOptions::default())
        .unwrap();
    rt.get(&r[0], None).await.unwrap();
    // ...and a hostile job guesses handle numbers.
    let hostile = rt
        .load(wrun_runtime::JobSpec::file(example("hostile")))
        .unwrap();
    for handle in 0..16u32 {
        let r = rt
            .submit(&hostile, "forge", vec![arg(handle)], TaskOptions::default())
            .unwrap();
        match rt.get(&r[0], Some(Duration::from_secs(30))).await {
            Ok(v) => panic!("handle {handle} reached an object: {}", decode(&v)),
            Err(e) => assert_eq!(e.kind, ErrorKind::Trap, "handle {handle}: {e}"),
        }
    }
    drop(secret);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_resources_come_from_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    // Tasks that say nothing ask for what the manifest sets: more than this node has.
    let job = probe_job(&rt, dir.path(), "[resources]\ntask_cpus = 512.0\n");
    let e = probe(&rt, &job, "env_var", vec![s("X")]).await.unwrap_err();
    assert!(e.message.contains("needs 512 cpus"), "{e}");
    // A task that names its CPUs is not affected.
    let opts = TaskOptions {
        resources: Some(wrun_core::Resources::new(1.0, 0)),
        ..Default::default()
    };
    assert!(probe_with(&rt, &job, "env_var", vec![s("X")], opts)
        .await
        .is_ok());
    // Actors likewise take `actor_cpus`.
    let job = probe_job(&rt, dir.path(), "[resources]\nactor_cpus = 512.0\n");
    let a = rt
        .create_actor(&job, "Cell", vec![arg(1)], ActorOptions::default())
        .unwrap();
    let e = match rt.call_actor(a, "get", vec![], 1) {
        Ok(r) => rt
            .get(&r[0], Some(Duration::from_secs(30)))
            .await
            .unwrap_err(),
        Err(e) => e,
    };
    assert!(e.message.contains("512 cpus"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_instances_carry_module_state_and_a_trap_discards_one() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let path = dir.path().join("reuse.toml");
    std::fs::write(&path, "[runtime]\nreuse_instances = true\n").unwrap();
    let env = rt.load_environment(&path).unwrap();
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("hostile")).env(env))
        .unwrap();
    let fresh = || async {
        let r = rt
            .submit(&job, "fresh", vec![], TaskOptions::default())
            .unwrap();
        decode(&rt.get(&r[0], Some(Duration::from_secs(30))).await.unwrap())
            .as_u64()
            .unwrap()
    };
    // One task at a time: each runs in the instance the previous one left.
    let counts = [fresh().await, fresh().await, fresh().await];
    assert_eq!(counts, [1, 2, 3], "module state carried over");
    // A trap discards its instance; tasks go on in a new one.
    let r = rt
        .submit(&job, "panic", vec![], TaskOptions::default())
        .unwrap();
    assert_eq!(rt.get(&r[0], None).await.unwrap_err().kind, ErrorKind::Trap);
    let after = fresh().await;
    assert!(after >= 1);
    // Without reuse every task starts from scratch (the default).
    let plain = rt
        .load(wrun_runtime::JobSpec::file(example("hostile")))
        .unwrap();
    for _ in 0..2 {
        let r = rt
            .submit(&plain, "fresh", vec![], TaskOptions::default())
            .unwrap();
        assert_eq!(
            decode(&rt.get(&r[0], None).await.unwrap()).as_u64(),
            Some(1)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_holding_too_many_references_is_stopped_with_the_remedy() {
    let dir = tempfile::tempdir().unwrap();
    let (rt, _) = runtime(dir.path());
    let path = dir.path().join("few.toml");
    std::fs::write(&path, "[limits]\nmax_refs = 1000\n").unwrap();
    let env = rt.load_environment(&path).unwrap();
    let job = rt
        .load(wrun_runtime::JobSpec::file(example("bench")).env(env))
        .unwrap();
    let e = rt
        .run_main(&job, vec!["tasks".into(), "2000".into()])
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Trap, "{e}");
    assert!(
        e.message.contains("more than 1000 object references")
            && e.message.contains("limits.max_refs"),
        "{e}"
    );
    // Within the limit the same job runs.
    let ok = rt.run_main(&job, vec!["tasks".into(), "500".into()]).await;
    assert!(ok.is_ok(), "{ok:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_warm_instances_give_their_slots_to_other_work() {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, _) = wrun_tests::config(dir.path());
    cfg.engine.max_instances = 3;
    let rt = Runtime::new(cfg).unwrap();
    let path = dir.path().join("reuse.toml");
    std::fs::write(&path, "[runtime]\nreuse_instances = true\n").unwrap();
    // Three jobs with reuse each leave a warm instance behind: every slot idle.
    for _ in 0..3 {
        let env = rt.load_environment(&path).unwrap();
        let job = rt
            .load(wrun_runtime::JobSpec::file(example("hostile")).env(env))
            .unwrap();
        let r = rt
            .submit(&job, "noop", vec![], TaskOptions::default())
            .unwrap();
        rt.get(&r[0], Some(Duration::from_secs(30))).await.unwrap();
    }
    // A fresh-instance job still gets a slot.
    let plain = rt
        .load(wrun_runtime::JobSpec::file(example("hostile")))
        .unwrap();
    let r = rt
        .submit(&plain, "noop", vec![], TaskOptions::default())
        .unwrap();
    rt.get(&r[0], Some(Duration::from_secs(10)))
        .await
        .expect("a slot was freed");
}
