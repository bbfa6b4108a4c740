"""The cross-language pipeline: a Python driver fans out to C++ tasks,
aggregates in a Rust actor and finishes with a Java task.

    wrun submit --component cpp=shards.wasm --component rust=tally.wasm \\
        --component java=report.wasm pipeline.wasm 8
    # -> {"shards": 8, "added": 8, "total": {...}, "report": "8 shards, 8000 values, ..."}

1. The driver makes ``N`` shards of integers and puts each in the object store.
2. C++ (``cpp/shard_stats``) summarises each shard, receiving it by reference.
3. A Rust actor (``rust/Tally``) is handed the references to the C++ results
   and gets them itself, merging them.
4. Java (``java/report``) is handed the actor's handle, asks it for the total
   and writes the report line.
The driver checks every figure against its own computation.

``pipeline.wasm errors`` instead raises errors in each language and reports
how they arrive elsewhere (kind, task, language, message).
"""

import wrun

shard_stats = wrun.function("cpp/shard_stats")
cpp_relay = wrun.function("cpp/relay")
java_relay = wrun.function("java/relay")
Tally = wrun.actor_class("rust/Tally")
report = wrun.function("java/report")

VALUES_PER_SHARD = 1000
_MASK = (1 << 64) - 1


def make_shard(index):
    """VALUES_PER_SHARD integers in [-500000, 500000] from a 64-bit LCG seeded by ``index``."""
    x, out = index, []
    for _ in range(VALUES_PER_SHARD):
        x = (x * 6364136223846793005 + 1442695040888963407) & _MASK
        out.append((x >> 33) % 1_000_001 - 500_000)
    return out


def local_stats(shards):
    values = [v for s in shards for v in s]
    return {
        "count": len(values),
        "sum": sum(values),
        "sum_sq": sum(v * v for v in values),
        "min": min(values),
        "max": max(values),
    }


@wrun.remote
def explode(message):
    """Raises, so other languages can see a Python exception arrive."""
    raise ValueError(message)


def error_fields(e):
    return {"kind": e.kind, "task": e.task, "language": e.language, "message": e.message}


def errors():
    """One error raised in each language, as the others receive it."""
    out = {}
    try:
        wrun.get(shard_stats.remote([]))
    except wrun.TaskError as e:
        out["cpp_to_python"] = error_fields(e)
    out["python_to_cpp"] = wrun.get(cpp_relay.remote("pipeline/explode", "bad shard"))
    out["python_to_java"] = wrun.get(java_relay.remote("pipeline/explode", "bad total"))
    out["cpp_to_java"] = wrun.get(java_relay.remote("cpp/shard_stats", "not a list"))
    try:
        wrun.get(report.remote("not an actor handle"))
    except wrun.TaskError as e:
        out["java_to_python"] = error_fields(e)
    try:
        wrun.get(wrun.function("rust/nonesuch").remote())
    except wrun.TaskError as e:
        out["missing_in_rust"] = error_fields(e)
    return out


@wrun.main
def main(args):
    if args and args[0] == "errors":
        return errors()
    n = int(args[0]) if args else 8
    if n < 1:
        raise ValueError(f"need at least one shard, got {n}")
    shards = [make_shard(i) for i in range(n)]
    stats = [shard_stats.remote(wrun.put(s)) for s in shards]
    tally = Tally.options(name="tally").remote()
    added = wrun.get(tally.add_all.remote(stats))
    text = wrun.get(report.remote(tally))
    total = wrun.get(tally.total.remote())
    expected = local_stats(shards)
    if total != expected:
        raise RuntimeError(f"the Rust tally {total} differs from the local statistics {expected}")
    return {"shards": n, "added": added, "total": total, "report": text}
