//! Finds the bindings module among a component's core modules and puts its
//! rewritten bytes in its place.
//!
//! A component is a sequence of sections; nothing in it refers to a byte
//! offset, so one core module section can be replaced by a longer one with
//! only its own header (id and length) rewritten.

use std::ops::Range;

use anyhow::{bail, Context, Result};
use wasmparser::{Parser, Payload};

use crate::module::{self, POP_LIST};

/// The component section id of a core module.
const CORE_MODULE_SECTION: u8 = 1;

/// `component` with its bindings module's byte lists freed.
pub fn patch(component: &[u8]) -> Result<Vec<u8>> {
    let mut found = Vec::new();
    for range in top_level_modules(component)? {
        if let Some(imports) = module::find_imports(&component[range.clone()])? {
            found.push((range, imports));
        }
    }
    let (range, imports) = match found.len() {
        1 => found.remove(0),
        0 => bail!(
            "no core module of the component imports {}.{}: this is not a component \
             componentize-py 0.25.1 made (runtimes/python/setup.sh pins it); \
             the patch must be reviewed for another version",
            POP_LIST.0,
            POP_LIST.1
        ),
        n => bail!(
            "{n} core modules import {}.{}; expected the one bindings module",
            POP_LIST.0,
            POP_LIST.1
        ),
    };
    let patched = module::rewrite(&component[range.clone()], imports)
        .context("rewriting the bindings module")?;
    let header = section_header_start(component, &range)?;
    let mut out = Vec::with_capacity(component.len() + patched.len() - range.len() + 8);
    out.extend_from_slice(&component[..header]);
    out.push(CORE_MODULE_SECTION);
    leb128_u32(
        &mut out,
        u32::try_from(patched.len()).context("the patched module is over 4 GiB")?,
    );
    out.extend_from_slice(&patched);
    out.extend_from_slice(&component[range.end..]);
    Ok(out)
}

/// The byte ranges of the core modules that are direct children of the
/// component (not those of nested components).
fn top_level_modules(component: &[u8]) -> Result<Vec<Range<usize>>> {
    let mut depth = 0usize;
    let mut modules = Vec::new();
    for payload in Parser::new(0).parse_all(component) {
        match payload.context("parsing the component")? {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != wasmparser::Encoding::Component {
                    bail!("not a component: a core module");
                }
                depth += 1;
            }
            Payload::End(_) => depth -= 1,
            Payload::ModuleSection {
                unchecked_range, ..
            } if depth == 1 => modules.push(module::byte_range(unchecked_range)),
            _ => {}
        }
    }
    Ok(modules)
}

/// Where the section whose contents are `contents` starts: its id byte,
/// followed by the contents' length as LEB128 (minimal or padded to 5 bytes).
fn section_header_start(bytes: &[u8], contents: &Range<usize>) -> Result<usize> {
    let len = u32::try_from(contents.len()).context("a module over 4 GiB")?;
    let mut minimal = Vec::new();
    leb128_u32(&mut minimal, len);
    for width in [minimal.len(), 5] {
        let Some(start) = contents.start.checked_sub(width + 1) else {
            continue;
        };
        if bytes[start] == CORE_MODULE_SECTION
            && decode_leb128_u32(&bytes[start + 1..contents.start]) == Some(len)
        {
            return Ok(start);
        }
    }
    bail!(
        "the header of the core module section at byte {} is not where it should be",
        contents.start
    )
}

fn leb128_u32(out: &mut Vec<u8>, mut n: u32) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The value of `bytes` when they are exactly one LEB128 u32.
fn decode_leb128_u32(bytes: &[u8]) -> Option<u32> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        let last = byte & 0x80 == 0;
        if last != (i + 1 == bytes.len()) {
            return None;
        }
    }
    u32::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_round_trips_minimal_and_padded() {
        for n in [0u32, 1, 127, 128, 300, 1 << 20, u32::MAX] {
            let mut bytes = Vec::new();
            leb128_u32(&mut bytes, n);
            assert_eq!(decode_leb128_u32(&bytes), Some(n));
        }
        // 3 padded to five bytes, as some linkers write lengths.
        assert_eq!(decode_leb128_u32(&[0x83, 0x80, 0x80, 0x80, 0x00]), Some(3));
        assert_eq!(decode_leb128_u32(&[0x83]), None);
        assert_eq!(decode_leb128_u32(&[0x03, 0x00]), None);
    }
}
