//! `wrun-bench`: measures wrun on the workloads of MISSION.md, runs the same
//! workloads on Ray (bench/ray/bench.py) in the same run, and prints both with
//! the ratios. Release builds only; medians of several runs.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use wrun_core::ActorOptions;
use wrun_runtime::LoadedJob;
use wrun_runtime::{Runtime, RuntimeConfig};

mod languages;

/// The same allocator as the `wrun` binary, so in-process figures match it.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(about = "wrun vs Ray on the same machine, in one run")]
struct Args {
    /// The bench example component.
    #[arg(long)]
    bench_wasm: PathBuf,
    /// The environment of the bench job (it needs the real clock).
    #[arg(long, default_value = "bench/env.toml")]
    env: PathBuf,
    /// The hello example component (for `wrun submit hello` end to end).
    #[arg(long)]
    hello_wasm: PathBuf,
    /// The wrun binary.
    #[arg(long)]
    wrun: PathBuf,
    /// The Python bench example and its environment (warm instances, real
    /// clock); without them Python guests are not measured.
    #[arg(long)]
    py_bench_wasm: Option<PathBuf>,
    #[arg(long, default_value = "examples/python/bench/env.toml")]
    py_env: PathBuf,
    /// A guest language's bench component, as LANGUAGE=FILE.wasm
    /// (repeatable): its size, compile time, no-op task costs and bulk rate.
    #[arg(long = "lang", value_name = "LANGUAGE=FILE.wasm")]
    langs: Vec<String>,
    /// The environment of the per-language bench jobs (clock, warm instances).
    #[arg(long, default_value = "bench/lang-env.toml")]
    lang_env: PathBuf,
    /// Python of the Ray venv; without it only wrun is measured.
    #[arg(long)]
    ray_python: Option<PathBuf>,
    /// The Ray benchmark script.
    #[arg(long, default_value = "bench/ray/bench.py")]
    ray_script: PathBuf,
    /// Smaller counts (a smoke run).
    #[arg(long)]
    quick: bool,
    /// Repetitions per workload (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

/// One row of the report.
struct Row {
    name: &'static str,
    unit: &'static str,
    wrun: Option<f64>,
    ray_key: &'static str,
    /// True when larger is better (rates), false for times and sizes.
    higher_is_better: bool,
    target: &'static str,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let wrun = tokio.block_on(measure_wrun(&args))?;
    let mut langs = Vec::new();
    for l in &args.langs {
        let Some((name, wasm)) = l.split_once('=') else {
            bail!("--lang {l}: expected LANGUAGE=FILE.wasm");
        };
        langs.push(tokio.block_on(languages::measure(
            name,
            std::path::Path::new(wasm),
            &args.lang_env,
            args.quick,
            args.runs,
        ))?);
    }
    let ray = match &args.ray_python {
        Some(py) => Some(run_ray(&args, py)?),
        None => None,
    };
    print_report(&wrun, ray.as_ref());
    let ray_rate = ray
        .as_ref()
        .and_then(|j| j.get("task_bulk_per_s"))
        .and_then(|v| v.as_f64());
    languages::print(&langs, ray_rate);
    Ok(())
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

fn field(v: &rmpv::Value, key: &str) -> f64 {
    v.as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some(key)))
        .and_then(|(_, v)| v.as_f64().or_else(|| v.as_u64().map(|u| u as f64)))
        .unwrap_or(f64::NAN)
}

