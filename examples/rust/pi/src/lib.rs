//! Monte Carlo estimate of pi: many independent sampling tasks, summed.
//!
//! Deterministic: each task seeds its own PRNG from its index, so the result
//! is the same on every run and cluster.

use serde::Serialize;

/// Points sampled per task.
const POINTS_PER_TASK: u64 = 10_000;

/// splitmix64: a small, fast, deterministic PRNG.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform float in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Counts how many of `n` random points in the unit square fall inside the
/// quarter circle.
#[wrun::task]
fn sample(seed: u64, n: u64) -> u64 {
    let mut rng = SplitMix64(seed);
    (0..n)
        .filter(|_| {
            let (x, y) = (rng.unit(), rng.unit());
            x * x + y * y < 1.0
        })
        .count() as u64
}

#[derive(Serialize)]
struct Estimate {
    tasks: u64,
    inside: u64,
    total: u64,
    pi: f64,
}

/// Fans out `args[0]` (default 1,000) sampling tasks and sums them.
fn main(args: Vec<String>) -> wrun::Result<Estimate> {
    let tasks: u64 = match args.first() {
        Some(a) => a.parse().map_err(|e| format!("task count {a:?}: {e}"))?,
        None => 1_000,
    };
    let refs = (0..tasks)
        .map(|seed| sample::remote(seed, POINTS_PER_TASK))
        .collect::<wrun::Result<Vec<_>>>()?;
    let inside: u64 = wrun::get_all(&refs)?.into_iter().sum();
    let total = tasks * POINTS_PER_TASK;
    Ok(Estimate {
        tasks,
        inside,
        total,
        pi: 4.0 * inside as f64 / total as f64,
    })
}

wrun::export_job!(main = main, tasks = [sample]);
