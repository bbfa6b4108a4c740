"""The smallest job: one task, called once from the driver.

    wrun submit hello.wasm Alice                   # -> "Hello, Alice!"
    wrun submit --env env.toml hello.wasm Alice    # -> "Bonjour, Alice!" (GREETING from the manifest)
"""

import os

import wrun


@wrun.remote
def hello(name):
    """Greets ``name``, with the GREETING its environment declares, if any."""
    return f"{os.environ.get('GREETING', 'Hello')}, {name}!"


@wrun.main
def main(args):
    """Submits ``hello`` with the first argument (or "world") and returns its greeting."""
    name = args[0] if args else "world"
    return wrun.get(hello.remote(name))
