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
//! - `actors RESOURCE [R...]`: a named actor that needs RESOURCE (so it lives
//!   on a node that has it) takes 20 calls at once and must see them in
//!   order; a task per further resource R (one on each node that has it)
//!   finds the actor by name and calls it; the driver finds it too (by
//!   lookup and by `get_if_exists`), restarts it, kills it and calls it
//!   once more.
//!   -> `{"driver", "actor_node", "in_order", "visits": [[task node, actor node]...], "found_by_driver", "restarted_fresh", "after_kill"}`
//! - `survive RESOURCE MS`: a task that needs RESOURCE and sleeps MS, with 2
//!   retries (a test kills the node running it). -> `{"driver", "nodes": {node: 1}}`
//! - `hold-group SECONDS`: a placement group of one 1-CPU bundle, waiting up
//!   to SECONDS for room. -> `{"driver", "nodes": {"placed" or error kind: 1}}`
//! - `groups`: placement groups, node affinity and spread on a cluster of
//!   two nodes of 2 CPUs each (see `groups` below for what it reports).
//! - `inline RESOURCE MIB`: a MIB-MiB blob passed by value to a task that
//!   needs RESOURCE. -> `{"driver", "reader", "len", "sum", "expected"}`
//! - `result RESOURCE MIB`: a task that needs RESOURCE returns a MIB-MiB
//!   blob by value; the driver reads it. -> `{"driver", "reader", "len", "sum", "expected"}`

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

/// The node it ran on, and the blob's length and byte sum. Takes the
/// reference and reads the blob itself (adopting the host's buffer: one
/// copy into this guest, however large).
#[wrun::task]
fn digest(r: ObjectRef<Blob>) -> wrun::Result<(String, u64, u64)> {
    let b = r.get_blob()?;
    Ok((here(), b.len() as u64, b.iter().map(|x| *x as u64).sum()))
}

/// Like `digest`, but given the blob itself: a large one travels to another
/// node as an object, not inside the call.
#[wrun::task]
fn digest_value(b: Blob) -> (String, u64, u64) {
    (here(), b.len() as u64, b.iter().map(|x| *x as u64).sum())
}

/// Like `digest`, but leaves `[len, sum]` in an object on its node.
#[wrun::task]
fn digest_and_keep(r: ObjectRef<Blob>) -> wrun::Result<(String, ObjectRef<Vec<u64>>)> {
    let b = r.get_blob()?;
    let summary = vec![b.len() as u64, b.iter().map(|x| *x as u64).sum()];
    Ok((here(), wrun::put(&summary)?))
}

/// Puts a blob of `len` bytes on its node and returns the reference.
#[wrun::task]
fn make_blob(len: u64) -> wrun::Result<(String, ObjectRef<Blob>)> {
    let (blob, _) = pattern(len as usize)?;
    Ok((here(), wrun::put_blob(blob)?))
}

