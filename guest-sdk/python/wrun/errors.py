"""Errors: the WIT ``error`` record as Python exceptions.

Every failure the host reports (a task that raised, trapped or timed out, a
dead actor, a ``get`` past its timeout, ...) reaches Python as a
:class:`TaskError` carrying the record's ``kind``, ``task`` and ``message``.
A few kinds have their own subclass so that Ray-style ``except`` clauses read
naturally (``except wrun.GetTimeoutError``); all of them are ``TaskError``.
"""

from __future__ import annotations

from typing import Dict, Type

__all__ = [
    "ErrorKind",
    "TaskError",
    "ActorDiedError",
    "GetTimeoutError",
    "TaskTimeoutError",
    "ObjectLostError",
    "NotFoundError",
    "InfeasibleError",
    "TaskPlacementGroupRemoved",
    "TaskCancelledError",
]


class ErrorKind:
    """The WIT ``error-kind`` names. ``TaskError.kind`` is one of these strings."""

    APPLICATION = "application"
    TRAP = "trap"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory-limit"
    ACTOR_DIED = "actor-died"
    NOT_FOUND = "not-found"
    INVALID_ARGUMENT = "invalid-argument"
    GET_TIMEOUT = "get-timeout"
    OBJECT_LOST = "object-lost"
    INTERNAL = "internal"
    INFEASIBLE = "infeasible"
    PLACEMENT_GROUP_REMOVED = "placement-group-removed"
    TASK_CANCELLED = "task-cancelled"

    ALL = (
        APPLICATION, TRAP, TIMEOUT, MEMORY_LIMIT, ACTOR_DIED,
        NOT_FOUND, INVALID_ARGUMENT, GET_TIMEOUT, OBJECT_LOST, INTERNAL,
        INFEASIBLE, PLACEMENT_GROUP_REMOVED, TASK_CANCELLED,
    )


class TaskError(Exception):
    """A failure reported by the runtime: what failed, where, and why.

    ``kind`` is an :class:`ErrorKind` name such as ``"actor-died"``, ``task``
    the task or actor method that failed (``"fib"``, ``"Counter.incr"``), and
    ``message`` a description (for an ``application`` error raised by Python
    code: the exception and its traceback), and ``language`` the language of
    the guest that raised it (``"python"`` here, ``"rust"``, ``"cpp"``,
    ``"java"`` for errors that crossed from other components; empty when the
    runtime raised it). ``str(e)`` reads
    ``"<kind> in <task> (<language>): <message>"``, like the Rust SDK's
    ``wrun::Error``.

    Raised out of a task, a ``TaskError`` is passed on unchanged, so a driver
    sees the kind and origin of the failure that started the chain (a child's
    trap stays a trap), as Ray chains the cause of a failed task.

    An exception a Python task raised comes back as itself too, as in Ray:
    the ``TaskError`` is also an instance of the exception's class, so
    ``except MyError`` catches it, and ``cause`` holds the exception (its
    attributes are read through). That needs the class to be importable
    where it arrives (a class of the job's component) and the exception to
    pickle; otherwise ``cause`` is None and only ``TaskError`` matches.
    """

    #: The exception a Python task raised, when it crossed (else None).
    cause = None
    #: The error's pickle as it travels (the WIT error's ``native``).
    _native = b""
    #: The names of the exception's class and bases (the WIT error's
    #: ``types``, what ``retry_exceptions=[...]`` matches).
    _types: tuple = ()

    def __new__(
        cls,
        kind: str = ErrorKind.APPLICATION,
        task: str = "",
        message: str = "",
        language: str = "python",
    ):
        # `TaskError(kind, ...)` builds the subclass of that kind, so code that
        # re-creates an error (or the SDK converting a host error) gets the
        # class an `except` clause expects.
        if cls is TaskError:
            cls = _BY_KIND.get(kind, TaskError)
        return super().__new__(cls)

    def __init__(
        self,
        kind: str = ErrorKind.APPLICATION,
        task: str = "",
        message: str = "",
        language: str = "python",
    ):
        if kind not in ErrorKind.ALL:
            raise ValueError(f"unknown error kind {kind!r}")
        super().__init__(kind, task, message, language)
        self.kind = kind
        self.task = task
        self.message = message
        self.language = language

    def __str__(self) -> str:
        where = f" in {self.task}" if self.task else ""
        lang = f" ({self.language})" if self.language else ""
        return f"{self.kind}{where}{lang}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.kind!r}, {self.task!r}, "
            f"{self.message!r}, {self.language!r})"
        )


