"""Python values between Python tasks and actors come back as they left:
tuples stay tuples, sets, frozensets, integers past 64 bits (2**999),
dataclasses and instances of the job's own classes survive, with object
references inside them; values crossing languages keep the shared codec
(a tuple reaches C++ as a list), and a value only Python can read is refused
by another language with an error that says so. An exception a Python task
raises comes back as itself (``except Overdrawn`` catches it).

    wrun submit --component cpp=shards.wasm --component rust=cancel.wasm values.wasm
    # -> {"task": {...: true}, "actor": {...}, "put": {...}, "cpp_tuple": ..., ...}
"""

import dataclasses

import wrun


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


class Money:
    """A plain class of the job: pickled by reference to app.Money."""

    def __init__(self, cents):
        self.cents = cents

    def __eq__(self, other):
        return isinstance(other, Money) and other.cents == self.cents


class Overdrawn(Exception):
    """A user exception with an attribute of its own."""

    def __init__(self, amount):
        super().__init__(f"overdrawn by {amount}")
        self.amount = amount


@wrun.remote
def withdraw(amount):
    raise Overdrawn(amount)


@wrun.remote
def withdraw_via(amount):
    """Gets a failing task's result and lets its error pass on."""
    return wrun.get(withdraw.remote(amount))


@wrun.remote
def divide(a, b):
    return a / b


def caught(call):
    """Which ``except`` clause catches what ``call`` raises, and what it holds."""
    try:
        call()
        return "no error"
    except Overdrawn as e:
        return {
            "as": "Overdrawn",
            "task_error": isinstance(e, wrun.TaskError),
            "amount": e.amount,
            "cause": type(e.cause).__name__,
            "task": e.task,
        }
    except ZeroDivisionError as e:
        return {"as": "ZeroDivisionError", "task_error": isinstance(e, wrun.TaskError)}
    except wrun.TaskError as e:
        return {"as": "TaskError", "kind": e.kind}


def samples():
    return {
        "tuple": (1, (2, "three")),
        "list_of_tuples": [("a", 1), ("b", 2)],
        "set": {1, 2, 3},
        "frozenset": frozenset({"x", "y"}),
        "big": 2**999,
        "negative_big": -(2**999),
        "dataclass": Point(3, 4),
        "object": Money(1999),
        "bytearray": bytearray(b"\x00\x01"),
        "dict_with_tuple_key": {(1, 2): "pair"},
    }


@wrun.remote
def echo(v):
    return v


@wrun.remote
def kinds(v):
    """The type names the callee sees."""
    return type(v).__name__


@wrun.remote
def deref(pair):
    """A tuple holding a reference: the reference still resolves."""
    label, ref = pair
    return (label, wrun.get(ref))


@wrun.remote
class Keeper:
    def __init__(self, first):
        self.items = [first]

    def keep(self, v):
        self.items.append(v)
        return v

    def all(self):
        return tuple(self.items)


def same(a, b):
    return a == b and type(a) is type(b)


def refused(call):
    try:
        wrun.get(call())
        return "accepted"
    except wrun.TaskError as e:
        return {"kind": e.kind, "python_only": "Python-only" in e.message}


@wrun.main
def main(args):
    out = {}
    values = samples()
    out["task"] = {k: same(wrun.get(echo.remote(v)), v) for k, v in values.items()}
    out["callee_sees"] = {k: wrun.get(kinds.remote(values[k])) for k in ("tuple", "set", "dataclass", "object")}
    keeper = Keeper.remote((0, 0))
    out["actor"] = {k: same(wrun.get(keeper.keep.remote(v)), v) for k, v in values.items()}
    out["actor_state"] = same(wrun.get(keeper.all.remote())[0], (0, 0))
    # A put cannot know its reader: a set (no shared form) stays a set, a
    # tuple is a list in the shared codec, as in a put from any language.
    out["put"] = {
        "set": same(wrun.get(wrun.put({1, 2})), {1, 2}),
        "big": same(wrun.get(wrun.put(2**999)), 2**999),
        "tuple_as_list": wrun.get(wrun.put((1, 2))) == [1, 2],
    }
    inner = wrun.put([5, 6])
    out["ref_in_tuple"] = wrun.get(deref.remote(("five-six", inner))) == ("five-six", [5, 6])
    # A user exception comes back as itself, through a chain of tasks too.
    out["exceptions"] = {
        "direct": caught(lambda: wrun.get(withdraw.remote(5))),
        "chained": caught(lambda: wrun.get(withdraw_via.remote(7))),
        "builtin": caught(lambda: wrun.get(divide.remote(1, 0))),
        # Through a Rust task that passes the error on with `?`.
        "via_rust": caught(lambda: wrun.get(wrun.function("tally/relay").remote("values/withdraw", 9))),
        # And through a C++ task that passes it on.
        "via_cpp": caught(lambda: wrun.get(wrun.function("cpp/pass_on").remote("values/withdraw", 11))),
        "via_java": caught(lambda: wrun.get(wrun.function("java/passOn").remote("values/withdraw", 13))),
    }
    # Across languages: the shared codec, or a clear refusal.
    out["cpp_tuple"] = wrun.get(wrun.function("cpp/shard_stats").remote((1, 2, 3)))["count"]
    out["cpp_set"] = refused(lambda: wrun.function("cpp/shard_stats").remote({1, 2, 3}))
    out["rust_big"] = refused(lambda: wrun.function("rust/add_one").remote(2**999))
    return out
