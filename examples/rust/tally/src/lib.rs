//! The Rust stage of the cross-language pipeline (examples/python/pipeline):
//! an actor that merges the per-shard statistics the C++ tasks computed. It
//! receives references to their results and gets the objects itself.

use serde::{Deserialize, Serialize};
use wrun::prelude::*;

/// Statistics of some integers; the C++ `shard_stats` task makes one per shard.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub count: u64,
    pub sum: i64,
    pub sum_sq: i64,
    pub min: i64,
    pub max: i64,
}

impl Stats {
    fn merge(&mut self, other: &Stats) {
        if self.count == 0 {
            *self = other.clone();
            return;
        }
        self.count += other.count;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }
}

/// The running total of the shards added so far.
pub struct Tally {
    total: Stats,
    shards: u64,
}

#[wrun::actor]
impl Tally {
    pub fn new() -> Self {
        Tally {
            total: Stats::default(),
            shards: 0,
        }
    }

    /// Gets the statistics the references point to (objects another
    /// language produced), merges them, and returns how many shards it has.
    pub fn add_all(&mut self, parts: Vec<ObjectRef<Stats>>) -> wrun::Result<u64> {
        for s in wrun::get_all(&parts)? {
            self.total.merge(&s);
            self.shards += 1;
        }
        Ok(self.shards)
    }

    /// The merged statistics.
    pub fn total(&self) -> Stats {
        self.total.clone()
    }

    /// How many shards were added.
    pub fn shards(&self) -> u64 {
        self.shards
    }
}

/// Calls the task `function` (any component, any language) by name with
/// `amount` and returns its result; an error passes on unchanged (`?`), so a
/// Python caller of a Python task through here still catches its own
/// exception class.
#[wrun::task]
fn relay(function: String, amount: u64) -> wrun::Result<u64> {
    let refs: Vec<wrun::ObjectRef<u64>> = wrun::submit(
        &function,
        vec![wrun::Arg::value(&amount)?],
        &wrun::TaskOptions::new(1),
    )?;
    refs[0].get()
}

fn main(_args: Vec<String>) -> wrun::Result<String> {
    Err(Error::application(
        "this component holds the pipeline's Tally actor; submit examples/python/pipeline as the driver",
    ))
}

wrun::export_job!(main = main, tasks = [relay], actors = [Tally]);
