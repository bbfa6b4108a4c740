//! Identifiers that stay unique across every node of a cluster.
//!
//! An id is 128 bits: the high 64 bits are the issuing node's random id and the
//! low 64 bits a per-node counter, so nodes mint ids without coordination and an
//! id also says which node minted it (for objects: their owner).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A 128-bit identifier (the WIT `id` record).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Id {
    pub hi: u64,
    pub lo: u64,
}

impl Id {
    pub const fn new(hi: u64, lo: u64) -> Self {
        Id { hi, lo }
    }

    /// The node that minted this id.
    pub fn minted_by(self) -> NodeId {
        NodeId(Id::new(self.hi, 0))
    }

    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.hi.to_be_bytes());
        b[8..].copy_from_slice(&self.lo.to_be_bytes());
        b
    }

    /// Parses the 32 hex digits `Display` writes.
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(Id::new(
            u64::from_str_radix(&s[..16], 16).ok()?,
            u64::from_str_radix(&s[16..], 16).ok()?,
        ))
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        let b: &[u8; 16] = b.try_into().ok()?;
        Some(Id::new(
            u64::from_be_bytes(b[..8].try_into().ok()?),
            u64::from_be_bytes(b[8..].try_into().ok()?),
        ))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}{:016x}", self.hi, self.lo)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub Id);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

typed_id!(
    /// A node (a host process that runs guests).
    NodeId
);
typed_id!(
    /// An object in the store.
    ObjectId
);
typed_id!(
    /// One task invocation, actor call or driver run.
    TaskId
);
typed_id!(
    /// An actor.
    ActorId
);
typed_id!(
    /// A submitted job.
    JobId
);
typed_id!(
    /// A placement group (minted by the node that created it).
    GroupId
);

/// Mints ids for one node.
#[derive(Debug)]
pub struct IdGen {
    node: u64,
    next: AtomicU64,
}

impl IdGen {
    /// A generator for a node with a fresh random id.
    pub fn new() -> Self {
        Self::for_node(random_u64() | 1)
    }

    pub fn for_node(node: u64) -> Self {
        IdGen {
            node,
            next: AtomicU64::new(1),
        }
    }

    pub fn node_id(&self) -> NodeId {
        NodeId(Id::new(self.node, 0))
    }

    pub fn next(&self) -> Id {
        Id::new(self.node, self.next.fetch_add(1, Ordering::Relaxed))
    }
}

impl Default for IdGen {
    fn default() -> Self {
        Self::new()
    }
}

/// 64 random bits from the OS, without pulling in a crate for it.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut bytes = [0u8; 8];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        if f.read_exact(&mut bytes).is_ok() {
            return u64::from_ne_bytes(bytes);
        }
    }
    // Fallback: std's randomly keyed hasher mixed with time and pid.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.write_u32(std::process::id());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_two_nodes_never_collide_and_name_their_node() {
        let a = IdGen::for_node(7);
        let b = IdGen::for_node(9);
        let ia = a.next();
        let ib = b.next();
        assert_ne!(ia, ib);
        assert_eq!(ia.minted_by(), a.node_id());
        assert_eq!(ib.minted_by(), b.node_id());
    }

    #[test]
    fn bytes_round_trip() {
        let id = Id::new(0x0102030405060708, 0x1112131415161718);
        assert_eq!(Id::from_bytes(&id.to_bytes()), Some(id));
        assert_eq!(Id::from_bytes(&[1, 2, 3]), None);
        assert_eq!(id.to_string(), "01020304050607081112131415161718");
    }
}
