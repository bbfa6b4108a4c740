//! Streaming results, from Rust (Ray's `num_returns="streaming"`): a task or
//! actor method returns an iterator, and its caller reads each item as soon as
//! it is yielded, while the call still runs. A failure after `k` items is item
//! `k`; a retried generator does not repeat the items stored already.

use serde::Serialize;
use wrun::ObjectRef;

/// The squares of `0..n`, one item each.
#[wrun::task(streaming)]
fn squares(n: u64) -> impl Iterator<Item = u64> {
    (0..n).map(|i| i * i)
}

/// `k` items, then an error.
#[wrun::task(streaming)]
fn fails_after(k: u64) -> Vec<wrun::Result<u64>> {
    let mut out: Vec<wrun::Result<u64>> = (0..k).map(Ok).collect();
    out.push(Err(wrun::Error::new(
        wrun::ErrorKind::Application,
        "fails_after",
        format!("no item after {k}"),
    )));
    out
}

/// Opens once told to: lets a generator wait for its reader.
#[derive(Default)]
pub struct Latch {
    open: bool,
    attempts: u32,
}

#[wrun::actor]
impl Latch {
    /// Closed.
    pub fn new() -> Self {
        Latch::default()
    }

    /// Opens it.
    pub fn open(&mut self) -> bool {
        self.open = true;
        true
    }

    /// Whether it is open.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Counts one more attempt of a task; the count.
    pub fn attempt(&mut self) -> u32 {
        self.attempts += 1;
        self.attempts
    }

    /// Yields `0..n` from a method.
    #[streaming]
    pub fn countdown(&self, n: u64) -> impl Iterator<Item = u64> {
        (0..n).rev()
    }
}

fn wait_open(latch: &LatchHandle) -> wrun::Result<()> {
    while !latch.is_open()?.get()? {}
    Ok(())
}

/// Yields 1, waits until `latch` opens, then yields 2: a reader that sees 1
/// before opening the latch read it while the task still ran.
#[wrun::task(streaming)]
fn gated(latch: LatchHandle) -> wrun::Result<impl Iterator<Item = wrun::Result<u64>>> {
    let mut first = true;
    Ok(std::iter::from_fn(move || {
        if first {
            first = false;
            return Some(Ok(1));
        }
        None
    })
    .chain(std::iter::once_with(move || wait_open(&latch).map(|()| 2))))
}

/// Yields 0 and 1, then traps on its first attempt; yields 0..4 on the
/// next (its items 0 and 1 are the first attempt's, not repeated).
#[wrun::task(streaming)]
fn flaky(latch: LatchHandle) -> impl Iterator<Item = u64> {
    let attempt = latch.attempt().and_then(|r| r.get()).unwrap_or(0);
    (0..4).inspect(move |i| {
        if attempt == 1 && *i == 2 {
            panic!("first attempt dies after two items");
        }
    })
}

/// `yield_item` outside a streaming task: refused.
#[wrun::task]
fn yield_outside() -> String {
    match wrun::yield_item(&1) {
        Ok(()) => "accepted".into(),
        Err(e) => e.kind.to_string(),
    }
}

/// Sums the items of an ended stream passed by reference.
#[wrun::task]
fn sum_items(items: Vec<ObjectRef<u64>>) -> wrun::Result<u64> {
    Ok(wrun::get_all(&items)?.iter().sum())
}

#[derive(Serialize)]
struct Report {
    /// `[0, 1, 4, 9, 16]`.
    squares: Vec<u64>,
    /// Two items, then the error on item 2, then the end: `[0, 1, "application", "end"]`.
    fails_after: (u64, u64, String, String),
    /// Item 1 read before the latch opened, then 2: `[1, 2]`.
    while_running: Vec<u64>,
    /// `[2, 1, 0]`.
    method: Vec<u64>,
    /// Each item once across the retry: `[0, 1, 2, 3]`.
    retried: Vec<u64>,
    /// Item 0, then the cancel as item 1: `[1, "task-cancelled", "end"]`.
    cancelled: (u64, String, String),
    /// The ended stream's value passed to a task: 0+1+4+9+16.
    passed_on: u64,
    /// `invalid-argument`.
    yield_outside: String,
    /// A streaming task with a scheduling strategy: `invalid-argument` (it
    /// runs on its caller's node).
    scheduled: String,
}

