"""Cancelling calls from Python, under Ray's names (``wrun.cancel``,
``TaskCancelledError``):

    wrun submit cancel.wasm
    # -> {"running": "TaskCancelledError", "blocked_saw": ["TaskCancelledError"],
    #     "blocked": "TaskCancelledError", "chain": "TaskCancelledError",
    #     "finished": 7, "force_on_method": "ValueError", "queued_method": "TaskCancelledError"}
"""

import wrun


@wrun.remote
class Board:
    """What tasks tell the driver: that they started, and what they saw."""

    def __init__(self):
        self.up = False
        self.notes = []

    def set(self):
        self.up = True

    def is_set(self):
        return self.up

    def note(self, line):
        self.notes.append(line)

    def lines(self):
        return self.notes

    def busy(self, n):
        i = 0
        while i < n:
            i += 1
        return i


@wrun.remote
def spin(board):
    """Raises the board's flag (when given one), then runs until interrupted."""
    if board is not None:
        board.set.remote()
    while True:
        pass


@wrun.remote
def wait_on(board, refs):
    """Waits for ``refs[0]`` (nested, so not resolved before the call); a
    cancel reaches it as TaskCancelledError, which it notes."""
    board.set.remote()
    try:
        return wrun.get(refs[0])
    except wrun.TaskCancelledError as e:
        board.note.remote(type(e).__name__)
        raise


@wrun.remote
def add_one(x):
    return x + 1


def until_set(board):
    while not wrun.get(board.is_set.remote()):
        pass


def noted(board):
    """The board's notes once there are any: a cancelled task notes what it
    saw after its result already reads cancelled (a bounded wait)."""
    for _ in range(20_000):
        seen = wrun.get(board.lines.remote())
        if seen:
            return seen
    return seen


def outcome(ref):
    try:
        return wrun.get(ref, timeout=60)
    except wrun.TaskError as e:
        return type(e).__name__


@wrun.main
def main(args):
    out = {}
    board = Board.remote()
    r = spin.remote(board)
    until_set(board)
    wrun.cancel(r)
    out["running"] = outcome(r)

    for _ in range(3):
        board = Board.remote()
        never = spin.remote(None)
        w = wait_on.remote(board, [never])
        until_set(board)
        wrun.cancel(w)
        out["blocked"] = outcome(w)
        out["blocked_saw"] = noted(board)
        wrun.cancel(never, force=True)
        # A cancel that lands between the task's flag and its get interrupts
        # it where it runs, before it can note anything (as Ray's
        # KeyboardInterrupt would): then try again.
        if out["blocked_saw"]:
            break

    head = spin.remote(None)
    last = add_one.remote(add_one.remote(head))
    wrun.cancel(head)
    out["chain"] = outcome(last)

    done = add_one.remote(6)
    wrun.get(done)
    wrun.cancel(done)
    out["finished"] = outcome(done)

    worker = Board.remote()
    first = worker.busy.remote(3_000_000)
    queued = worker.is_set.remote()
    try:
        wrun.cancel(queued, force=True)
        out["force_on_method"] = "accepted"
    except ValueError as e:
        out["force_on_method"] = type(e).__name__
    wrun.cancel(queued)
    out["queued_method"] = outcome(queued)
    wrun.get(first)
    return out
