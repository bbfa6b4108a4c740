"""Streaming results, from Python (Ray's ``num_returns="streaming"``): a
generator task or actor method yields each item to its caller as it comes,
and the caller reads them while the call still runs."""

import os

import wrun


@wrun.remote
def squares(n):
    """A generator: it streams by default, as in Ray."""
    for i in range(n):
        yield i * i


class Overdrawn(Exception):
    pass


@wrun.remote
def fails_after(k):
    yield from range(k)
    raise Overdrawn(f"no item after {k}")


@wrun.remote
class Latch:
    def __init__(self):
        self.open_ = False
        self.attempts = 0

    def open(self):
        self.open_ = True

    def is_open(self):
        return self.open_

    def attempt(self):
        self.attempts += 1
        return self.attempts

    def countdown(self, n):
        """A generator method streams too."""
        yield from reversed(range(n))


@wrun.remote
def gated(latch):
    """Yields 1, waits until ``latch`` opens, then yields 2: a reader that
    sees 1 before opening the latch read it while the task still ran."""
    yield 1
    while not wrun.get(latch.is_open.remote()):
        pass
    yield 2


@wrun.remote(max_retries=1)
def flaky(latch):
    """Yields 0 and 1 and dies on its first attempt; yields 0..3 on the next
    (items 0 and 1 are the first attempt's, not repeated)."""
    attempt = wrun.get(latch.attempt.remote())
    for i in range(4):
        if attempt == 1 and i == 2:
            os._exit(3)  # the instance ends (a trap): a system failure, retried
        yield i


@wrun.remote(num_returns=2)
def pair():
    """A generator with num_returns=N returns its N items, as in Ray."""
    yield "a"
    yield "b"


@wrun.remote
def total(item_refs):
    return sum(wrun.get(item_refs))


def kind(f):
    try:
        f()
        return "ok"
    except wrun.TaskError as e:
        return e.kind
    except Exception as e:  # noqa: BLE001
        return type(e).__name__


@wrun.main
def main(args):
    out = {}
    out["squares"] = [wrun.get(r) for r in squares.remote(5)]

    g = fails_after.remote(2)
    a, b = wrun.get(next(g)), wrun.get(next(g))
    try:
        wrun.get(next(g))
        caught = "no error"
    except Overdrawn as e:  # the user's own class, as in Ray
        caught = f"Overdrawn: {e.cause}"
    out["fails_after"] = [a, b, caught, next(g, "end")]

    latch = Latch.remote()
    g = gated.remote(latch)
    first = wrun.get(next(g))
    latch.open.remote()
    out["while_running"] = [first, wrun.get(next(g)), next(g, "end")]

    out["method"] = [wrun.get(r) for r in latch.countdown.remote(3)]
    out["retried"] = [wrun.get(r) for r in flaky.remote(Latch.remote())]

    g = gated.remote(Latch.remote())
    one = wrun.get(next(g))
    wrun.cancel(g)
    out["cancelled"] = [one, kind(lambda: wrun.get(next(g))), next(g, "end")]

    g = squares.remote(4)
    items = list(g)
    out["finished"] = g.is_finished()
    out["passed_on"] = wrun.get(total.remote(g.completed()))
    g = gated.remote(Latch.remote())
    next(g)
    out["next_timeout"] = kind(lambda: g.next(timeout=0.05))
    wrun.cancel(g)
    out["pair"] = wrun.get(list(pair.remote()))
    out["mismatch"] = [
        kind(lambda: wrun.get(next(pair.options(num_returns="streaming").remote()))),
        kind(lambda: wrun.get(squares.options(num_returns=1).remote(2))),
    ]
    out["options"] = kind(lambda: squares.options(num_returns="dynamic").remote(1))
    out["scheduled"] = kind(lambda: squares.options(scheduling_strategy="SPREAD").remote(1))
    out["items"] = len(items)
    return out
