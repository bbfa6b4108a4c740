//! Per-language figures of guest components: size, compile time (once, then
//! cached), a no-op task's cost with a fresh instance and with a warm one
//! (their difference is the instantiation), and bulk no-op throughput with
//! warm instances, the figure compared with Ray's Python no-op tasks.
//!
//! Each language's bench component exports a `noop` task and a driver with a
//! `tasks N` mode that times itself (examples/{rust,cpp,python,java}/bench).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wrun_core::TaskOptions;
use wrun_runtime::LoadedJob;
use wrun_runtime::{Runtime, RuntimeConfig};

use crate::{field, median, mode};

/// The figures of one language.
pub struct LanguageFigures {
    pub language: String,
    pub bytes: u64,
    pub compile: Duration,
    pub cached_load: Duration,
    /// Median time of one no-op task submitted and awaited from the host,
    /// in a fresh instance.
    pub fresh_task: Duration,
    /// The same in a warm (reused) instance.
    pub warm_task: Duration,
    /// No-op tasks per second, submitted in bulk by the driver, warm instances.
    pub bulk_per_s: f64,
}

fn runtime(cache: &Path) -> anyhow::Result<Runtime> {
    Runtime::new(RuntimeConfig {
        log_sink: Arc::new(|_| {}),
        cache_dir: cache.to_path_buf(),
        ..RuntimeConfig::default()
    })
}

/// Median time of `n` no-op tasks, one after the other, from the host.
async fn task_time(rt: &Runtime, job: &Arc<LoadedJob>, n: usize) -> anyhow::Result<Duration> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = rt
            .submit(job, "noop", vec![], TaskOptions::default())
            .map_err(|e| anyhow::anyhow!("noop: {e}"))?;
        rt.get(&r[0], Some(Duration::from_secs(60)))
            .await
            .map_err(|e| anyhow::anyhow!("noop: {e}"))?;
        times.push(t.elapsed().as_secs_f64());
    }
    Ok(Duration::from_secs_f64(median(times)))
}

/// Measures one language's bench component; `env` grants the clock and warm
/// instances.
pub async fn measure(
    language: &str,
    wasm: &Path,
    env: &Path,
    quick: bool,
    runs: usize,
) -> anyhow::Result<LanguageFigures> {
    eprintln!("[wrun-bench] {language} guest figures");
    let bytes = std::fs::metadata(wasm)?.len();
    // Compile with an empty cache, then load from it.
    let cache = tempfile_dir()?;
    let rt = runtime(&cache)?;
    let cold = rt
        .load(wrun_runtime::JobSpec::file(wasm))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let compile = cold.load_time;
    let fresh = rt
        .load(wrun_runtime::JobSpec::file(wasm))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let cached_load = fresh.load_time;
    let n = if quick { 20 } else { 200 };
    task_time(&rt, &fresh, 5).await?; // warm-up: pool slots fault in
    let fresh_task = task_time(&rt, &fresh, n).await?;
    let warm_env = rt
        .load_environment(env)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let warm = rt
        .load(wrun_runtime::JobSpec::file(wasm).env(warm_env))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    task_time(&rt, &warm, 5).await?;
    let warm_task = task_time(&rt, &warm, n).await?;
    let bulk_n = if quick { "1000" } else { "10000" };
    mode(&rt, &warm, &["tasks", "500"]).await?;
    let mut rates = Vec::new();
    for _ in 0..runs {
        let v = mode(&rt, &warm, &["tasks", bulk_n]).await?;
        rates.push(field(&v, "ops") / field(&v, "seconds"));
    }
    drop((cold, fresh, warm, rt));
    let _ = std::fs::remove_dir_all(&cache);
    Ok(LanguageFigures {
        language: language.to_string(),
        bytes,
        compile,
        cached_load,
        fresh_task,
        warm_task,
        bulk_per_s: median(rates),
    })
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "wrun-bench-cache-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Prints the per-language table, with ratios against Ray's Python no-op
/// task rate when it was measured.
pub fn print(figures: &[LanguageFigures], ray_task_bulk_per_s: Option<f64>) {
    if figures.is_empty() {
        return;
    }
    println!();
    println!(
        "{:<8} {:>10} {:>10} {:>11} {:>13} {:>13} {:>13} {:>14} {:>10}",
        "guest",
        "component",
        "compile",
        "cached load",
        "task (fresh)",
        "task (warm)",
        "instantiate",
        "bulk tasks/s",
        "vs Ray"
    );
    for f in figures {
        let ratio = match ray_task_bulk_per_s {
            Some(r) if r > 0.0 => format!("{:.1}x", f.bulk_per_s / r),
            _ => "-".into(),
        };
        let inst = f.fresh_task.saturating_sub(f.warm_task);
        println!(
            "{:<8} {:>10} {:>10} {:>11} {:>13} {:>13} {:>13} {:>14.0} {:>10}",
            f.language,
            size(f.bytes),
            ms(f.compile),
            ms(f.cached_load),
            ms(f.fresh_task),
            ms(f.warm_task),
            ms(inst),
            f.bulk_per_s,
            ratio
        );
    }
    println!(
        "task (fresh/warm): one no-op task submitted and awaited from the host, in a new or a reused instance (median); instantiate = fresh - warm; bulk: warm instances (bench/lang-env.toml); target for Python and Java: >= 10x Ray"
    );
}

fn size(b: u64) -> String {
    if b >= 1 << 20 {
        format!("{:.1} MB", b as f64 / 1e6)
    } else {
        format!("{:.0} KB", b as f64 / 1e3)
    }
}

fn ms(d: Duration) -> String {
    let m = d.as_secs_f64() * 1e3;
    if m >= 100.0 {
        format!("{m:.0} ms")
    } else if m >= 1.0 {
        format!("{m:.1} ms")
    } else {
        format!("{:.0} us", m * 1e3)
    }
}
