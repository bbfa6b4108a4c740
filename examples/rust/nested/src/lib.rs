//! Tasks that submit tasks: a tree sum over [0, N) and a recursive Fibonacci.

use std::collections::BTreeMap;

/// Sums `lo..hi` by splitting the range in two remote halves until one
/// number is left: about 2N tasks for N numbers.
#[wrun::task]
fn tree_sum(lo: u64, hi: u64) -> wrun::Result<u64> {
    if hi <= lo + 1 {
        return Ok(if hi > lo { lo } else { 0 });
    }
    let mid = lo + (hi - lo) / 2;
    let left = tree_sum::remote(lo, mid)?;
    let right = tree_sum::remote(mid, hi)?;
    Ok(left.get()? + right.get()?)
}

/// The n-th Fibonacci number, one task per call.
#[wrun::task]
fn fib(n: u64) -> wrun::Result<u64> {
    if n < 2 {
        return Ok(n);
    }
    let a = fib::remote(n - 1)?;
    let b = fib::remote(n - 2)?;
    Ok(a.get()? + b.get()?)
}

fn parse(arg: Option<&String>, default: u64) -> wrun::Result<u64> {
    match arg {
        Some(a) => Ok(a.parse().map_err(|e| format!("{a:?}: {e}"))?),
        None => Ok(default),
    }
}

/// `[N]` (default 4096): `{"n", "sum", "expected"}`; `fib [K]` (default 15):
/// `{"n", "fib"}`.
fn main(args: Vec<String>) -> wrun::Result<BTreeMap<&'static str, u64>> {
    if args.first().map(String::as_str) == Some("fib") {
        let n = parse(args.get(1), 15)?;
        let v = fib::remote(n)?.get()?;
        return Ok([("n", n), ("fib", v)].into());
    }
    let n = parse(args.first(), 4096)?;
    let sum = tree_sum::remote(0, n)?.get()?;
    let expected = n * n.saturating_sub(1) / 2;
    Ok([("n", n), ("sum", sum), ("expected", expected)].into())
}

wrun::export_job!(main = main, tasks = [tree_sum, fib]);
