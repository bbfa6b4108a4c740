//! Work and objects across the nodes of a cluster. Each mode returns what it
//! observed (which node ran what, what came back), for tests and benchmarks.
//!
//! - `objects RESOURCE MIB`: the driver puts a MIB-MiB blob; two tasks that
//!   need RESOURCE (so they run on a node that has it) read it by reference
//!   at the same time, and a third puts a summary object on its node and
//!   returns the reference, which the driver reads back.
//!   -> `{"driver", "task_nodes": [3 ids], "expected", "sums": [2], "kept": [len, sum]}`
//! - `locality RESOURCE MIB`: a task that needs RESOURCE puts a MIB-MiB blob
//!   on its node and returns the reference; a task that needs nothing but
//!   takes that blob runs where the blob is. -> `{"driver", "owner", "reader", "len"}`
//! - `spread N MS`: N tasks of 1 CPU that each sleep MS ms. -> `{"driver", "nodes": {id: count}}`
//! - `noop N`: N no-op tasks of 1 CPU. -> `{"driver", "nodes": {id: count}}`

use std::collections::BTreeMap;
use std::time::Duration;

use wrun::prelude::*;

fn hex(id: wrun::Id) -> String {
    format!("{:016x}", id.hi)
}

fn here() -> String {
    hex(wrun::context::node_id())
}

/// A blob of `len` bytes with a pattern, and the sum of its bytes.
fn pattern(len: usize) -> wrun::Result<(Blob, u64)> {
    let mut blob = Blob::zeroed(len)?;
    let mut sum = 0u64;
    for (i, b) in blob.iter_mut().enumerate() {
        *b = (i.wrapping_mul(7) % 251) as u8;
        sum += *b as u64;
    }
    Ok((blob, sum))
}

/// The node it ran on, and the blob's length and byte sum.
#[wrun::task]
fn digest(b: Blob) -> (String, u64, u64) {
    (here(), b.len() as u64, b.iter().map(|x| *x as u64).sum())
}

/// Like `digest`, but leaves `[len, sum]` in an object on its node.
#[wrun::task]
fn digest_and_keep(b: Blob) -> wrun::Result<(String, ObjectRef<Vec<u64>>)> {
    let summary = vec![b.len() as u64, b.iter().map(|x| *x as u64).sum()];
    Ok((here(), wrun::put(&summary)?))
}

/// Puts a blob of `len` bytes on its node and returns the reference.
#[wrun::task]
fn make_blob(len: u64) -> wrun::Result<(String, ObjectRef<Blob>)> {
    let (blob, _) = pattern(len as usize)?;
    Ok((here(), wrun::put_blob(blob)?))
}

#[wrun::task]
fn length(b: Blob) -> (String, u64) {
    (here(), b.len() as u64)
}

#[wrun::task]
fn nap(ms: u64) -> String {
    std::thread::sleep(Duration::from_millis(ms));
    here()
}

#[wrun::task]
fn where_() -> String {
    here()
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum Outcome {
    Objects {
        driver: String,
        task_nodes: Vec<String>,
        expected: u64,
        sums: Vec<u64>,
        kept: Vec<u64>,
    },
    Locality {
        driver: String,
        owner: String,
        reader: String,
        len: u64,
    },
    Nodes {
        driver: String,
        nodes: BTreeMap<String, u64>,
    },
}

fn number(args: &[String], i: usize, default: u64) -> wrun::Result<u64> {
    match args.get(i) {
        None => Ok(default),
        Some(s) => s
            .parse()
            .map_err(|_| format!("argument {i} `{s}`: not a number").into()),
    }
}

fn objects(resource: &str, mib: u64) -> wrun::Result<Outcome> {
    let (blob, expected) = pattern((mib << 20) as usize)?;
    let r = wrun::put_blob(blob)?;
    let on_other = || digest::options().cpus(0.5).resource(resource, 1.0);
    // Two readers at once: the node that runs them pulls the blob once.
    let a = on_other().remote(&r)?;
    let b = on_other().remote(&r)?;
    let kept = digest_and_keep::options()
        .cpus(0.5)
        .resource(resource, 1.0)
        .remote(&r)?;
    let (na, _, sa) = a.get()?;
    let (nb, _, sb) = b.get()?;
    let (nk, summary) = kept.get()?;
    Ok(Outcome::Objects {
        driver: here(),
        task_nodes: vec![na, nb, nk],
        expected,
        sums: vec![sa, sb],
        kept: summary.get()?,
    })
}

fn locality(resource: &str, mib: u64) -> wrun::Result<Outcome> {
    let (owner, blob) = make_blob::options()
        .cpus(0.5)
        .resource(resource, 1.0)
        .remote(mib << 20)?
        .get()?;
    let (reader, len) = length::options().cpus(0.5).remote(&blob)?.get()?;
    Ok(Outcome::Locality {
        driver: here(),
        owner,
        reader,
        len,
    })
}

fn count(nodes: Vec<String>) -> Outcome {
    let mut counts = BTreeMap::new();
    for n in nodes {
        *counts.entry(n).or_insert(0) += 1;
    }
    Outcome::Nodes {
        driver: here(),
        nodes: counts,
    }
}

fn main(args: Vec<String>) -> wrun::Result<Outcome> {
    let resource = args.get(1).map_or("license", String::as_str);
    match args.first().map_or("objects", String::as_str) {
        "objects" => objects(resource, number(&args, 2, 8)?),
        "locality" => locality(resource, number(&args, 2, 4)?),
        "spread" => {
            let n = number(&args, 1, 8)?;
            let ms = number(&args, 2, 300)?;
            let refs = (0..n)
                .map(|_| nap::remote(ms))
                .collect::<wrun::Result<Vec<_>>>()?;
            Ok(count(wrun::get_all(&refs)?))
        }
        "noop" => {
            let n = number(&args, 1, 1000)?;
            let refs = (0..n)
                .map(|_| where_::remote())
                .collect::<wrun::Result<Vec<_>>>()?;
            Ok(count(wrun::get_all(&refs)?))
        }
        other => {
            Err(format!("unknown mode {other:?}: use objects, locality, spread or noop").into())
        }
    }
}

wrun::export_job!(
    main = main,
    tasks = [digest, digest_and_keep, make_blob, length, nap, where_]
);
