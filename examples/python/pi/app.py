"""Monte Carlo estimate of pi: many independent sampling tasks, summed.

The same algorithm as examples/rust/pi (splitmix64 seeded by the task's
index, two draws per point), so both print the same result:

    wrun submit pi.wasm 10   # -> {"tasks": 10, "inside": 78621, "total": 100000, "pi": ...}
"""

import wrun

#: Points sampled per task.
POINTS_PER_TASK = 10_000

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_MUL1 = 0xBF58476D1CE4E5B9
_MUL2 = 0x94D049BB133111EB
#: 2**-53: scaling by it is exact, as is Rust's division by 2**53.
_UNIT = 1.0 / (1 << 53)


class SplitMix64:
    """splitmix64: a small, fast, deterministic PRNG (u64 arithmetic, wrapping)."""

    def __init__(self, seed):
        self.state = seed & _MASK

    def next(self):
        self.state = (self.state + _GAMMA) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * _MUL1) & _MASK
        z = ((z ^ (z >> 27)) * _MUL2) & _MASK
        return z ^ (z >> 31)

    def unit(self):
        """A uniform float in [0, 1)."""
        return (self.next() >> 11) * _UNIT


@wrun.remote
def sample(seed, n):
    """Counts how many of ``n`` random points in the unit square fall inside
    the quarter circle. SplitMix64 is inlined here: the same arithmetic as
    the class above, without a method call per draw (CPython is slow)."""
    s, mask, gamma, m1, m2, unit = seed & _MASK, _MASK, _GAMMA, _MUL1, _MUL2, _UNIT
    inside = 0
    for _ in range(n):
        s = (s + gamma) & mask
        z = ((s ^ (s >> 30)) * m1) & mask
        z = ((z ^ (z >> 27)) * m2) & mask
        x = ((z ^ (z >> 31)) >> 11) * unit
        s = (s + gamma) & mask
        z = ((s ^ (s >> 30)) * m1) & mask
        z = ((z ^ (z >> 27)) * m2) & mask
        y = ((z ^ (z >> 31)) >> 11) * unit
        if x * x + y * y < 1.0:
            inside += 1
    return inside


@wrun.main
def main(args):
    """Fans out ``args[0]`` (default 1,000) sampling tasks and sums them."""
    if args:
        try:
            tasks = int(args[0])
            if tasks < 0:
                raise ValueError("negative")
        except ValueError as e:
            raise ValueError(f"task count {args[0]!r}: {e}") from None
    else:
        tasks = 1_000
    refs = [sample.remote(seed, POINTS_PER_TASK) for seed in range(tasks)]
    inside = sum(wrun.get(refs))
    total = tasks * POINTS_PER_TASK
    return {"tasks": tasks, "inside": inside, "total": total, "pi": 4.0 * inside / total}
