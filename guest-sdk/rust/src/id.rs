//! 128-bit identifiers of jobs, tasks, nodes, objects and actors.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::bindings::wrun::runtime::types as wit;

/// A 128-bit identifier, unique across every node of a cluster.
///
/// Displays as 32 lowercase hex digits, `hi` first.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Id {
    /// The high 64 bits.
    pub hi: u64,
    /// The low 64 bits.
    pub lo: u64,
}

impl Id {
    /// The 16 bytes of the id: `hi` then `lo`, both big-endian.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.hi.to_be_bytes());
        b[8..].copy_from_slice(&self.lo.to_be_bytes());
        b
    }

    /// The inverse of [`Id::to_bytes`].
    pub fn from_bytes(b: [u8; 16]) -> Self {
        let (hi, lo) = b.split_at(8);
        Id {
            hi: u64::from_be_bytes(hi.try_into().expect("8 bytes")),
            lo: u64::from_be_bytes(lo.try_into().expect("8 bytes")),
        }
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}{:016x}", self.hi, self.lo)
    }
}

impl From<wit::Id> for Id {
    fn from(id: wit::Id) -> Self {
        Id {
            hi: id.hi,
            lo: id.lo,
        }
    }
}

impl From<Id> for wit::Id {
    fn from(id: Id) -> Self {
        wit::Id {
            hi: id.hi,
            lo: id.lo,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_32_hex_digits() {
        let id = Id { hi: 1, lo: 0xabc };
        assert_eq!(id.to_string(), "00000000000000010000000000000abc");
        assert_eq!(Id::from_bytes(id.to_bytes()), id);
    }
}
