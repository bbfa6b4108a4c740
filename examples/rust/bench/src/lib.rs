//! Micro-benchmarks timed inside the driver with the WASI monotonic clock.
//!
//! Modes (`args`): `tasks N` (default; N = 1000), `latency N`, `actors N`,
//! `calls N`, `put MiB`. Each returns `{"mode", "ops", "seconds",
//! "micros_per_op"}`.

use std::time::Instant;

use serde::Serialize;
use wrun::prelude::*;
use wrun::serde_bytes::ByteBuf;

/// Does nothing.
#[wrun::task]
fn noop() {}

/// An actor that does nothing.
#[derive(Default)]
pub struct Nop;

#[wrun::actor]
impl Nop {
    /// Creates it.
    pub fn new() -> Self {
        Nop
    }

    /// Answers at once.
    pub fn ping(&self) -> u8 {
        1
    }
}

#[derive(Serialize)]
struct Figures {
    mode: String,
    ops: u64,
    seconds: f64,
    micros_per_op: f64,
}

fn main(args: Vec<String>) -> wrun::Result<Figures> {
    let mode = args.first().map_or("tasks", String::as_str);
    let n: u64 = match args.get(1) {
        Some(a) => a.parse().map_err(|e| format!("count {a:?}: {e}"))?,
        None if mode == "put" => 64,
        None => 1000,
    };
    let start = Instant::now();
    match mode {
        // Throughput: submit everything, then wait for everything.
        "tasks" => {
            let refs = (0..n)
                .map(|_| noop::remote())
                .collect::<wrun::Result<Vec<_>>>()?;
            wrun::get_all(&refs)?;
        }
        // Round trip: one task at a time.
        "latency" => {
            for _ in 0..n {
                noop::remote()?.get()?;
            }
        }
        // Actor creation plus a first call each.
        "actors" => {
            let actors = (0..n)
                .map(|_| Nop::remote())
                .collect::<wrun::Result<Vec<_>>>()?;
            let pings = actors
                .iter()
                .map(|a| a.ping())
                .collect::<wrun::Result<Vec<_>>>()?;
            wrun::get_all(&pings)?;
            for a in &actors {
                a.kill()?;
            }
        }
        // Method calls on one actor.
        "calls" => {
            let a = Nop::remote()?;
            let pings = (0..n).map(|_| a.ping()).collect::<wrun::Result<Vec<_>>>()?;
            wrun::get_all(&pings)?;
            a.kill()?;
        }
        // Put then get back `n` MiB.
        "put" => {
            let bytes = ByteBuf::from(vec![7u8; (n as usize) << 20]);
            let back = wrun::put(&bytes)?.get()?;
            if back.len() != bytes.len() {
                return Err(Error::application("object came back with another size"));
            }
        }
        other => return Err(format!("unknown mode {other:?}").into()),
    }
    let seconds = start.elapsed().as_secs_f64();
    let ops = if mode == "put" { 1 } else { n };
    Ok(Figures {
        mode: mode.to_string(),
        ops,
        seconds,
        micros_per_op: seconds * 1e6 / ops.max(1) as f64,
    })
}

wrun::export_job!(main = main, tasks = [noop], actors = [Nop]);
