//! Large byte buffers that enter and leave the object store without being
//! re-encoded.
//!
//! A [`Blob`] keeps its bytes behind a ready-made MessagePack `bin 32` header,
//! so [`put_blob`] hands the buffer to the host as it is and
//! [`ObjectRef::get_blob`] adopts the buffer the host wrote: the only copies
//! are the host's (into the store, and into this guest's memory). Anywhere
//! else (inside a value, as an argument) a `Blob` is ordinary MessagePack
//! bytes, readable by every SDK.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::bindings::wrun::runtime::{objects, types as wit};
use crate::{Error, ObjectRef, Result};

/// `bin 32` marker, then the length as a big-endian u32.
const HEADER: usize = 5;
const BIN8: u8 = 0xc4;
const BIN16: u8 = 0xc5;
const BIN32: u8 = 0xc6;

/// A byte buffer that moves through the object store without re-encoding.
#[derive(Clone, PartialEq, Eq)]
pub struct Blob {
    /// `[BIN32, len (4 bytes BE), bytes...]`.
    buf: Vec<u8>,
}

impl Blob {
    /// `len` zero bytes.
    pub fn zeroed(len: usize) -> Result<Self> {
        let mut buf = vec![0u8; HEADER + len];
        write_header(&mut buf, len)?;
        Ok(Blob { buf })
    }

    /// A copy of `bytes`.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let mut buf = Vec::with_capacity(HEADER + bytes.len());
        buf.extend_from_slice(&[0; HEADER]);
        buf.extend_from_slice(bytes);
        write_header(&mut buf, bytes.len())?;
        Ok(Blob { buf })
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.buf.len() - HEADER
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, without the header (a copy: prefer reading through `Deref`).
    pub fn to_vec(&self) -> Vec<u8> {
        self.buf[HEADER..].to_vec()
    }

    /// Adopts a MessagePack-encoded `bin` value; `bin 32` without a copy.
    fn from_encoded(data: Vec<u8>) -> std::result::Result<Self, String> {
        let (marker, rest) = data.split_first().ok_or("an empty value is not bytes")?;
        let (len, header) = match *marker {
            BIN32 if rest.len() >= 4 => (
                u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize,
                HEADER,
            ),
            BIN16 if rest.len() >= 2 => (u16::from_be_bytes([rest[0], rest[1]]) as usize, 3),
            BIN8 if !rest.is_empty() => (rest[0] as usize, 2),
            m => {
                return Err(format!(
                    "expected MessagePack bytes, found marker 0x{m:02x}"
                ))
            }
        };
        if data.len() != header + len {
            return Err(format!(
                "a bytes value of {len} bytes arrived in {} bytes",
                data.len()
            ));
        }
        if header == HEADER {
            Ok(Blob { buf: data })
        } else {
            Blob::from_slice(&data[header..]).map_err(|e| e.message)
        }
    }
}

fn write_header(buf: &mut [u8], len: usize) -> Result<()> {
    let len32 = u32::try_from(len).map_err(|_| {
        Error::invalid(
            "blob",
            format!("{len} bytes exceed the 4 GiB a blob can hold"),
        )
    })?;
    buf[0] = BIN32;
    buf[1..HEADER].copy_from_slice(&len32.to_be_bytes());
    Ok(())
}

impl Deref for Blob {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[HEADER..]
    }
}

impl DerefMut for Blob {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.buf[HEADER..]
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.len())
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(self)
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let bytes = serde_bytes::ByteBuf::deserialize(d)?;
        Blob::from_slice(&bytes).map_err(serde::de::Error::custom)
    }
}

/// Stores `blob` without re-encoding it (the buffer moves to the host call).
pub fn put_blob(blob: Blob) -> Result<ObjectRef<Blob>> {
    let handle = objects::put(wit::Value {
        data: blob.buf,
        refs: Vec::new(),
    })?;
    Ok(ObjectRef::from_handle(handle))
}

impl ObjectRef<Blob> {
    /// Waits for the object and adopts the buffer the host wrote, without
    /// decoding it.
    pub fn get_blob(&self) -> Result<Blob> {
        let mut values = objects::get(&[self.raw()], None)?;
        let v = values
            .pop()
            .ok_or_else(|| Error::new(crate::ErrorKind::Internal, "get", "no value returned"))?;
        Blob::from_encoded(v.data)
            .map_err(|m| Error::invalid("get", format!("object {}: {m}", self.id())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_is_messagepack_bytes_byte_for_byte() {
        let b = Blob::from_slice(b"abc").unwrap();
        assert_eq!(&*b, b"abc");
        // What rmp-serde writes for the same bytes decodes to the same blob.
        let encoded = rmp_serde::to_vec(&serde_bytes::Bytes::new(b"abc")).unwrap();
        assert_eq!(Blob::from_encoded(encoded).unwrap(), b);
        // The buffer handed to the host is valid MessagePack `bin 32`.
        let back: serde_bytes::ByteBuf = rmp_serde::from_slice(&b.buf).unwrap();
        assert_eq!(back.as_ref(), b"abc");
    }

    #[test]
    fn malformed_bytes_values_are_refused() {
        assert!(Blob::from_encoded(vec![]).is_err());
        assert!(Blob::from_encoded(vec![0x90]).is_err());
        assert!(Blob::from_encoded(vec![BIN32, 0, 0, 0, 9, 1]).is_err());
    }
}
