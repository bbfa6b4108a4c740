"""Calls that cannot succeed fail at the call, with Ray's exception types:
``wrun.wait`` on duplicates, a bad ``num_returns`` or a lone reference;
``wrun.put`` of a reference; Ray options wrun does not have yet. And what
does succeed: ``wrun.wait([])``, the options' default values,
``max_retries=-1`` (no limit), Ray's default of three retries and
``retry_exceptions=[...]`` (only those exception classes, and their
subclasses, are retried).

    wrun submit --env examples/python/edges/env.toml edges.wasm
    # -> {"wait_empty": [[], []], "wait_duplicates": "ValueError", ...}
"""

import os

import wrun


@wrun.remote
def one():
    return 1


@wrun.remote
def spread(a, b=20, c=300):
    return [a, b, c]


@wrun.remote
class Tries:
    def __init__(self):
        self.n = 0

    def next(self):
        self.n += 1
        return self.n

    def spread(self, a, b=20, c=300):
        return [a, b, c]


@wrun.remote
def flaky(tries, fail_first):
    """Raises on its first ``fail_first`` attempts."""
    n = wrun.get(tries.next.remote())
    if n <= fail_first:
        raise RuntimeError(f"attempt {n} fails")
    return n


class Overdrawn(Exception):
    pass


class Bounced(Overdrawn):
    pass


_RAISED = {"Overdrawn": Overdrawn, "Bounced": Bounced, "ValueError": ValueError}


@wrun.remote(max_retries=3)
def raises(tries, name, fail_first):
    """Raises ``name`` on its first ``fail_first`` attempts; the attempt."""
    n = wrun.get(tries.next.remote())
    if n <= fail_first:
        raise _RAISED[name](f"attempt {n} fails")
    return n


def typed_retry(name):
    """``raises`` failing twice, retrying only Overdrawn: its result, or
    the class of what it raised, and the attempts made."""
    t = Tries.remote()
    try:
        got = wrun.get(raises.options(retry_exceptions=[Overdrawn]).remote(t, name, 2))
    except Exception as e:  # noqa: BLE001 - the class is what is checked
        got = type(e).__name__
    return [got, wrun.get(t.next.remote()) - 1]


@wrun.remote
def slow_until(tries, fast_from):
    """Runs past any timeout on its attempts before ``fast_from``."""
    n = wrun.get(tries.next.remote())
    while n < fast_from:
        pass
    return n


_CALLS = 0


@wrun.remote(environment="warm")
def instance_calls():
    """How many tasks this instance has run (it is reused in `warm`)."""
    global _CALLS
    _CALLS += 1
    return _CALLS


@wrun.remote
def where():
    """The current directory, and a file of the working directory read by a
    relative path (env.toml's files.working_dir)."""
    with open("motto.txt") as f:
        return [os.getcwd(), f.read().strip()]


def raised(call):
    try:
        call()
        return "accepted"
    except Exception as e:  # noqa: BLE001 - the type is what is checked
        return type(e).__name__


@wrun.main
def main(args):
    r = one.remote()
    s = one.remote()
    out = {
        "wait_empty": list(wrun.wait([])),
        "wait_duplicates": raised(lambda: wrun.wait([r, r])),
        "wait_zero": raised(lambda: wrun.wait([r, s], num_returns=0)),
        "wait_too_many": raised(lambda: wrun.wait([r], num_returns=2)),
        "wait_one_ref": raised(lambda: wrun.wait(r)),
        "wait_not_a_ref": raised(lambda: wrun.wait([r, 5])),
        "wait_fetch_local_false": len(wrun.wait([r], fetch_local=False, timeout=60)[0]),
        "wait_fetch_local_not_a_bool": raised(lambda: wrun.wait([r], fetch_local="no")),
        "wait_fetch_local_true": len(wrun.wait([r], fetch_local=True, timeout=60)[0]),
        "put_ref": raised(lambda: wrun.put(r)),
        "detached": raised(lambda: one.options(lifetime="detached")),
        "non_detached": raised(lambda: one.options(lifetime="non_detached")),
        "max_calls_negative": raised(lambda: one.options(max_calls=-1).remote()),
    }
    out["cwd"] = wrun.get(where.remote())
    ready, pending = wrun.wait([r, s], num_returns=2, timeout=60)
    out["wait_both"] = [len(ready), len(pending)]
    # max_retries=-1: no limit, as in Ray (a negative count otherwise).
    unlimited = flaky.options(max_retries=-1, retry_exceptions=True)
    out["unlimited_retries_attempts"] = wrun.get(unlimited.remote(Tries.remote(), 5))
    out["max_retries_minus_2"] = raised(lambda: flaky.options(max_retries=-2).remote(None, 0))
    # Ray's default max_retries=3: a timeout (a system failure) three times,
    # then success; a fourth time fails.
    timed = slow_until.options(timeout=0.3)
    out["default_retries_attempts"] = wrun.get(timed.remote(Tries.remote(), 4))
    out["default_retries_exhausted"] = raised(lambda: wrun.get(timed.remote(Tries.remote(), 5)))
    # Calls that cannot succeed fail at the call, as in Ray; keywords bind
    # as Python binds them, also past a defaulted parameter.
    tries = Tries.remote()
    out["task_too_many_args"] = raised(lambda: spread.remote(1, 2, 3, 4))
    out["task_unknown_keyword"] = raised(lambda: spread.remote(1, d=4))
    out["task_skipping_a_default"] = wrun.get(spread.remote(1, c=3))
    out["method_unknown"] = raised(lambda: tries.nope.remote())
    out["method_missing_arg"] = raised(lambda: tries.spread.remote())
    out["method_skipping_a_default"] = wrun.get(tries.spread.remote(c=3, a=1))
    # max_calls: a warm instance retires after that many tasks.
    out["retry_listed"] = typed_retry("Overdrawn")
    out["retry_subclass"] = typed_retry("Bounced")
    out["retry_other"] = typed_retry("ValueError")
    out["retry_exceptions_not_classes"] = raised(lambda: one.options(retry_exceptions=["Overdrawn"]).remote())
    out["max_calls_2"] = [wrun.get(instance_calls.options(max_calls=2).remote()) for _ in range(5)]
    out["no_max_calls"] = [wrun.get(instance_calls.remote()) for _ in range(3)]
    return out
