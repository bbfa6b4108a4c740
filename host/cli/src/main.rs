//! `wrun`: the command line.
//!
//! Exit codes scripts can rely on:
//! 0 the job succeeded · 1 the job failed (its error is printed) ·
//! 2 bad usage or input (an unknown id or field, a missing file, a request
//! the head refused as wrong) · 3 the component was refused (malformed,
//! wrong world) · 4 wrun itself failed, or could not reach the cluster ·
//! 130 ^C stopped following a cluster job (which goes on).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use wrun_core::logs::{Level, LogLine, LogSink};
use wrun_core::values;
use wrun_runtime::{JobSpec, Runtime, RuntimeConfig};

mod cluster_cli;
mod cluster_status;
mod jobs_cli;
mod list_cli;
mod project;
mod records;
mod state_cli;

/// Tasks allocate on one worker thread and free on another; glibc's arenas
/// contend on that, mimalloc's thread-local heaps do not.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "wrun",
    version,
    about = "Run WebAssembly-component tasks and actors, Ray-style"
)]
struct Cli {
    /// More output: -v shows guest debug logs and wrun's info, -vv everything.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a job (on the embedded single-node runtime, or on a cluster with
    /// --address) and print its result.
    Submit(SubmitArgs),
    /// Start the head of a cluster (--head) or a node joining one
    /// (--address), in the background.
    Start(cluster_cli::StartArgs),
    /// Stop the wrun daemons this machine started.
    Stop(cluster_cli::StopArgs),
    /// The cluster's nodes, their resources, and its jobs.
    Status(cluster_status::StatusArgs),
    /// A cluster's jobs: list, status, logs [-f], stop.
    Job(jobs_cli::JobArgs),
    /// The jobs a cluster's head keeps (`wrun job list`).
    Jobs(jobs_cli::ListArgs),
    /// A cluster job's lines, `-f` to follow (`wrun job logs`).
    Logs(jobs_cli::LogsArgs),
    /// A cluster's nodes, jobs, placement groups, tasks, actors or objects:
    /// --filter, --limit, --detail, --json.
    List(list_cli::ListArgs),
    /// One record of a cluster by kind and id.
    Get(state_cli::GetArgs),
    /// Counts of a cluster's tasks, actors or objects by name and state.
    Summary(state_cli::SummaryArgs),
    /// A cluster's object bytes by job and node: in memory, spilled.
    Memory(state_cli::MemoryArgs),
    /// A job's calls as a trace for Perfetto (Chrome trace event format).
    Timeline(state_cli::TimelineArgs),
    /// A daemon's main loop (what `wrun start` runs in the background).
    #[command(name = "__serve", hide = true)]
    Serve(cluster_cli::ServeArgs),
    /// Make a new cluster's token and CA ahead of its head (for deployments
    /// that hand them to every process, such as a Kubernetes Secret).
    Credentials(cluster_cli::CredentialsArgs),
    /// Create a new job project (rust, python, cpp or java) from its SDK's
    /// template, ready for `wrun build`.
    New(project::NewArgs),
    /// Build a job project into a component ready to submit; prints its path.
    Build(project::BuildArgs),
}

#[derive(Args)]
struct SubmitArgs {
    /// The job's runtime environment: a TOML manifest (docs/runtime-env.md).
    /// Without one, guests get no files, network, host variables, real clock
    /// or real randomness.
    #[arg(long = "env", value_name = "ENV.toml")]
    env: Option<PathBuf>,
    /// The job's component (.wasm), built with a wrun guest SDK.
    job: PathBuf,
    /// Another component of the job, as NAME=FILE.wasm (repeatable), in any
    /// guest language: the job's guests call its tasks and actor classes as
    /// `NAME/function` and `NAME/Class`.
    #[arg(long = "component", value_name = "NAME=FILE.wasm", value_parser = parse_component)]
    components: Vec<(String, PathBuf)>,
    /// Arguments passed to the job's `main`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
    /// CPUs the scheduler may hand out (default: this machine's cores; 0:
    /// drivers, objects and actors only).
    #[arg(long)]
    cpus: Option<f64>,
    /// Custom resources of the node, e.g. `--resources license=2,fpga=1`.
    #[arg(long, value_delimiter = ',')]
    resources: Vec<String>,
    /// Bytes of objects held in memory before spilling to disk (e.g. 512M, 2G).
    #[arg(long, value_parser = parse_size)]
    object_memory: Option<u64>,
    /// Linear-memory limit of each guest instance (e.g. 64M).
    #[arg(long, value_parser = parse_size)]
    guest_memory: Option<u64>,
    /// Guest instances alive at once (tasks, actors and drivers); each is a
    /// slot of the pooling allocator.
    #[arg(long, default_value_t = 1000)]
    max_instances: u32,
    /// Do not print guest logs.
    #[arg(short, long)]
    quiet: bool,
    /// Print load and run times to stderr.
    #[arg(long)]
    timing: bool,
    /// Run the job on the cluster whose head is at HOST:PORT instead of
    /// the embedded runtime.
    #[arg(long, env = "WRUN_ADDRESS")]
    address: Option<String>,
    /// With --address: print the job's id and return once it is placed
    /// (`wrun job logs ID -f` follows it).
    #[arg(long, requires = "address")]
    no_wait: bool,
    #[command(flatten)]
    cluster: cluster_cli::ClusterFiles,
}

