"""An actor's life under Ray's controls: ``get_if_exists`` returns the actor
already registered under a name, ``kill(actor, no_restart=False)`` ends its
instance and lets it restart while ``max_restarts`` allows, and
``exit_actor()`` ends it from inside one of its methods (its
``__wrun_shutdown__`` runs; that call and the queued ones fail); an actor
created by an actor dies with it (fate sharing).

    wrun submit lifetimes.wasm
    # -> {"get_if_exists": {...}, "restart": {...}, "exit": {...}}
"""

import wrun


@wrun.remote
class Board:
    """Where the actors under test leave notes for the driver."""

    def __init__(self):
        self.notes = []

    def note(self, text):
        self.notes.append(text)
        return len(self.notes)

    def read(self):
        return list(self.notes)


@wrun.remote
class Counter:
    def __init__(self, board):
        self.board = board
        self.n = 0
        wrun.get(board.note.remote("constructed"))

    def incr(self):
        self.n += 1
        return self.n

    def spin(self):
        """Tells the board it runs, then runs far longer than the test."""
        wrun.get(self.board.note.remote("spinning"))
        x = 0
        for i in range(10**10):
            x ^= i
        return x

    def leave(self):
        wrun.exit_actor()
        return "unreachable"

    def __wrun_shutdown__(self):
        self.board.note.remote(f"shutdown at {self.n}")


@wrun.remote
class Parent:
    """Creates a counter of its own: it shares the parent's fate."""

    def __init__(self, board):
        self.child = Counter.remote(board)

    def child_handle(self):
        return self.child

    def leave(self):
        wrun.exit_actor()


@wrun.remote
def exit_from_a_task():
    try:
        wrun.exit_actor()
        return "accepted"
    except TypeError as e:
        return f"TypeError: {e}"


def died(call):
    """How the call ``call()`` makes ends: a call to a dead actor may fail
    when it is made or when its result is read."""
    try:
        wrun.get(call() if callable(call) else call)
        return "ran"
    except wrun.ActorDiedError as e:
        return "ActorDiedError: " + e.message


def wait_for(board, note):
    """Polls the board until ``note`` is on it (at most 60 s of tries)."""
    for _ in range(6000):
        if note in wrun.get(board.read.remote()):
            return True
        wrun.wait([board.read.remote()], timeout=0.01)
    return False


@wrun.main
def main(args):
    out = {}
    board = Board.remote()

    # get_if_exists: one actor under one name, whoever asks first.
    a = Counter.options(name="shared", get_if_exists=True).remote(board)
    b = Counter.options(name="shared", get_if_exists=True).remote(board)
    wrun.get(a.incr.remote())
    out["get_if_exists"] = {
        "same_actor": a.actor_id == b.actor_id,
        "state_shared": wrun.get(b.incr.remote()) == 2,
        "constructed_once": wrun.get(board.read.remote()).count("constructed") == 1,
    }
    try:
        Counter.options(name="shared").remote(board)
        out["get_if_exists"]["duplicate_name"] = "accepted"
    except ValueError as e:  # as in Ray
        out["get_if_exists"]["duplicate_name"] = f"ValueError: {e}"

    # kill(no_restart=False): the instance goes, the actor comes back.
    c = Counter.options(max_restarts=1).remote(board)
    wrun.get([c.incr.remote(), c.incr.remote()])
    spinning = c.spin.remote()
    seen = wait_for(board, "spinning")
    wrun.kill(c, no_restart=False)
    restart = {"spin_started": seen, "running_call": died(spinning)}
    restart["after_restart"] = wrun.get(c.incr.remote())  # state is fresh: 1
    wrun.kill(c, no_restart=False)  # no restarts left: it dies
    restart["no_restarts_left"] = died(lambda: c.incr.remote())
    out["restart"] = restart

    # exit_actor(): from inside a method; the queued calls fail with it.
    d = Counter.remote(board)
    wrun.get([d.incr.remote() for _ in range(3)])
    leaving = d.leave.remote()
    queued = d.incr.remote()
    out["exit"] = {
        "leaving_call": died(leaving),
        "queued_call": died(queued),
        "later_call": died(lambda: d.incr.remote()),
        "shutdown_hook_ran": wait_for(board, "shutdown at 3"),
        "from_a_task": wrun.get(exit_from_a_task.remote()),
    }

    # Fate sharing: an actor's children die with it, killed or exited.
    fate = {}
    for how in ("kill", "exit"):
        parent = Parent.remote(board)
        child = wrun.get(parent.child_handle.remote())
        before = wrun.get(child.incr.remote())
        if how == "kill":
            wrun.kill(parent)
        else:
            died(parent.leave.remote())
        after = "ran"
        for _ in range(6000):  # its death reaches the child at once; a few tries at most
            after = died(lambda: child.incr.remote())
            if after != "ran":
                break
            wrun.wait([board.read.remote()], timeout=0.01)
        fate[how] = {"child_ran_before": before == 1, "child_after": after}
    out["fate_sharing"] = fate
    return out
