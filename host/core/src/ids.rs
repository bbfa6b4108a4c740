//! Identifiers that stay unique across every node of a cluster.
//!
//! An id is 128 bits: the high 64 bits are the issuing node's random id and the
//! low 64 bits a per-node counter, so nodes mint ids without coordination and an
//! id also says which node minted it (for objects: their owner; for actors:
//! the node they live on).

use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

/// A 128-bit identifier (the WIT `id` record).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Id {
    /// The minting node.
    pub hi: u64,
    /// The node's counter.
    pub lo: u64,
}

impl Id {
    /// An id from its two halves.
    pub const fn new(hi: u64, lo: u64) -> Self {
        Id { hi, lo }
    }

    /// The node that minted this id.
    pub fn minted_by(self) -> NodeId {
        NodeId(self.hi)
    }

    /// Big-endian bytes, as ids cross processes.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.hi.to_be_bytes());
        b[8..].copy_from_slice(&self.lo.to_be_bytes());
        b
    }

    /// The id of 16 big-endian bytes; `None` for any other length.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        let b: &[u8; 16] = b.try_into().ok()?;
        let (hi, lo) = b.split_at(8);
        Some(Id::new(
            u64::from_be_bytes(hi.try_into().ok()?),
            u64::from_be_bytes(lo.try_into().ok()?),
        ))
    }

    /// Parses the 32 hex digits `Display` writes.
    pub fn from_hex(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// A string that is not an id, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not {what} ({digits} hex digits)")]
pub struct BadId {
    text: String,
    what: &'static str,
    digits: usize,
}

fn parse_hex(s: &str, digits: usize, what: &'static str) -> Result<u128, BadId> {
    let bad = || BadId {
        text: s.chars().take(64).collect(),
        what,
        digits,
    };
    if s.len() != digits || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    u128::from_str_radix(s, 16).map_err(|_| bad())
}

impl FromStr for Id {
    type Err = BadId;

    fn from_str(s: &str) -> Result<Self, BadId> {
        let v = parse_hex(s, 32, "an id")?;
        Ok(Id::new((v >> 64) as u64, v as u64))
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

/// A node (a host process that runs guests): the high half of every id it
/// mints. Written as 16 hex digits wherever people or other processes see it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeId(pub u64);

impl NodeId {
    /// The node as a WIT/wire id (`lo` is zero).
    pub fn as_id(self) -> Id {
        Id::new(self.0, 0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({self})")
    }
}

impl FromStr for NodeId {
    type Err = BadId;

    fn from_str(s: &str) -> Result<Self, BadId> {
        parse_hex(s, 16, "a node id").map(|v| NodeId(v as u64))
    }
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub Id);

        impl $name {
            /// The node that minted it.
            pub fn node(self) -> NodeId {
                self.0.minted_by()
            }
        }

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

        impl FromStr for $name {
            type Err = BadId;

            fn from_str(s: &str) -> Result<Self, BadId> {
                let v = parse_hex(s, 32, $what)?;
                Ok($name(Id::new((v >> 64) as u64, v as u64)))
            }
        }
    };
}

typed_id!(
    /// An object in the store; its node is its owner.
    ObjectId,
    "an object id"
);
typed_id!(
    /// One task invocation, actor call or driver run.
    TaskId,
    "a task id"
);
typed_id!(
    /// An actor; its node is where it lives.
    ActorId,
    "an actor id"
);
typed_id!(
    /// A submitted job (the same on every node it runs on).
    JobId,
    "a job id"
);
typed_id!(
    /// A placement group (minted by the node that created it).
    GroupId,
    "a placement group id"
);

/// Mints ids for one node: the node in the high half; in the low half a
/// counter run through a keyed permutation (a four-round Feistel network
/// whose rounds are SipHash under a key drawn when the generator is made),
/// so ids stay unique per node while one job cannot guess another's ids
/// from those it sees (Ray's are random too).
#[derive(Debug)]
pub struct IdGen {
    node: NodeId,
    next: AtomicU64,
    key: RandomState,
}

impl IdGen {
    /// A generator for a node with a fresh random id.
    pub fn new() -> Self {
        Self::for_node(NodeId(random_u64() | 1))
    }

    /// A generator for a given node (tests, and processes that keep an id).
    pub fn for_node(node: NodeId) -> Self {
        IdGen {
            node,
            next: AtomicU64::new(1),
            key: RandomState::new(),
        }
    }

    /// The node these ids name.
    pub fn node_id(&self) -> NodeId {
        self.node
    }

    /// The next id.
    pub fn next(&self) -> Id {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        Id::new(self.node.0, self.permute(n))
    }

    /// A bijection of `u64` fixed by the key: distinct counters give
    /// distinct ids.
    fn permute(&self, x: u64) -> u64 {
        let (mut left, mut right) = ((x >> 32) as u32, x as u32);
        for round in 0u8..4 {
            let f = self.key.hash_one((round, right)) as u32;
            (left, right) = (right, left ^ f);
        }
        (u64::from(left) << 32) | u64::from(right)
    }
}

impl Default for IdGen {
    fn default() -> Self {
        Self::new()
    }
}

/// 64 random bits from the operating system.
pub fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    random_bytes(&mut bytes);
    u64::from_ne_bytes(bytes)
}

/// Fills `buf` from the operating system's random source. Without one no
/// id could be unique and no token secret, so failing here is not survivable.
pub fn random_bytes(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system provides random bytes");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_two_nodes_never_collide_and_name_their_node() {
        let a = IdGen::for_node(NodeId(7));
        let b = IdGen::for_node(NodeId(9));
        let ia = a.next();
        let ib = b.next();
        assert_ne!(ia, ib);
        assert_eq!(ia.minted_by(), a.node_id());
        assert_eq!(ib.minted_by(), b.node_id());
        assert_ne!(IdGen::new().node_id(), IdGen::new().node_id());
    }

    #[test]
    fn ids_are_unique_and_do_not_follow_each_other() {
        let g = IdGen::for_node(NodeId(7));
        let ids: Vec<u64> = (0..100_000).map(|_| g.next().lo).collect();
        let distinct: std::collections::HashSet<u64> = ids.iter().copied().collect();
        assert_eq!(distinct.len(), ids.len(), "a permutation never repeats");
        let steps = ids
            .windows(2)
            .filter(|w| w[1].wrapping_sub(w[0]) == 1)
            .count();
        assert!(steps < 10, "{steps} ids were the previous one plus one");
        let other = IdGen::for_node(NodeId(7));
        assert_ne!(other.next().lo, ids[0], "each generator has its own key");
    }

    #[test]
    fn ids_round_trip_through_bytes_and_text() {
        let id = Id::new(0x0102030405060708, 0x1112131415161718);
        assert_eq!(Id::from_bytes(&id.to_bytes()), Some(id));
        assert_eq!(Id::from_bytes(&[1, 2, 3]), None);
        assert_eq!(id.to_string(), "01020304050607081112131415161718");
        assert_eq!(id.to_string().parse::<Id>(), Ok(id));
        let node = NodeId(0xab);
        assert_eq!(node.to_string(), "00000000000000ab");
        assert_eq!("00000000000000ab".parse::<NodeId>(), Ok(node));
        let e = "xyz".parse::<NodeId>().unwrap_err();
        assert_eq!(e.to_string(), "`xyz` is not a node id (16 hex digits)");
        let actor = ActorId(id);
        assert_eq!(actor.to_string().parse::<ActorId>(), Ok(actor));
        assert_eq!(actor.node(), NodeId(0x0102030405060708));
    }
}