fn parse_component(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => {
            Ok((name.to_string(), PathBuf::from(path)))
        }
        _ => Err(format!(
            "`{s}` is not NAME=FILE.wasm (e.g. --component stats=build/stats.wasm)"
        )),
    }
}

/// A size as `--object-memory 512M` or `512MB` takes it (the manifests'
/// parser).
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    wrun_core::units::parse_size(s).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let result = match cli.command {
        Command::Submit(a) => submit(a, cli.verbose),
        Command::Start(a) => cluster_cli::start(a),
        Command::Stop(a) => cluster_cli::stop(a),
        Command::Status(a) => cluster_status::status(a),
        Command::Job(a) => jobs_cli::job(a),
        Command::Jobs(a) => jobs_cli::list(a),
        Command::Logs(a) => jobs_cli::logs(a),
        Command::List(a) => list_cli::list(a),
        Command::Get(a) => state_cli::get(a),
        Command::Summary(a) => state_cli::summary(a),
        Command::Memory(a) => state_cli::memory(a),
        Command::Timeline(a) => state_cli::timeline(a),
        Command::Serve(a) => cluster_cli::serve(a),
        Command::Credentials(a) => cluster_cli::credentials(a),
        Command::New(a) => project::new_job(a).map(|_| ExitCode::SUCCESS),
        Command::Build(a) => project::build_job(a).map(|_| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code_of(&e))
        }
    }
}

/// A mistake in what the user asked (a missing file, an unknown id or
/// field): exit code 2, as bad usage. Other errors exit 4.
#[derive(Debug)]
pub(crate) struct UserError(pub(crate) String);

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// A user error as an `anyhow::Error`.
pub(crate) fn user_error(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UserError(message.into()))
}

