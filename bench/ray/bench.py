#!/usr/bin/env python3
"""Ray baseline for the wrun benchmark.

Runs a fixed set of micro-workloads (tasks, actors, object store, cold start) on a
local single-node Ray and prints ONE JSON object on the last line of stdout, with the
same keys the wrun side reports, so the two can be compared key by key.

Run with the venv python printed by setup.sh:
    PY=$(bench/ray/setup.sh | tail -n1); "$PY" bench/ray/bench.py [--quick] [--num-cpus N]

Every workload is isolated: a failure is printed on stderr and its keys are reported as
null, so one broken workload never costs the whole comparison.
"""

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import traceback

# Must be set before Ray is imported: keeps Ray from trying to phone home (there is no
# network here, and a stalled attempt would skew the timings).
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import numpy as np  # noqa: E402
import ray  # noqa: E402

MIB = 1024 * 1024
# Upper bound on any single wait: a wedged cluster should turn into a null, not a hang.
GET_TIMEOUT_S = 300

KEYS = [
    "task_bulk_per_s",
    "task_latency_p50_ms",
    "task_latency_p99_ms",
    "actor_calls_bulk_per_s",
    "actor_call_latency_p50_ms",
    "actor_create_per_s",
    "idle_actor_rss_mib",
    "put_get_1mib_gbps",
    "put_get_100mib_gbps",
    "init_plus_one_task_s",
]


@ray.remote
def noop():
    return None


# num_cpus=0 so that creating many actors is never blocked by the CPU count: the
# workloads measure actor start-up and footprint, not Ray's scheduler queueing.
@ray.remote(num_cpus=0)
class Pinger:
    def ping(self):
        return None

    def pid(self):
        return os.getpid()


def percentile(samples, q):
    """Nearest-rank percentile (q in 0..100); no interpolation, so p99 is a real sample."""
    s = sorted(samples)
    rank = max(1, -(-len(s) * q // 100))  # ceil(len*q/100), at least 1
    return s[int(rank) - 1]


def sequential_latencies_ms(call, n):
    """Round-trip time of n calls issued one after the other, in milliseconds."""
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        ray.get(call(), timeout=GET_TIMEOUT_S)
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def bulk_rate(submit, n):
    """Submit n calls without waiting, then wait for all: calls per second end to end."""
    t0 = time.perf_counter()
    refs = [submit() for _ in range(n)]
    ray.get(refs, timeout=GET_TIMEOUT_S)
    return n / (time.perf_counter() - t0)


# --- workloads: each returns a dict of some of KEYS ---------------------------------


def wl_task_bulk(cfg):
    ray.get([noop.remote() for _ in range(cfg.warmup)], timeout=GET_TIMEOUT_S)
    rates = [bulk_rate(noop.remote, cfg.n) for _ in range(cfg.reps)]
    return {"task_bulk_per_s": statistics.median(rates)}


def wl_task_latency(cfg):
    sequential_latencies_ms(noop.remote, cfg.warmup)
    lat = sequential_latencies_ms(noop.remote, cfg.lat_n)
    return {
        "task_latency_p50_ms": percentile(lat, 50),
        "task_latency_p99_ms": percentile(lat, 99),
    }


def wl_actor_calls(cfg):
    a = Pinger.remote()
    try:
        ray.get(a.ping.remote(), timeout=GET_TIMEOUT_S)
        # Warm-up covers the actor's first-call paths as well as the driver's.
        ray.get([a.ping.remote() for _ in range(cfg.warmup)], timeout=GET_TIMEOUT_S)
        rates = [bulk_rate(a.ping.remote, cfg.n) for _ in range(cfg.reps)]
        lat = sequential_latencies_ms(a.ping.remote, cfg.lat_n)
    finally:
        ray.kill(a)
    return {
        "actor_calls_bulk_per_s": statistics.median(rates),
        "actor_call_latency_p50_ms": percentile(lat, 50),
    }


def wl_actor_create(cfg):
    # Sequential on purpose: the rate is 1 / (time until a new actor can answer), which is
    # what a caller that needs a fresh isolated worker actually waits for.
    actors = []
    try:
        t0 = time.perf_counter()
        for _ in range(cfg.create_n):
            a = Pinger.remote()
            actors.append(a)
            ray.get(a.ping.remote(), timeout=GET_TIMEOUT_S)
        elapsed = time.perf_counter() - t0
    finally:
        for a in actors:
            ray.kill(a)
    return {"actor_create_per_s": cfg.create_n / elapsed}


def rss_mib(pid):
    # Plain /proc rather than psutil: psutil only comes with ray[default], not core ray.
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024  # kB -> MiB
    raise RuntimeError(f"no VmRSS for pid {pid}")


def wl_idle_actor_rss(cfg):
    actors = [Pinger.remote() for _ in range(cfg.idle_n)]
    try:
        # Asking for the pid doubles as "wait until every actor answered".
        pids = ray.get([a.pid.remote() for a in actors], timeout=GET_TIMEOUT_S)
        if len(set(pids)) != len(pids):
            raise RuntimeError(f"actors share worker processes: {pids}")
        rss = [rss_mib(p) for p in pids]
    finally:
        for a in actors:
            ray.kill(a)
    return {"idle_actor_rss_mib": statistics.median(rss)}


def put_get_gbps(size, reps):
    # Filled with ones (not zeros) so every page is really touched before timing.
    arr = np.ones(size, dtype=np.uint8)
    rates = []
    for i in range(reps + 1):  # first iteration is the warm-up
        t0 = time.perf_counter()
        ref = ray.put(arr)
        out = ray.get(ref, timeout=GET_TIMEOUT_S)
        elapsed = time.perf_counter() - t0
        if out.nbytes != size:
            raise RuntimeError(f"got {out.nbytes} bytes back, expected {size}")
        # Drop both handles so the object is freed and the store never fills up.
        del out, ref
        if i > 0:
            rates.append(size / elapsed / 1e9)
    return statistics.median(rates)


def wl_put_get(cfg):
    # Note: ray.get of a numpy array is zero-copy (a view on shared memory), so this mostly
    # measures put's copy into the object store plus per-object overhead.
    return {
        "put_get_1mib_gbps": put_get_gbps(1 * MIB, cfg.put_reps),
        "put_get_100mib_gbps": put_get_gbps(100 * MIB, cfg.put_reps),
    }


INIT_SNIPPET = """
import ray
@ray.remote
def f():
    return 1
ray.init(address="local", num_cpus={num_cpus}, include_dashboard=False,
         logging_level="ERROR", log_to_driver=False)
assert ray.get(f.remote()) == 1
ray.shutdown()
"""


def wl_init_plus_one_task(cfg):
    # Timed from outside a fresh interpreter so it includes `import ray`, cluster start-up
    # (GCS, raylet, first worker) and shutdown: the full cold-start cost a user pays.
    # address="local" guarantees a new cluster even if some other Ray is running here, and
    # the init arguments match the in-process runs so only "cold vs warm" differs.
    code = INIT_SNIPPET.format(num_cpus=cfg.num_cpus)
    times = []
    for _ in range(cfg.init_runs):
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=GET_TIMEOUT_S, env=os.environ.copy())
        elapsed = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"init subprocess exited {p.returncode}: {p.stderr[-2000:]}")
        times.append(elapsed)
    return {"init_plus_one_task_s": statistics.median(times)}