fn kind<T>(r: wrun::Result<T>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.kind.to_string(),
    }
}

fn end<T>(next: Option<wrun::Result<ObjectRef<T>>>) -> String {
    match next {
        None => "end".into(),
        Some(_) => "more".into(),
    }
}

/// What `main` returns: the tour, or what `flood N` saw.
#[derive(Serialize)]
#[serde(untagged)]
enum Outcome {
    Tour(Box<Report>),
    /// `squares(N)` read to its end: the items that held a value, and the
    /// error of the first that did not (a stream past the job's
    /// `limits.max_refs` items ends with `invalid-argument`).
    Flood {
        items: u64,
        error: String,
    },
}

fn flood(n: u64) -> wrun::Result<Outcome> {
    let mut items = 0;
    for r in squares::remote(n)? {
        match r?.get() {
            Ok(_) => items += 1,
            Err(e) => {
                return Ok(Outcome::Flood {
                    items,
                    error: e.kind.to_string(),
                })
            }
        }
    }
    Ok(Outcome::Flood {
        items,
        error: "none".into(),
    })
}

fn main(args: Vec<String>) -> wrun::Result<Outcome> {
    if let [mode, n] = args.as_slice() {
        if mode == "flood" {
            let n = n
                .parse()
                .map_err(|_| format!("flood N: N must be a number, got {n}"))?;
            return flood(n);
        }
    }
    tour().map(|r| Outcome::Tour(Box::new(r)))
}

fn tour() -> wrun::Result<Report> {
    let squares = squares::remote(5u64)?
        .map(|r| r?.get())
        .collect::<wrun::Result<Vec<u64>>>()?;

    let mut g = fails_after::remote(2u64)?;
    let a = g.next().unwrap()?.get()?;
    let b = g.next().unwrap()?.get()?;
    let failed = kind(g.next().unwrap()?.get());
    let fails_after = (a, b, failed, end(g.next()));

    let latch = Latch::remote()?;
    let mut g = gated::remote(latch)?;
    let first = g.next().unwrap()?.get()?;
    latch.open()?.get()?;
    let second = g.next().unwrap()?.get()?;

    let method = latch
        .countdown(3u64)?
        .map(|r| r?.get())
        .collect::<wrun::Result<Vec<u64>>>()?;

    let retried = flaky::options()
        .max_retries(1)
        .remote(Latch::remote()?)?
        .map(|r| r?.get())
        .collect::<wrun::Result<Vec<u64>>>()?;

    let closed = Latch::remote()?;
    let mut g = gated::remote(closed)?;
    let one = g.next().unwrap()?.get()?;
    g.cancel()?;
    let cancelled = (one, kind(g.next().unwrap()?.get()), end(g.next()));

    let done = squares::remote(5u64)?;
    let mut all = Vec::new();
    let stream = done.stream_ref().clone();
    for r in done {
        all.push(r?);
    }
    let passed_on = sum_items::remote(&stream)?.get()?;

    Ok(Report {
        squares,
        fails_after,
        while_running: vec![first, second],
        method,
        retried,
        cancelled,
        passed_on,
        yield_outside: yield_outside::remote()?.get()?,
        scheduled: kind(
            squares::options()
                .scheduling(wrun::Scheduling::Spread)
                .remote(1u64),
        ),
    })
}

wrun::export_job!(
    main = main,
    tasks = [squares, fails_after, gated, flaky, yield_outside, sum_items],
    actors = [Latch]
);
