//! A cluster's jobs from the command line: `wrun submit --address` (the job
//! id at once, `--no-wait`, and ^C that stops following, not the job), and
//! `wrun job list|status|logs|stop` (`wrun jobs` for the list), for people
//! or, with `--json`, for scripts and tests.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use wrun_cluster as cluster;
use wrun_cluster::client::{Outcome, Submitted};
use wrun_proto::pb::LogLine;

use crate::cluster_cli::ClusterFiles;
use crate::cluster_status::head_address;
use wrun_cluster::views::{duration, job_json};

/// How long `wrun job stop` waits for the job to end.
const STOP_WAIT: Duration = Duration::from_secs(60);

/// The exit code of a command stopped by ^C (128 + SIGINT).
const INTERRUPTED: u8 = 130;

/// Which head to ask.
#[derive(Args)]
pub struct HeadArgs {
    /// The head (default: the one this machine started).
    #[arg(long, env = "WRUN_ADDRESS")]
    address: Option<String>,
    #[command(flatten)]
    files: ClusterFiles,
}

impl HeadArgs {
    /// The head's address and the credentials for it, and a runtime to
    /// call it from.
    pub(crate) fn connect(
        &self,
    ) -> anyhow::Result<(String, cluster::auth::Credentials, tokio::runtime::Runtime)> {
        let address = head_address(self.address.clone(), &self.files.state_dir())?;
        let creds = self.files.credentials(&address)?;
        Ok((address, creds, tokio::runtime::Runtime::new()?))
    }
}

#[derive(Args)]
pub struct JobArgs {
    #[command(subcommand)]
    command: JobCommand,
}

#[derive(Subcommand)]
enum JobCommand {
    /// The jobs the head keeps, oldest first.
    List(ListArgs),
    /// One job: its state, times, arguments, components, result or error.
    Status {
        /// The job's id (as `wrun submit` printed it).
        id: String,
        /// One JSON object instead of text for people.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        head: HeadArgs,
    },
    /// A job's lines, then how it ended; `-f` follows it while it runs.
    Logs(LogsArgs),
    /// Stops a running job: its driver, tasks and actors on every node.
    Stop {
        id: String,
        /// Return once every node was told, without waiting for the job
        /// to end.
        #[arg(long)]
        no_wait: bool,
        #[command(flatten)]
        head: HeadArgs,
    },
}

/// `wrun job logs` and `wrun logs`.
#[derive(Args)]
pub struct LogsArgs {
    /// The job's id (as `wrun submit` printed it).
    id: String,
    /// Follow the job: print its lines as they come until it ends (^C
    /// stops following, not the job).
    #[arg(short, long)]
    follow: bool,
    /// The first line to print (0: from the start).
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// Only the lines of tasks, actor methods or the driver with this
    /// name (`speak`, `Counter.add`, `main`) or label (`speak#5204ab9e98a3c081`),
    /// or the one task with this id, as `wrun list tasks` prints it.
    #[arg(long)]
    task: Option<String>,
    /// Only the lines of this actor's methods (its id, as `wrun list
    /// actors` prints it).
    #[arg(long)]
    actor: Option<String>,
    /// One JSON object per line (`n`, `task`, `actor`, `message`,
    /// `stderr`) instead of text for people.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    head: HeadArgs,
}

#[derive(Args)]
pub struct ListArgs {
    /// A JSON array instead of text for people.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    head: HeadArgs,
}

/// `wrun job ...`.
pub fn job(a: JobArgs) -> anyhow::Result<ExitCode> {
    match a.command {
        JobCommand::List(l) => list(l),
        JobCommand::Status { id, json, head } => status(&id, json, &head),
        JobCommand::Logs(a) => logs(a),
        JobCommand::Stop { id, no_wait, head } => stop(&id, no_wait, &head),
    }
}

