"""A wrun job: tasks and actors as a WebAssembly component.

    wrun build .                          # prints the component's path
    wrun submit $(wrun build .) Ada       # -> "Hello, Ada!"
"""

import wrun


@wrun.remote
def hello(name):
    """A remote task: ``hello.remote(name)`` submits it and returns a reference at once."""
    return f"Hello, {name}!"


@wrun.main
def main(args):
    """The driver: gets the arguments of ``wrun submit``; ``wrun`` prints its result."""
    name = args[0] if args else "world"
    return wrun.get(hello.remote(name))
