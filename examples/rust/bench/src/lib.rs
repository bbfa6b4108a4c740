//! Micro-benchmarks timed inside the driver with the WASI monotonic clock.
//!
//! Modes (`args`): `tasks N` (default; N = 1000), `latency N`, `actors N`,
//! `actor_create N`, `calls N`, `call_latency N`, `put MiB`, and `crowd N A`
//! (N no-op tasks, then A actors made, called once and killed one after
//! another: a job with much to list, for bench/dashboard.sh). Each returns
//! `{"mode", "ops", "seconds", "micros_per_op", "p50_micros", "p99_micros"}`;
//! the percentiles are those of single operations in the latency modes (0
//! elsewhere). `put` times the put and the get alone.

use std::time::Instant;

use serde::Serialize;
use wrun::prelude::*;

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
    p50_micros: f64,
    p99_micros: f64,
}

/// Times `n` runs of `op`, one after the other.
fn timed(n: u64, mut op: impl FnMut() -> wrun::Result<()>) -> wrun::Result<Vec<f64>> {
    let mut micros = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let t = Instant::now();
        op()?;
        micros.push(t.elapsed().as_secs_f64() * 1e6);
    }
    Ok(micros)
}

/// The nearest-rank percentile `p` (0..=100) of `xs`.
fn percentile(xs: &mut [f64], p: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * xs.len() as f64).ceil() as usize;
    xs[rank.clamp(1, xs.len()) - 1]
}

fn main(args: Vec<String>) -> wrun::Result<Figures> {
    let mode = args.first().map_or("tasks", String::as_str);
    let n: u64 = match args.get(1) {
        Some(a) => a.parse().map_err(|e| format!("count {a:?}: {e}"))?,
        None if mode == "put" => 64,
        None => 1000,
    };
    let mut singles: Vec<f64> = Vec::new();
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
        "latency" => singles = timed(n, || noop::remote()?.get())?,
        // Actor creation until its first answer, one actor at a time.
        "actor_create" => {
            singles = timed(n, || {
                let a = Nop::remote()?;
                a.ping()?.get()?;
                a.kill()
            })?
        }
        // Much to list: n tasks, then actors one after another.
        "crowd" => {
            let actors: u64 = match args.get(2) {
                Some(a) => a.parse().map_err(|e| format!("count {a:?}: {e}"))?,
                None => n / 10,
            };
            let refs = (0..n)
                .map(|_| noop::remote())
                .collect::<wrun::Result<Vec<_>>>()?;
            wrun::get_all(&refs)?;
            for _ in 0..actors {
                let a = Nop::remote()?;
                a.ping()?.get()?;
                a.kill()?;
            }
        }
        // Round trip of one method call at a time.
        "call_latency" => {
            let a = Nop::remote()?;
            a.ping()?.get()?;
            singles = timed(n, || a.ping()?.get().map(|_| ()))?;
            a.kill()?;
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
        // Put then get back `n` MiB, five times; the median is reported
        // (the first round also pays for growing memory).
        "put" => {
            let mut blob = Some(Blob::from_slice(&vec![7u8; (n as usize) << 20])?);
            let mut rounds = timed(5, || {
                // The blob goes in and comes back out: each round moves it
                // through the store, with no encoding in this guest.
                let b = blob.take().expect("the blob is back after every round");
                let len = b.len();
                let back = wrun::put_blob(b)?.get_blob()?;
                if back.len() != len {
                    return Err(Error::application("object came back with another size"));
                }
                blob = Some(back);
                Ok(())
            })?;
            let median = percentile(&mut rounds, 50.0);
            return Ok(Figures {
                mode: mode.to_string(),
                ops: 1,
                seconds: median / 1e6,
                micros_per_op: median,
                p50_micros: median,
                p99_micros: percentile(&mut rounds, 99.0),
            });
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
        p50_micros: percentile(&mut singles, 50.0),
        p99_micros: percentile(&mut singles, 99.0),
    })
}

wrun::export_job!(main = main, tasks = [noop], actors = [Nop]);
