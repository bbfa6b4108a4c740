//! A named actor shared by tasks: each task looks it up by name, increments
//! it, and the driver checks the total, kills it and sees later calls fail.

use serde::Serialize;
use wrun::prelude::*;

/// A counter living in its own actor instance.
pub struct Counter {
    n: i64,
}

#[wrun::actor]
impl Counter {
    /// Starts at `start`.
    pub fn new(start: i64) -> Self {
        Counter { n: start }
    }

    /// Adds `by` and returns the new value.
    pub fn incr(&mut self, by: i64) -> i64 {
        self.n += by;
        self.n
    }

    /// The current value.
    pub fn value(&self) -> i64 {
        self.n
    }
}

/// Increments the counter it is handed, after checking that looking the
/// actor up by name finds the same one.
#[wrun::task]
fn bump(c: CounterHandle, by: i64) -> wrun::Result<i64> {
    let found = CounterHandle::lookup("counter", None)?.ok_or("no actor named `counter`")?;
    if found != c {
        return Err(Error::application("lookup found a different actor"));
    }
    c.incr(by)?.get()
}

#[derive(Serialize)]
struct Report {
    /// The final value: 1 + 2 + ... + 10 = 55.
    value: i64,
    /// The largest value a bump saw (also 55: the last increment).
    max_seen: i64,
    /// How a call after `kill` failed: `actor-died`.
    after_kill: String,
}

fn main(_args: Vec<String>) -> wrun::Result<Report> {
    let c = Counter::options().name("counter").remote(0)?;
    let bumps = (1..=10)
        .map(|by| bump::remote(c, by))
        .collect::<wrun::Result<Vec<_>>>()?;
    let max_seen = wrun::get_all(&bumps)?.into_iter().max().unwrap_or(0);
    let value = c.value()?.get()?;
    c.kill()?;
    let after_kill = match c.value().and_then(|r| r.get()) {
        Ok(v) => format!("still alive: {v}"),
        Err(e) => e.kind.to_string(),
    };
    Ok(Report {
        value,
        max_seen,
        after_kill,
    })
}

wrun::export_job!(main = main, tasks = [bump], actors = [Counter]);
