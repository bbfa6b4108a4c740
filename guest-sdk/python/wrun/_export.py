"""The registry of a job's driver, tasks and actor classes, and the one
implementation of the exported WIT ``guest`` interface that dispatches to them
by name.

``@wrun.remote`` and ``@wrun.main`` register while the job's module is
imported. componentize-py imports it at build time and snapshots the
interpreter, so registration costs nothing when an instance starts, and a
duplicate name fails the build rather than a run.
"""

from __future__ import annotations

import inspect
import os
import sys
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _runtime, codec
from ._runtime import ActorClass, RemoteFunction
from .errors import ErrorKind, TaskError

_TASKS: Dict[str, RemoteFunction] = {}
_CLASSES: Dict[str, ActorClass] = {}
_MAIN: List[Callable] = []
# The actor this instance hosts: (state, its ActorClass). An actor's instance
# of the component hosts exactly one, constructed by `construct`.
_ACTOR: Optional[Tuple[Any, ActorClass]] = None


def remote(*args: Any, **options: Any) -> Any:
    """Makes a function a task or a class an actor (Ray's ``@ray.remote``).

    Use it bare (``@wrun.remote``) or with default options
    (``@wrun.remote(num_returns=2, cpus=0.5)``); see
    :meth:`RemoteFunction.options` and :meth:`ActorClass.options`.
    Tasks and classes are found by ``__name__``, so names must be unique
    within a job.
    """
    if len(args) == 1 and not options and callable(args[0]):
        return _make_remote(args[0], {})
    if args:
        raise TypeError("use @wrun.remote or @wrun.remote(option=value, ...)")
    return lambda target: _make_remote(target, options)


def _make_remote(target: Any, options: Dict[str, Any]) -> Any:
    if isinstance(target, type):
        rc = ActorClass(target, options)
        _register(_CLASSES, "actor class", rc.name, rc)
    else:
        rc = RemoteFunction(target, options)
        _register(_TASKS, "task", rc.name, rc)
    return rc


def _register(table: dict, what: str, name: str, value: Any) -> None:
    if name in table:
        raise ValueError(f"two {what}s named {name!r}: names must be unique in a job")
    table[name] = value


def main(function: Callable) -> Callable:
    """Declares the job's driver: ``main(args: list[str])`` runs with the
    arguments of ``wrun submit`` and its return value is the job's result."""
    if _MAIN:
        raise ValueError("a job has one @wrun.main")
    _MAIN.append(function)
    return function


# --- the export --------------------------------------------------------------


def _fail(kind: str, task: str, message: str, native: bytes = b"", types: Any = ()) -> BaseException:
    return _runtime._Err(_runtime.to_wit_error(TaskError(kind, task, message), native, types))


def _app_error(task: str, e: BaseException) -> BaseException:
    """An exception raised by user code as a WIT error. A TaskError (a
    failure the host reported, re-raised) passes through unchanged; anything
    else becomes an ``application`` error naming ``task``, with the exception
    and its traceback as the message (what Ray shows for a failed task)."""
    if isinstance(e, TaskError):
        return _runtime._Err(_runtime.to_wit_error(e))
    summary = "".join(traceback.format_exception_only(type(e), e)).strip()
    tb = e.__traceback__
    if tb is not None and tb.tb_next is not None:
        tb = tb.tb_next  # start at the user's frame, not the SDK's `_call`
    tb = "".join(traceback.format_exception(type(e), e, tb)).rstrip()
    # The exception itself travels too, so a Python caller gets it back as
    # its own class (`except MyError`), as in Ray.
    return _fail(
        ErrorKind.APPLICATION, task, f"{summary}\n\n{tb}", _runtime.pickled_exception(e),
        _runtime.exception_types(e),
    )


def _python_caller(values: List[Any]) -> Tuple[bool, List[Any]]:
    """Whether the call starts with the mark of a Python caller of this
    component (``codec.PYTHON_CALLER``), and the arguments without it."""
    if values and not values[0].refs and bytes(values[0].data) == codec.PYTHON_CALLER:
        return True, values[1:]
    return False, values


def _decode_args(task: str, values: List[Any]) -> list:
    out = []
    for i, v in enumerate(values):
        try:
            out.append(_runtime.decode(v))
        except Exception as e:
            raise _fail(ErrorKind.INVALID_ARGUMENT, task, f"argument {i} of {task}: {e}") from None
    return out


# Where the host mounts the packages a job's manifest adds at submit, and
# the standard library they may import beyond what the build snapshotted.
_PACKAGES = "/wrun/python/packages"
_STDLIB = "/wrun/python/stdlib"
_MOUNTS_SEEN = False


def _use_mounted_packages() -> None:
    """Once per instance: starts in the working directory the host names in
    ``PWD`` (wasi-libc does not read WASI's initial-cwd), puts the
    environment's packages first on sys.path and the standard library last,
    and lets packages imported at build (``importlib``, ``email``, ...) find
    their other submodules there."""
    global _MOUNTS_SEEN
    if _MOUNTS_SEEN:
        return
    _MOUNTS_SEEN = True
    pwd = os.environ.get("PWD")
    if pwd:
        try:
            os.chdir(pwd)
        except OSError:
            pass  # relative paths still resolve through the host's "." mount
    if not os.path.isdir(_PACKAGES):
        return
    sys.path.insert(0, _PACKAGES)
    sys.path.append(_STDLIB)
    for name, module in list(sys.modules.items()):
        paths = getattr(module, "__path__", None)
        if not isinstance(paths, list):
            continue
        more = os.path.join(_STDLIB, *name.split("."))
        if more not in paths and os.path.isdir(more):
            paths.append(more)


