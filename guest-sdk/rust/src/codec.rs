//! The value codec: MessagePack (fields by name) with object references as
//! extension type 1 and actor handles as extension type 2.
//!
//! References travel beside the bytes, as handles the host issued. While a
//! value is encoded, a thread-local collector receives one owned handle per
//! serialized [`ObjectRef`](crate::ObjectRef) (payload: big-endian u32 index
//! into `refs`); while one is decoded, a thread-local holds the incoming
//! `refs`, shared so that an index met twice yields two references.

use std::cell::RefCell;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use crate::bindings::wrun::runtime::types as wit;
use crate::handle::Handle;

/// Extension type of an object reference.
pub(crate) const EXT_OBJECT_REF: i8 = 1;
/// Extension type of an actor handle.
pub(crate) const EXT_ACTOR: i8 = 2;
/// Extension type of a Python-only value (a pickle), which Rust cannot read.
const EXT_PYTHON: u8 = 3;

/// rmp-serde's representation of a MessagePack extension value.
#[derive(Serialize, Deserialize)]
#[serde(rename = "_ExtStruct")]
pub(crate) struct Ext(pub(crate) (i8, ByteBuf));

thread_local! {
    static ENCODING: RefCell<Option<Vec<wit::ObjectRef>>> = const { RefCell::new(None) };
    static DECODING: RefCell<Option<Vec<Rc<Handle>>>> = const { RefCell::new(None) };
}

/// Serializes `v` into a WIT value, collecting the references it contains.
pub(crate) fn encode<T: Serialize + ?Sized>(v: &T) -> Result<wit::Value, String> {
    let outer = ENCODING.with(|c| c.replace(Some(Vec::new())));
    let data = rmp_serde::to_vec_named(v);
    let refs = ENCODING.with(|c| c.replace(outer)).unwrap_or_default();
    match data {
        Ok(data) => Ok(wit::Value { data, refs }),
        Err(e) => Err(format!("cannot encode {}: {e}", std::any::type_name::<T>())),
    }
}

/// Deserializes a WIT value, turning extension type 1 into references.
pub(crate) fn decode<T: DeserializeOwned>(v: wit::Value) -> Result<T, String> {
    let refs = v
        .refs
        .into_iter()
        .map(|r| Rc::new(Handle::new(r)))
        .collect();
    let outer = DECODING.with(|c| c.replace(Some(refs)));
    let out = rmp_serde::from_slice(&v.data);
    DECODING.with(|c| c.replace(outer));
    out.map_err(|e| {
        let ty = std::any::type_name::<T>();
        if holds_python_value(&v.data) {
            format!(
                "cannot decode {ty}: the value is Python-only (extension type 3: a Python guest \
                 pickled a set, an integer past 64 bits or an object of its own class); send \
                 lists, maps and 64-bit integers between languages"
            )
        } else {
            format!("cannot decode {ty}: {e}")
        }
    })
}

