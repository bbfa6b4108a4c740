//! Objects: references inside values, duplicates, `wait` for any k of n with
//! a timeout, and `get` with a timeout.
//!
//! `objects nested` returns `{"local": 4, "by_ref": 4, "inline": 4}`;
//! `objects wait` returns `{"ready_first": 2, "ready_after_timeout": 0,
//! "rest": [3, 4], "get_timeout": "get-timeout"}`; `objects blob` moves a
//! 3 MiB [`Blob`] through the store and returns the same byte sum four ways.

use std::collections::BTreeMap;
use std::time::Duration;

use wrun::prelude::*;

/// Sums the objects behind `refs`, fetching them itself.
#[wrun::task]
fn sum_refs(refs: Vec<ObjectRef<u64>>) -> wrun::Result<u64> {
    Ok(wrun::get_all(&refs)?.into_iter().sum())
}

/// Returns `v` after sleeping `ms` milliseconds (holding no host thread).
#[wrun::task]
fn slow(ms: u64, v: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    v
}

fn nested() -> wrun::Result<BTreeMap<&'static str, u64>> {
    let a = wrun::put(&1u64)?;
    let b = wrun::put(&2u64)?;
    // An object whose value holds references, one of them twice.
    let outer = wrun::put(&vec![a.clone(), b.clone(), a.clone()])?;
    let local: u64 = wrun::get_all(&outer.get()?)?.into_iter().sum();
    // By reference: the task receives the list of references, resolved.
    let by_ref = sum_refs::remote(&outer)?.get()?;
    // By value: the list travels inline with the call.
    let inline = sum_refs::remote(vec![a.clone(), b, a])?.get()?;
    Ok([("local", local), ("by_ref", by_ref), ("inline", inline)].into())
}

#[derive(serde::Serialize)]
struct Waited {
    ready_first: usize,
    ready_after_timeout: usize,
    rest: Vec<u64>,
    get_timeout: String,
}

fn waits() -> wrun::Result<Waited> {
    let sleepy = || slow::options().cpus(0.0);
    let refs = vec![
        slow::remote(0, 1)?,
        slow::remote(0, 2)?,
        sleepy().remote(1_500, 3)?,
        sleepy().remote(1_500, 4)?,
    ];
    let (ready, pending) = wrun::wait(&refs, 2, Some(Duration::from_secs(1)))?;
    let (again, _) = wrun::wait(&pending, 1, Some(Duration::from_millis(10)))?;
    let rest = wrun::get_all(&pending)?;
    let get_timeout = match sleepy()
        .remote(1_500, 5)?
        .get_timeout(Duration::from_millis(20))
    {
        Ok(v) => format!("got {v} before the timeout"),
        Err(e) => e.kind.to_string(),
    };
    Ok(Waited {
        ready_first: ready.len(),
        ready_after_timeout: again.len(),
        rest,
        get_timeout,
    })
}

/// Sums a blob's bytes inside a task (it arrives as an ordinary value).
#[wrun::task]
fn blob_sum(b: Blob) -> u64 {
    b.iter().map(|x| *x as u64).sum()
}

/// Moves a 3 MiB blob through the store without encoding it, and reads it
/// back three ways: adopted, decoded, and as a task argument.
fn blobs() -> wrun::Result<BTreeMap<&'static str, u64>> {
    let mut blob = Blob::zeroed(3 << 20)?;
    for (i, b) in blob.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let expected: u64 = blob.iter().map(|x| *x as u64).sum();
    let r = wrun::put_blob(blob)?;
    let adopted: u64 = r.get_blob()?.iter().map(|x| *x as u64).sum();
    let decoded: u64 = r.get()?.iter().map(|x| *x as u64).sum();
    let in_task = blob_sum::remote(&r)?.get()?;
    Ok([
        ("expected", expected),
        ("adopted", adopted),
        ("decoded", decoded),
        ("in_task", in_task),
    ]
    .into())
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum Outcome {
    Nested(BTreeMap<&'static str, u64>),
    Waited(Waited),
}

fn main(args: Vec<String>) -> wrun::Result<Outcome> {
    match args.first().map_or("nested", String::as_str) {
        "nested" => nested().map(Outcome::Nested),
        "wait" => waits().map(Outcome::Waited),
        "blob" => blobs().map(Outcome::Nested),
        other => Err(format!("unknown mode {other:?}: use nested, wait or blob").into()),
    }
}

wrun::export_job!(main = main, tasks = [sum_refs, slow, blob_sum]);
