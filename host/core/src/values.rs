//! Showing guest values (MessagePack) to people.

/// A result as people read it: a string's text as it is, any other value
/// rendered ([`render`]).
pub fn render_text(data: &[u8]) -> String {
    match decode(data) {
        Ok(rmpv::Value::String(s)) if s.as_str().is_some() => s.into_str().unwrap_or_default(),
        _ => render(data),
    }
}

/// Renders a MessagePack value as JSON-like text; object references show as
/// `ObjectRef(i)` and actor handles as `Actor(<id>)`.
pub fn render(data: &[u8]) -> String {
    let mut cursor = data;
    match rmpv::decode::read_value(&mut cursor) {
        Ok(v) => {
            let mut out = String::new();
            write_value(&mut out, &v);
            out
        }
        Err(_) => format!("<{} bytes, not MessagePack>", data.len()),
    }
}

fn write_value(out: &mut String, v: &rmpv::Value) {
    use rmpv::Value as V;
    use std::fmt::Write;
    match v {
        V::Nil => out.push_str("null"),
        V::Boolean(b) => {
            let _ = write!(out, "{b}");
        }
        V::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        V::F32(f) => {
            let _ = write!(out, "{f}");
        }
        V::F64(f) => {
            let _ = write!(out, "{f}");
        }
        V::String(s) => {
            let _ = write!(out, "{:?}", s.as_str().unwrap_or("<invalid utf-8>"));
        }
        V::Binary(b) => {
            let _ = write!(out, "<{} bytes>", b.len());
        }
        V::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, x);
            }
            out.push(']');
        }
        V::Map(entries) => {
            out.push('{');
            for (i, (k, x)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, k);
                out.push_str(": ");
                write_value(out, x);
            }
            out.push('}');
        }
        V::Ext(1, payload) if payload.len() == 4 => {
            let i = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
            let _ = write!(out, "ObjectRef({i})");
        }
        V::Ext(2, payload) => match crate::ids::Id::from_bytes(payload) {
            Some(id) => {
                let _ = write!(out, "Actor({id})");
            }
            None => out.push_str("Actor(<malformed>)"),
        },
        V::Ext(t, payload) => {
            let _ = write!(out, "Ext({t}, {} bytes)", payload.len());
        }
    }
}

/// Decodes a MessagePack value (for the host API and tests).
pub fn decode(data: &[u8]) -> Result<rmpv::Value, String> {
    let mut cursor = data;
    rmpv::decode::read_value(&mut cursor).map_err(|e| e.to_string())
}

/// Encodes a value as MessagePack.
pub fn encode(v: &rmpv::Value) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, v).expect("writing to a Vec cannot fail");
    out
}

/// A list of `n` object references, `[ObjectRef(0), ..., ObjectRef(n-1)]`:
/// the value of an ended stream, whose references are its items.
pub fn ref_list(n: usize) -> Vec<u8> {
    let items = (0..n as u32)
        .map(|i| rmpv::Value::Ext(1, i.to_be_bytes().to_vec()))
        .collect();
    encode(&rmpv::Value::Array(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_maps_lists_refs_and_actors() {
        let v = rmpv::Value::Map(vec![
            ("pi".into(), rmpv::Value::F64(3.5)),
            (
                "xs".into(),
                rmpv::Value::Array(vec![1.into(), "a".into(), rmpv::Value::Nil]),
            ),
            ("r".into(), rmpv::Value::Ext(1, vec![0, 0, 0, 2])),
            ("a".into(), rmpv::Value::Ext(2, vec![0; 16])),
        ]);
        assert_eq!(
            render(&encode(&v)),
            r#"{"pi": 3.5, "xs": [1, "a", null], "r": ObjectRef(2), "a": Actor(00000000000000000000000000000000)}"#
        );
        assert_eq!(render(&[0x92, 0x01]), "<2 bytes, not MessagePack>");
    }
}