def _call(task: str, fn: Callable, args: list) -> Any:
    _use_mounted_packages()
    try:
        return fn(*args)
    except _runtime._ActorExit:
        raise
    except TypeError as e:
        # Distinguish a wrong argument count (the caller's mistake, as the Rust
        # SDK reports it) from a TypeError raised inside the function.
        if e.__traceback__ is not None and e.__traceback__.tb_next is None:
            raise _fail(ErrorKind.INVALID_ARGUMENT, task, f"{task}: {e}") from None
        raise _app_error(task, e) from None
    except BaseException as e:
        raise _app_error(task, e) from None


def _encode_returns(
    task: str, result: Any, num_returns: int, python_peer: bool = False, pickle_ok: bool = True
) -> List[Any]:
    if num_returns == 1:
        results = [result]
    elif num_returns == 0:
        results = []
    else:
        if not isinstance(result, (tuple, list)) or len(result) != num_returns:
            raise _fail(
                ErrorKind.INVALID_ARGUMENT, task,
                f"return value of {task}: expected a tuple of {num_returns} values",
            )
        results = list(result)
    out = []
    for r in results:
        try:
            out.append(_runtime.encode(r, python_peer, pickle_ok))
        except MemoryError as e:
            # Out of memory is not the value's fault: it fails as raised.
            raise _app_error(task, e) from None
        except Exception as e:
            raise _fail(ErrorKind.INVALID_ARGUMENT, task, f"return value of {task}: {e}") from None
    return out


def _returns(task: str, result: Any, num_returns: Any, python_peer: bool) -> List[Any]:
    """The values a task or method returns; a streaming one (a generator)
    yields each item to its caller as it comes and returns none. A generator
    declared with ``num_returns=N`` returns its N items, as in Ray."""
    if num_returns == _runtime.STREAMING:
        if not inspect.isgenerator(result):
            raise _fail(
                ErrorKind.INVALID_ARGUMENT, task,
                f"{task} is declared num_returns=\"streaming\" but returned a {type(result).__name__}, not a generator",
            )
        _call(task, _runtime.yield_items, [task, result, python_peer])
        return []
    if inspect.isgenerator(result):
        items = _call(task, tuple, [result])
        if len(items) != num_returns:
            raise _fail(
                ErrorKind.INVALID_ARGUMENT, task,
                f"{task} yielded {len(items)} values but num_returns={num_returns}",
            )
        result = items[0] if num_returns == 1 else items
    return _encode_returns(task, result, num_returns, python_peer)


def _shut_down(task: str, state: Any) -> None:
    """Runs the actor's ``__wrun_shutdown__`` (Ray's ``__ray_shutdown__``)
    as it exits; what it raises is logged, as Ray logs it."""
    hook = getattr(state, "__wrun_shutdown__", None)
    if not callable(hook):
        return
    try:
        hook()
    except BaseException as e:  # noqa: BLE001 - the actor exits anyway
        _runtime.log(f"{task}: __wrun_shutdown__ raised {type(e).__name__}: {e}", "error")


class _Guest:
    """Implements ``wrun:runtime/guest``. componentize-py calls these methods;
    raising ``Err(error)`` returns ``result::err(error)`` to the host."""

    def main(self, args: List[str]) -> Any:
        if not _MAIN:
            raise _fail(ErrorKind.NOT_FOUND, "main", "this component has no @wrun.main")
        # The command line prints the driver's result: no Python-only value.
        return _encode_returns("main", _call("main", _MAIN[0], [list(args)]), 1, pickle_ok=False)[0]

    def run_task(self, function: str, args: List[Any]) -> List[Any]:
        rf = _TASKS.get(function)
        if rf is None:
            raise _fail(ErrorKind.NOT_FOUND, function, "no such task in this component")
        python_peer, args = _python_caller(args)
        result = _call(function, rf._function, _decode_args(function, args))
        return _returns(function, result, rf.num_returns, python_peer)

    def construct(self, class_: str, args: List[Any]) -> None:
        global _ACTOR
        ac = _CLASSES.get(class_)
        if ac is None:
            raise _fail(ErrorKind.NOT_FOUND, class_, "no such actor class in this component")
        try:
            state = _call(class_, ac._cls, _decode_args(class_, _python_caller(args)[1]))
        except _runtime._ActorExit:
            raise _fail(ErrorKind.ACTOR_DIED, class_, "exit_actor() was called in the constructor") from None
        _ACTOR = (state, ac)

    def call_method(self, method: str, args: List[Any]) -> List[Any]:
        if _ACTOR is None:
            raise _fail(ErrorKind.INTERNAL, method, "no actor constructed in this instance")
        state, ac = _ACTOR
        name = method[len(ac.name) + 1 :] if method.startswith(ac.name + ".") else method
        task = f"{ac.name}.{name}"
        fn = None if name.startswith("_") else getattr(state, name, None)
        if not callable(fn):
            raise _fail(ErrorKind.NOT_FOUND, task, "no such method on this actor")
        python_peer, args = _python_caller(args)
        try:
            result = _call(task, fn, _decode_args(task, args))
            return _returns(task, result, _runtime.method_returns(fn), python_peer)
        except _runtime._ActorExit:
            _shut_down(task, state)
            raise _fail(ErrorKind.ACTOR_DIED, task, "the actor exited: exit_actor() was called") from None


if _runtime._wit is not None:
    from wit_world import exports as _exports

    class Guest(_Guest, _exports.Guest):
        """The class componentize-py looks up in the entry module."""

else:
    Guest = _Guest
