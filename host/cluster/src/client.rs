//! The CLI's side of the cluster: submitting a job to the head, following
//! its lines and outcome (then or later), stopping it, and reading the
//! cluster's status.

use std::path::{Path, PathBuf};

use tonic::Request;

use wrun_proto::pb::{self as proto, job_event::Event};
use wrun_proto::PROTOCOL_VERSION;

use crate::auth::Credentials;
use crate::serve::{head_client, transport_hint};
use crate::tls::Transport;

/// A call to the head that failed: refused by it, or never understood
/// (the connection broke: most often TLS on one side only).
fn head_failed(address: &str, transport: &Transport, s: tonic::Status) -> anyhow::Error {
    // A status the client made itself (no answer came) carries the
    // transport's error as its source; one the head sent does not.
    let broken = std::error::Error::source(&s).is_some()
        || matches!(s.code(), tonic::Code::Unavailable | tonic::Code::Cancelled);
    if broken {
        anyhow::anyhow!(
            "cannot talk to the head at {address}: {}{}",
            s.message(),
            transport_hint(transport)
        )
    } else {
        anyhow::Error::new(HeadRefused {
            code: s.code(),
            message: s.message().to_string(),
        })
    }
}

/// The head answered with a refusal (the caller can tell a request it got
/// wrong from the head's own failure by [`HeadRefused::callers_fault`]).
#[derive(Debug, thiserror::Error)]
#[error("the head refused: {message}")]
pub struct HeadRefused {
    /// The gRPC status code.
    pub code: tonic::Code,
    /// What the head said.
    pub message: String,
}

impl HeadRefused {
    /// Whether the request was at fault (an unknown id, a bad filter, a job
    /// that has ended), not the head.
    pub fn callers_fault(&self) -> bool {
        use tonic::Code::*;
        matches!(
            self.code,
            InvalidArgument
                | NotFound
                | FailedPrecondition
                | AlreadyExists
                | OutOfRange
                | Unauthenticated
                | PermissionDenied
        )
    }
}

/// How a cluster job ended, for the CLI's exit code.
pub enum Outcome {
    /// The driver's value (MessagePack).
    Value(Vec<u8>),
    /// The job failed; `refused`: it never ran (a component was refused).
    Failed {
        /// The error, as people read it.
        text: String,
        /// It never ran.
        refused: bool,
    },
}

/// The largest environment (manifest and working directories) a cluster
/// job may carry.
pub const MAX_ENV_BYTES: usize = 256 << 20;

/// Bundles a manifest with the files of the working directories it names,
/// after checking it as a local run would (errors point into the manifest).
pub fn env_bundle(manifest: &Path, cache_dir: &Path) -> anyhow::Result<Vec<u8>> {
    use prost::Message;
    wrun_env::Environment::load(manifest, cache_dir, Default::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let text = std::fs::read_to_string(manifest)?;
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let mut files = Vec::new();
    let mut total = 0usize;
    for wd in wrun_env::Environment::working_dirs_named(&text) {
        let root = dir.join(&wd.path);
        let excludes =
            wrun_env::Excludes::parse(&root, &wd.excludes).map_err(|e| anyhow::anyhow!("{e}"))?;
        for rel in
            wrun_env::working_dir_files(&root, &excludes).map_err(|e| anyhow::anyhow!("{e}"))?
        {
            let data = std::fs::read(root.join(&rel))?;
            total += data.len();
            anyhow::ensure!(
                total <= MAX_ENV_BYTES,
                "the working directories of {} hold more than {} MiB; a cluster job carries at most that much",
                manifest.display(),
                MAX_ENV_BYTES >> 20
            );
            let path = Path::new(&wd.path)
                .join(&rel)
                .components()
                .filter(|c| matches!(c, std::path::Component::Normal(_)))
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            files.push(proto::EnvFile { path, data });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(proto::EnvBundle {
        manifest: text,
        file: manifest.display().to_string(),
        files,
    }
    .encode_to_vec())
}

/// A job submitted to a cluster, and its events from the head.
pub struct Submitted {
    /// The job's id (what `wrun job ...` takes).
    pub job_id: String,
    /// The node running its driver.
    pub node_id: String,
    /// Its lines and then its outcome ([`outcome`]).
    pub events: JobEvents,
}

/// A job's events as the head sends them.
pub struct JobEvents {
    stream: tonic::Streaming<proto::JobEvent>,
    address: String,
    transport: Transport,
}

/// Submits `driver` (and `others`) to the head at `address`; returns once
/// the head has placed it.
pub async fn submit(
    address: &str,
    creds: &Credentials,
    driver: &Path,
    others: &[(String, PathBuf)],
    args: Vec<String>,
    env: Vec<u8>,
) -> anyhow::Result<Submitted> {
    let token = &creds.token;
    let name = driver
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "job".into());
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))
    };
    let mut components = vec![proto::Component {
        name: name.clone(),
        hash: String::new(),
        wasm: read(driver)?,
    }];
    for (n, p) in others {
        components.push(proto::Component {
            name: n.clone(),
            hash: String::new(),
            wasm: read(p)?,
        });
    }
    let req = proto::SubmitJobRequest {
        protocol: PROTOCOL_VERSION,
        name,
        components,
        args,
        env,
    };
    let mut head = head_client(address, &creds.transport)
        .await?
        .max_encoding_message_size(1 << 30);
    let stream = head
        .submit_job(token.attach(Request::new(req))?)
        .await
        .map_err(|s| head_failed(address, &creds.transport, s))?
        .into_inner();
    let mut events = JobEvents {
        stream,
        address: address.to_string(),
        transport: creds.transport.clone(),
    };
    let (mut job_id, mut node_id) = (None, None);
    while job_id.is_none() || node_id.is_none() {
        match events.next().await? {
            Some(Event::JobId(id)) => job_id = Some(id),
            Some(Event::PlacedOn(node)) => node_id = Some(node),
            _ => anyhow::bail!("the head did not say which job it made (is it an older wrun?)"),
        }
    }
    Ok(Submitted {
        job_id: job_id.unwrap_or_default(),
        node_id: node_id.unwrap_or_default(),
        events,
    })
}

