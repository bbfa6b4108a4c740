"""No-op task throughput of Python guests, timed inside the driver:

    wrun submit --env examples/python/bench/env.toml bench.wasm tasks 2000
    # -> {"mode": "tasks", "ops": 2000, "seconds": ..., "per_second": ...}

env.toml grants the real clock (the job times itself) and lets tasks reuse
warm instances (a fresh CPython instance per task costs ~1 ms).
"""

import time

import wrun


@wrun.remote
def noop():
    """Does nothing."""
    return None


@wrun.main
def main(args):
    mode = args[0] if args else "tasks"
    n = int(args[1]) if len(args) > 1 else 1000
    start = time.perf_counter()
    if mode == "tasks":
        wrun.get([noop.remote() for _ in range(n)])
    elif mode == "latency":
        for _ in range(n):
            wrun.get(noop.remote())
    else:
        raise ValueError(f"unknown mode {mode!r}: use tasks or latency")
    seconds = time.perf_counter() - start
    return {"mode": mode, "ops": n, "seconds": seconds, "per_second": n / seconds}