/// Whether `data` holds a Python-only value (extension type 3) anywhere;
/// read only after a decode failed, to say why. Malformed data: false.
fn holds_python_value(data: &[u8]) -> bool {
    fn be(data: &[u8], pos: &mut usize, width: usize) -> Option<usize> {
        let bytes = data.get(*pos..*pos + width)?;
        *pos += width;
        Some(bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b)))
    }
    let mut pos = 0usize;
    // Values still to read; a hostile count only runs the data out sooner.
    let mut pending = 1usize;
    while pending > 0 {
        let Some(&b) = data.get(pos) else {
            return false;
        };
        pos += 1;
        pending -= 1;
        let skip = match b {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => 0,
            0x80..=0x8f => {
                pending = pending.saturating_add(2 * usize::from(b & 0x0f));
                0
            }
            0x90..=0x9f => {
                pending = pending.saturating_add(usize::from(b & 0x0f));
                0
            }
            0xa0..=0xbf => usize::from(b & 0x1f),
            0xca => 4,
            0xcb => 8,
            0xcc..=0xcf => 1 << (b - 0xcc),
            0xd0..=0xd3 => 1 << (b - 0xd0),
            0xc4..=0xc6 | 0xd9..=0xdb => {
                let width = if b <= 0xc6 {
                    1 << (b - 0xc4)
                } else {
                    1 << (b - 0xd9)
                };
                let Some(n) = be(data, &mut pos, width) else {
                    return false;
                };
                n
            }
            0xdc..=0xdf => {
                let width = if b % 2 == 0 { 2 } else { 4 };
                let Some(n) = be(data, &mut pos, width) else {
                    return false;
                };
                let per_entry = if b >= 0xde { 2 } else { 1 };
                pending = pending.saturating_add(n.saturating_mul(per_entry));
                0
            }
            0xd4..=0xd8 | 0xc7..=0xc9 => {
                let len = if b >= 0xd4 {
                    1 << (b - 0xd4)
                } else {
                    let Some(n) = be(data, &mut pos, 1 << (b - 0xc7)) else {
                        return false;
                    };
                    n
                };
                match data.get(pos) {
                    Some(&EXT_PYTHON) => return true,
                    Some(_) => 1 + len,
                    None => return false,
                }
            }
            _ => return false,
        };
        pos = pos.saturating_add(skip);
    }
    false
}

/// Adds an owned handle to the value being encoded; returns its index, or
/// `None` when no value is being encoded by the SDK.
pub(crate) fn push_ref(make: impl FnOnce() -> wit::ObjectRef) -> Option<u32> {
    ENCODING.with(|c| {
        let mut c = c.borrow_mut();
        let refs = c.as_mut()?;
        refs.push(make());
        Some((refs.len() - 1) as u32)
    })
}