/// A job's lines from line `from` on, then its outcome; with `live`, as
/// they come while it runs.
pub async fn follow(
    address: &str,
    creds: &Credentials,
    job_id: &str,
    from: u64,
    live: bool,
) -> anyhow::Result<JobEvents> {
    let mut head = head_client(address, &creds.transport).await?;
    let req = proto::FollowJobRequest {
        protocol: PROTOCOL_VERSION,
        job_id: job_id.to_string(),
        from_line: from,
        follow: live,
    };
    let stream = head
        .follow_job(creds.token.attach(Request::new(req))?)
        .await
        .map_err(|s| head_failed(address, &creds.transport, s))?
        .into_inner();
    Ok(JobEvents {
        stream,
        address: address.to_string(),
        transport: creds.transport.clone(),
    })
}

impl JobEvents {
    /// The next event; `None` once the head has sent them all.
    pub async fn next(&mut self) -> anyhow::Result<Option<Event>> {
        loop {
            let e = self
                .stream
                .message()
                .await
                .map_err(|s| head_failed(&self.address, &self.transport, s))?;
            match e {
                Some(proto::JobEvent { event: Some(e) }) => return Ok(Some(e)),
                Some(_) => {}
                None => return Ok(None),
            }
        }
    }
}

/// Passes a job's lines to `on_log` until its outcome; `None` when the head
/// sent no outcome (not following a running job).
pub async fn outcome(
    events: &mut JobEvents,
    mut on_log: impl FnMut(&proto::LogLine),
) -> anyhow::Result<Option<Outcome>> {
    while let Some(e) = events.next().await? {
        match e {
            Event::Log(l) => on_log(&l),
            Event::Result(r) => return Ok(Some(Outcome::Value(r.value))),
            Event::Error(err) => {
                let lang = if err.language.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", err.language)
                };
                return Ok(Some(Outcome::Failed {
                    text: format!("{} in `{}`{lang}: {}", err.kind, err.task, err.message),
                    refused: err.refused,
                }));
            }
            Event::PlacedOn(_) | Event::JobId(_) => {}
        }
    }
    Ok(None)
}

/// Stops a running job on every node of the cluster.
pub async fn stop(address: &str, creds: &Credentials, job_id: &str) -> anyhow::Result<()> {
    let mut head = head_client(address, &creds.transport).await?;
    let req = proto::StopJobRequest {
        protocol: PROTOCOL_VERSION,
        job_id: job_id.to_string(),
    };
    head.stop_job(creds.token.attach(Request::new(req))?)
        .await
        .map_err(|s| head_failed(address, &creds.transport, s))?;
    Ok(())
}

/// The cluster's nodes and jobs.
pub async fn status(address: &str, creds: &Credentials) -> anyhow::Result<proto::StatusReply> {
    let token = &creds.token;
    let mut head = head_client(address, &creds.transport).await?;
    let req = proto::StatusRequest {
        protocol: PROTOCOL_VERSION,
    };
    Ok(head
        .status(token.attach(Request::new(req))?)
        .await
        .map_err(|s| head_failed(address, &creds.transport, s))?
        .into_inner())
}

/// Tasks, actors or objects of every live node (or their counts), as
/// `req` asks.
pub async fn list_state(
    address: &str,
    creds: &Credentials,
    req: proto::ListStateRequest,
) -> anyhow::Result<proto::ListStateReply> {
    let mut head = head_client(address, &creds.transport).await?;
    let req = proto::ListStateRequest {
        protocol: PROTOCOL_VERSION,
        ..req
    };
    Ok(head
        .list_state(creds.token.attach(Request::new(req))?)
        .await
        .map_err(|s| head_failed(address, &creds.transport, s))?
        .into_inner())
}

/// A `ListState` request: records of `kind` passing `filters` (`KEY=VALUE`
/// pairs), at most `limit`; with `counts`, their counts by name and state.
pub fn state_request(
    kind: proto::StateKind,
    filters: &[(String, String)],
    limit: u64,
    counts: bool,
) -> proto::ListStateRequest {
    proto::ListStateRequest {
        protocol: PROTOCOL_VERSION,
        kind: kind as i32,
        filters: filters
            .iter()
            .map(|(key, value)| proto::StateFilter {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
        limit,
        counts,
        // From the start; a caller paging sets it.
        after: String::new(),
    }
}

/// Counts of `kind` by name and state on every live node, of job `job`
/// when given (`wrun summary`, `wrun memory`, the dashboard's).
pub async fn counts(
    address: &str,
    creds: &Credentials,
    kind: proto::StateKind,
    job: Option<&str>,
) -> anyhow::Result<proto::ListStateReply> {
    let filters: Vec<(String, String)> = job
        .map(|j| ("job".to_string(), j.to_string()))
        .into_iter()
        .collect();
    list_state(address, creds, state_request(kind, &filters, 0, true)).await
}
