"""Unit tests of the wrun value codec; plain CPython, no component needed.

    python3 -m pytest guest-sdk/python/tests

The byte vectors are what the Rust SDK (rmp_serde::to_vec_named, smallest
integer encodings, f64 floats, structs as maps by field name) produces for
the same values, so Python and Rust jobs can exchange them.
"""

import dataclasses
import math
import os
import struct
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from wrun import ActorHandle, Id, ObjectRef  # noqa: E402
from wrun.codec import DecodeError, ExtType, pack, unpack  # noqa: E402


class FakeHandle:
    """Stands in for the WIT object-ref resource: counts clones."""

    def __init__(self, name, parent=None):
        self.name = name
        self.parent = parent
        self.clones = 0

    def clone(self):
        self.clones += 1
        return FakeHandle(self.name, parent=self)


def data(v):
    d, refs = pack(v)
    assert refs == []
    return d


def rt(v):
    return unpack(*pack(v))


# --- byte-for-byte vectors ---------------------------------------------------

H = bytes.fromhex


@pytest.mark.parametrize(
    "value, hexbytes",
    [
        ({"a": 1}, "81a16101"),
        (None, "c0"),
        (False, "c2"),
        (True, "c3"),
        # non-negative integers: positive fixint, then uint 8/16/32/64
        (0, "00"),
        (127, "7f"),
        (128, "cc80"),
        (255, "ccff"),
        (256, "cd0100"),
        (65535, "cdffff"),
        (65536, "ce00010000"),
        (2**32 - 1, "ceffffffff"),
        (2**32, "cf0000000100000000"),
        (2**64 - 1, "cfffffffffffffffff"),
        # negative integers: negative fixint, then int 8/16/32/64
        (-1, "ff"),
        (-32, "e0"),
        (-33, "d0df"),
        (-128, "d080"),
        (-129, "d1ff7f"),
        (-32768, "d18000"),
        (-32769, "d2ffff7fff"),
        (-(2**31), "d280000000"),
        (-(2**31) - 1, "d3ffffffff7fffffff"),
        (-(2**63), "d38000000000000000"),
        # floats are always float64
        (2.5, "cb4004000000000000"),
        (0.0, "cb0000000000000000"),
        (1.0, "cb3ff0000000000000"),
        # strings: fixstr, str8, str16
        ("", "a0"),
        ("hi", "a26869"),
        ("x" * 31, "bf" + "78" * 31),
        ("x" * 32, "d920" + "78" * 32),
        ("x" * 256, "da0100" + "78" * 256),
        ("é", "a2c3a9"),
        # bytes are bin (serde_bytes)
        (b"", "c400"),
        (b"\x01\x02", "c4020102"),
        (b"\x00" * 256, "c50100" + "00" * 256),
        # arrays and maps: fix, then 16-bit lengths
        ([], "90"),
        ([1, 2], "920102"),
        ((1, -2, 2.5), "9301fecb4004000000000000"),
        (list(range(16)), "dc0010" + "".join(f"{i:02x}" for i in range(16))),
        ({}, "80"),
        ({"b": [None, True]}, "81a16292c0c3"),
        ({i: i for i in range(16)}, "de0010" + "".join(f"{i:02x}{i:02x}" for i in range(16))),
    ],
)
def test_vectors(value, hexbytes):
    assert data(value) == H(hexbytes)
    back = unpack(H(hexbytes))
    assert back == (list(value) if isinstance(value, tuple) else value)


def test_struct_is_map_in_field_order_like_rust():
    # The Rust pi example's `Estimate { tasks, inside, total, pi }`.
    @dataclasses.dataclass
    class Estimate:
        tasks: int
        inside: int
        total: int
        pi: float

    want = (
        H("84")
        + H("a5") + b"tasks" + H("0a")
        + H("a6") + b"inside" + H("ce0001331d")
        + H("a5") + b"total" + H("ce000186a0")
        + H("a2") + b"pi" + H("cb") + struct.pack(">d", 3.14484)
    )
    est = Estimate(10, 78621, 100000, 3.14484)
    assert data(est) == want
    # A dict with the same keys in the same order is the same bytes.
    assert data(dataclasses.asdict(est)) == want
    assert unpack(want) == dataclasses.asdict(est)


def test_struct_with_one_field():
    # From the Rust SDK's codec tests: struct P { x: u8 } with x = 7.
    @dataclasses.dataclass
    class P:
        x: int

    assert data(P(7)) == bytes([0x81, 0xA1, ord("x"), 0x07])


# --- extension types ---------------------------------------------------------