/// `wrun job list` and `wrun jobs`.
pub fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let (address, creds, rt) = a.head.connect()?;
    let jobs = rt.block_on(cluster::client::status(&address, &creds))?.jobs;
    if a.json {
        let all: Vec<_> = jobs.iter().map(job_json).collect();
        println!("{}", serde_json::Value::Array(all));
        return Ok(ExitCode::SUCCESS);
    }
    if jobs.is_empty() {
        println!("no jobs at the head at {address}");
    }
    for j in &jobs {
        println!(
            "{} {:<12} {:<9} {:>9} on {}",
            j.job_id,
            j.name,
            j.state,
            duration(j).map_or("-".into(), |d| format!("{:.1} s", d.as_secs_f64())),
            j.node_id,
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn status(id: &str, json: bool, head: &HeadArgs) -> anyhow::Result<ExitCode> {
    let (address, creds, rt) = head.connect()?;
    let jobs = rt.block_on(cluster::client::status(&address, &creds))?.jobs;
    let Some(j) = jobs.iter().find(|j| j.job_id == id) else {
        return Err(crate::user_error(format!(
            "no job {id} at the head at {address} (`wrun job list` lists those it keeps)"
        )));
    };
    if json {
        println!("{}", job_json(j));
        return Ok(ExitCode::SUCCESS);
    }
    println!("job {} ({})", j.job_id, j.name);
    println!("  state:      {}", j.state);
    println!("  node:       {}", j.node_id);
    println!("  submitted:  {} ms since the epoch", j.submitted_ms);
    if let Some(d) = duration(j) {
        println!("  ran for:    {:.1} s", d.as_secs_f64());
    }
    println!("  arguments:  {:?}", j.args);
    println!("  components: {}", j.components.join(", "));
    if !j.env_hash.is_empty() {
        println!("  env:        {}", j.env_hash);
    }
    println!("  lines:      {}", j.log_lines);
    if !j.result.is_empty() {
        println!(
            "  result:     {}",
            wrun_core::values::render_text(&j.result)
        );
    }
    if !j.detail.is_empty() {
        println!("  detail:     {}", j.detail);
    }
    Ok(ExitCode::SUCCESS)
}

/// `wrun job logs` and `wrun logs`.
pub fn logs(a: LogsArgs) -> anyhow::Result<ExitCode> {
    let (id, follow, from, task) = (a.id.as_str(), a.follow, a.from, a.task.as_deref());
    let (actor, json) = (a.actor.as_deref(), a.json);
    let (address, creds, rt) = a.head.connect()?;
    rt.block_on(async {
        let mut events = cluster::client::follow(&address, &creds, id, from, follow).await?;
        // Lines are numbered as the head keeps them, filtered or not.
        let mut n = from;
        let print = |l: &LogLine| {
            let shown =
                task.is_none_or(|t| written_by(&l.task, t)) && actor.is_none_or(|a| l.actor == a);
            if shown && json {
                println!("{}", wrun_cluster::views::line_json(n, l));
            } else if shown {
                println!("[{}] {}", l.task, l.message);
            }
            n += 1;
        };
        let outcome = cluster::client::outcome(&mut events, print);
        if !follow {
            return Ok(outcome
                .await?
                .map_or(ExitCode::SUCCESS, |o| exit_of(o, false)));
        }
        tokio::select! {
            outcome = outcome => Ok(match outcome? {
                Some(o) => exit_of(o, false),
                None => ExitCode::SUCCESS,
            }),
            _ = tokio::signal::ctrl_c() => {
                eprintln!("stopped following job {id}; it keeps running");
                Ok(ExitCode::from(INTERRUPTED))
            }
        }
    })
}

fn stop(id: &str, no_wait: bool, head: &HeadArgs) -> anyhow::Result<ExitCode> {
    let (address, creds, rt) = head.connect()?;
    rt.block_on(async {
        cluster::client::stop(&address, &creds, id).await?;
        if no_wait {
            println!("job {id}: every node was told to stop it");
            return Ok(ExitCode::SUCCESS);
        }
        let ended = async {
            let mut events = cluster::client::follow(&address, &creds, id, u64::MAX, true).await?;
            cluster::client::outcome(&mut events, |_| {}).await
        };
        match tokio::time::timeout(STOP_WAIT, ended).await {
            Ok(Ok(_)) => {
                println!("job {id} stopped");
                Ok(ExitCode::SUCCESS)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => anyhow::bail!(
                "job {id} was told to stop but had not ended after {} s (`wrun job status {id}`)",
                STOP_WAIT.as_secs()
            ),
        }
    })
}

/// `wrun submit --address`: the job runs on the cluster; its id is printed
/// at once, then (unless `no_wait`) its lines and result. ^C stops
/// following: the job goes on.
pub fn submit(
    address: String,
    files: &ClusterFiles,
    driver: &Path,
    others: &[(String, PathBuf)],
    args: Vec<String>,
    env: Vec<u8>,
    (quiet, no_wait): (bool, bool),
) -> anyhow::Result<ExitCode> {
    let creds = files.credentials(&address)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let submitted =
            cluster::client::submit(&address, &creds, driver, others, args, env).await?;
        let Submitted {
            job_id,
            node_id,
            mut events,
        } = submitted;
        if no_wait {
            println!("{job_id}");
            eprintln!("job {job_id} runs on node {node_id}: `wrun job logs {job_id} -f` follows it");
            return Ok(ExitCode::SUCCESS);
        }
        if !quiet {
            eprintln!("job {job_id} runs on node {node_id}");
        }
        let outcome = cluster::client::outcome(&mut events, |l| {
            if !quiet {
                eprintln!("[{}] {}", l.task, l.message);
            }
        });
        tokio::select! {
            outcome = outcome => match outcome? {
                Some(o) => Ok(exit_of(o, true)),
                None => anyhow::bail!("the job's events ended without its outcome (the head stopped)"),
            },
            _ = tokio::signal::ctrl_c() => {
                eprintln!(
                    "stopped following job {job_id}; it keeps running: `wrun job logs {job_id} -f` follows it again, `wrun job stop {job_id}` stops it"
                );
                Ok(ExitCode::from(INTERRUPTED))
            }
        }
    })
}

/// Prints how a job ended (its value on stdout with `value`) and returns
/// the exit code `wrun submit` gives it.
fn exit_of(outcome: Outcome, value: bool) -> ExitCode {
    match outcome {
        Outcome::Value(v) => {
            if value {
                println!("{}", wrun_core::values::render_text(&v));
            }
            ExitCode::SUCCESS
        }
        Outcome::Failed { text, refused } => {
            eprintln!("error: {text}");
            ExitCode::from(if refused { 3 } else { 1 })
        }
    }
}

/// Whether a line's label (`speak#5204ab9e98a3c081`, on another node
/// `chatty/speak#5204ab9e98a3c081`, `Counter.add`, `main`) is that of the
/// task `wanted` names: its name (with or without its component), the
/// whole label, or its id as `wrun list tasks` gives it (a label carries
/// the id's lower half).
fn written_by(label: &str, wanted: &str) -> bool {
    let (name, call) = label.split_once('#').unwrap_or((label, ""));
    let by_id = wanted.len() == 32
        && wanted
            .parse::<wrun_core::Id>()
            .is_ok_and(|id| !call.is_empty() && call == format!("{:x}", id.lo));
    by_id || label == wanted || name == wanted || name.rsplit('/').next() == Some(wanted)
}

#[cfg(test)]
mod tests {
    use super::written_by;

    #[test]
    fn a_task_is_named_by_its_name_or_its_whole_label() {
        assert!(written_by("speak#5204ab9e98a3c081", "speak"));
        assert!(written_by(
            "speak#5204ab9e98a3c081",
            "speak#5204ab9e98a3c081"
        ));
        assert!(written_by("chatty/speak#5204ab9e98a3c081", "speak"));
        assert!(written_by("chatty/speak#5204ab9e98a3c081", "chatty/speak"));
        assert!(written_by("Counter.add", "Counter.add"));
        assert!(!written_by("speaker#5204ab9e98a3c081", "speak"));
        assert!(!written_by("main", "speak"));
        let id = "0123456789abcdef00000000000002a9";
        assert!(written_by("speak#2a9", id), "by the id `wrun list` gives");
        assert!(!written_by("speak#2a8", id));
        assert!(!written_by("main", id));
    }
}
