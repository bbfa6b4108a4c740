"""The smallest job: one task, called once from the driver.

    wrun submit hello.wasm Alice    # -> "Hello, Alice!"
"""

import wrun


@wrun.remote
def hello(name):
    """Greets ``name``."""
    return f"Hello, {name}!"


@wrun.main
def main(args):
    """Submits ``hello`` with the first argument (or "world") and returns its greeting."""
    name = args[0] if args else "world"
    return wrun.get(hello.remote(name))