def test_actor_handle_is_fixext16_type_2_big_endian():
    h = ActorHandle(Id(0x0102030405060708, 0x090A0B0C0D0E0F10))
    want = bytes([0xD8, 0x02]) + bytes(range(1, 17))
    assert data(h) == want
    back = unpack(want)
    assert isinstance(back, ActorHandle)
    assert back == h and back.actor_id.hex() == "0102030405060708090a0b0c0d0e0f10"


def test_object_ref_is_fixext4_type_1_with_index_and_clones_each_occurrence():
    a, b = FakeHandle("a"), FakeHandle("b")
    ra, rb = ObjectRef(a), ObjectRef(b)
    d, refs = pack({"x": ra, "y": [rb, ra]})
    assert d == (
        H("82") + H("a178") + H("d60100000000")
        + H("a179") + H("92") + H("d60100000001") + H("d60100000002")
    )
    # One fresh owned handle per occurrence, in index order; originals kept.
    assert [r.name for r in refs] == ["a", "b", "a"]
    assert all(r.parent is not None for r in refs)
    assert a.clones == 2 and b.clones == 1
    assert ra._handle is a


def test_object_ref_decodes_to_the_handle_at_its_index():
    h0, h1 = FakeHandle("h0"), FakeHandle("h1")
    v = unpack(H("93") + H("d60100000001") + H("d60100000000") + H("d60100000001"), [h0, h1])
    assert all(isinstance(r, ObjectRef) for r in v)
    assert [r._handle for r in v] == [h1, h0, h1]  # an index met twice shares the handle


def test_object_ref_index_out_of_range_is_an_error():
    with pytest.raises(DecodeError, match="out of range"):
        unpack(H("d60100000000"), [])


def test_unknown_ext_round_trips():
    for n in (1, 2, 3, 4, 8, 16, 17, 300):
        e = ExtType(5, bytes(n))
        assert rt(e) == e
    assert data(ExtType(-3, b"\x00\x01\x02")) == H("c7 03 fd 000102".replace(" ", ""))


# --- round trips and edge cases ----------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        0, 1, -1, 2**63 - 1, -(2**63), 2**64 - 1,
        1.5, -0.0, float("inf"), 1e300,
        "", "snowman ☃", "x" * 70000,
        b"\xff" * 70000,
        [1, [2, [3, {"k": None}]]],
        {"nested": {"list": [1.0, "two", b"three"]}, 7: False},
        list(range(70000)),
    ],
)
def test_round_trip(value):
    assert rt(value) == value


def test_nan_round_trips():
    assert math.isnan(rt(float("nan")))


def test_float32_decodes():
    assert unpack(H("ca3fc00000")) == 1.5


def test_subclasses_encode_as_their_base():
    import enum
    from collections import OrderedDict

    class Color(enum.IntEnum):
        RED = 3

    assert data(Color.RED) == H("03")
    assert data(OrderedDict(a=1)) == H("81a16101")
    assert data(bytearray(b"\x01")) == H("c40101")


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


def is_python_only(d):
    """Extension type 3 (ext8/16/32 header, or fixext) wrapping the value."""
    return (d[0] in (0xC7, 0xC8, 0xC9) and d[{0xC7: 2, 0xC8: 3, 0xC9: 5}[d[0]]] == 3) or (
        0xD4 <= d[0] <= 0xD8 and d[1] == 3
    )


def test_values_with_no_shared_form_are_python_only_and_round_trip():
    for v in [2**64, -(2**63) - 1, 2**999, {1, 2}, frozenset("ab"), [1, {2}], {"n": 2**70}, Point(1, 2)]:
        if isinstance(v, Point):
            d, refs = pack(v, python_peer=True)
        else:
            d, refs = pack(v)
        assert is_python_only(d), v
        assert refs == []
        assert unpack(d) == v
        assert type(unpack(d)) is type(v)


def test_a_python_peer_gets_tuples_and_subclasses_back_as_they_were():
    import enum

    class Mode(enum.IntEnum):
        FAST = 1

    assert unpack(pack((1, (2, 3)))[0]) == [1, [2, 3]]  # shared codec: arrays
    for v in [(1, (2, 3)), [("a", 1)], {"k": (1,)}, bytearray(b"ab"), Point(3, 4)]:
        d, _ = pack(v, python_peer=True)
        assert is_python_only(d), v
        back = unpack(d)
        assert back == v and type(back) is type(v)
    # Plain values stay in the shared codec even for a Python peer.
    assert pack([1, "a", {"b": None}], python_peer=True)[0] == pack([1, "a", {"b": None}])[0]
    # A local class cannot be pickled: a clear TypeError.
    with pytest.raises(TypeError, match="no shared form and pickle refused it"):
        pack(Mode.FAST, python_peer=True)


