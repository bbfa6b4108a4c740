//! Records as people read them: sizes in human units, fields as text.

use serde_json::Value;

/// A size for people (`1.5 MiB`).
pub(crate) fn size(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().iec().to_string()
}

/// A field as people read it: strings bare, null as `-`.
pub(crate) fn reads(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}
