"""The value codec: MessagePack, with object references and actor handles.

Every argument and return value crosses the host boundary as one WIT
``value``: MessagePack bytes plus the object references they contain. This
module produces exactly the bytes the Rust SDK (``rmp_serde::to_vec_named``)
produces for the same data, so Python and Rust jobs can exchange values:

* integers take the smallest encoding (non-negative ones an unsigned format,
  negative ones a signed format), as ``rmp`` does;
* every float is a float64 (Rust ``f64``);
* ``str`` is a MessagePack str, ``bytes`` a bin (Rust ``serde_bytes``);
* lists and tuples are arrays, dicts are maps (keys in insertion order), and a
  dataclass is a map keyed by field name, like a Rust struct;
* an :class:`~wrun.ObjectRef` is extension type 1 whose payload is a
  big-endian u32 index into the value's ``refs``;
* an :class:`~wrun.ActorHandle` is extension type 2 whose payload is the
  16-byte actor id (``hi`` then ``lo``, both big-endian);
* a value with no form in that shared codec (a set, an integer past 64 bits,
  an instance of the job's own class) is pickled whole into extension type 3,
  a Python-only value: another Python guest unpickles it, other languages
  refuse it with an error that says so. Its object references and actor
  handles are pickle persistent ids, so references inside it still travel
  in ``refs``. With ``python_peer`` (the reader is a Python task or actor of
  this component) a tuple, a dataclass or any value of a type the shared
  codec would change (a subclass, a bytearray) is pickled too, so that it
  comes back as it left.

It is pure Python (the guest is CPython compiled to WebAssembly, where C
extensions are not available) and needs nothing from the host to run, so it
is unit-tested with an ordinary interpreter.
"""

from __future__ import annotations

import dataclasses
import io
import pickle
import struct
from typing import Any, List, NamedTuple, Sequence, Tuple

from ._handles import ActorHandle, Id, ObjectRef

__all__ = [
    "pack", "unpack", "ExtType", "EXT_OBJECT_REF", "EXT_ACTOR", "EXT_PYTHON", "PYTHON_CALLER", "DecodeError",
]

#: Extension type of an object reference.
EXT_OBJECT_REF = 1
#: Extension type of an actor handle.
EXT_ACTOR = 2
#: Extension type of a Python-only value: a pickle.
EXT_PYTHON = 3
#: The first argument a Python caller adds to its calls of a Python task or
#: actor of its own component: extension type 3, empty. The callee removes it
#: and pickles what the shared codec would change in its results.
PYTHON_CALLER = b"\xc7\x00\x03"

_U64_MAX = (1 << 64) - 1
_I64_MIN = -(1 << 63)


class ExtType(NamedTuple):
    """A MessagePack extension value of a type wrun does not know.

    Kept as is so that such values survive a round trip through Python.
    """

    code: int
    data: bytes


class DecodeError(ValueError):
    """The bytes are not a well-formed wrun value."""


# --- encoding -----------------------------------------------------------------


class _PythonOnly(Exception):
    """Raised inside the encoder: the value needs extension type 3."""


def pack(value: Any, python_peer: bool = False, pickle_ok: bool = True) -> Tuple[bytes, list]:
    """Encodes ``value``; returns ``(data, refs)``.

    ``refs`` holds one fresh, owned host handle per object reference met in
    ``value`` (obtained with the handle's ``clone()``), in the order of their
    indices. Sending the value to the host gives those handles away, while the
    caller's own :class:`ObjectRef` objects stay valid, as in the Rust SDK.

    A value the shared codec cannot carry (or, with ``python_peer``, would
    change) is pickled whole as extension type 3, unless ``pickle_ok`` is
    false (a driver's result, which the command line prints): then it is a
    TypeError.
    """
    out = bytearray()
    refs: list = []
    try:
        _pack(value, out, refs, python_peer)
    except _PythonOnly as e:
        # The handles cloned so far are dropped with `refs` (their finalizers).
        if not pickle_ok:
            raise TypeError(f"cannot encode {e} for wrun: it has no form other languages read") from None
        return _pickle(value)
    return bytes(out), refs