def test_references_inside_python_values_travel_in_refs():
    a = FakeHandle("a")
    actor = ActorHandle(Id(7, 8), "Tally", {"add": 2}, True)
    d, refs = pack(({ObjectRef(a)}, actor), python_peer=True)
    assert is_python_only(d)
    assert [r.parent for r in refs] == [a]
    (inner, back_actor) = unpack(d, refs)
    (ref,) = inner
    assert ref._handle is refs[0]
    assert back_actor == actor and back_actor._python and back_actor._num_returns == {"add": 2}


def test_a_python_only_value_can_be_refused_where_it_would_be_printed():
    with pytest.raises(TypeError, match="cannot encode the integer .* past 64 bits"):
        pack(2**64, pickle_ok=False)
    with pytest.raises(TypeError, match="cannot encode a value of type set"):
        pack({1}, pickle_ok=False)


def test_malformed_input_is_an_error():
    with pytest.raises(DecodeError, match="truncated"):
        unpack(H("92 01".replace(" ", "")))
    with pytest.raises(DecodeError, match="trailing"):
        unpack(H("0101"))
    with pytest.raises(DecodeError, match="invalid"):
        unpack(H("c1"))
    with pytest.raises(DecodeError, match="UTF-8"):
        unpack(H("a1ff"))


def test_list_keys_decode_as_tuples():
    assert unpack(H("81920102a178")) == {(1, 2): "x"}


def test_id_formats_like_rust():
    i = Id(1, 2)
    assert str(i) == "0000000000000001" "0000000000000002"
    assert Id.from_bytes(i.to_bytes()) == i


class Overdrawn(Exception):
    def __init__(self, amount):
        super().__init__(f"overdrawn by {amount}")
        self.amount = amount


def test_an_exception_crosses_as_its_own_class():
    import pickle
    from types import SimpleNamespace

    from wrun import _runtime
    from wrun.errors import TaskError

    native = _runtime.pickled_exception(Overdrawn(5))
    record = SimpleNamespace(
        kind=SimpleNamespace(name="APPLICATION"), task="withdraw", message="Overdrawn: ...",
        language="python", native=native, types=["test_codec.Overdrawn", "builtins.Exception"],
    )
    e = _runtime.from_wit_error(record)
    assert isinstance(e, TaskError) and isinstance(e, Overdrawn)
    assert e.amount == 5 and isinstance(e.cause, Overdrawn) and e.task == "withdraw"
    assert str(e).startswith("application in withdraw (python): ")
    assert e._native == native
    assert list(e._types) == ["test_codec.Overdrawn", "builtins.Exception"]
    # From another language, or unpicklable: a plain TaskError.
    assert type(_runtime.from_wit_error(SimpleNamespace(**{**vars(record), "language": "rust"}))) is TaskError
    assert type(_runtime.from_wit_error(SimpleNamespace(**{**vars(record), "native": b"junk"}))) is TaskError
    # Too large or unpicklable exceptions do not travel.
    assert _runtime.pickled_exception(Overdrawn("x" * (2 << 20))) == b""

    class Local(Exception):
        pass

    assert _runtime.pickled_exception(Local()) == b""
    assert pickle.loads(native).amount == 5


def test_async_actors_and_concurrency_options_are_refused_with_the_reason():
    import wrun

    class Plain:
        def f(self):
            return 1

    class Asynchronous:
        async def f(self):
            return 1

    async def coroutine_task():
        return 1

    async def async_generator_task():
        yield 1

    for f in (coroutine_task, async_generator_task):
        try:
            wrun.remote(f)
            raise AssertionError(f"{f.__name__} was accepted")
        except TypeError as e:
            assert "async tasks are not supported yet" in str(e)

    try:
        wrun.remote(Asynchronous)
        raise AssertionError("an async actor was accepted")
    except TypeError as e:
        assert "async actors are not supported yet" in str(e)
    for options in ({"max_concurrency": 4}, {"concurrency_groups": {"io": 2}}):
        try:
            wrun.remote(**options)(Plain)
            raise AssertionError(f"{options} was accepted")
        except ValueError as e:
            assert "docs/concurrent-actors.md" in str(e)
    wrun.remote(max_concurrency=1)(Plain)  # what wrun does anyway


def test_retry_exceptions_names_classes_and_their_bases():
    from wrun import _runtime

    assert _runtime.exception_types(Overdrawn(1))[:2] == ["test_codec.Overdrawn", "builtins.Exception"]
    assert _runtime.exception_types(Overdrawn(1))[-1] == "builtins.BaseException"
    assert _runtime._retry_exceptions(True) == (True, [])
    assert _runtime._retry_exceptions([Overdrawn, KeyError]) == (True, ["test_codec.Overdrawn", "builtins.KeyError"])
    for bad in (["Overdrawn"], [], [int], "yes"):
        try:
            _runtime._retry_exceptions(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
