"""The shared codec vectors of tests/vectors/values.json, which the Rust SDK's
tests check too: encoding each value gives exactly its bytes, and decoding
the bytes gives the value back."""

import json
import os
import sys

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, ".."))

from wrun import ActorHandle, Id, ObjectRef  # noqa: E402
from wrun.codec import pack, unpack  # noqa: E402

with open(os.path.join(HERE, "..", "..", "..", "tests", "vectors", "values.json")) as f:
    VECTORS = json.load(f)["vectors"]


class Handle:
    """Stands in for a host object-ref handle."""

    def clone(self):
        return Handle()


def value_of(v):
    kind = v["kind"]
    if kind == "bytes":
        return bytes.fromhex(v["hex"])
    if kind == "actor":
        return ActorHandle(Id(v["hi"], v["lo"]))
    if kind == "objref":
        return ObjectRef(Handle())
    return v["value"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_shared_vector(vector):
    want = bytes.fromhex(vector["msgpack"])
    value = value_of(vector)
    data, refs = pack(value)
    assert data == want
    back = unpack(want, refs)
    if vector["kind"] == "objref":
        assert isinstance(back, ObjectRef) and back._handle is refs[vector["index"]]
    elif vector["kind"] == "float":
        assert back == value and isinstance(back, float)
    else:
        assert back == value


def test_every_kind_is_covered():
    kinds = {v["kind"] for v in VECTORS}
    assert {"nil", "bool", "int", "float", "str", "bytes", "objref", "actor"} <= kinds