class _Pickler(pickle.Pickler):
    """Pickles with object references and actor handles as persistent ids."""

    def __init__(self, file, refs: list):
        super().__init__(file, protocol=5)
        self.refs = refs

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, ObjectRef):
            self.refs.append(obj._handle.clone())
            return ("ref", len(self.refs) - 1)
        if isinstance(obj, ActorHandle):
            return ("actor", obj._actor_id.to_bytes(), obj._class_name, obj._num_returns, obj._python)
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, refs: Sequence):
        super().__init__(file)
        self.refs = refs

    def persistent_load(self, pid: Any) -> Any:
        if pid[0] == "ref":
            i = pid[1]
            if i >= len(self.refs):
                raise DecodeError(f"object reference index {i} out of range ({len(self.refs)} refs)")
            return ObjectRef(self.refs[i])
        if pid[0] == "actor":
            return ActorHandle(Id.from_bytes(pid[1]), pid[2], pid[3], pid[4])
        raise DecodeError(f"unknown persistent id {pid[0]!r} in a Python value")


def _pickle(value: Any) -> Tuple[bytes, list]:
    refs: list = []
    buf = io.BytesIO()
    try:
        _Pickler(buf, refs).dump(value)
    except (pickle.PicklingError, TypeError, AttributeError) as e:
        raise TypeError(
            f"cannot encode a value of type {type(value).__qualname__} for wrun: "
            f"it has no shared form and pickle refused it ({e})"
        ) from None
    out = bytearray()
    _pack_ext(EXT_PYTHON, buf.getvalue(), out)
    return bytes(out), refs


def _pack_int(n: int, out: bytearray) -> None:
    if n >= 0:
        if n < 0x80:
            out.append(n)
        elif n <= 0xFF:
            out += b"\xcc" + n.to_bytes(1, "big")
        elif n <= 0xFFFF:
            out += b"\xcd" + n.to_bytes(2, "big")
        elif n <= 0xFFFFFFFF:
            out += b"\xce" + n.to_bytes(4, "big")
        elif n <= _U64_MAX:
            out += b"\xcf" + n.to_bytes(8, "big")
        else:
            raise OverflowError(f"integer {n} does not fit in 64 bits")
    elif n >= -32:
        out.append(n & 0xFF)
    elif n >= -0x80:
        out += b"\xd0" + n.to_bytes(1, "big", signed=True)
    elif n >= -0x8000:
        out += b"\xd1" + n.to_bytes(2, "big", signed=True)
    elif n >= -0x80000000:
        out += b"\xd2" + n.to_bytes(4, "big", signed=True)
    elif n >= _I64_MIN:
        out += b"\xd3" + n.to_bytes(8, "big", signed=True)
    else:
        raise OverflowError(f"integer {n} does not fit in 64 bits")


def _pack_len(n: int, out: bytearray, fix: int, fix_max: int, c8: int, c16: int, c32: int) -> None:
    """Writes a str/bin/array/map header; ``c8``/``fix`` are 0 when absent."""
    if fix and n <= fix_max:
        out.append(fix | n)
    elif c8 and n <= 0xFF:
        out.append(c8)
        out.append(n)
    elif n <= 0xFFFF:
        out.append(c16)
        out += n.to_bytes(2, "big")
    elif n <= 0xFFFFFFFF:
        out.append(c32)
        out += n.to_bytes(4, "big")
    else:
        raise OverflowError("value too long for MessagePack")


_FIXEXT = {1: 0xD4, 2: 0xD5, 4: 0xD6, 8: 0xD7, 16: 0xD8}


def _pack_ext(code: int, data: bytes, out: bytearray) -> None:
    n = len(data)
    head = _FIXEXT.get(n)
    if head is not None:
        out.append(head)
    else:
        _pack_len(n, out, 0, 0, 0xC7, 0xC8, 0xC9)
    out += code.to_bytes(1, "big", signed=True)
    out += data


