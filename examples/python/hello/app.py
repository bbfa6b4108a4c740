"""The smallest job: one task, called once from the driver.

    wrun submit hello.wasm Alice                   # -> "Hello, Alice!"
    wrun submit --env env.toml hello.wasm Alice    # -> "Bonjour, Alice!" (GREETING from the manifest)
    wrun submit hello.wasm Alice Hola              # -> "Hola, Alice!" (GREETING from the task's runtime_env)
"""

import os

import wrun


@wrun.remote
def hello(name):
    """Greets ``name``, with the GREETING its environment declares, if any."""
    return f"{os.environ.get('GREETING', 'Hello')}, {name}!"


@wrun.main
def main(args):
    """Submits ``hello`` with the first argument (or "world") and returns its
    greeting; a second argument becomes the task's GREETING through an inline
    ``runtime_env`` (Ray's spelling)."""
    name = args[0] if args else "world"
    task = hello
    if len(args) > 1:
        task = hello.options(runtime_env={"env_vars": {"GREETING": args[1]}})
    return wrun.get(task.remote(name))
