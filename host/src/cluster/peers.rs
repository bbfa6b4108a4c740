//! Connections to the other nodes: one gRPC channel per peer address, shared
//! by every task, object transfer and release sent there, and dialled again
//! after a call finds it broken.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tonic::transport::Channel;
use tonic::Request;

use super::auth::Token;
use super::proto::node_client::NodeClient;

/// The largest message a node accepts from another (inline task arguments
/// and results; objects move in chunks well under it).
pub const MAX_MESSAGE: usize = 1 << 30;

/// The HTTP/2 flow-control window of one stream between nodes.
pub const WINDOW: u32 = 16 << 20;

pub struct Peers {
    token: Token,
    clients: Mutex<HashMap<String, NodeClient<Channel>>>,
}

impl Peers {
    pub fn new(token: Token) -> Arc<Peers> {
        Arc::new(Peers {
            token,
            clients: Mutex::new(HashMap::new()),
        })
    }

    /// A client of the node at `address`, connected once.
    pub async fn client(&self, address: &str) -> Result<NodeClient<Channel>, String> {
        if let Some(c) = self.clients.lock().get(address) {
            return Ok(c.clone());
        }
        let channel = Channel::from_shared(format!("http://{address}"))
            .map_err(|e| format!("`{address}` is not a node address: {e}"))?
            .connect_timeout(Duration::from_secs(5))
            // Windows of a few chunks: HTTP/2's default 64 KiB would stall
            // an object transfer on every round trip.
            .initial_stream_window_size(WINDOW)
            .initial_connection_window_size(2 * WINDOW)
            .connect()
            .await
            .map_err(|e| format!("node {address} unreachable: {e}"))?;
        let c = NodeClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        self.clients.lock().insert(address.to_string(), c.clone());
        Ok(c)
    }

    /// Drops the connection to `address` (a call found it broken).
    pub fn forget(&self, address: &str) {
        self.clients.lock().remove(address);
    }

    /// `message` with the cluster token attached.
    #[allow(clippy::result_large_err)]
    pub fn request<T>(&self, message: T) -> Result<Request<T>, tonic::Status> {
        self.token.attach(Request::new(message))
    }
}