def _pack(v: Any, out: bytearray, refs: list, peer: bool = False) -> None:
    # Exact type checks first: they are the common case and the fastest.
    t = type(v)
    if v is None:
        out.append(0xC0)
    elif v is True:
        out.append(0xC3)
    elif v is False:
        out.append(0xC2)
    elif t is int:
        if not _I64_MIN <= v <= _U64_MAX:
            raise _PythonOnly(f"the integer {_short(v)}, past 64 bits,")
        _pack_int(v, out)
    elif t is str:
        b = v.encode("utf-8")
        _pack_len(len(b), out, 0xA0, 31, 0xD9, 0xDA, 0xDB)
        out += b
    elif t is float:
        out.append(0xCB)
        out += struct.pack(">d", v)
    elif t is list or (t is tuple and not peer):
        _pack_len(len(v), out, 0x90, 15, 0, 0xDC, 0xDD)
        for x in v:
            _pack(x, out, refs, peer)
    elif t is dict:
        _pack_map(v.items(), len(v), out, refs, peer)
    elif t is bytes:
        _pack_len(len(v), out, 0, 0, 0xC4, 0xC5, 0xC6)
        out += v
    elif isinstance(v, ObjectRef):
        refs.append(v._handle.clone())
        _pack_ext(EXT_OBJECT_REF, (len(refs) - 1).to_bytes(4, "big"), out)
    elif isinstance(v, ActorHandle):
        _pack_ext(EXT_ACTOR, v._actor_id.to_bytes(), out)
    elif isinstance(v, ExtType):
        _pack_ext(v.code, bytes(v.data), out)
    elif peer:
        # A Python reader gets back the very type: a tuple, a set, a
        # dataclass, an IntEnum, a bytearray.
        raise _PythonOnly(f"a value of type {t.__qualname__}")
    elif isinstance(v, (bytes, bytearray, memoryview)):
        b = bytes(v)
        _pack_len(len(b), out, 0, 0, 0xC4, 0xC5, 0xC6)
        out += b
    # Subclasses (IntEnum, str enums, OrderedDict, ...) after the exact types.
    elif isinstance(v, bool):
        out.append(0xC3 if v else 0xC2)
    elif isinstance(v, int):
        _pack(int(v), out, refs)
    elif isinstance(v, str):
        _pack(str(v), out, refs)
    elif isinstance(v, float):
        _pack(float(v), out, refs)
    elif isinstance(v, (list, tuple)):
        _pack(list(v), out, refs)
    elif isinstance(v, dict):
        _pack_map(v.items(), len(v), out, refs)
    elif dataclasses.is_dataclass(v) and not isinstance(v, type):
        # Like a Rust struct under to_vec_named: a map keyed by field name.
        fields = dataclasses.fields(v)
        _pack_map(((f.name, getattr(v, f.name)) for f in fields), len(fields), out, refs)
    else:
        raise _PythonOnly(f"a value of type {t.__qualname__}")


def _pack_map(items, n: int, out: bytearray, refs: list, peer: bool = False) -> None:
    _pack_len(n, out, 0x80, 15, 0, 0xDE, 0xDF)
    for k, x in items:
        _pack(k, out, refs, peer)
        _pack(x, out, refs, peer)


def _short(n: int) -> str:
    """An integer for a message: its digits, or its size when they are many."""
    text = str(n) if n.bit_length() < 200 else f"of {n.bit_length()} bits"
    return text


# --- decoding -----------------------------------------------------------------


def unpack(data: bytes, refs: Sequence = ()) -> Any:
    """Decodes one value; extension type 1 becomes an :class:`ObjectRef` on
    the handle at that index of ``refs`` (an index met twice shares it)."""
    d = _Decoder(bytes(data), refs)
    v = d.value()
    if d.pos != len(d.data):
        raise DecodeError(f"{len(d.data) - d.pos} trailing bytes after the value")
    return v


