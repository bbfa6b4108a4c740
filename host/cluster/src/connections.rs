//! Connections to the other processes of the cluster: one gRPC channel per
//! peer address (shared by every task, object transfer and release sent
//! there, and dialled again after a call finds it broken), and the address
//! book that maps node ids to addresses, learned from heartbeats and from
//! the references other nodes send.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tonic::transport::Channel;
use tonic::Request;
use wrun_core::NodeId;
use wrun_proto::pb::node_client::NodeClient;

use crate::auth::Credentials;

/// The largest reply of the head (a job's components, up to
/// [`crate::guard::MAX_JOB_BYTES`]). Requests have each RPC's own, smaller
/// limit ([`crate::guard`]).
pub const MAX_MESSAGE: usize = 1 << 30;

/// The largest reply of a node: a driver's value to the head
/// ([`crate::guard::MAX_JOB_VALUE`]) and a little. A call's results travel
/// inline only up to [`crate::objects::INLINE_RESULTS`]; larger ones, and
/// objects, move in chunks well under it.
pub const MAX_NODE_REPLY: usize = crate::guard::MAX_JOB_VALUE + (1 << 20);

/// The HTTP/2 flow-control window of one stream between nodes.
pub const WINDOW: u32 = 16 << 20;

/// A call to another node that could not be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Unreachable {
    /// No address is known for the node.
    #[error("node {0} is not a known node of the cluster")]
    Unknown(NodeId),
    /// The address did not answer.
    #[error("node {node} at {address} is unreachable: {reason}")]
    Down {
        /// The node.
        node: NodeId,
        /// Where it was.
        address: String,
        /// What the transport said.
        reason: String,
    },
}

/// This node's connections and address book.
pub struct Connections {
    me: NodeId,
    my_address: String,
    creds: Credentials,
    clients: Mutex<HashMap<String, NodeClient<Channel>>>,
    addresses: Mutex<HashMap<NodeId, String>>,
}

impl Connections {
    /// The connections of node `me`, serving at `my_address`.
    pub fn new(me: NodeId, my_address: String, creds: Credentials) -> Arc<Connections> {
        let mut addresses = HashMap::new();
        addresses.insert(me, my_address.clone());
        Arc::new(Connections {
            me,
            my_address,
            creds,
            clients: Mutex::new(HashMap::new()),
            addresses: Mutex::new(addresses),
        })
    }

    /// This node.
    pub fn me(&self) -> NodeId {
        self.me
    }

    /// This node's address.
    pub fn my_address(&self) -> &str {
        &self.my_address
    }

    /// Records where a node is.
    pub fn learn(&self, node: NodeId, address: &str) {
        if address.is_empty() {
            return;
        }
        let mut book = self.addresses.lock();
        if book.get(&node).map(String::as_str) != Some(address) {
            book.insert(node, address.to_string());
        }
    }

    /// Where a node is, if known.
    pub fn address_of(&self, node: NodeId) -> Option<String> {
        self.addresses.lock().get(&node).cloned()
    }

    /// A client of `node`, connected once.
    pub async fn client(&self, node: NodeId) -> Result<NodeClient<Channel>, Unreachable> {
        let address = self.address_of(node).ok_or(Unreachable::Unknown(node))?;
        self.client_at(&address)
            .await
            .map_err(|reason| Unreachable::Down {
                node,
                address,
                reason,
            })
    }

    /// A client of the node at `address`, connected once.
    pub async fn client_at(&self, address: &str) -> Result<NodeClient<Channel>, String> {
        if let Some(c) = self.clients.lock().get(address) {
            return Ok(c.clone());
        }
        let channel = self
            .creds
            .transport
            .endpoint(address)?
            // Windows of a few chunks: HTTP/2's default 64 KiB would stall
            // an object transfer on every round trip.
            .initial_stream_window_size(WINDOW)
            .initial_connection_window_size(2 * WINDOW)
            .connect()
            .await
            .map_err(|e| e.to_string())?;
        let c = NodeClient::new(channel)
            .max_decoding_message_size(MAX_NODE_REPLY)
            .max_encoding_message_size(crate::guard::MAX_CALL_BYTES);
        self.clients.lock().insert(address.to_string(), c.clone());
        Ok(c)
    }

    /// Drops the connection to `node` (a call found it broken).
    pub fn forget(&self, node: NodeId) {
        if let Some(a) = self.address_of(node) {
            self.clients.lock().remove(&a);
        }
    }

    /// `message` with the cluster token attached.
    #[allow(
        clippy::result_large_err,
        reason = "tonic's Status is what calls return"
    )]
    pub fn request<T>(&self, message: T) -> Result<Request<T>, tonic::Status> {
        self.creds.token.attach(Request::new(message))
    }
}
