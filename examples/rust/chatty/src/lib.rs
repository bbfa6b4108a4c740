//! A job for the operations tests: lines from tasks on several nodes, and a
//! job that runs until it is stopped.
//!
//! - `lines N R...`: one task per R, which needs one of the custom resource R
//!   (so it runs on the node offering it) and prints N numbered lines
//!   `task K line I`. -> `{"nodes": {node: tasks}, "lines": total}`
//! - `slow N MS`: the driver prints `tick I` N times, MS ms apart.
//!   -> `"ticked N times"`
//! - `value N`: returns a string of N bytes. -> `"xx..."`
//! - `forever R...`: per R, an actor and a task that burns CPU, each needing
//!   one R; the driver keeps a 1 MiB object, prints `tick I` every 100 ms
//!   and never returns.
//! - `leave MS R...`: per R, a task needing one R that prints `task K line I`
//!   every 10 ms for ever; the driver returns after MS ms without waiting
//!   for them (its end ends them). -> `"left N tasks"`

use std::collections::BTreeMap;
use std::time::Duration;

use wrun::prelude::*;

fn here() -> String {
    format!("{:016x}", wrun::context::node_id().hi)
}

/// Prints `n` numbered lines as task `k`; the node it ran on.
#[wrun::task]
fn speak(k: u64, n: u64) -> String {
    for i in 0..n {
        println!("task {k} line {i}");
    }
    here()
}

/// Prints numbered lines as task `k`, one every 10 ms, for ever (until its
/// job ends).
#[wrun::task]
fn chatter(k: u64) {
    for i in 0.. {
        println!("task {k} line {i}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Burns CPU for ever (until its job is stopped).
#[wrun::task]
fn burn() {
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
    }
}

/// An actor that holds its resource while it lives.
pub struct Holder {
    node: String,
}

#[wrun::actor]
impl Holder {
    pub fn new() -> Self {
        Holder { node: here() }
    }

    /// The node it lives on (and a line saying so).
    pub fn node(&self) -> String {
        println!("holder on {}", self.node);
        self.node.clone()
    }
}

/// What `main` returns.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Outcome {
    Spoken {
        nodes: BTreeMap<String, u64>,
        lines: u64,
    },
    Text(String),
}

fn number(args: &[String], i: usize) -> wrun::Result<u64> {
    let a = args.get(i).ok_or("missing a number")?;
    Ok(a.parse().map_err(|e| format!("`{a}`: {e}"))?)
}

fn tick_for_ever() -> ! {
    let mut i = 0u64;
    loop {
        println!("tick {i}");
        i += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn main(args: Vec<String>) -> wrun::Result<Outcome> {
    match args.first().map(String::as_str) {
        Some("lines") => {
            let n = number(&args, 1)?;
            let tasks = args[2..]
                .iter()
                .enumerate()
                .map(|(k, r)| speak::options().resource(r, 1.0).remote(k as u64, n))
                .collect::<wrun::Result<Vec<_>>>()?;
            let mut nodes = BTreeMap::new();
            for node in wrun::get_all(&tasks)? {
                *nodes.entry(node).or_insert(0) += 1;
            }
            let lines = n * (args.len() as u64 - 2);
            Ok(Outcome::Spoken { nodes, lines })
        }
        Some("slow") => {
            let (n, ms) = (number(&args, 1)?, number(&args, 2)?);
            for i in 0..n {
                println!("tick {i}");
                std::thread::sleep(Duration::from_millis(ms));
            }
            Ok(Outcome::Text(format!("ticked {n} times")))
        }
        Some("value") => Ok(Outcome::Text("x".repeat(number(&args, 1)? as usize))),
        Some("forever") => {
            let mut held = Vec::new();
            for r in &args[1..] {
                let h = Holder::options().resource(r, 1.0).remote()?;
                h.node()?.get()?;
                held.push(h);
                burn::options().resource(r, 1.0).remote()?;
            }
            let _kept = wrun::put(&"x".repeat(1 << 20))?;
            tick_for_ever()
        }
        Some("leave") => {
            let ms = number(&args, 1)?;
            for (k, r) in args[2..].iter().enumerate() {
                chatter::options().resource(r, 1.0).remote(k as u64)?;
            }
            std::thread::sleep(Duration::from_millis(ms));
            Ok(Outcome::Text(format!("left {} tasks", args.len() - 2)))
        }
        other => Err(Error::application(format!("unknown mode {other:?}"))),
    }
}

wrun::export_job!(main = main, tasks = [speak, chatter, burn], actors = [Holder]);
