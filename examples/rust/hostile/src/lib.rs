//! Misbehaving tasks for the host's isolation tests (not a demo).
//!
//! The driver runs the task named by `args[0]` with the remaining arguments
//! and returns its result (`null` when it has none) or its error.

use std::hint::black_box;

use wrun::prelude::*;
use wrun::serde_bytes::ByteBuf;

/// Does nothing.
#[wrun::task]
fn noop() {}

/// Calls counted in this instance's memory.
static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Counts its calls in a static and returns the count: every task runs in a
/// fresh instance, so a second call never sees the first one's state.
#[wrun::task]
fn fresh() -> u64 {
    CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
}

/// Forges an object-reference handle from a bare number and tries to read
/// it. A guest's handles index its own instance's table, so this can only
/// trap (no such handle) — never reach another task's or job's object.
#[wrun::task]
fn forge(handle: u32) -> String {
    use wrun::bindings::wrun::runtime::{objects, types::ObjectRef};
    // SAFETY: deliberately not; this is the hostile part.
    let forged = unsafe { ObjectRef::from_handle(handle) };
    let outcome = match objects::get(&[&forged], Some(100)) {
        Ok(v) => format!("read {} bytes", v[0].data.len()),
        Err(e) => format!("refused: {}", e.message),
    };
    std::mem::forget(forged);
    outcome
}

/// Loops forever.
#[wrun::task]
fn spin() {
    let mut x = 0u64;
    loop {
        x = black_box(x.wrapping_add(1));
    }
}

/// Allocates 1 MiB chunks forever, keeping them all.
#[wrun::task]
fn bomb() {
    let mut chunks = Vec::new();
    loop {
        chunks.push(black_box(vec![1u8; 1 << 20]));
        black_box(&chunks);
    }
}

fn deep(n: u64) -> u64 {
    if black_box(n) == u64::MAX {
        return 0;
    }
    let frame = black_box([n; 32]);
    // Adding after the call defeats tail-call optimisation.
    deep(n + 1).wrapping_add(frame[(n % 32) as usize])
}

/// Recurses without bound until the stack overflows.
#[wrun::task]
fn recurse(n: u64) -> u64 {
    deep(n)
}

/// Puts an object of `mib` MiB and returns its size in bytes.
#[wrun::task]
fn huge_put(mib: u64) -> wrun::Result<u64> {
    let bytes = ByteBuf::from(vec![7u8; (mib as usize) << 20]);
    let r = wrun::put(&bytes)?;
    black_box(&r);
    Ok(bytes.len() as u64)
}

/// Prints `lines` lines of 100 bytes as fast as it can.
#[wrun::task]
fn chatter(lines: u64) {
    for i in 0..lines {
        println!("{i:099}");
    }
}

/// Returns `mib` MiB as its result.
#[wrun::task]
fn big_result(mib: u64) -> ByteBuf {
    ByteBuf::from(vec![7u8; (mib as usize) << 20])
}

/// Fails with `msg` (an application error).
#[wrun::task]
fn fail(msg: String) -> Result<(), String> {
    Err(msg)
}

/// Panics (a trap).
#[wrun::task]
fn panic() {
    panic!("hostile panic");
}

/// Counts attempts, for `flaky`.
#[derive(Default)]
pub struct Attempts {
    n: u64,
}

#[wrun::actor]
impl Attempts {
    /// Starts at zero.
    pub fn new() -> Self {
        Attempts { n: 0 }
    }

    /// Counts one more attempt and returns the count.
    pub fn record(&mut self) -> u64 {
        self.n += 1;
        self.n
    }
}

/// Traps on its first `failures` attempts (counted by `attempts`), then
/// returns the attempt number that succeeded.
#[wrun::task]
fn flaky(attempts: AttemptsHandle, failures: u64) -> wrun::Result<u64> {
    let n = attempts.record()?.get()?;
    if n <= failures {
        panic!("flaky attempt {n} of {failures} planned failures");
    }
    Ok(n)
}

/// An actor that can be made to trap, to show restarts: its state starts
/// over when the constructor runs again.
pub struct Fragile {
    calls: u64,
}

#[wrun::actor]
impl Fragile {
    /// Starts with no calls counted.
    pub fn new() -> Self {
        Fragile { calls: 0 }
    }

    /// Counts one call and returns the count since construction.
    pub fn touch(&mut self) -> u64 {
        self.calls += 1;
        self.calls
    }