async fn mode(rt: &Runtime, job: &Arc<LoadedJob>, args: &[&str]) -> anyhow::Result<rmpv::Value> {
    let v = rt
        .run_main(job, args.iter().map(|s| s.to_string()).collect())
        .await
        .map_err(|e| anyhow::anyhow!("bench {args:?}: {e}"))?;
    wrun_core::values::decode(&v.data).map_err(|e| anyhow::anyhow!(e))
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

struct WrunFigures {
    rows: Vec<(&'static str, f64)>,
}

impl WrunFigures {
    fn get(&self, k: &str) -> Option<f64> {
        self.rows.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
    }
}

async fn measure_wrun(args: &Args) -> anyhow::Result<WrunFigures> {
    let q = args.quick;
    let cfg = RuntimeConfig {
        log_sink: Arc::new(|_| {}),
        ..RuntimeConfig::default()
    };
    let rt = Runtime::new(cfg)?;
    // The job times itself: it needs the real clock (bench/env.toml).
    let env = rt
        .load_environment(&args.env)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let job = rt
        .load(wrun_runtime::JobSpec::file(&args.bench_wasm).env(env))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let n_tasks = if q { "2000" } else { "20000" };
    let n_lat = if q { "200" } else { "2000" };
    let n_actors = if q { "100" } else { "1000" };
    let mut rows = Vec::new();
    // Warm-up: first instantiations fault in pool slots.
    mode(&rt, &job, &["tasks", "1000"]).await?;

    let runs = |name: &'static str| {
        eprintln!("[wrun-bench] {name}");
        name
    };
    let mut bulk = Vec::new();
    let (mut p50, mut p99) = (Vec::new(), Vec::new());
    let mut calls = Vec::new();
    let mut call_p50 = Vec::new();
    let mut creates = Vec::new();
    let (mut pg1, mut pg100) = (Vec::new(), Vec::new());
    runs("tasks, actors, objects");
    for _ in 0..args.runs {
        let v = mode(&rt, &job, &["tasks", n_tasks]).await?;
        bulk.push(field(&v, "ops") / field(&v, "seconds"));
        let v = mode(&rt, &job, &["latency", n_lat]).await?;
        p50.push(field(&v, "p50_micros") / 1e3);
        p99.push(field(&v, "p99_micros") / 1e3);
        let v = mode(&rt, &job, &["calls", n_tasks]).await?;
        calls.push(field(&v, "ops") / field(&v, "seconds"));
        let v = mode(&rt, &job, &["call_latency", n_lat]).await?;
        call_p50.push(field(&v, "p50_micros") / 1e3);
        let v = mode(&rt, &job, &["actor_create", n_actors]).await?;
        creates.push(field(&v, "ops") / field(&v, "seconds"));
        let v = mode(&rt, &job, &["put", "1"]).await?;
        pg1.push((1u64 << 20) as f64 / field(&v, "seconds") / 1e9);
        let v = mode(&rt, &job, &["put", "100"]).await?;
        pg100.push((100u64 << 20) as f64 / field(&v, "seconds") / 1e9);
    }
    rows.push(("task_bulk_per_s", median(bulk)));
    rows.push(("task_latency_p50_ms", median(p50)));
    rows.push(("task_latency_p99_ms", median(p99)));
    rows.push(("actor_calls_bulk_per_s", median(calls)));
    rows.push(("actor_call_latency_p50_ms", median(call_p50)));
    rows.push(("actor_create_per_s", median(creates)));
    rows.push(("put_get_1mib_gbps", median(pg1)));
    rows.push(("put_get_100mib_gbps", median(pg100)));

    // Python no-op tasks, in warm instances.
    if let Some(py) = &args.py_bench_wasm {
        runs("Python no-op tasks");
        let env = rt
            .load_environment(&args.py_env)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let pyjob = rt
            .load(wrun_runtime::JobSpec::file(py).env(env))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        mode(&rt, &pyjob, &["tasks", "500"]).await?;
        let mut rates = Vec::new();
        for _ in 0..args.runs {
            let v = mode(&rt, &pyjob, &["tasks", if q { "1000" } else { "5000" }]).await?;
            rates.push(field(&v, "per_second"));
        }
        rows.push(("py_task_bulk_per_s", median(rates)));
    }

    // RSS per idle actor, measured in this process from the host API.
    runs("idle actor RSS");
    // A fresh runtime, so no pool slot is warm from the workloads above.
    let rt = Runtime::new(RuntimeConfig {
        log_sink: Arc::new(|_| {}),
        ..RuntimeConfig::default()
    })?;
    let job = rt
        .load(wrun_runtime::JobSpec::file(&args.bench_wasm))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let n = if q { 50 } else { 500 };
    let before = rss_bytes();
    let mut actors = Vec::new();
    for _ in 0..n {
        actors.push(
            rt.create_actor(&job, "Nop", vec![], ActorOptions::default())
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    for a in &actors {
        let r = rt
            .call_actor(*a, "ping", vec![], 1)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        rt.get(&r[0], Some(Duration::from_secs(60)))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let after = rss_bytes();
    rows.push((
        "idle_actor_rss_mib",
        after.saturating_sub(before) as f64 / n as f64 / (1 << 20) as f64,
    ));
    for a in actors {
        let _ = rt.kill_actor(a);
    }

    // memcpy of 100 MiB on this machine, the bar for put+get.
    let src = vec![1u8; 100 << 20];
    let mut dst = vec![0u8; 100 << 20];
    let mut cp = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        dst.copy_from_slice(std::hint::black_box(&src));
        cp.push((100u64 << 20) as f64 / t.elapsed().as_secs_f64() / 1e9);
        std::hint::black_box(&dst);
    }
    rows.push(("memcpy_100mib_gbps", median(cp)));

    // `wrun submit hello` end to end, a fresh process each time (cache warm).
    runs("wrun submit hello");
    let mut e2e = Vec::new();
    for i in 0..(args.runs + 1) {
        let t = Instant::now();
        let out = Command::new(&args.wrun)
            .args(["submit", "--quiet"])
            .arg(&args.hello_wasm)
            .output()
            .context("running wrun")?;
        if !out.status.success() {
            bail!(
                "wrun submit hello failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if i > 0 {
            e2e.push(t.elapsed().as_secs_f64());
        }
    }
    rows.push(("init_plus_one_task_s", median(e2e)));
    Ok(WrunFigures { rows })
}

fn run_ray(args: &Args, py: &PathBuf) -> anyhow::Result<serde_json::Value> {
    eprintln!("[wrun-bench] Ray (this takes a minute)");
    let mut cmd = Command::new(py);
    cmd.arg(&args.ray_script);
    if args.quick {
        cmd.arg("--quick");
    }
    let out = cmd.output().context("running the Ray benchmark")?;
    if !out.status.success() {
        bail!(
            "the Ray benchmark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or_default();
    serde_json::from_str(last).with_context(|| format!("parsing Ray's figures: {last}"))
}

fn print_report(w: &WrunFigures, ray: Option<&serde_json::Value>) {
    let rows = [
        Row {
            name: "no-op tasks in bulk",
            unit: "tasks/s",
            wrun: w.get("task_bulk_per_s"),
            ray_key: "task_bulk_per_s",
            higher_is_better: true,
            target: ">= 50x",
        },
        Row {
            name: "Python no-op tasks, bulk (warm)",
            unit: "tasks/s",
            wrun: w.get("py_task_bulk_per_s"),
            ray_key: "task_bulk_per_s",
            higher_is_better: true,
            target: ">= 10x",
        },
        Row {
            name: "no-op task round trip p50",
            unit: "ms",
            wrun: w.get("task_latency_p50_ms"),
            ray_key: "task_latency_p50_ms",
            higher_is_better: false,
            target: "<= 1/50",
        },
        Row {
            name: "no-op task round trip p99",
            unit: "ms",
            wrun: w.get("task_latency_p99_ms"),
            ray_key: "task_latency_p99_ms",
            higher_is_better: false,
            target: "",
        },
        Row {
            name: "actor calls in bulk",
            unit: "calls/s",
            wrun: w.get("actor_calls_bulk_per_s"),
            ray_key: "actor_calls_bulk_per_s",
            higher_is_better: true,
            target: ">= 50x",
        },
        Row {
            name: "actor call round trip p50",
            unit: "ms",
            wrun: w.get("actor_call_latency_p50_ms"),
            ray_key: "actor_call_latency_p50_ms",
            higher_is_better: false,
            target: "",
        },
        Row {
            name: "actor creation to first answer",
            unit: "actors/s",
            wrun: w.get("actor_create_per_s"),
            ray_key: "actor_create_per_s",
            higher_is_better: true,
            target: ">= 1000x",
        },
        Row {
            name: "memory per idle actor (RSS)",
            unit: "MiB",
            wrun: w.get("idle_actor_rss_mib"),
            ray_key: "idle_actor_rss_mib",
            higher_is_better: false,
            target: "<= 1/1000 (Rust)",
        },
        Row {
            name: "put+get 1 MiB",
            unit: "GB/s",
            wrun: w.get("put_get_1mib_gbps"),
            ray_key: "put_get_1mib_gbps",
            higher_is_better: true,
            target: "",
        },
        Row {
            name: "put+get 100 MiB",
            unit: "GB/s",
            wrun: w.get("put_get_100mib_gbps"),
            ray_key: "put_get_100mib_gbps",
            higher_is_better: true,
            target: ">= 1x, >= memcpy/2",
        },
        Row {
            name: "submit hello end to end",
            unit: "s",
            wrun: w.get("init_plus_one_task_s"),
            ray_key: "init_plus_one_task_s",
            higher_is_better: false,
            target: "<= 1/50",
        },
    ];
    println!(
        "{:<32} {:>10} {:>14} {:>14} {:>12}  target",
        "workload", "unit", "wrun", "Ray", "wrun vs Ray"
    );
    for r in rows {
        let ray_v = ray.and_then(|j| j.get(r.ray_key)).and_then(|v| v.as_f64());
        let ratio = match (r.wrun, ray_v) {
            (Some(a), Some(b)) if a > 0.0 && b > 0.0 => {
                if r.higher_is_better {
                    format!("{:.1}x", a / b)
                } else {
                    format!("1/{:.1}", b / a)
                }
            }
            _ => "-".into(),
        };
        println!(
            "{:<32} {:>10} {:>14} {:>14} {:>12}  {}",
            r.name,
            r.unit,
            fmt(r.wrun),
            fmt(ray_v),
            ratio,
            r.target
        );
    }
    if let (Some(pg), Some(mc)) = (w.get("put_get_100mib_gbps"), w.get("memcpy_100mib_gbps")) {
        println!(
            "memcpy of 100 MiB on this machine: {mc:.2} GB/s; put+get 100 MiB is {:.2}x slower than one memcpy",
            mc / pg
        );
    }
}

fn fmt(v: Option<f64>) -> String {
    match v {
        Some(x) if x >= 1000.0 => format!("{x:.0}"),
        Some(x) if x >= 1.0 => format!("{x:.2}"),
        Some(x) => format!("{x:.4}"),
        None => "-".into(),
    }
}
