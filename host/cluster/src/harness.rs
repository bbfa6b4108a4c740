//! A cluster in one process, for tests: a head and N nodes on loopback,
//! real gRPC over TLS between them (the CA made in the test's directory), and a way to make every node report at once so
//! tests wait on conditions, not on heartbeat periods.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wrun_runtime::RuntimeConfig;

use crate::auth::{Credentials, Token};
use crate::serve::{start_head, start_node, HeadHandle, NodeHandle};
use crate::tls::{Authority, Transport};

/// A head and its nodes, in this process.
pub struct InProcessCluster {
    /// The head.
    pub head: HeadHandle,
    /// The nodes, in the order of their configurations.
    pub nodes: Vec<NodeHandle>,
    /// The cluster token.
    pub token: Token,
    /// How its processes reach each other (TLS pinned to its CA).
    pub transport: Transport,
}

impl InProcessCluster {
    /// Starts a head with its state in `dir` and one node per
    /// configuration, and waits until every node sees every other.
    pub async fn start(dir: &Path, configs: Vec<RuntimeConfig>) -> anyhow::Result<Self> {
        let token = Token::load_or_create(&Token::path_in(dir))?;
        let authority = Arc::new(Authority::load_or_create(&dir.join(crate::tls::CA_CERT))?);
        let transport = authority.transport();
        let head = start_head(
            dir.to_path_buf(),
            "127.0.0.1",
            0,
            token.clone(),
            Some(authority),
        )
        .await?;
        let creds = Credentials {
            token: token.clone(),
            transport: transport.clone(),
        };
        let mut nodes = Vec::with_capacity(configs.len());
        for cfg in configs {
            nodes.push(
                start_node(
                    cfg,
                    dir.to_path_buf(),
                    "127.0.0.1",
                    &head.address,
                    creds.clone(),
                )
                .await?,
            );
        }
        let cluster = InProcessCluster {
            head,
            nodes,
            token,
            transport,
        };
        cluster.settle().await?;
        Ok(cluster)
    }

    /// Makes every node report now, twice (so each reply carries the
    /// others' fresh state), and waits until each sees all the others.
    pub async fn settle(&self) -> anyhow::Result<()> {
        let want = self.nodes.len().saturating_sub(1);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            for _ in 0..2 {
                for n in &self.nodes {
                    n.beat.notify_one();
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if self.nodes.iter().all(|n| n.view.nodes().len() >= want) {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the nodes did not see each other within 20 s"
            );
        }
    }

    /// Stops every node, then the head.
    pub async fn stop(self) -> anyhow::Result<()> {
        for n in self.nodes {
            n.stop().await?;
        }
        self.head.stop().await
    }
}
