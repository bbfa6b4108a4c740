"""Tasks and actor classes named across components (``wrun.function``,
``wrun.actor_class``), and errors that carry the language that raised them."""

import pytest

import wrun
from wrun.errors import ActorDiedError, TaskError


def test_a_function_by_name_keeps_its_name_and_options():
    f = wrun.function("cpp/shard_stats", num_returns=2, cpus=0.5)
    assert f.name == "cpp/shard_stats"
    assert f.num_returns == 2
    g = f.options(num_returns=1)
    assert g.num_returns == 1 and f.num_returns == 2


def test_a_function_of_another_component_cannot_run_locally():
    f = wrun.function("java/report")
    with pytest.raises(TypeError, match="another component"):
        f(1)


def test_keyword_arguments_are_refused_for_another_language():
    from wrun import _runtime

    with pytest.raises(TypeError, match="by position"):
        _runtime._positional(None, "cpp/f", (1,), {"x": 2})


def test_unknown_options_are_refused_by_name():
    with pytest.raises(TypeError, match="unknown task option 'gpus'"):
        wrun.function("cpp/f", gpus=1)
    with pytest.raises(TypeError, match="unknown actor option"):
        wrun.actor_class("rust/Tally", colour="red")


def test_an_actor_class_by_name():
    c = wrun.actor_class("rust/Tally", name="tally")
    assert c.name == "rust/Tally"
    with pytest.raises(TypeError, match="another component"):
        c()


def test_errors_name_their_language():
    e = TaskError("application", "shard_stats", "empty shard", "cpp")
    assert str(e) == "application in shard_stats (cpp): empty shard"
    assert e.language == "cpp"
    assert TaskError("application", "f", "boom").language == "python"
    host = ActorDiedError("actor-died", "Tally.add", "killed", "")
    assert str(host) == "actor-died in Tally.add: killed"


def test_each_host_error_kind_has_its_exception_class():
    from wrun.errors import (
        ErrorKind, InfeasibleError, NotFoundError, TaskCancelledError, TaskPlacementGroupRemoved,
    )

    assert isinstance(TaskError("infeasible", "f", "no node has gpu", ""), InfeasibleError)
    assert isinstance(TaskError("placement-group-removed", "f", "gone", ""), TaskPlacementGroupRemoved)
    assert isinstance(TaskError("not-found", "f", "x", ""), NotFoundError)
    assert isinstance(TaskError("task-cancelled", "f", "cancelled", ""), TaskCancelledError)
    assert ErrorKind.ALL[-2:] == ("placement-group-removed", "task-cancelled"), "WIT order: the newest last"