/// 2 for the user's mistakes (ours, or the head's refusal of the request),
/// 4 when wrun failed (or could not reach the cluster).
fn exit_code_of(e: &anyhow::Error) -> u8 {
    let users = e.chain().any(|c| {
        c.downcast_ref::<UserError>().is_some()
            || c.downcast_ref::<wrun_cluster::client::HeadRefused>()
                .is_some_and(|r| r.callers_fault())
    });
    if users {
        2
    } else {
        4
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Daemons log to files: no colour codes there.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

/// Prints guest lines to stderr, prefixed by their task.
fn stderr_sink(min: Level, progress_active: Arc<std::sync::atomic::AtomicBool>) -> LogSink {
    Arc::new(move |l: LogLine| {
        if l.level < min {
            return;
        }
        let clear = if progress_active.load(Ordering::Relaxed) {
            "\r\x1b[2K"
        } else {
            ""
        };
        let level = match l.level {
            Level::Info => String::new(),
            other => format!("{} ", other.as_str()),
        };
        eprintln!("{clear}[{}] {level}{}", l.task, l.message);
    })
}

/// The driver's result as the CLI prints it: a string as it is, anything
/// else rendered from MessagePack.
fn submit(a: SubmitArgs, verbose: u8) -> anyhow::Result<ExitCode> {
    if let Some(address) = a.address.clone() {
        // The manifest is checked here, as for a local run, and travels
        // with the files of its working directories.
        let env = match &a.env {
            Some(manifest) => {
                let cache = RuntimeConfig::default().cache_dir;
                match wrun_cluster::client::env_bundle(manifest, &cache) {
                    Ok(bundle) => bundle,
                    Err(e) => {
                        eprintln!("error: {e:#}");
                        return Ok(ExitCode::from(3));
                    }
                }
            }
            None => Vec::new(),
        };
        return jobs_cli::submit(
            address,
            &a.cluster,
            &a.job,
            &a.components,
            a.args,
            env,
            (a.quiet, a.no_wait),
        );
    }
    let progress_active = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut cfg = RuntimeConfig::default();
    if let Some(c) = a.cpus {
        // 0 is a node for drivers, objects and actors that ask for no
        // CPU (as Ray's --num-cpus 0).
        if !(c.is_finite() && c >= 0.0) {
            eprintln!("error: --cpus must be a number >= 0, got {c}");
            return Ok(ExitCode::from(2));
        }
        cfg.cpus = c;
    }
    for r in &a.resources {
        let Some((k, v)) = r.split_once('=') else {
            eprintln!("error: --resources expects NAME=AMOUNT pairs, got `{r}`");
            return Ok(ExitCode::from(2));
        };
        let Ok(v) = v.trim().parse::<f64>() else {
            eprintln!("error: --resources: `{v}` in `{r}` is not a number");
            return Ok(ExitCode::from(2));
        };
        cfg.custom.push((k.trim().to_string(), v));
    }
    if a.max_instances == 0 {
        eprintln!("error: --max-instances must be at least 1");
        return Ok(ExitCode::from(2));
    }
    cfg.engine.max_instances = a.max_instances;
    if let Some(m) = a.object_memory {
        cfg.object_memory_cap = m as usize;
    }
    if let Some(m) = a.guest_memory {
        cfg.job_limits.memory_per_instance = m as usize;
        // Pool slots must be at least as large as the limit.
        cfg.engine.max_memory_bytes = cfg.engine.max_memory_bytes.max(m as usize);
    }
    let min_level = if a.quiet {
        Level::Error
    } else if verbose > 0 {
        Level::Debug
    } else {
        Level::Info
    };
    if a.quiet {
        cfg.log_sink = Arc::new(|_| {});
    } else {
        cfg.log_sink = stderr_sink(min_level, progress_active.clone());
    }
    if !a.quiet && std::io::stderr().is_terminal() {
        cfg.on_compile = Some(Arc::new(|what: &str, bytes: usize| {
            eprintln!(
                "wrun: compiling {what} ({}) for this machine, once: later runs load it from the cache",
                bytesize::ByteSize::b(bytes as u64)
            );
        }));
    }

    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    tokio.block_on(async move {
        let start = Instant::now();
        let rt_limits = cfg.job_limits;
        let rt = Runtime::new(cfg)?;
        let env = match &a.env {
            Some(manifest) => match rt.load_environment(manifest) {
                Ok(env) => env,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(3));
                }
            },
            None => Arc::new(wrun_env::Environment::deny_all(rt_limits)),
        };
        let env_time = start.elapsed();
        let spec = JobSpec::file(&a.job).components(&a.components).env(env.clone());
        let job = match rt.load(spec) {
            Ok(j) => j,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(3));
            }
        };
        let loaded = start.elapsed();
        let progress = (std::io::stderr().is_terminal() && !a.quiet)
            .then(|| spawn_progress(rt.clone(), progress_active.clone()));
        let outcome = rt.run_main(&job, a.args).await;
        if let Some(p) = progress {
            p.abort();
            if progress_active.swap(false, Ordering::Relaxed) {
                eprint!("\r\x1b[2K");
            }
        }
        if a.timing {
            if a.env.is_some() {
                eprintln!(
                    "wrun: environment {} ({}): ready in {:.1} ms",
                    env.source,
                    if env.packed_now { "working directory packed now" } else { "from the cache" },
                    env_time.as_secs_f64() * 1e3
                );
            }
            let c = rt.counters();
            eprintln!(
                "wrun: job {} ({}, component {}): load {:.1} ms, total {:.1} ms, tasks {} ok / {} failed",
                job.name,
                match job.components[0].cache {
                    wrun_sandbox::CacheOutcome::Hit => "cache hit",
                    wrun_sandbox::CacheOutcome::Compiled => "compiled",
                },
                &job.hash()[..12],
                loaded.as_secs_f64() * 1e3,
                start.elapsed().as_secs_f64() * 1e3,
                c.finished.load(Ordering::Relaxed),
                c.failed.load(Ordering::Relaxed),
            );
        }
        match outcome {
            Ok(v) => {
                println!("{}", values::render_text(&v.data));
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("error: job `{}` failed: {e}", job.name);
                Ok(ExitCode::from(1))
            }
        }
    })
}

/// A one-line progress display on a terminal, for jobs that run past a second.
fn spawn_progress(
    rt: Runtime,
    active: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let start = Instant::now();
        loop {
            let c = rt.counters();
            let submitted = c.submitted.load(Ordering::Relaxed);
            let done = c.finished.load(Ordering::Relaxed);
            let failed = c.failed.load(Ordering::Relaxed);
            active.store(true, Ordering::Relaxed);
            eprint!(
                "\r\x1b[2K[wrun] {:>5.1}s  tasks: {done} done, {failed} failed, {} pending  actors: {}",
                start.elapsed().as_secs_f64() + 1.0,
                submitted.saturating_sub(done + failed),
                rt.actor_count(),
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
}