/// The reference at `index` of the value being decoded.
pub(crate) fn take_ref(index: u32) -> Result<Rc<Handle>, String> {
    DECODING.with(|c| match c.borrow().as_ref() {
        None => Err("an object reference can only be decoded by wrun".to_string()),
        Some(refs) => refs.get(index as usize).cloned().ok_or_else(|| {
            format!(
                "object reference index {index} out of range ({} refs)",
                refs.len()
            )
        }),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{ActorHandle, Id};

    #[test]
    fn a_python_only_value_is_named_when_it_cannot_be_decoded() {
        // [1, ext 3 "\x80\x04"] and {"a": ext 3}: a pickle inside an array and a map.
        for data in [
            vec![0x92, 0x01, 0xc7, 0x02, 0x03, 0x80, 0x04],
            vec![0x81, 0xa1, b'a', 0xd4, 0x03, 0x00],
        ] {
            let err = decode::<Vec<u64>>(wit::Value { data, refs: vec![] }).unwrap_err();
            assert!(err.contains("Python-only"), "{err}");
        }
        // Another failure keeps serde's own message.
        let err = decode::<Vec<u64>>(wit::Value {
            data: vec![0xa1, b'x'],
            refs: vec![],
        })
        .unwrap_err();
        assert!(
            !err.contains("Python-only") && err.starts_with("cannot decode"),
            "{err}"
        );
        assert!(!holds_python_value(&[0xdd, 0xff, 0xff, 0xff, 0xff]));
        assert!(!holds_python_value(&[0xc7, 0x05, 0x09, 1, 2, 3, 4, 5]));
    }

    fn round_trip<T: Serialize + DeserializeOwned>(v: &T) -> T {
        let value = encode(v).unwrap();
        assert!(value.refs.is_empty());
        decode(value).unwrap()
    }

    #[test]
    fn plain_values_round_trip() {
        assert_eq!(round_trip(&42i64), 42);
        assert_eq!(round_trip(&"hi".to_string()), "hi");
        assert_eq!(round_trip(&(1u8, -2i32, 2.5f64)), (1, -2, 2.5));
        let m: BTreeMap<String, u64> = [("a".into(), 1), ("b".into(), 2)].into();
        assert_eq!(round_trip(&m), m);
        round_trip(&());
    }

    #[test]
    fn structs_are_maps_with_field_names() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct P {
            x: u8,
        }
        let v = encode(&P { x: 7 }).unwrap();
        // fixmap(1), fixstr "x", positive fixint 7
        assert_eq!(v.data, [0x81, 0xa1, b'x', 0x07]);
        assert_eq!(decode::<P>(v).unwrap(), P { x: 7 });
    }

    #[test]
    fn actor_handle_is_ext_2_with_big_endian_id() {
        let h = ActorHandle::from_id(Id {
            hi: 0x0102030405060708,
            lo: 0x090a0b0c0d0e0f10,
        });
        let v = encode(&h).unwrap();
        let mut want = vec![0xd8, 0x02]; // fixext16, type 2
        want.extend(1u8..=16);
        assert_eq!(v.data, want);
        assert_eq!(decode::<ActorHandle>(v).unwrap(), h);
    }

    #[test]
    fn wrong_type_is_a_clear_error() {
        let err = decode::<u64>(encode(&"text").unwrap()).unwrap_err();
        assert!(err.starts_with("cannot decode u64"), "{err}");
        let err = decode::<ActorHandle>(encode(&1u8).unwrap()).unwrap_err();
        assert!(err.contains("ActorHandle"), "{err}");
    }

    #[test]
    fn object_ref_outside_a_value_is_an_error() {
        let mut data = vec![0xd6, 0x01];
        data.extend(0u32.to_be_bytes());
        let v = wit::Value { data, refs: vec![] };
        let err = decode::<crate::ObjectRef<u8>>(v).unwrap_err();
        assert!(err.contains("out of range"), "{err}");
    }

    /// Every vector of tests/vectors/values.json, shared with the other SDKs:
    /// decoding its bytes gives the value, and encoding the value gives the
    /// bytes again, byte for byte.
    #[test]
    fn shared_test_vectors() {
        use serde_json::Value as J;
        let file: J =
            serde_json::from_str(include_str!("../../../tests/vectors/values.json")).unwrap();
        let vectors = file["vectors"].as_array().unwrap();
        assert!(vectors.len() >= 15);
        fn check<T>(name: &str, want: &[u8], expected: T)
        where
            T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
        {
            let encoded = encode(&expected).unwrap();
            assert_eq!(encoded.data, want, "{name}: encoding");
            let back: T = decode(encoded).unwrap();
            assert_eq!(back, expected, "{name}: decoding");
        }
        for v in vectors {
            let name = v["name"].as_str().unwrap();
            let hex = v["msgpack"].as_str().unwrap();
            let want: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            let value = &v["value"];
            match v["kind"].as_str().unwrap() {
                "nil" => check(name, &want, ()),
                "bool" => check(name, &want, value.as_bool().unwrap()),
                "int" => check(name, &want, value.as_i64().unwrap()),
                "float" => check(name, &want, value.as_f64().unwrap()),
                "str" => check(name, &want, value.as_str().unwrap().to_string()),
                "bytes" => {
                    let h = v["hex"].as_str().unwrap();
                    let b: Vec<u8> = (0..h.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                        .collect();
                    check(name, &want, ByteBuf::from(b));
                }
                "list<int>" => check(
                    name,
                    &want,
                    value
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_i64().unwrap())
                        .collect::<Vec<i64>>(),
                ),
                "map<str,int>" => check(
                    name,
                    &want,
                    value
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, x)| (k.clone(), x.as_i64().unwrap()))
                        .collect::<BTreeMap<String, i64>>(),
                ),
                // The layout of a reference (its handle needs a host).
                "objref" => {
                    let index = v["index"].as_u64().unwrap() as u32;
                    let ext = Ext((EXT_OBJECT_REF, ByteBuf::from(index.to_be_bytes().to_vec())));
                    assert_eq!(rmp_serde::to_vec(&ext).unwrap(), want, "{name}");
                }
                "actor" => {
                    let id = Id {
                        hi: v["hi"].as_u64().unwrap(),
                        lo: v["lo"].as_u64().unwrap(),
                    };
                    check(name, &want, ActorHandle::from_id(id));
                }
                other => panic!("{name}: unknown kind {other}"),
            }
        }
    }
}
