#!/usr/bin/env bash
# Builds a Python wrun job into a WebAssembly component.
#
#   runtimes/python/build.sh APP_DIR OUT.wasm
#
# APP_DIR holds the job's module, app.py (and any pure-Python modules it
# imports). componentize-py bundles CPython, the wrun SDK (guest-sdk/python)
# and APP_DIR into one component targeting the `job` world of wit/wrun.wit,
# generating the `wit_world` bindings from that WIT as it goes. It imports the
# job at build time and snapshots the interpreter, so import-time errors
# (a syntax error, two tasks with one name) fail the build.
#
# The entry module is guest-sdk/python/wrun_job.py, which imports `app` and
# provides the exported `Guest` class.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 APP_DIR OUT.wasm" >&2
    exit 2
fi
APP_DIR=$(cd "$1" && pwd)
OUT=$2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

if [ ! -f "$APP_DIR/app.py" ]; then
    echo "$APP_DIR/app.py not found: a Python job's module is app.py" >&2
    exit 2
fi

VENV=$("$ROOT/runtimes/python/setup.sh" | tail -n 1)
mkdir -p "$(dirname "$OUT")"

# Leave VIRTUAL_ENV unset: componentize-py would add that venv's
# site-packages (componentize-py itself, pip) to the component.
env -u VIRTUAL_ENV "$VENV/bin/componentize-py" -q \
    -d "$ROOT/wit" -w job \
    componentize wrun_job \
    -p "$APP_DIR" -p "$ROOT/guest-sdk/python" \
    -o "$OUT"
echo "$OUT"