_DUAL: Dict[tuple, type] = {}

#: The most bytes of a pickled exception sent along (the host keeps 64 KiB).
MAX_NATIVE = 64 << 10


def _delegate(self, name):
    """Attributes of the original exception read through the TaskError."""
    cause = self.__dict__.get("cause")
    if cause is None or name.startswith("__"):
        raise AttributeError(name)
    return getattr(cause, name)


def with_cause(err: TaskError, cause: BaseException, native: bytes) -> TaskError:
    """``err`` as an instance of both its own class and ``cause``'s (Ray's
    ``RayTaskError.as_instanceof_cause``); ``err`` with ``cause`` set when
    the two classes cannot be combined."""
    base, ccls = type(err), type(cause)
    if isinstance(cause, TaskError) or not isinstance(cause, Exception):
        return err
    dual = _DUAL.get((base, ccls))
    if dual is None:
        try:
            dual = type(
                ccls.__name__,
                (base, ccls),
                {"__module__": ccls.__module__, "__qualname__": ccls.__qualname__, "__getattr__": _delegate},
            )
        except TypeError:  # incompatible layouts: keep the plain TaskError
            err.cause = cause
            err._native = native
            return err
        _DUAL[(base, ccls)] = dual
    try:
        out = dual.__new__(dual, err.kind, err.task, err.message, err.language)
    except Exception:  # noqa: BLE001 - a class whose __new__ wants more
        err.cause = cause
        err._native = native
        return err
    out.__dict__.update(err.__dict__)
    out.args = err.args
    out.cause = cause
    out._native = native
    return out


class ActorDiedError(TaskError):
    """The actor is dead: killed, or its constructor failed (``actor-died``)."""


class GetTimeoutError(TaskError, TimeoutError):
    """A ``get`` or ``wait`` ran past its timeout (``get-timeout``)."""


class TaskTimeoutError(TaskError, TimeoutError):
    """A task ran past its timeout or CPU-time limit (``timeout``)."""


class ObjectLostError(TaskError):
    """The object was freed or otherwise lost (``object-lost``)."""


class NotFoundError(TaskError, LookupError):
    """No such function, class, method or actor (``not-found``)."""


class InfeasibleError(TaskError):
    """No node of the cluster can ever give what the call asks for
    (``infeasible``): change the request or add a node that has it."""


class TaskPlacementGroupRemoved(TaskError):
    """The placement group the call ran in, or waited for, was removed
    (``placement-group-removed``, Ray's ``TaskPlacementGroupRemoved``); the
    call is not retried."""


class TaskCancelledError(TaskError):
    """The call was cancelled (``wrun.cancel``), or an argument it waited for
    came from a cancelled call (``task-cancelled``, Ray's
    ``TaskCancelledError``); it is not retried."""


_BY_KIND: Dict[str, Type[TaskError]] = {
    ErrorKind.ACTOR_DIED: ActorDiedError,
    ErrorKind.GET_TIMEOUT: GetTimeoutError,
    ErrorKind.TIMEOUT: TaskTimeoutError,
    ErrorKind.OBJECT_LOST: ObjectLostError,
    ErrorKind.NOT_FOUND: NotFoundError,
    ErrorKind.INFEASIBLE: InfeasibleError,
    ErrorKind.PLACEMENT_GROUP_REMOVED: TaskPlacementGroupRemoved,
    ErrorKind.TASK_CANCELLED: TaskCancelledError,
}