_STRUCTS = {n: struct.Struct(f) for n, f in [(0xCA, ">f"), (0xCB, ">d")]}


class _Decoder:
    __slots__ = ("data", "pos", "refs")

    def __init__(self, data: bytes, refs: Sequence):
        self.data = data
        self.pos = 0
        self.refs = refs

    def take(self, n: int) -> bytes:
        p = self.pos
        if p + n > len(self.data):
            raise DecodeError("truncated value")
        self.pos = p + n
        return self.data[p : p + n]

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def value(self) -> Any:
        if self.pos >= len(self.data):
            raise DecodeError("truncated value")
        b = self.data[self.pos]
        self.pos += 1
        if b <= 0x7F:
            return b
        if b >= 0xE0:
            return b - 0x100
        if 0xA0 <= b <= 0xBF:
            return self.str(b & 0x1F)
        if 0x90 <= b <= 0x9F:
            return self.array(b & 0x0F)
        if 0x80 <= b <= 0x8F:
            return self.map(b & 0x0F)
        if b == 0xC0:
            return None
        if b == 0xC2:
            return False
        if b == 0xC3:
            return True
        if 0xCC <= b <= 0xCF:
            return self.uint(1 << (b - 0xCC))
        if 0xD0 <= b <= 0xD3:
            return int.from_bytes(self.take(1 << (b - 0xD0)), "big", signed=True)
        if b in _STRUCTS:
            s = _STRUCTS[b]
            return s.unpack(self.take(s.size))[0]
        if 0xD9 <= b <= 0xDB:
            return self.str(self.uint(1 << (b - 0xD9)))
        if 0xC4 <= b <= 0xC6:
            return self.take(self.uint(1 << (b - 0xC4)))
        if b == 0xDC or b == 0xDD:
            return self.array(self.uint(2 if b == 0xDC else 4))
        if b == 0xDE or b == 0xDF:
            return self.map(self.uint(2 if b == 0xDE else 4))
        if 0xD4 <= b <= 0xD8:
            return self.ext(1 << (b - 0xD4))
        if 0xC7 <= b <= 0xC9:
            return self.ext(self.uint(1 << (b - 0xC7)))
        raise DecodeError(f"invalid MessagePack byte 0x{b:02x}")

    def str(self, n: int) -> str:
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError as e:
            raise DecodeError(f"invalid UTF-8 in a string: {e}") from None

    def array(self, n: int) -> List[Any]:
        return [self.value() for _ in range(n)]

    def map(self, n: int) -> dict:
        out = {}
        for _ in range(n):
            k = self.value()
            if isinstance(k, list):  # unhashable: keep it usable as a key
                k = _freeze(k)
            out[k] = self.value()
        return out

    def ext(self, n: int) -> Any:
        code = int.from_bytes(self.take(1), "big", signed=True)
        data = self.take(n)
        if code == EXT_OBJECT_REF:
            if n != 4:
                raise DecodeError(f"object reference payload of {n} bytes (want 4)")
            i = int.from_bytes(data, "big")
            if i >= len(self.refs):
                raise DecodeError(
                    f"object reference index {i} out of range ({len(self.refs)} refs)"
                )
            return ObjectRef(self.refs[i])
        if code == EXT_ACTOR:
            if n != 16:
                raise DecodeError(f"actor handle payload of {n} bytes (want 16)")
            return ActorHandle(Id.from_bytes(data))
        if code == EXT_PYTHON:
            try:
                return _Unpickler(io.BytesIO(data), self.refs).load()
            except DecodeError:
                raise
            except Exception as e:  # noqa: BLE001 - any unpickling failure
                raise DecodeError(f"a Python value that does not unpickle here: {type(e).__name__}: {e}") from None
        return ExtType(code, data)


def _freeze(v: Any) -> Any:
    return tuple(_freeze(x) for x in v) if isinstance(v, list) else v
