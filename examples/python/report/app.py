"""A job that uses a package from PyPI, declared in its environment:

    runtimes/python/build.sh --env examples/python/report/env.toml examples/python/report report.wasm
    wrun submit report.wasm 4

env.toml lists `tabulate` under `runtime.packages`; the build installs it
once (cached by the hash of the list) and bundles it into the component.
Tasks compute squares and cubes; the driver formats them as a table.
"""

from tabulate import tabulate

import wrun


@wrun.remote(num_returns=2)
def powers(n):
    """The square and the cube of ``n``."""
    return n * n, n * n * n


@wrun.main
def main(args):
    count = int(args[0]) if args else 3
    rows = []
    for n in range(1, count + 1):
        square, cube = powers.remote(n)
        rows.append([n, wrun.get(square), wrun.get(cube)])
    return tabulate(rows, headers=["n", "n^2", "n^3"], tablefmt="github")