    /// Returns `mib` MiB.
    pub fn big(&mut self, mib: u64) -> ByteBuf {
        ByteBuf::from(vec![7u8; (mib as usize) << 20])
    }

    /// Traps.
    pub fn crash(&mut self) -> u64 {
        panic!("fragile actor crashed after {} calls", self.calls);
    }
}

/// Has an actor return `mib` MiB, and returns how many bytes arrived.
#[wrun::task]
fn actor_result(mib: u64) -> wrun::Result<u64> {
    let actor = Fragile::remote()?;
    let got = actor.big(mib)?.get();
    actor.kill()?;
    Ok(got?.len() as u64)
}

fn arg(args: &[String], i: usize, default: u64) -> wrun::Result<u64> {
    match args.get(i) {
        Some(a) => Ok(a.parse().map_err(|e| format!("argument {a:?}: {e}"))?),
        None => Ok(default),
    }
}

/// `noop | spin [timeout_ms] | bomb | recurse | huge_put [MiB=64] | fail [msg] | panic |
/// flaky [failures=2] [max_retries=3]`.
fn main(args: Vec<String>) -> wrun::Result<Option<u64>> {
    let name = args.first().map_or("noop", String::as_str);
    match name {
        "noop" => noop::remote()?.get().map(|()| None),
        "spin" => match args.get(1) {
            Some(_) => {
                let ms = arg(&args, 1, 0)?;
                spin::options()
                    .timeout(std::time::Duration::from_millis(ms))
                    .remote()?
                    .get()
                    .map(|()| None)
            }
            None => spin::remote()?.get().map(|()| None),
        },
        "bomb" => bomb::remote()?.get().map(|()| None),
        // Submits no-op tasks without ever reading them, keeping every
        // reference, until the host refuses one: returns how many it took.
        "flood" => {
            let mut refs = Vec::new();
            for _ in 0..arg(&args, 1, 1_000_000)? {
                match noop::remote() {
                    Ok(r) => refs.push(r),
                    Err(_) => break,
                }
            }
            Ok(Some(refs.len() as u64))
        }
        // Puts COUNT objects of KIB KiB and keeps them all, until the host
        // refuses one: returns how many it kept.
        "hoard" => {
            let bytes = ByteBuf::from(vec![7u8; (arg(&args, 2, 64)? as usize) << 10]);
            let mut refs = Vec::new();
            for _ in 0..arg(&args, 1, 20_000)? {
                match wrun::put(&bytes) {
                    Ok(r) => refs.push(r),
                    Err(_) => break,
                }
            }
            Ok(Some(refs.len() as u64))
        }
        "recurse" => recurse::remote(0)?.get().map(Some),
        "huge_put" => huge_put::remote(arg(&args, 1, 64)?)?.get().map(Some),
        "fail" => {
            let msg = args.get(1).map_or("failed on purpose", String::as_str);
            fail::remote(msg)?.get().map(|()| None)
        }
        "panic" => panic::remote()?.get().map(|()| None),
        // Spins for MS ms on a node offering `near`, then for ever on one
        // offering `far`, until the job's CPU-time budget stops it.
        "spin_near_far" => {
            let ms = arg(&args, 1, 2000)?;
            let _ = spin::options()
                .resource("near", 1.0)
                .max_retries(0)
                .timeout(std::time::Duration::from_millis(ms))
                .remote()?
                .get();
            spin::options()
                .resource("far", 1.0)
                .max_retries(0)
                .remote()?
                .get()
                .map(|()| None)
        }
        "forge" => {
            let out = forge::remote(arg(&args, 1, 1)? as u32)?.get()?;
            Err(Error::application(format!(
                "a forged handle was read: {out}"
            )))
        }
        "flaky" => {
            let attempts = Attempts::remote()?;
            let r = flaky::options()
                .max_retries(arg(&args, 2, 3)? as u32)
                .remote(attempts, arg(&args, 1, 2)?)?
                .get();
            attempts.kill()?;
            r.map(Some)
        }
        other => Err(Error::new(
            ErrorKind::NotFound,
            "main",
            format!("no hostile task {other:?}"),
        )),
    }
}

wrun::export_job!(
    main = main,
    tasks = [noop, fresh, forge, spin, bomb, recurse, huge_put, big_result, actor_result, chatter, fail, panic, flaky],
    actors = [Attempts, Fragile]
);