IN_CLUSTER = [wl_task_bulk, wl_task_latency, wl_actor_calls, wl_actor_create,
              wl_idle_actor_rss, wl_put_get]


def run_workload(fn, cfg, results):
    t0 = time.perf_counter()
    try:
        results.update(fn(cfg))
        status = "ok"
    except Exception:  # noqa: BLE001 -- any failure must only null this workload
        traceback.print_exc(file=sys.stderr)
        status = "FAILED"
    print(f"[ray-bench] {fn.__name__}: {status} in {time.perf_counter() - t0:.1f}s",
          file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="small sizes everywhere (for tests); numbers are not meaningful")
    p.add_argument("--num-cpus", type=int, default=2, help="num_cpus for ray.init (default 2)")
    p.add_argument("--init-runs", type=int, default=None,
                   help="cold-start subprocess runs, median reported (default 2, quick 1)")
    cfg = p.parse_args(argv)
    if cfg.quick:
        cfg.n, cfg.warmup, cfg.reps, cfg.lat_n = 200, 20, 3, 50
        cfg.create_n, cfg.idle_n, cfg.put_reps = 2, 2, 2
        cfg.init_runs = cfg.init_runs or 1
    else:
        cfg.n, cfg.warmup, cfg.reps, cfg.lat_n = 2000, 100, 3, 500
        cfg.create_n, cfg.idle_n, cfg.put_reps = 10, 8, 5
        cfg.init_runs = cfg.init_runs or 2
    return cfg


def main(argv=None):
    cfg = parse_args(argv)
    results = dict.fromkeys(KEYS)  # every key present; failures stay null

    try:
        ray.init(num_cpus=cfg.num_cpus, include_dashboard=False,
                 logging_level=logging.ERROR, log_to_driver=False)
    except Exception:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        print("[ray-bench] ray.init failed; in-cluster workloads skipped", file=sys.stderr)
    else:
        try:
            for fn in IN_CLUSTER:
                run_workload(fn, cfg, results)
        finally:
            ray.shutdown()

    # Last, with the benchmark's own cluster gone, so two clusters never compete for the
    # two cores and the cold start is measured on a quiet machine.
    run_workload(wl_init_plus_one_task, cfg, results)

    print(json.dumps({k: results[k] for k in KEYS}), flush=True)


if __name__ == "__main__":
    main()