/// A blob of `len` bytes in the pattern, returned by value.
#[wrun::task]
fn blob_of(len: u64) -> wrun::Result<Blob> {
    Ok(pattern(len as usize)?.0)
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

/// Needs no CPU of its own: waits for a child that needs one.
#[wrun::task]
fn parent_of_nap(ms: u64) -> wrun::Result<String> {
    nap::remote(ms)?.get()
}

#[wrun::task]
fn echo(node: String) -> String {
    node
}

/// A shared namespace: a name there outlives the job unless its actor dies.
const NAMESPACE: &str = "cluster-demo";

/// Records what it is told, in the order the calls arrive.
pub struct Tally {
    seen: Vec<u64>,
}

#[wrun::actor]
impl Tally {
    pub fn new() -> Self {
        Tally { seen: Vec::new() }
    }

    /// Records `i`; returns the node it runs on and how many it has seen.
    pub fn add(&mut self, i: u64) -> (String, u64) {
        self.seen.push(i);
        (here(), self.seen.len() as u64)
    }

    pub fn seen(&self) -> Vec<u64> {
        self.seen.clone()
    }

    /// Streams what it has seen (a streaming call needs the actor on the
    /// caller's node).
    #[streaming]
    pub fn replay(&self) -> Vec<u64> {
        self.seen.clone()
    }
}

/// Finds the actor named `tally` and calls it; returns (this task's node,
/// the actor's node).
#[wrun::task]
fn visit(i: u64) -> wrun::Result<(String, String)> {
    let t = TallyHandle::lookup("tally", Some(NAMESPACE))?.ok_or("no actor named `tally`")?;
    let (actor_node, _) = t.add(i)?.get()?;
    Ok((here(), actor_node))
}

fn actors(resource: &str, others: &[String]) -> wrun::Result<Outcome> {
    let t = Tally::options()
        .name("tally")
        .namespace(NAMESPACE)
        .resource(resource, 1.0)
        .max_restarts(1)
        .remote()?;
    let calls = (1..=20)
        .map(|i| t.add(i))
        .collect::<wrun::Result<Vec<_>>>()?;
    let mut actor_node = String::new();
    for c in calls {
        actor_node = c.get()?.0;
    }
    let in_order = t.seen()?.get()? == (1..=20).collect::<Vec<u64>>();
    let visits = others
        .iter()
        .enumerate()
        .map(|(k, r)| {
            visit::options()
                .cpus(0.5)
                .resource(r, 1.0)
                .remote(100 + k as u64)
        })
        .collect::<wrun::Result<Vec<_>>>()?;
    let visits = wrun::get_all(&visits)?;
    let found_by_driver = TallyHandle::lookup("tally", Some(NAMESPACE))? == Some(t);
    // Ray's get_if_exists finds it on its node; a restart there gives it a
    // fresh instance (after the calls made before it).
    let existing = Tally::options()
        .name("tally")
        .namespace(NAMESPACE)
        .get_if_exists(true)
        .remote()?;
    t.restart()?;
    let restarted_fresh = existing == t && t.seen()?.get()?.is_empty();
    let streaming_remote = match t.replay() {
        Ok(_) if actor_node == here() => "the actor is here".to_string(),
        Ok(_) => "accepted".to_string(),
        Err(e) => e.kind.to_string(),
    };
    t.kill()?;
    let after_kill = match t.seen().and_then(|r| r.get()) {
        Ok(v) => format!("still alive: {v:?}"),
        Err(e) => e.kind.to_string(),
    };
    Ok(Outcome::Actors {
        driver: here(),
        actor_node,
        in_order,
        visits: visits.into_iter().map(|(a, b)| vec![a, b]).collect(),
        found_by_driver,
        restarted_fresh,
        streaming_remote,
        after_kill,
    })
}

/// What `groups` observed.
#[derive(serde::Serialize, Default)]
struct Groups {
    driver: String,
    /// STRICT_SPREAD of two 1-CPU bundles: their nodes, and where a task
    /// in each bundle ran.
    spread_nodes: Vec<String>,
    spread_tasks: Vec<String>,
    /// STRICT_SPREAD of three bundles on two nodes: the error.
    three_on_two: String,
    /// Two 1.5-CPU bundles while the first group holds a CPU per node: the
    /// error kind after a 300 ms timeout.
    while_full: String,
    /// The same once the first group is removed: their nodes.
    after_remove: Vec<String>,
    /// STRICT_PACK of two bundles: their nodes.
    pack_nodes: Vec<String>,
    /// An actor in bundle 1 of the group above, and where it lives.
    actor_node: String,
    /// Tasks with a hard affinity to the other node, a soft one to a node
    /// that does not exist, and the error of a hard one to it.
    hard: String,
    soft_missing: String,
    hard_missing: String,
    /// Nodes that ran 4 SPREAD tasks.
    spread_task_nodes: BTreeMap<String, u64>,
}

fn groups() -> wrun::Result<Groups> {
    use wrun::{Bundle, PlacementGroup, Strategy};
    let hexes = |ids: Vec<wrun::Id>| ids.into_iter().map(hex).collect::<Vec<_>>();
    let mut out = Groups {
        driver: here(),
        ..Default::default()
    };
    let one = Bundle::cpus(1.0);
    let a = PlacementGroup::create(&[one.clone(), one.clone()], Strategy::StrictSpread, None)?;
    out.spread_nodes = hexes(a.bundle_nodes()?);
    let in_bundles = (0..2)
        .map(|i| where_::options().placement_group(&a, Some(i)).remote())
        .collect::<wrun::Result<Vec<_>>>()?;
    out.spread_tasks = wrun::get_all(&in_bundles)?;
    out.three_on_two = match PlacementGroup::create(
        &[one.clone(), one.clone(), one],
        Strategy::StrictSpread,
        Some(Duration::from_millis(200)),
    ) {
        Ok(_) => "placed".into(),
        Err(e) => format!("{}: {}", e.kind, e.message),
    };
    let big = Bundle::cpus(1.5);
    out.while_full = match PlacementGroup::create(
        &[big.clone(), big.clone()],
        Strategy::StrictSpread,
        Some(Duration::from_millis(300)),
    ) {
        Ok(_) => "placed".into(),
        Err(e) => e.kind.to_string(),
    };
    a.remove()?;
    let c = PlacementGroup::create(
        &[big.clone(), big],
        Strategy::StrictSpread,
        Some(Duration::from_secs(10)),
    )?;
    out.after_remove = hexes(c.bundle_nodes()?);
    let quarter = Bundle::cpus(0.25);
    let p = PlacementGroup::create(&[quarter.clone(), quarter], Strategy::StrictPack, None)?;
    out.pack_nodes = hexes(p.bundle_nodes()?);
    let t = Tally::options().placement_group(&c, Some(1)).remote()?;
    out.actor_node = t.add(1)?.get()?.0;
    let nodes = c.bundle_nodes()?;
    let other = nodes
        .iter()
        .copied()
        .find(|n| hex(*n) != here())
        .ok_or("no other node")?;
    let tiny = || where_::options().cpus(0.1);
    out.hard = tiny().node_affinity(other, false).remote()?.get()?;
    let missing = wrun::Id { hi: 0x1234, lo: 0 };
    out.soft_missing = tiny().node_affinity(missing, true).remote()?.get()?;
    out.hard_missing = match tiny().node_affinity(missing, false).remote()?.get() {
        Ok(n) => format!("ran on {n}"),
        Err(e) => e.message,
    };
    // The groups' CPUs go back before the last part needs them.
    t.kill()?;
    p.remove()?;
    c.remove()?;
    // Nodes see each other's free resources as of the last heartbeat.
    std::thread::sleep(Duration::from_millis(1200));
    let spread = (0..4)
        .map(|_| nap::options().cpus(0.25).spread().remote(300))
        .collect::<wrun::Result<Vec<_>>>()?;
    for n in wrun::get_all(&spread)? {
        *out.spread_task_nodes.entry(n).or_insert(0) += 1;
    }
    Ok(out)
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum Outcome {
    Groups(Box<Groups>),
    Actors {
        driver: String,
        actor_node: String,
        in_order: bool,
        visits: Vec<Vec<String>>,
        found_by_driver: bool,
        /// `get_if_exists` found it, and after `restart` its state is fresh.
        restarted_fresh: bool,
        /// A streaming call to it from another node: refused.
        streaming_remote: String,
        after_kill: String,
    },
    Objects {
        driver: String,
        task_nodes: Vec<String>,
        expected: u64,
        sums: Vec<u64>,
        kept: Vec<u64>,
        /// A blob another node put, waited for without fetch_local: ready
        /// (1), and never pulled here.
        ready_not_pulled: usize,
    },
    Inline {
        driver: String,
        reader: String,
        len: u64,
        sum: u64,
        expected: u64,
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
    let a = on_other().remote(r.clone())?;
    let b = on_other().remote(r.clone())?;
    let kept = digest_and_keep::options()
        .cpus(0.5)
        .resource(resource, 1.0)
        .remote(r.clone())?;
    let (na, _, sa) = a.get()?;
    let (nb, _, sb) = b.get()?;
    let (nk, summary) = kept.get()?;
    let (_, far_blob) = make_blob::options()
        .cpus(0.5)
        .resource(resource, 1.0)
        .remote(1 << 20)?
        .get()?;
    let (ready, _) = wrun::wait_fetch_local(
        std::slice::from_ref(&far_blob),
        1,
        Some(std::time::Duration::from_secs(60)),
        false,
    )?;
    Ok(Outcome::Objects {
        driver: here(),
        task_nodes: vec![na, nb, nk],
        expected,
        sums: vec![sa, sb],
        kept: summary.get()?,
        ready_not_pulled: ready.len(),
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
        "inline" => {
            let (blob, expected) = pattern((number(&args, 2, 8)? << 20) as usize)?;
            let on_other = digest_value::options().cpus(0.5).resource(resource, 1.0);
            let (reader, len, sum) = on_other.remote(&blob)?.get()?;
            Ok(Outcome::Inline {
                driver: here(),
                reader,
                len,
                sum,
                expected,
            })
        }
        "result" => {
            let len = number(&args, 2, 8)? << 20;
            let (_, expected) = pattern(len as usize)?;
            let on_other = blob_of::options().cpus(0.5).resource(resource, 1.0);
            let b = on_other.remote(len)?.get_blob()?;
            Ok(Outcome::Inline {
                driver: here(),
                reader: here(),
                len: b.len() as u64,
                sum: b.iter().map(|x| *x as u64).sum(),
                expected,
            })
        }
        "actors" => actors(resource, args.get(2..).unwrap_or_default()),
        "groups" => groups().map(|g| Outcome::Groups(Box::new(g))),
        "survive" => {
            let ms = number(&args, 2, 3000)?;
            let r = nap::options()
                .cpus(0.5)
                .resource(resource, 1.0)
                .max_retries(2)
                .remote(ms)?;
            Ok(count(vec![r.get()?]))
        }
        "hold-group" => {
            let secs = number(&args, 1, 10)?;
            let got = wrun::PlacementGroup::create(
                &[wrun::Bundle::cpus(1.0)],
                wrun::Strategy::StrictPack,
                Some(Duration::from_secs(secs)),
            );
            Ok(count(vec![match got {
                Ok(_) => "placed".to_string(),
                Err(e) => e.kind.to_string(),
            }]))
        }
        "spread" => {
            let n = number(&args, 1, 8)?;
            let ms = number(&args, 2, 300)?;
            let refs = (0..n)
                .map(|_| nap::remote(ms))
                .collect::<wrun::Result<Vec<_>>>()?;
            Ok(count(wrun::get_all(&refs)?))
        }
        "chain" => {
            // Each consumer needs a CPU and is submitted while its producer
            // (which needs none) waits for a child that needs one: on a
            // one-CPU node a consumer that took the CPU before its argument
            // was ready would starve the child it waits for.
            let n = number(&args, 1, 4)?;
            let ms = number(&args, 2, 20)?;
            let refs = (0..n)
                .map(|_| {
                    let produced = parent_of_nap::options().cpus(0.0).remote(ms)?;
                    echo::options().cpus(1.0).remote(&produced)
                })
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
        other => Err(format!(
            "unknown mode {other:?}: use objects, locality, inline, actors, groups, hold-group, survive, spread, chain or noop"
        )
        .into()),
    }
}

wrun::export_job!(
    main = main,
    tasks = [
        digest,
        digest_value,
        digest_and_keep,
        make_blob,
        blob_of,
        length,
        nap,
        where_,
        parent_of_nap,
        echo,
        visit
    ],
    actors = [Tally]
);
