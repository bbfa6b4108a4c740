//! The CLI's side of the cluster: submitting a job to the head (streaming
//! its logs and result) and reading the cluster's status.

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
        anyhow::anyhow!("the head refused: {}", s.message())
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
        let root = dir.join(&wd);
        for rel in wrun_env::working_dir_files(&root).map_err(|e| anyhow::anyhow!("{e}"))? {
            let data = std::fs::read(root.join(&rel))?;
            total += data.len();
            anyhow::ensure!(
                total <= MAX_ENV_BYTES,
                "the working directories of {} hold more than {} MiB; a cluster job carries at most that much",
                manifest.display(),
                MAX_ENV_BYTES >> 20
            );
            let path = Path::new(&wd)
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

/// Submits `driver` (and `others`) to the head at `address`; `on_log` gets
/// each guest line as it arrives.
pub async fn submit(
    address: &str,
    creds: &Credentials,
    driver: &Path,
    others: &[(String, PathBuf)],
    args: Vec<String>,
    env: Vec<u8>,
    mut on_log: impl FnMut(&proto::LogLine),
) -> anyhow::Result<Outcome> {
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
    let mut events = head
        .submit_job(token.attach(Request::new(req))?)
        .await
        .map_err(|s| head_failed(address, &creds.transport, s))?
        .into_inner();
    while let Some(e) = events
        .message()
        .await
        .map_err(|s| head_failed(address, &creds.transport, s))?
    {
        match e.event {
            Some(Event::PlacedOn(node)) => tracing::info!(%node, "job placed"),
            Some(Event::Log(l)) => on_log(&l),
            Some(Event::Result(r)) => return Ok(Outcome::Value(r.value)),
            Some(Event::Error(err)) => {
                let lang = if err.language.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", err.language)
                };
                return Ok(Outcome::Failed {
                    text: format!("{} in `{}`{lang}: {}", err.kind, err.task, err.message),
                    refused: err.refused,
                });
            }
            None => {}
        }
    }
    anyhow::bail!("the job's stream ended without a result (its node or the head stopped)")
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
