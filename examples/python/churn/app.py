"""Moves ten times the guest's memory limit (128 MiB, env.toml) through each
way bytes leave a Python guest: ``wrun.put`` from the driver, an actor's
results and the results of tasks in a warm instance. Each value is 8 MiB and
none is kept, so a guest that frees what it hands the host never comes near
its limit; one that leaks it fails with MemoryError after about 12.

    wrun submit --env examples/python/churn/env.toml churn.wasm
    # -> {"mib_limit": 128, "put_mib": 1280, "actor_mib": 1280, "task_mib": 1280}
"""

import wrun

MIB = 1 << 20
VALUE_MIB = 8
LIMIT_MIB = 128
ROUNDS = 10 * LIMIT_MIB // VALUE_MIB


def payload(i):
    """A fresh value each round, so nothing is shared between rounds."""
    return bytes([i % 251]) * (VALUE_MIB * MIB)


@wrun.remote
class Source:
    def make(self, i):
        return payload(i)


@wrun.remote
def make(i):
    return payload(i)


@wrun.main
def main(args):
    put = 0
    for i in range(ROUNDS):
        ref = wrun.put(payload(i))
        put += len(wrun.get(ref)) // MIB
        del ref
    source = Source.remote()
    from_actor = 0
    for i in range(ROUNDS):
        value = wrun.get(source.make.remote(i))
        assert value[0] == i % 251
        from_actor += len(value) // MIB
    from_tasks = 0
    for i in range(ROUNDS):
        from_tasks += len(wrun.get(make.remote(i))) // MIB
    return {"mib_limit": LIMIT_MIB, "put_mib": put, "actor_mib": from_actor, "task_mib": from_tasks}
