"""Ids, object references and actor handles: the values that name things the
host owns. Kept free of host imports so the codec can be tested anywhere."""

from __future__ import annotations

from typing import Any, Dict, NamedTuple, Optional


class Id(NamedTuple):
    """A 128-bit identifier (of a job, task, node, object or actor).

    ``str(id)`` is 32 lowercase hex digits, ``hi`` first, as the Rust SDK and
    the ``wrun`` CLI print it.
    """

    hi: int
    lo: int

    def hex(self) -> str:
        return f"{self.hi:016x}{self.lo:016x}"

    def __str__(self) -> str:
        return self.hex()

    def to_bytes(self) -> bytes:
        """The 16 bytes of the id: ``hi`` then ``lo``, both big-endian."""
        return self.hi.to_bytes(8, "big") + self.lo.to_bytes(8, "big")

    @classmethod
    def from_bytes(cls, b: bytes) -> "Id":
        return cls(int.from_bytes(b[:8], "big"), int.from_bytes(b[8:16], "big"))


class ObjectRef:
    """A reference to an immutable object in the store (Ray's ``ObjectRef``).

    Returned by ``f.remote(...)``, ``handle.method.remote(...)`` and
    :func:`wrun.put`. Holding it keeps the object alive; once no Python object
    refers to it the host handle is dropped and the host may free the object.
    Pass it to a task as a top-level argument and the task receives the value
    (the host resolves it first); nest it in a value and the task receives the
    reference itself.
    """

    __slots__ = ("_handle", "__weakref__")

    def __init__(self, handle: Any):
        # The WIT `object-ref` resource handle. Never given away: encoding a
        # value that contains this reference clones the handle instead.
        self._handle = handle

    def id(self) -> Id:
        """The object's id."""
        i = self._handle.id()
        return Id(i.hi, i.lo)

    def hex(self) -> str:
        """The object's id as 32 hex digits (Ray: ``ObjectRef.hex()``)."""
        return self.id().hex()

    def owner(self) -> Id:
        """The worker that owns (created and reference-counts) the object."""
        i = self._handle.owner()
        return Id(i.hi, i.lo)

    def get(self, timeout: Optional[float] = None) -> Any:
        """Waits for the object and returns its value (= ``wrun.get(self)``)."""
        from . import _runtime

        return _runtime.get(self, timeout=timeout)

    def __repr__(self) -> str:
        try:
            return f"ObjectRef({self.hex()})"
        except Exception:  # outside a component: no host to ask
            return "ObjectRef(<handle>)"


class ObjectRefGenerator:
    """The results of a streaming call (Ray's ``ObjectRefGenerator``): a task
    or actor method that yields (``num_returns="streaming"``, the default for
    a generator function) gives one of these at once.

    Iterating it returns an :class:`ObjectRef` per item, in the order they
    were yielded, each as soon as it is stored, while the call still runs;
    it stops after the last one. A call that fails after ``k`` items (an
    exception, a trap, a cancel, its actor's death) gives one more item,
    ``k``, whose ``wrun.get`` raises the error, and the iteration then ends.
    """

    __slots__ = ("_ref", "_next", "_ended")

    def __init__(self, ref: ObjectRef):
        self._ref = ref
        self._next = 0
        self._ended = False

    def __iter__(self) -> "ObjectRefGenerator":
        return self

    def __next__(self) -> ObjectRef:
        return self.next()

    def next(self, timeout: Optional[float] = None) -> ObjectRef:
        """The next item's reference, waiting at most ``timeout`` seconds
        (``GetTimeoutError`` past it); ``StopIteration`` once the stream ended."""
        from . import _runtime

        if self._ended:
            raise StopIteration
        item = _runtime.stream_next(self._ref, self._next, timeout)
        if item is None:
            self._ended = True
            raise StopIteration
        self._next += 1
        return item

    def is_finished(self) -> bool:
        """Whether iterating it reached the end."""
        return self._ended

    def completed(self) -> ObjectRef:
        """A reference that is ready once the call ended; its value is the
        list of every item's reference (it may be passed to other tasks)."""
        return self._ref

    def __repr__(self) -> str:
        return f"ObjectRefGenerator({self._ref!r})"


class ActorHandle:
    """A handle to a live actor (Ray's ``ActorHandle``).

    ``handle.method.remote(*args)`` calls a method and returns an
    :class:`ObjectRef` to its result; calls from one caller run in submission
    order. Handles compare equal when they name the same actor, and travel in
    values (as MessagePack extension type 2), so tasks can be handed one.
    """

    __slots__ = ("_actor_id", "_class_name", "_num_returns", "_python", "_cls")

    def __init__(
        self,
        actor_id: Id,
        class_name: Optional[str] = None,
        num_returns: Optional[Dict[str, int]] = None,
        python: bool = False,
    ):
        self._actor_id = actor_id
        # Known when the handle comes from `Cls.remote()`: lets a method
        # declared with `@wrun.method(num_returns=N)` return N references.
        self._class_name = class_name
        self._num_returns = num_returns or {}
        # The actor is a Python class of this component: its methods get
        # Python values (tuples stay tuples).
        self._python = python
        # The class itself, when `Cls.remote()` of this instance made the
        # handle: a method it lacks, or arguments its method cannot take,
        # fail at the call.
        self._cls = None

    @property
    def actor_id(self) -> Id:
        return self._actor_id

    def __getattr__(self, name: str) -> "ActorMethod":
        if name.startswith("_"):
            raise AttributeError(name)
        if self._cls is not None and not callable(getattr(self._cls, name, None)):
            # As Ray: the method is looked up when the handle is used.
            raise AttributeError(f"actor class {self._class_name} has no method {name!r}")
        return ActorMethod(self, name, self._num_returns.get(name, 1))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActorHandle) and other._actor_id == self._actor_id

    def __hash__(self) -> int:
        return hash(self._actor_id)

    def __repr__(self) -> str:
        cls = self._class_name or "Actor"
        return f"ActorHandle({cls}, {self._actor_id.hex()})"


class ActorMethod:
    """One method of an actor, bound to its handle: call it with ``.remote``."""

    __slots__ = ("_handle", "_name", "_num_returns")

    def __init__(self, handle: ActorHandle, name: str, num_returns: int = 1):
        self._handle = handle
        self._name = name
        self._num_returns = num_returns

    def options(self, num_returns: Any = None) -> "ActorMethod":
        """The same method with another number of return values (or
        ``"streaming"``: the method yields them, see :class:`ObjectRefGenerator`)."""
        n = self._num_returns if num_returns is None else num_returns
        return ActorMethod(self._handle, self._name, n)

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        """Calls the method; returns an ObjectRef (a tuple of them when the
        method has several return values, ``None`` when it has none, an
        :class:`ObjectRefGenerator` when it streams).
        Keyword arguments are bound as Python binds them where the handle
        knows its class (``Cls.remote()`` of this component)."""
        from . import _runtime

        return _runtime.call_method(self._handle, self._name, args, kwargs, self._num_returns)

    def __repr__(self) -> str:
        return f"ActorMethod({self._name} of {self._handle!r})"
