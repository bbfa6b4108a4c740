"""A named actor shared by tasks: each task looks it up by name, increments
it, and the driver checks the total, kills it and sees later calls fail.

    wrun submit counter.wasm   # -> {"value": 55, "max_seen": 55, "after_kill": "actor-died"}
"""

import wrun


@wrun.remote
class Counter:
    """A counter living in its own actor instance."""

    def __init__(self, start):
        self.n = start

    def incr(self, by):
        """Adds ``by`` and returns the new value."""
        self.n += by
        return self.n

    def value(self):
        """The current value."""
        return self.n


@wrun.remote
def bump(c, by):
    """Increments the counter it is handed, after checking that looking the
    actor up by name finds the same one."""
    found = wrun.get_actor("counter")
    if found != c:
        raise RuntimeError("lookup found a different actor")
    return wrun.get(c.incr.remote(by))


@wrun.main
def main(args):
    c = Counter.options(name="counter").remote(0)
    bumps = [bump.remote(c, by) for by in range(1, 11)]
    max_seen = max(wrun.get(bumps), default=0)
    value = wrun.get(c.value.remote())
    wrun.kill(c)
    try:
        after_kill = f"still alive: {wrun.get(c.value.remote())}"
    except wrun.TaskError as e:
        after_kill = e.kind
    return {"value": value, "max_seen": max_seen, "after_kill": after_kill}
