"""wrun: write wrun jobs in Python, the way you would write Ray programs.

A job is a module (``app.py``) built into a WebAssembly component with
``runtimes/python/build.sh``::

    import wrun

    @wrun.remote
    def square(x):
        return x * x

    @wrun.main
    def main(args):
        return sum(wrun.get([square.remote(i) for i in range(10)]))

Values cross between tasks as MessagePack (see :mod:`wrun.codec`), the same
bytes the Rust SDK produces, so None, bool, int, float, str, bytes, lists,
tuples, dicts, dataclasses, ObjectRefs and ActorHandles can be passed.
"""

from ._export import main, remote
from ._handles import ActorHandle, ActorMethod, Id, ObjectRef, ObjectRefGenerator
from ._runtime import (
    ActorClass,
    LogHandler,
    NodeAffinitySchedulingStrategy,
    PlacementGroup,
    PlacementGroupSchedulingStrategy,
    RemoteFunction,
    RuntimeContext,
    actor_class,
    cancel,
    exit_actor,
    function,
    get,
    get_actor,
    get_runtime_context,
    kill,
    log,
    method,
    placement_group,
    put,
    remove_placement_group,
    wait,
)
from .errors import (
    ActorDiedError,
    ErrorKind,
    GetTimeoutError,
    InfeasibleError,
    TaskCancelledError,
    TaskPlacementGroupRemoved,
    NotFoundError,
    ObjectLostError,
    TaskError,
    TaskTimeoutError,
)

__all__ = [
    "remote", "main", "method", "put", "get", "wait", "get_actor", "kill", "cancel", "exit_actor",
    "function", "actor_class",
    "placement_group", "remove_placement_group", "PlacementGroup",
    "NodeAffinitySchedulingStrategy", "PlacementGroupSchedulingStrategy",
    "log", "LogHandler", "get_runtime_context", "RuntimeContext",
    "ObjectRef", "ObjectRefGenerator", "ActorHandle", "ActorMethod", "ActorClass", "RemoteFunction", "Id",
    "TaskError", "ErrorKind", "ActorDiedError", "GetTimeoutError",
    "TaskTimeoutError", "ObjectLostError", "NotFoundError", "InfeasibleError",
    "TaskPlacementGroupRemoved", "TaskCancelledError",
]
